// Long metric histories: seeds one run with an N-point history into a fresh `plinth server`
// (REST log-batch, as the UI tests do), times get-history-bulk-interval (the sampled history
// MLflow's UI and ours draw from) and paging the full history with get-history, then opens the
// run page in headless Chromium and times the chart: first drawn, and complete.
//   node bench/ui/history.mjs [--points N] [--reps R] [--samples 320,1000,2500]
//       [--timeout-s S] [--no-browser] [--json FILE]
// PLINTH_BIN names the binary; PLINTH_CHROMIUM the browser (default /usr/bin/chromium).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startServer, seedLongRun, api } from "../../ui/tests/fixtures.mjs";

const { values: opt } = parseArgs({
  options: {
    points: { type: "string", default: "1000000" },
    reps: { type: "string", default: "3" },
    samples: { type: "string", default: "320,1000,2500" },
    "timeout-s": { type: "string", default: "120" },
    "no-browser": { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const n = Number(opt.points);
const reps = Number(opt.reps);
const timeoutMs = Number(opt["timeout-s"]) * 1000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

async function getJson(url, path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) q.append(k, String(v));
  const res = await fetch(`${url}/api/2.0/mlflow/${path}?${q}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res.json();
}

const server = await startServer();
const result = { points: n, bulk_interval: {}, browser: null };
try {
  const { experiment_id } = await api(server.url, "experiments/create", { name: "long-history" });
  const [seedMs, runId] = await timed(() => seedLongRun(server.url, experiment_id, n));
  result.seed_ms = Math.round(seedMs);
  console.log(`seeded ${n} points in ${(seedMs / 1000).toFixed(1)} s`);

  for (const k of opt.samples.split(",").map(Number)) {
    const times = [];
    let count = 0;
    let error = null;
    for (let r = 0; r < reps; r++) {
      try {
        const [ms, body] = await timed(() =>
          getJson(server.url, "metrics/get-history-bulk-interval", { run_ids: runId, metric_key: "loss", max_results: k }),
        );
        times.push(ms);
        count = body.metrics?.length ?? 0;
      } catch (e) {
        error = `${e.name === "TimeoutError" ? `timed out after ${timeoutMs / 1000} s` : e.message}`;
        break;
      }
    }
    result.bulk_interval[k] = { median_ms: times.length ? median(times) : null, runs_ms: times, points: count, error };
    console.log(`bulk-interval max_results=${k}: ${times.length ? `${median(times).toFixed(1)} ms median of ${times.map((t) => t.toFixed(1)).join(", ")} (${count} points)` : error}`);
  }

  // The whole history through get-history pages (what the UI did before bulk-interval was cheap).
  {
    const [ms, total] = await timed(async () => {
      let token;
      let total = 0;
      do {
        const body = await getJson(server.url, "metrics/get-history", { run_id: runId, metric_key: "loss", max_results: 25000, ...(token ? { page_token: token } : {}) });
        total += body.metrics?.length ?? 0;
        token = body.next_page_token;
      } while (token);
      return total;
    });
    result.full_history = { ms: ms, points: total };
    console.log(`get-history, all ${total} points in pages of 25,000: ${ms.toFixed(0)} ms`);
  }

  if (!opt["no-browser"]) {
    const { chromium } = await import("../../ui/node_modules/playwright-core/index.mjs");
    const browser = await chromium.launch({
      executablePath: process.env.PLINTH_CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    const drawn = [];
    const complete = [];
    try {
      for (let r = 0; r < reps; r++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const chart = "figure.chart[data-metric='loss']";
        const start = performance.now();
        await page.goto(`${server.url}/#/runs/${runId}`);
        await page.waitForSelector(`${chart}.drawn canvas`, { timeout: timeoutMs });
        drawn.push(performance.now() - start);
        await page.waitForSelector(`${chart}.complete`, { timeout: timeoutMs });
        complete.push(performance.now() - start);
        await page.close();
      }
    } finally {
      await browser.close();
    }
    result.browser = { first_drawn_ms: median(drawn), complete_ms: median(complete), drawn_runs_ms: drawn, complete_runs_ms: complete };
    console.log(`run page chart: first drawn ${median(drawn).toFixed(0)} ms, complete ${median(complete).toFixed(0)} ms (median of ${reps})`);
  }
} finally {
  await server.stop();
}
if (opt.json) writeFileSync(opt.json, JSON.stringify(result, null, 2) + "\n");
