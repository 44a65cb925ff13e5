// Starts `plinth server` on a temporary SQLite store and seeds it through the public REST API.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { crc32, deflateSync } from "node:zlib";

const repo = resolve(new URL("../..", import.meta.url).pathname);

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startServer() {
  const bin = process.env.PLINTH_BIN ?? join(repo, process.env.BUILD_DIR ?? "build", "src/plinth");
  const dir = mkdtempSync(join(tmpdir(), "plinth-ui-test-"));
  const port = await freePort();
  const proc = spawn(
    bin,
    [
      "server",
      "--backend-store-uri", `sqlite:///${dir}/plinth.db`,
      "--artifacts-destination", join(dir, "artifacts"),
      "--host", "127.0.0.1",
      "--port", String(port),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || i > 100) {
      throw new Error(`plinth server (${bin}) did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    bin,
    dir,
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function api(url, path, body, base = "api/2.0/mlflow") {
  const res = await fetch(`${url}/${base}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const RUN_COUNT = 50;
export const STEPS = 30;
// Final accuracy of run i: 0.30 … 0.90, evenly spaced, so `metrics.acc > 0.5` keeps the runs
// with i > 16.33, i.e. 33 of them.
export const finalAcc = (i) => Number((0.3 + (0.6 * i) / (RUN_COUNT - 1)).toFixed(4));
export const RUNS_ABOVE_HALF = Array.from({ length: RUN_COUNT }, (_, i) => finalAcc(i)).filter(
  (a) => a > 0.5,
).length;

// Two experiments; the first holds RUN_COUNT runs with params, tags, and acc/loss histories.
export async function seed(url) {
  const { experiment_id: exp } = await api(url, "experiments/create", { name: "image-classifier" });
  await api(url, "experiments/create", { name: "tabular-baseline" });
  const optimizers = ["adam", "sgd", "adamw"];
  const t0 = Date.UTC(2025, 0, 15, 9, 0, 0);
  const runs = [];
  for (let i = 0; i < RUN_COUNT; i++) {
    const start = t0 + i * 600_000;
    const { run } = await api(url, "runs/create", {
      experiment_id: exp,
      run_name: `run-${String(i).padStart(2, "0")}`,
      start_time: start,
    });
    const id = run.info.run_id;
    const acc = finalAcc(i);
    const metrics = [];
    for (let s = 0; s < STEPS; s++) {
      const f = 1 - Math.exp(-(s + 1) / 6);
      const wiggle = 0.01 * Math.sin(s * 1.7 + i);
      metrics.push({ key: "acc", value: Number((acc * f + wiggle * (1 - f)).toFixed(5)), timestamp: start + s * 1000, step: s });
      metrics.push({ key: "loss", value: Number(((1.5 - acc) * (1 - f) + 0.05 + 0.02 * Math.cos(s + i)).toFixed(5)), timestamp: start + s * 1000, step: s });
    }
    // The history ends exactly at the final value, so the latest acc is finalAcc(i).
    metrics.push({ key: "acc", value: acc, timestamp: start + STEPS * 1000, step: STEPS });
    await api(url, "runs/log-batch", {
      run_id: id,
      params: [
        { key: "lr", value: String([0.1, 0.01, 0.001][i % 3]) },
        { key: "batch_size", value: String([32, 64, 128, 256][i % 4]) },
        { key: "optimizer", value: optimizers[i % 3] },
      ],
      metrics,
      tags: [
        { key: "team", value: i % 2 ? "vision" : "research" },
        { key: "dataset", value: "cifar10" },
      ],
    });
    await api(url, "runs/update", { run_id: id, status: i === 7 ? "FAILED" : "FINISHED", end_time: start + 95_000 + i * 1000 });
    runs.push(id);
  }
  // Artifacts on the last run, through the artifact proxy: a model folder and one file of each
  // previewable kind.
  const last = runs[runs.length - 1];
  for (const [path, body] of Object.entries(ARTIFACTS)) {
    const res = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${last}/artifacts/${path}`, { method: "PUT", body });
    if (!res.ok) throw new Error(`PUT ${path}: ${res.status}`);
  }
  await api(url, "runs/log-inputs", {
    run_id: last,
    datasets: [
      {
        dataset: { name: "cifar10-train", digest: "a1b2c3d4", source_type: "local", source: "{\"uri\": \"data/cifar10/train\"}", schema: "" },
        tags: [{ key: "mlflow.data.context", value: "training" }],
      },
    ],
  });
  const registry = await seedRegistry(url, exp, runs);
  return { experimentId: exp, runIds: runs, ...registry };
}

// Studies and datasets need the binary (plinth data add) and a scratch folder too.
export async function seedPlinth(server) {
  const study = await seedStudy(server.url);
  const pareto = await seedParetoStudy(server.url);
  const dataset = await seedDataset(server);
  return { ...study, paretoStudy: pareto, ...dataset };
}

// A 24×16 RGB PNG (a red-to-blue gradient), built by hand so no image library is needed.
export function tinyPng(width = 24, height = 16) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = Math.round((255 * x) / (width - 1));
      raw[o + 1] = 80;
      raw[o + 2] = Math.round((255 * y) / (height - 1));
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export const CSV_ROWS = 120; // more than the preview's 50
export const ARTIFACTS = {
  "model/MLmodel": "flavors:\n  python_function: {}\n",
  "notes/train.log": "epoch 1 loss 0.91\nepoch 2 loss 0.55\n<script>alert('not html')</script>\n",
  "eval/summary.json": JSON.stringify({ acc: 0.9, classes: ["cat", "dog"], confusion: [[40, 2], [3, 55]] }),
  "eval/predictions.csv":
    "id,label,score\n" + Array.from({ length: CSV_ROWS }, (_, i) => `${i},${i % 2 ? "dog" : "cat"},${(i / CSV_ROWS).toFixed(3)}`).join("\n") + "\n",
  "plots/gradient.png": tinyPng(),
  "plots/curve.svg":
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60"><polyline points="0,55 30,30 60,18 90,10 120,6" fill="none" stroke="#2563eb" stroke-width="3"/></svg>',
};

export const MODEL = "image-classifier";
export const MODEL_DESCRIPTION = "Classifies **CIFAR-10** images.\n\n- trained with `adam` or `sgd`\n- see [the runs](#/)";

// Two registered models; image-classifier has versions 1–3 from the last three runs, and its
// alias @production moved v1 (by alice) then v2 (by bob).
async function seedRegistry(url, exp, runs) {
  const plinth = "api/plinth/v1/registry";
  await api(url, "registered-models/create", {
    name: MODEL,
    description: MODEL_DESCRIPTION,
    tags: [{ key: "team", value: "vision" }],
  });
  await api(url, "registered-models/create", { name: "churn-xgb", description: "Churn model (XGBoost)." });
  const sources = runs.slice(-3);
  for (const runId of sources) {
    await api(url, "model-versions/create", {
      name: MODEL,
      source: `mlflow-artifacts:/${exp}/${runId}/artifacts/model`,
      run_id: runId,
      description: `Trained by run ${runId.slice(0, 8)}.`,
    });
  }
  await api(url, "model-versions/create", { name: "churn-xgb", source: `mlflow-artifacts:/${exp}/${runs[0]}/artifacts/model`, run_id: runs[0] });
  await api(url, "model-versions/transition-stage", { name: MODEL, version: "1", stage: "Archived", archive_existing_versions: false });
  await api(url, "model-versions/transition-stage", { name: MODEL, version: "2", stage: "Production", archive_existing_versions: false });
  await api(url, "promote", { name: MODEL, version: "1", alias: "production", user: "alice" }, plinth);
  await api(url, "promote", { name: MODEL, version: "2", alias: "production", user: "bob" }, plinth);
  await api(url, "promote", { name: MODEL, version: "3", alias: "staging", user: "alice" }, plinth);
  return { model: MODEL, versionRuns: sources };
}

// Where an alias points now, through the REST API.
export async function aliasVersion(url, name, alias) {
  const res = await fetch(`${url}/api/2.0/mlflow/registered-models/alias?name=${encodeURIComponent(name)}&alias=${encodeURIComponent(alias)}`);
  const json = await res.json();
  if (!res.ok) throw new Error(`alias: ${res.status} ${JSON.stringify(json)}`);
  return json.model_version.version;
}

// A run with one long metric history (n points, one per step), logged 1000 points a batch.
export async function seedLongRun(url, experimentId, n) {
  const { run } = await api(url, "runs/create", { experiment_id: experimentId, run_name: "long-history", start_time: Date.UTC(2025, 0, 16) });
  const id = run.info.run_id;
  const t0 = Date.UTC(2025, 0, 16);
  const batches = [];
  for (let s = 0; s < n; s += 1000) {
    const metrics = [];
    for (let k = s; k < Math.min(n, s + 1000); k++) {
      metrics.push({ key: "loss", value: 1 / (1 + k / 1000) + 0.01 * Math.sin(k / 50), timestamp: t0 + k, step: k });
    }
    batches.push(metrics);
  }
  // A few batches in flight at once.
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(batches.slice(i, i + 8).map((metrics) => api(url, "runs/log-batch", { run_id: id, metrics })));
  }
  return id;
}

// An experiment with n runs, each with 4 params, 3 metrics and 2 tags (as bench/ui/runs.mjs
// seeds them, minus the FINISHED update), 16 runs in flight. Returns the experiment id.
export async function seedManyRuns(url, n, name = "many-runs") {
  const { experiment_id } = await api(url, "experiments/create", { name });
  const t0 = Date.UTC(2025, 0, 1);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const acc = ((i * 7919) % 10007) / 10007;
      const runName = `run-${String(i).padStart(6, "0")}`;
      const { run } = await api(url, "runs/create", {
        experiment_id,
        run_name: runName,
        start_time: t0 + i * 1000,
        tags: [{ key: "team", value: ["vision", "nlp", "tabular", "speech"][i % 4] }, { key: "mlflow.user", value: "bench" }],
      });
      await api(url, "runs/log-batch", {
        run_id: run.info.run_id,
        params: [
          { key: "lr", value: ["0.1", "0.01", "0.001", "0.0001"][i % 4] },
          { key: "depth", value: String(2 + (i % 10)) },
          { key: "optimizer", value: ["adam", "sgd", "rmsprop"][i % 3] },
          { key: "batch_size", value: ["32", "64", "128", "256"][Math.floor(i / 4) % 4] },
        ],
        metrics: [
          { key: "acc", value: acc, timestamp: t0 + i * 1000 + 60000, step: 0 },
          { key: "loss", value: 1 - acc, timestamp: t0 + i * 1000 + 60000, step: 0 },
          { key: "f1", value: acc * 0.9, timestamp: t0 + i * 1000 + 60000, step: 0 },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return experiment_id;
}

// A small deterministic generator (mulberry32), so seeded data is the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const STUDY = "xgb-churn";
export const STUDY_TRIALS = 30; // asked; all but the last two complete
const studies = "api/plinth/v1/studies";

// val_loss of a trial: lr matters most (best near 10^-1.5), depth some, subsample a little,
// booster not at all.
export const studyLoss = (p) =>
  Number((0.25 + 0.12 * (Math.log10(p.lr) + 1.5) ** 2 + 0.004 * (p.depth - 6) ** 2 + 0.02 * (1 - p.subsample)).toFixed(6));

// A TPE study asked and told through the REST API: 28 complete trials, one pruned, and one
// left RUNNING (a long heartbeat grace keeps it so) for the live-update test to finish.
async function seedStudy(url) {
  const { study } = await api(url, "create", {
    name: STUDY,
    direction: "minimize",
    metric_name: "val_loss",
    search_space: {
      lr: { type: "float", low: 0.0001, high: 0.3, log: true },
      depth: { type: "int", low: 2, high: 10 },
      subsample: { type: "float", low: 0.5, high: 1.0 },
      booster: { type: "categorical", choices: ["gbtree", "dart"] },
    },
    sampler: { type: "tpe", seed: 7 },
    pruner: { type: "median" },
    n_trials: 40,
    heartbeat_grace_seconds: 3600,
  }, studies);
  const told = [];
  let running;
  for (let i = 0; i < STUDY_TRIALS; i++) {
    const { trial } = await api(url, "ask", { study_name: STUDY }, studies);
    if (i === STUDY_TRIALS - 1) {
      running = trial;
      break;
    }
    if (i === 5) {
      await api(url, "report", { trial_id: trial.trial_id, step: 0, value: 0.9 }, studies);
      await api(url, "tell", { trial_id: trial.trial_id, state: "PRUNED" }, studies);
      continue;
    }
    const value = studyLoss(trial.params);
    await api(url, "tell", { trial_id: trial.trial_id, value }, studies);
    told.push({ number: trial.number, value, runId: trial.run_id });
  }
  return { study: STUDY, studyId: study.study_id, studyValues: told, runningTrial: running };
}

// Finishes the running trial (the live-update test).
export async function finishTrial(url, trial) {
  return api(url, "tell", { trial_id: trial.trial_id, value: studyLoss(trial.params) }, studies);
}

export const PARETO_STUDY = "latency-vs-accuracy";

// Two objectives (latency down, accuracy up), 16 random trials, every one complete.
async function seedParetoStudy(url) {
  await api(url, "create", {
    name: PARETO_STUDY,
    directions: ["minimize", "maximize"],
    metric_names: ["latency_ms", "accuracy"],
    search_space: {
      layers: { type: "int", low: 1, high: 12 },
      width: { type: "int", low: 16, high: 512, log: true },
    },
    sampler: { type: "random", seed: 3 },
  }, studies);
  for (let i = 0; i < 16; i++) {
    const { trial } = await api(url, "ask", { study_name: PARETO_STUDY }, studies);
    const { layers, width } = trial.params;
    const latency = Number((2 + layers * Math.sqrt(width) * 0.4).toFixed(3));
    const accuracy = Number((0.95 - 0.3 / (1 + layers * Math.log2(width) / 8)).toFixed(4));
    await api(url, "tell", { trial_id: trial.trial_id, values: [latency, accuracy] }, studies);
  }
  return PARETO_STUDY;
}

export const DATASET = "churn-weekly";
export const DATASET_ROWS = 400;
// Week 2 moves age and income and adds a plan; score keeps its distribution.
export const DRIFTED = ["age", "plan", "income"];

function churnCsv(week) {
  const r = rng(week * 7919);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const plans = week === 1 ? ["basic", "basic", "pro"] : ["basic", "pro", "pro", "team"];
  const lines = ["customer_id,age,plan,income,score"];
  for (let i = 0; i < DATASET_ROWS; i++) {
    const age = week === 1 ? 18 + Math.floor(r() * 50) : 28 + Math.floor(r() * 52);
    const income = (week === 1 ? 50000 + 8000 * gauss() : 58000 + 9000 * gauss()).toFixed(2);
    const score = i % (week === 1 ? 40 : 9) === 0 ? "" : r().toFixed(3);
    lines.push(`${1000 + i},${age},${plans[Math.floor(r() * plans.length)]},${income},${score}`);
  }
  return lines.join("\n") + "\n";
}

const SUITE = `name: churn-weekly
primary_key: [customer_id]
columns:
  - {name: customer_id, type: int, nullable: false}
  - {name: age, type: int}
  - {name: plan, type: string}
expectations:
  - expect_table_row_count_to_be_between: {min_value: 100}
  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 75}
  - expect_column_values_to_be_in_set: {column: plan, value_set: [basic, pro]}
  - expect_column_values_to_not_be_null: {column: score, mostly: 0.95}
  - expect_column_mean_to_be_between: {column: score, min_value: 0.3, max_value: 0.7}
`;

function run(bin, args, env) {
  return new Promise((ok, fail) =>
    execFile(bin, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      // data add exits 1 when the suite fails; the version is stored all the same.
      err && err.code !== 1 ? fail(new Error(`${args.join(" ")}: ${stderr}`)) : ok(stdout),
    ),
  );
}

// Two versions of one dataset through the CLI, each validated with the same suite (week 1
// passes, week 2 does not).
async function seedDataset(server) {
  const files = [1, 2].map((week) => {
    const path = join(server.dir, `churn-week${week}.csv`);
    writeFileSync(path, churnCsv(week));
    return path;
  });
  const suite = join(server.dir, "suite.yaml");
  writeFileSync(suite, SUITE);
  for (const [i, file] of files.entries()) {
    await run(server.bin, ["data", "add", file, "--name", DATASET, "--suite", suite, "--description", `week ${i + 1}`, "--tracking-uri", server.url]);
  }
  return { dataset: DATASET };
}
