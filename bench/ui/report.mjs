// Markdown for docs/benchmarks.md's Web UI section from runs.mjs's and history.mjs's JSON.
//   node bench/ui/report.mjs RUNS.json HISTORY.json [--before HISTORY-BEFORE.json]
//   node bench/ui/report.mjs --docs docs/benchmarks.md RUNS.json HISTORY.json [--before …]
// --docs replaces what lies between <!-- bench:ui:begin --> and <!-- bench:ui:end --> (appended
// at the end when the markers are missing).
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: { docs: { type: "string" }, before: { type: "string" } },
});
const [runsFile, historyFile] = positionals;
const runs = JSON.parse(readFileSync(runsFile, "utf8"));
const history = historyFile ? JSON.parse(readFileSync(historyFile, "utf8")) : null;
const before = opt.before ? JSON.parse(readFileSync(opt.before, "utf8")) : null;

const n = (x) => x.toLocaleString("en");
const ms = (x) => (x == null ? "–" : x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const reps = (r) => r.reps.map((x) => (x.error ? `failed: ${x.error}` : `${ms(x.first_row_ms)} / ${ms(x.interactive_ms)}`)).join("; ");

const lines = [];
lines.push("## Web UI", "");
lines.push(
  `bench/ui/run.sh, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores shared with other work; ` +
    "headless Chromium (Debian) driven by playwright-core; both servers on loopback SQLite.",
  "",
);
lines.push(`### Runs page, ${n(runs.runs)} runs in one experiment`, "");
lines.push(
  "Time to interactive of one page load in a fresh browser context: from navigation start to (1) the " +
    "first run row of the runs table on screen (a cell whose text is a seeded run name, laid out in " +
    "the viewport; checked every animation frame) and (2) the table answering the keyboard: a click " +
    "on that row's first plain cell, then ArrowDown, moves focus to the next row (plinth: the next " +
    "`<tr>`; MLflow: the next ag-grid row), timed in the page when focus lands. Each run has 4 params, " +
    "3 metrics and 3 tags. plinth's runs were logged over REST (runs/create, log-batch, update; 32 in " +
    "flight); MLflow's through its own SQLAlchemy models, in bulk (bench/ui/seed_mlflow.py: the schema " +
    "from MLflow's migrations, the same rows its create_run/log_batch write). MLflow server with 2 " +
    `workers; a load that has not answered in ${runs.timeout_s} s counts as failed.`,
  "",
);
lines.push("| UI | seeding | first row (median) | interactive (median) | each load: first row / interactive |");
lines.push("|---|---|---|---|---|");
if (runs.plinth) {
  lines.push(`| plinth | ${runs.plinth.seed_s} s (REST) | ${ms(runs.plinth.median_first_row_ms)} | **${ms(runs.plinth.median_interactive_ms)}** | ${reps(runs.plinth)} |`);
}
if (runs.mlflow) {
  lines.push(`| MLflow ${runs.mlflow.version ?? ""} UI | ${runs.mlflow.seed_s} s (SQL) | ${ms(runs.mlflow.median_first_row_ms)} | **${ms(runs.mlflow.median_interactive_ms)}** | ${reps(runs.mlflow)} |`);
}
lines.push("");
const p = runs.plinth?.median_interactive_ms;
const m = runs.mlflow?.median_interactive_ms;
if (p != null && m != null) {
  lines.push(`plinth's runs page is interactive ×${(m / p).toFixed(1)} sooner than MLflow's on the same runs${p < 1000 ? " (target: under 1 s — met)" : " (target: under 1 s — not met)"}.`, "");
} else if (p != null) {
  lines.push(`plinth: interactive in ${ms(p)}${p < 1000 ? " (target: under 1 s — met)" : " (target: under 1 s — not met)"}; MLflow's UI gave no figure (see the failures above).`, "");
}

if (history) {
  lines.push(`### A ${n(history.points)}-point metric history`, "");
  lines.push(
    "One run, one metric, one point per step (seeded over REST, 1,000 points a batch). " +
      "`get-history-bulk-interval` is the sampled history MLflow's charts and plinth's ask for; " +
      "before this change plinth scanned the whole history once per sampled step (one call was timed " +
      "before; larger samples cost proportionally more, minutes). Now: the median of the calls after " +
      "the first (the first also merges the run's staged points into the metrics table), on a busy " +
      "machine; the run page figure is the median of the page loads.",
    "",
  );
  lines.push("| call | before | now |", "|---|---|---|");
  for (const [k, v] of Object.entries(history.bulk_interval)) {
    const b = before?.bulk_interval?.[k];
    const warm = v.runs_ms.length > 1 ? [...v.runs_ms.slice(1)].sort((a, c) => a - c)[Math.floor((v.runs_ms.length - 1) / 2)] : v.median_ms;
    const bs = b ? (b.median_ms != null ? ms(b.median_ms) : b.error) : "–";
    lines.push(`| bulk-interval, max_results=${n(Number(k))} | ${bs} | ${warm < 10 ? warm.toFixed(1) + " ms" : ms(warm)} (first call ${ms(v.runs_ms[0])}) |`);
  }
  if (history.full_history) {
    lines.push(`| get-history, all ${n(history.full_history.points)} points in pages of 25,000 | ${before?.full_history ? ms(before.full_history.ms) : "–"} | ${ms(history.full_history.ms)} |`);
  }
  if (history.browser) {
    const bb = before?.browser;
    lines.push(
      `| run page: chart drawn | ${bb ? `${ms(bb.first_drawn_ms)} (first of 40 pages), complete ${ms(bb.complete_ms)}` : "–"} | ${ms(history.browser.first_drawn_ms)} (the server's 2,500-point sample, complete) |`,
    );
  }
  lines.push("");
}
const section = lines.join("\n");

if (opt.docs) {
  const doc = readFileSync(opt.docs, "utf8");
  const begin = "<!-- bench:ui:begin -->";
  const end = "<!-- bench:ui:end -->";
  const block = `${begin}\n${section}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  const next = i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : doc.replace(/\n*$/, "\n\n") + block + "\n";
  writeFileSync(opt.docs, next);
} else {
  process.stdout.write(section + "\n");
}
