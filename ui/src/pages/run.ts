// One run: overview, a chart per metric (full history), latest metrics, params, tags and the
// root of its artifact tree (folders open in place).
import { getExperiment, getRun, listArtifacts, metricHistory, FileInfo, KeyValue } from "../api";
import { h, formatTime, formatDuration, formatNumber, errorBox } from "../dom";
import { metricChart } from "../chart";
import { hashFor } from "../route";

const MAX_CHARTS = 24;

function kvTable(id: string, rows: KeyValue[], empty: string) {
  if (!rows.length) return h("p.muted", {}, empty);
  return h(
    "div.table-wrap",
    {},
    h(
      "table.grid.kv",
      { id },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Value"))),
      h(
        "tbody",
        {},
        ...[...rows].sort((a, b) => a.key.localeCompare(b.key)).map((kv) => h("tr", {}, h("td", {}, kv.key), h("td.value", {}, kv.value))),
      ),
    ),
  );
}

function formatBytes(n?: number) {
  if (n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function artifactList(runId: string, files: FileInfo[]): HTMLElement {
  return h(
    "ul.artifacts",
    {},
    ...files.map((f) => {
      const name = f.path.split("/").pop() ?? f.path;
      if (!f.is_dir) return h("li", {}, h("span.file", {}, name), " ", h("span.muted", {}, formatBytes(f.file_size)));
      const details = h("details", {}, h("summary", {}, name + "/"));
      details.addEventListener(
        "toggle",
        async () => {
          try {
            const r = await listArtifacts(runId, f.path);
            details.append(artifactList(runId, r.files ?? []));
          } catch (e) {
            details.append(errorBox(e));
          }
        },
        { once: true },
      );
      return h("li", {}, details);
    }),
  );
}

export async function renderRun(view: HTMLElement, runId: string, attach: () => void) {
  let run;
  try {
    run = await getRun(runId);
  } catch (e) {
    view.append(h("nav.crumbs", {}, h("a", { href: "#/" }, "Experiments")), errorBox(e));
    return;
  }
  const info = run.info;
  const name = info.run_name || info.run_id;
  document.title = `${name} · Plinth`;
  let experimentName = info.experiment_id;
  try {
    experimentName = (await getExperiment(info.experiment_id)).name;
  } catch {
    // The breadcrumb falls back to the id.
  }
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const tags = run.data.tags ?? [];
  const userTags = tags.filter((t) => !t.key.startsWith("mlflow."));
  const systemTags = tags.filter((t) => t.key.startsWith("mlflow."));

  const charts = h("div.charts", { id: "charts" });
  const artifacts = h("div", { id: "artifacts" }, h("p.muted", {}, "Loading…"));
  view.append(
    h(
      "nav.crumbs",
      { "aria-label": "Breadcrumb" },
      h("a", { href: "#/" }, "Experiments"),
      " / ",
      h("a", { href: hashFor(["experiments", info.experiment_id]) }, experimentName),
      " / ",
      h("span", {}, name),
    ),
    h("h1", {}, name),
    h(
      "dl.overview",
      {},
      h("dt", {}, "Run ID"),
      h("dd", {}, h("code", {}, info.run_id)),
      h("dt", {}, "Status"),
      h("dd", {}, h(`span.badge.${(info.status ?? "").toLowerCase()}`, {}, info.status ?? "")),
      h("dt", {}, "Started"),
      h("dd", {}, formatTime(info.start_time)),
      h("dt", {}, "Duration"),
      h("dd", {}, formatDuration(info.start_time, info.end_time)),
      h("dt", {}, "Artifact URI"),
      h("dd", {}, h("code", {}, info.artifact_uri ?? "")),
    ),
    h("h2", {}, "Metric charts"),
    metrics.length ? charts : h("p.muted", {}, "No metrics logged."),
    h("div.columns", {},
      h("section", {}, h("h2", {}, `Metrics (${metrics.length})`),
        metrics.length
          ? h(
              "div.table-wrap",
              {},
              h(
                "table.grid.kv",
                { id: "metrics" },
                h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th.num", { scope: "col" }, "Latest"), h("th.num", { scope: "col" }, "Step"))),
                h("tbody", {}, ...metrics.map((m) => h("tr", {}, h("td", {}, m.key), h("td.num", {}, formatNumber(m.value)), h("td.num", {}, m.step)))),
              ),
            )
          : h("p.muted", {}, "No metrics.")),
      h("section", {}, h("h2", {}, `Parameters (${run.data.params?.length ?? 0})`), kvTable("params", run.data.params ?? [], "No parameters.")),
    ),
    h("div.columns", {},
      h("section", {}, h("h2", {}, `Tags (${userTags.length})`), kvTable("tags", userTags, "No tags."),
        systemTags.length ? h("details.system-tags", {}, h("summary", {}, `System tags (${systemTags.length})`), kvTable("system-tags", systemTags, "")) : null),
      h("section", {}, h("h2", {}, "Artifacts"), artifacts),
    ),
  );
  attach();

  // Charts after the page is visible; one request per metric, all in flight together.
  const shown = metrics.slice(0, MAX_CHARTS);
  if (metrics.length > MAX_CHARTS) charts.after(h("p.muted", {}, `Showing the first ${MAX_CHARTS} of ${metrics.length} metrics.`));
  const boxes = shown.map((m) => {
    const box = h("figure.chart", { "data-metric": m.key }, h("figcaption", {}, m.key));
    charts.append(box);
    return box;
  });
  await Promise.all([
    ...shown.map(async (m, i) => {
      try {
        const history = await metricHistory(runId, m.key);
        metricChart(boxes[i], m.key, history);
        boxes[i].classList.add("drawn");
      } catch (e) {
        boxes[i].append(errorBox(e));
      }
    }),
    (async () => {
      try {
        const r = await listArtifacts(runId);
        artifacts.replaceChildren(
          r.files?.length ? artifactList(runId, r.files) : h("p.muted", {}, "No artifacts."),
        );
      } catch (e) {
        artifacts.replaceChildren(errorBox(e));
      }
    })(),
  ]);
}
