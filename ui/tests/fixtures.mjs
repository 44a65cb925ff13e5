// Starts `plinth server` on a temporary SQLite store and seeds it through the public REST API.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

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
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function api(url, path, body) {
  const res = await fetch(`${url}/api/2.0/mlflow/${path}`, {
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
  // One artifact on the last run, through the artifact proxy.
  const last = runs[runs.length - 1];
  await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${last}/artifacts/model/MLmodel`, {
    method: "PUT",
    body: "flavors:\n  python_function: {}\n",
  });
  return { experimentId: exp, runIds: runs };
}
