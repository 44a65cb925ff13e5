// One run: overview, notes (the mlflow.note.content tag as Markdown, editable), lineage
// (datasets in, registered model versions out), a chart per metric (histories sampled on the
// server), latest metrics, params, tags and the artifact tree (folders open in place; a file
// opens a preview beside the tree).
import {
  getExperiment,
  getRun,
  listArtifacts,
  searchModelVersions,
  setRunTag,
  quoteString,
  FileInfo,
  KeyValue,
  Run,
} from "../api";
import { h, formatTime, formatDuration, formatNumber, errorBox } from "../dom";
import type uPlot from "uplot";
import { metricChart, updateMetricChart } from "../chart";
import { loadHistory, HistoryUpdate } from "../history";
import { renderMarkdown } from "../markdown";
import { renderPreview } from "../preview";
import { hashFor } from "../route";

export const NOTE_TAG = "mlflow.note.content";

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

function artifactList(runId: string, files: FileInfo[], open: (f: FileInfo, button: HTMLElement) => void): HTMLElement {
  return h(
    "ul.artifacts",
    {},
    ...files.map((f) => {
      const name = f.path.split("/").pop() ?? f.path;
      if (!f.is_dir) {
        const button = h("button.file", { type: "button", "data-path": f.path, title: `Preview ${f.path}` }, name);
        button.addEventListener("click", () => open(f, button));
        return h("li", {}, button, " ", h("span.muted", {}, formatBytes(f.file_size)));
      }
      const details = h("details", {}, h("summary", {}, name + "/"));
      details.addEventListener(
        "toggle",
        async () => {
          try {
            const r = await listArtifacts(runId, f.path);
            details.append(artifactList(runId, r.files ?? [], open));
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
  const artifacts = h("div.artifact-tree", { id: "artifacts" }, h("p.muted", {}, "Loading…"));
  const preview = h("div.artifact-preview", { id: "artifact-preview", "aria-live": "polite" }, h("p.muted", {}, "Choose a file to preview it."));
  const notes = notesSection(run);
  const versionsOut = h("span", { id: "model-versions" }, h("span.muted", {}, "…"));
  const datasets = run.inputs?.dataset_inputs ?? [];
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
      h("dt", {}, "Datasets in"),
      h(
        "dd",
        { id: "datasets-in" },
        datasets.length
          ? datasets.map((d, i) => [i ? ", " : "", h("strong", {}, d.dataset.name), h("span.muted", {}, ` (${d.dataset.digest}${contextOf(d.tags)})`)])
          : h("span.muted", {}, "none logged"),
      ),
      h("dt", {}, "Model versions out"),
      h("dd", {}, versionsOut),
    ),
    notes,
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
    ),
    h("h2", {}, "Artifacts"),
    h("div.artifact-browser", {}, artifacts, preview),
  );
  attach();

  let openButton: HTMLElement | null = null;
  let previewSeq = 0;
  const open = async (f: FileInfo, button: HTMLElement) => {
    const seq = ++previewSeq;
    openButton?.removeAttribute("aria-current");
    openButton = button;
    button.setAttribute("aria-current", "true");
    preview.replaceChildren(h("p.muted", {}, `Loading ${f.path}…`));
    const box = await renderPreview(info.artifact_uri, f);
    if (seq === previewSeq) preview.replaceChildren(box);
  };

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
        let plot: uPlot | null = null;
        const note = h("p.muted.small.chart-note", { "aria-live": "polite" });
        const gone = () => !view.isConnected; // stop paging once the user has moved on
        const draw = (u: HistoryUpdate) => {
          if (!plot) {
            plot = metricChart(boxes[i], m.key, u.points);
            boxes[i].append(note);
          } else updateMetricChart(plot, u.points);
          boxes[i].dataset.points = String(u.total);
          boxes[i].dataset.drawn = String(u.points.length);
          boxes[i].classList.toggle("sampled", !!u.sampled);
          if (u.sampled) {
            // Every point on request: a sample can step over a spike.
            const all = h("button.link.load-all", { type: "button" }, "load every point");
            all.onclick = () => {
              all.disabled = true;
              boxes[i].classList.remove("complete");
              loadHistory(runId, m.key, draw, gone, { full: true }).catch((e) => boxes[i].append(errorBox(e)));
            };
            note.replaceChildren(
              `${u.total.toLocaleString("en")} points sampled evenly by the server over steps ` +
                `${u.sampled.first.toLocaleString("en")}–${u.sampled.last.toLocaleString("en")}; `,
              all,
            );
          } else {
            note.textContent =
              u.points.length < u.total || !u.done
                ? `${u.total.toLocaleString("en")} points${u.done ? "" : " so far, loading…"}; drawn as ${u.points.length.toLocaleString("en")} (min/max per bucket)`
                : "";
          }
          boxes[i].classList.add("drawn");
          if (u.done) boxes[i].classList.add("complete");
        };
        await loadHistory(runId, m.key, draw, gone);
      } catch (e) {
        boxes[i].append(errorBox(e));
      }
    }),
    (async () => {
      try {
        const r = await listArtifacts(runId);
        artifacts.replaceChildren(
          r.files?.length ? artifactList(runId, r.files, (f, b) => void open(f, b)) : h("p.muted", {}, "No artifacts."),
        );
        if (!r.files?.length) preview.hidden = true;
      } catch (e) {
        artifacts.replaceChildren(errorBox(e));
      }
    })(),
    (async () => {
      try {
        const versions = await searchModelVersions(`run_id = ${quoteString(runId)}`, 200);
        versionsOut.replaceChildren(
          ...(versions.length
            ? versions.map((v, i) => [
                i ? ", " : "",
                h("a", { href: hashFor(["models", v.name, "versions", v.version]) }, `${v.name} v${v.version}`),
                ...(v.aliases ?? []).map((a) => [" ", h("span.chip", {}, `@${a}`)]),
              ]).flat(2)
            : [h("span.muted", {}, "none registered")]),
        );
      } catch {
        versionsOut.replaceChildren(h("span.muted", {}, "unavailable (no model registry on this server)"));
      }
    })(),
  ]);
}

function contextOf(tags?: KeyValue[]) {
  const c = tags?.find((t) => t.key === "mlflow.data.context")?.value;
  return c ? `, ${c}` : "";
}

// The run's notes: Markdown rendered without any HTML parsing, and an editor that saves the
// mlflow.note.content tag (what MLflow's UI edits too).
function notesSection(run: Run): HTMLElement {
  let text = run.data.tags?.find((t) => t.key === NOTE_TAG)?.value ?? "";
  const section = h("section.notes", { id: "notes", "aria-labelledby": "notes-title" });
  const show = () => {
    const edit = h("button", { type: "button", id: "edit-note" }, text ? "Edit notes" : "Add notes");
    edit.addEventListener("click", editor);
    section.replaceChildren(
      h("div.section-head", {}, h("h2", { id: "notes-title" }, "Notes"), edit),
      text ? renderMarkdown(text) : h("p.muted", {}, "No notes."),
    );
  };
  const editor = () => {
    const area = h("textarea", { id: "note-editor", rows: 10, "aria-label": "Notes (Markdown)", spellcheck: "true" });
    area.value = text;
    const save = h("button.primary", { type: "submit" }, "Save");
    const cancel = h("button", { type: "button" }, "Cancel");
    const msg = h("div", { "aria-live": "polite" });
    const form = h("form.note-form", {}, area, h("div.toolbar", {}, save, cancel, h("span.muted.small", {}, "Markdown: # headings, **bold**, *italic*, `code`, lists, [links](https://…)")), msg);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      try {
        await setRunTag(run.info.run_id, NOTE_TAG, area.value);
        text = area.value;
        show();
        section.querySelector<HTMLElement>("#edit-note")?.focus();
      } catch (e) {
        save.disabled = false;
        msg.replaceChildren(errorBox(e));
      }
    });
    cancel.addEventListener("click", () => {
      show();
      section.querySelector<HTMLElement>("#edit-note")?.focus();
    });
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") cancel.click();
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    section.replaceChildren(h("div.section-head", {}, h("h2", { id: "notes-title" }, "Notes")), form);
    area.focus();
  };
  show();
  return section;
}
