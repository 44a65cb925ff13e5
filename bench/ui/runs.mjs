// The runs page with many runs in one experiment: plinth's UI vs MLflow's UI, on the same runs,
// in headless Chromium, in the same run of this script.
//
// Time to interactive, per page load (a fresh browser context each, so nothing is cached):
//   navigation start (performance.timeOrigin) →
//   first row: an element of the runs table whose text is a seeded run name (run-NNNNNN) is
//     laid out on screen (polled every animation frame by a script injected before the page's
//     own) →
//   interactive: a click on that row's first plain cell, then ArrowDown, moves keyboard focus to
//     the next row (plinth: the next <tr>; MLflow: the next ag-grid row). The time is taken in
//     the page when focus lands there.
// The runs are logged into plinth over REST (runs/create with tags, log-batch with params and
// metrics, runs/update to FINISHED; 32 requests in flight) and into MLflow through its own
// SQLAlchemy models (seed_mlflow.py; same names, times, params, metrics and tags).
//
//   node bench/ui/runs.mjs --runs 100000 --reps 3 [--timeout-s 180] [--skip-mlflow]
//       [--mlflow-python PY] [--json FILE]
// PLINTH_BIN names the plinth binary; PLINTH_CHROMIUM the browser. MLflow comes from
// --mlflow-python's environment (bench/ui/run.sh passes .venv-peers/bin/python).
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { parseArgs, promisify } from "node:util";
import { startServer, api } from "../../ui/tests/fixtures.mjs";

const here = dirname(new URL(import.meta.url).pathname);
const { values: opt } = parseArgs({
  options: {
    runs: { type: "string", default: "100000" },
    reps: { type: "string", default: "3" },
    "timeout-s": { type: "string", default: "180" },
    "skip-mlflow": { type: "boolean", default: false },
    "mlflow-python": { type: "string", default: "python3" },
    json: { type: "string" },
  },
});
const N = Number(opt.runs);
const REPS = Number(opt.reps);
const TIMEOUT = Number(opt["timeout-s"]) * 1000;
const quietPeer = { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true" };

// Run i — exactly as seed_mlflow.py's run_spec(i).
const T0 = 1735689600000;
const LRS = ["0.1", "0.01", "0.001", "0.0001"];
const OPTIMIZERS = ["adam", "sgd", "rmsprop"];
const BATCHES = ["32", "64", "128", "256"];
const TEAMS = ["vision", "nlp", "tabular", "speech"];
export function runSpec(i) {
  const acc = ((i * 7919) % 10007) / 10007;
  const start = T0 + i * 1000;
  const name = `run-${String(i).padStart(6, "0")}`;
  return {
    name,
    start,
    end: start + 60000,
    params: { lr: LRS[i % 4], depth: String(2 + (i % 10)), optimizer: OPTIMIZERS[i % 3], batch_size: BATCHES[Math.floor(i / 4) % 4] },
    metrics: { acc, loss: 1 - acc, f1: acc * 0.9 },
    tags: { "mlflow.runName": name, "mlflow.user": "bench", team: TEAMS[i % 4] },
  };
}

async function seedPlinth(url) {
  const { experiment_id } = await api(url, "experiments/create", {
    name: "bench-runs",
    tags: [{ key: "mlflow.experimentKind", value: "custom_model_development" }],
  });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < N; i = next++) {
      const s = runSpec(i);
      const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));
      const { run } = await api(url, "runs/create", { experiment_id, run_name: s.name, user_id: "bench", start_time: s.start, tags: kv(s.tags) });
      const run_id = run.info.run_id;
      await api(url, "runs/log-batch", {
        run_id,
        params: kv(s.params),
        metrics: Object.entries(s.metrics).map(([key, value]) => ({ key, value, timestamp: s.end, step: 0 })),
      });
      await api(url, "runs/update", { run_id, status: "FINISHED", end_time: s.end });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return experiment_id;
}

async function startMlflow(python, dir, db) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const proc = spawn(
    python,
    ["-m", "mlflow", "server", "--backend-store-uri", `sqlite:///${db}`, "--artifacts-destination", join(dir, "artifacts"),
      "--host", "127.0.0.1", "--port", String(port), "--workers", "2"],
    { env: quietPeer, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || i > 600) throw new Error(`mlflow server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    },
  };
}

// Injected before the page's scripts: notes when the first run row is on screen and when keyboard
// focus first lands on a second row.
const probe = (rowSelector) => {
  const isRunName = (el) => /^run-\d{6}$/.test(el.textContent.trim());
  const tick = () => {
    if (window.__firstRowAt === undefined) {
      for (const el of document.querySelectorAll(rowSelector)) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && isRunName(el)) {
          window.__firstRowAt = performance.now();
          break;
        }
      }
    }
    if (window.__firstRowAt === undefined) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  document.addEventListener(
    "focusin",
    (e) => {
      const row = e.target.closest?.("tr, [role=row]");
      if (row && window.__secondRow === row && window.__interactiveAt === undefined) window.__interactiveAt = performance.now();
    },
    true,
  );
};

// For each UI: where it shows the runs, its run-name cells, and (in the page) the first row's
// first plain cell to click, remembering the row under it as window.__secondRow.
const UIS = {
  plinth: {
    path: (id) => `/#/experiments/${id}`,
    runName: "#runs tbody tr a",
    target: () => {
      const rows = document.querySelectorAll("#runs tbody tr");
      window.__secondRow = rows[1];
      return rows[0].querySelectorAll("td")[2]; // Started: a click focuses the row
    },
  },
  mlflow: {
    path: (id) => `/#/experiments/${id}/runs`,
    runName: ".ag-row a",
    // ag-grid splits each row between the pinned and the centre containers; focus moves within
    // the centre one.
    target: () => {
      const row = (i) => document.querySelector(`.ag-center-cols-container [role=row][row-index='${i}']`);
      window.__secondRow = row(1);
      return row(0).querySelector("[role=gridcell]");
    },
  },
};

async function measure(browser, ui, url, experimentId) {
  const u = UIS[ui];
  const out = [];
  for (let r = 0; r < REPS; r++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(probe, u.runName);
    const t = performance.now();
    try {
      await page.goto(url + u.path(experimentId), { timeout: TIMEOUT });
      await page.waitForFunction(() => window.__firstRowAt !== undefined, null, { timeout: TIMEOUT, polling: "raf" });
      // A real click and key press (CDP input events), at once: no actionability waits.
      const box = await page.evaluate((target) => {
        const r = new Function(`return (${target})()`)().getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }, u.target.toString());
      await page.mouse.click(box.x, box.y);
      await page.keyboard.press("ArrowDown");
      await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 10_000, polling: "raf" });
      const [firstRow, interactive] = await page.evaluate(() => [window.__firstRowAt, window.__interactiveAt]);
      out.push({ first_row_ms: Math.round(firstRow), interactive_ms: Math.round(interactive) });
      console.log(`${ui} rep ${r + 1}: first row ${Math.round(firstRow)} ms, interactive ${Math.round(interactive)} ms`);
      if (r === 0 && process.env.PLINTH_BENCH_SCREENSHOTS) {
        await page.screenshot({ path: join(process.env.PLINTH_BENCH_SCREENSHOTS, `runs-${ui}-${N}.png`) });
      }
    } catch (e) {
      const waited = Math.round(performance.now() - t);
      out.push({ error: `${e.message.split("\n")[0]} (after ${waited} ms)` });
      console.log(`${ui} rep ${r + 1}: FAILED after ${waited} ms: ${e.message.split("\n")[0]}`);
    } finally {
      await context.close();
    }
  }
  const ok = out.filter((x) => !x.error);
  const med = (k) => (ok.length ? ok.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(ok.length / 2)] : null);
  return { reps: out, median_first_row_ms: med("first_row_ms"), median_interactive_ms: med("interactive_ms") };
}

const { chromium } = await import("../../ui/node_modules/playwright-core/index.mjs");
const browser = await chromium.launch({
  executablePath: process.env.PLINTH_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const result = { runs: N, reps: REPS, timeout_s: TIMEOUT / 1000, plinth: null, mlflow: null };
try {
  const server = await startServer();
  try {
    const t = performance.now();
    const id = await seedPlinth(server.url);
    result.plinth = { seed_s: +((performance.now() - t) / 1000).toFixed(1) };
    console.log(`plinth: ${N} runs seeded over REST in ${result.plinth.seed_s} s`);
    Object.assign(result.plinth, await measure(browser, "plinth", server.url, id));
  } finally {
    await server.stop();
  }

  if (!opt["skip-mlflow"]) {
    const dir = mkdtempSync(join(tmpdir(), "plinth-bench-mlflow-"));
    try {
      const db = join(dir, "mlflow.db");
      const t = performance.now();
      const { stdout, stderr } = await promisify(execFile)(opt["mlflow-python"], [join(here, "seed_mlflow.py"), "--db", db, "--runs", String(N)], {
        env: quietPeer,
        maxBuffer: 1 << 24,
      });
      const id = stdout.trim().split("\n").pop();
      result.mlflow = { seed_s: +((performance.now() - t) / 1000).toFixed(1) };
      console.log(`mlflow: ${N} runs seeded through its SQLAlchemy models in ${result.mlflow.seed_s} s (experiment ${id})${stderr ? "" : ""}`);
      const { stdout: version } = await promisify(execFile)(opt["mlflow-python"], ["-c", "import mlflow; print(mlflow.__version__)"], { env: quietPeer });
      result.mlflow.version = version.trim();
      const mlflow = await startMlflow(opt["mlflow-python"], dir, db);
      try {
        Object.assign(result.mlflow, await measure(browser, "mlflow", mlflow.url, id));
      } finally {
        await mlflow.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2) + "\n");
