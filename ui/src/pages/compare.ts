// Several runs side by side (#/compare?runs=a,b,c): a table of their params and latest metrics,
// one metric overlaid across the runs (step / relative / wall-clock axis, log scale, EMA
// smoothing; long histories as the server's even sample — see history.ts), parallel coordinates of
// the params and a metric, and a scatter of one param against one metric. Control state lives
// in the hash (replaced, not pushed) so a reload or a shared link shows the same view.
import type uPlot from "uplot";
import { getExperiment, getRun, Run } from "../api";
import { loadHistory, HistoryUpdate, SAMPLE_POINTS } from "../history";
import { h, formatNumber, errorBox } from "../dom";
import { hashFor, Route } from "../route";
import { colorFor, overlayChart, scatterChart, XAxis } from "../chart";
import { parallelCoordinates } from "../parcoords";

const MAX_RUNS = 100;

const valueOf = (run: Run, kind: "params" | "metrics", key: string): string | undefined => {
  if (kind === "params") return run.data.params?.find((p) => p.key === key)?.value;
  const m = run.data.metrics?.find((x) => x.key === key);
  return m ? String(m.value) : undefined;
};

function select(id: string, label: string, options: string[], value: string, onChange: (v: string) => void) {
  const sel = h("select", { id }, ...options.map((o) => h("option", { value: o, selected: o === value }, o)));
  sel.addEventListener("change", () => onChange(sel.value));
  return h("label.control", {}, label + " ", sel);
}

export async function renderCompare(view: HTMLElement, route: Route, attach: () => void) {
  const asked = [...new Set((route.query.get("runs") ?? "").split(",").filter(Boolean))];
  const ids = asked.slice(0, MAX_RUNS);
  const q = route.query;
  document.title = "Compare runs · Plinth";
  const crumbs = h("nav.crumbs", { "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Experiments"));
  view.append(crumbs);
  if (!ids.length) {
    view.append(h("h1", {}, "Compare runs"), h("p.muted", {}, "No runs chosen: select runs in an experiment's runs table, then press Compare."));
    attach();
    return;
  }
  let runs: Run[];
  try {
    runs = await Promise.all(ids.map((id) => getRun(id)));
  } catch (e) {
    view.append(errorBox(e));
    attach();
    return;
  }
  const experimentId = q.get("experiment") ?? runs[0].info.experiment_id;
  try {
    const exp = await getExperiment(experimentId);
    crumbs.append(" / ", h("a", { href: hashFor(["experiments", experimentId]) }, exp.name));
  } catch {
    // Breadcrumb without the experiment.
  }
  crumbs.append(" / ", h("span", {}, "Compare"));
  const label = (r: Run) => r.info.run_name || r.info.run_id.slice(0, 8);
  const metricKeys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  const paramKeys = [...new Set(runs.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))].sort();

  // The hash holds the controls; replaceState so no re-render and no history entry per tweak.
  const state = {
    metric: q.get("metric") && metricKeys.includes(q.get("metric")!) ? q.get("metric")! : metricKeys[0] ?? "",
    x: (["step", "relative", "wall"].includes(q.get("x") ?? "") ? q.get("x") : "step") as XAxis,
    log: q.get("log") === "1",
    smooth: Math.min(0.99, Math.max(0, Number(q.get("smooth")) || 0)),
    pcMetric: q.get("pc") && metricKeys.includes(q.get("pc")!) ? q.get("pc")! : metricKeys[0] ?? "",
    sx: q.get("sx") && paramKeys.includes(q.get("sx")!) ? q.get("sx")! : paramKeys[0] ?? "",
    sy: q.get("sy") && metricKeys.includes(q.get("sy")!) ? q.get("sy")! : metricKeys[0] ?? "",
  };
  const save = () => {
    const hash = hashFor(["compare"], {
      runs: ids.join(","),
      experiment: q.get("experiment") ?? undefined,
      metric: state.metric,
      x: state.x === "step" ? undefined : state.x,
      log: state.log ? "1" : undefined,
      smooth: state.smooth ? String(state.smooth) : undefined,
      pc: state.pcMetric,
      sx: state.sx,
      sy: state.sy,
    });
    history.replaceState(null, "", hash);
  };

  // ---- the runs table
  const table = h(
    "div.table-wrap",
    {},
    h(
      "table.grid",
      { id: "compare-runs" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Run"),
          ...paramKeys.map((k) => h("th", { scope: "col", title: `params.${k}` }, k)),
          ...metricKeys.map((k) => h("th.num", { scope: "col", title: `metrics.${k}` }, k)),
        ),
      ),
      h(
        "tbody",
        {},
        ...runs.map((r, i) =>
          h(
            "tr",
            { "data-run-id": r.info.run_id },
            h("td", {}, h("span.swatch", { style: `background:${colorFor(i)}`, "aria-hidden": "true" }), h("a", { href: hashFor(["runs", r.info.run_id]) }, label(r))),
            ...paramKeys.map((k) => h("td", {}, valueOf(r, "params", k) ?? "")),
            ...metricKeys.map((k) => {
              const v = valueOf(r, "metrics", k);
              return h("td.num", {}, v === undefined ? "" : formatNumber(Number(v)));
            }),
          ),
        ),
      ),
    ),
  );

  // ---- overlay chart
  const overlayBox = h("figure.chart.wide", { id: "overlay" });
  const overlayNote = h("p.muted.small", { "aria-live": "polite" });
  // metric → run id → the newest state of its history (or the error that stopped it).
  const histories = new Map<string, Map<string, HistoryUpdate | Error>>();
  let overlayPlot: uPlot | null = null;
  let pending = 0;
  const scheduleDraw = (metric: string) => {
    if (metric !== state.metric || pending) return;
    pending = window.setTimeout(() => {
      pending = 0;
      drawOverlay();
    }, 120);
  };
  const ensure = (metric: string) => {
    if (histories.has(metric)) return;
    const per = new Map<string, HistoryUpdate | Error>();
    histories.set(metric, per);
    for (const id of ids) {
      loadHistory(id, metric, (u) => {
        per.set(id, u);
        scheduleDraw(metric);
      }, () => !view.isConnected).catch((e) => {
        per.set(id, e instanceof Error ? e : new Error(String(e)));
        scheduleDraw(metric);
      });
    }
  };
  const drawOverlay = () => {
    if (!state.metric) return;
    ensure(state.metric);
    const per = histories.get(state.metric)!;
    const states = ids.map((id) => per.get(id));
    const done = states.every((u) => u instanceof Error || (u && u.done));
    overlayBox.classList.toggle("drawn", done);
    const failed = states.find((u): u is Error => u instanceof Error);
    const series = runs
      .map((r, i) => {
        const u = per.get(r.info.run_id);
        return { label: label(r), color: colorFor(i), points: u && !(u instanceof Error) ? u.points : [] };
      })
      .filter((s) => s.points.length);
    overlayPlot?.destroy();
    overlayPlot = null;
    overlayBox.replaceChildren();
    if (failed) overlayBox.append(errorBox(failed));
    if (!series.length) {
      overlayBox.append(h("p.muted", {}, done ? `No run logged ${state.metric}.` : "Loading…"));
      return;
    }
    overlayPlot = overlayChart(overlayBox, series, { xAxis: state.x, log: state.log, smoothing: state.smooth });
    overlayBox.dataset.series = String(series.length);
    overlayBox.dataset.metric = state.metric;
    let total = 0;
    let drawn = 0;
    let sampled = 0;
    for (const u of states) if (u && !(u instanceof Error)) (total += u.total), (drawn += u.points.length), (sampled += u.sampled ? 1 : 0);
    overlayNote.textContent =
      `${series.length} of ${runs.length} runs, ${total.toLocaleString("en")} points` +
      (done ? "" : " so far, loading…") +
      (drawn < total ? ` (long histories drawn as min/max per bucket: ${drawn.toLocaleString("en")} points)` : "") +
      (sampled ? `; ${sampled} long ${sampled > 1 ? "histories" : "history"} as the server's even sample of ${SAMPLE_POINTS.toLocaleString("en")} points` : "") +
      (state.log ? "; values ≤ 0 are left out on the log scale" : "");
  };
  const smoothOut = h("output", { for: "smoothing" }, state.smooth.toFixed(2));
  const smooth = h("input", { type: "range", id: "smoothing", min: 0, max: 0.99, step: 0.01, value: state.smooth, "aria-label": "Smoothing (exponential moving average weight)" });
  smooth.addEventListener("input", () => {
    state.smooth = Number(smooth.value);
    smoothOut.textContent = state.smooth.toFixed(2);
    save();
    drawOverlay();
  });
  const xRadios = h(
    "fieldset.segmented",
    {},
    h("legend", {}, "X axis"),
    ...(["step", "relative", "wall"] as XAxis[]).map((x) => {
      const r = h("input", { type: "radio", name: "xaxis", value: x, checked: state.x === x });
      r.addEventListener("change", () => {
        state.x = x;
        save();
        drawOverlay();
      });
      return h("label", {}, r, " ", x === "step" ? "Step" : x === "relative" ? "Relative time" : "Wall time");
    }),
  );
  const logBox = h("input", { type: "checkbox", id: "logscale", checked: state.log });
  logBox.addEventListener("change", () => {
    state.log = logBox.checked;
    save();
    drawOverlay();
  });

  // ---- parallel coordinates
  const pcBox = h("div.parcoords-wrap", { id: "parcoords", tabindex: -1 });
  const varying = paramKeys.filter((k) => new Set(runs.map((r) => valueOf(r, "params", k))).size > 1);
  const pcParams = (varying.length ? varying : paramKeys).slice(0, 12);
  const drawPc = () => {
    if (!state.pcMetric) return;
    parallelCoordinates(
      pcBox,
      pcParams,
      state.pcMetric,
      runs.map((r) => ({
        id: r.info.run_id,
        label: label(r),
        values: Object.fromEntries([...pcParams.map((k) => [k, valueOf(r, "params", k)]), [state.pcMetric, valueOf(r, "metrics", state.pcMetric)]]),
      })),
      (id) => (location.hash = hashFor(["runs", id])),
    );
  };

  // ---- scatter
  const scatterBox = h("figure.chart.wide", { id: "scatter" });
  let scatterPlot: uPlot | null = null;
  const drawScatter = () => {
    scatterPlot?.destroy();
    scatterBox.replaceChildren();
    if (!state.sx || !state.sy) return;
    const points = runs
      .map((r) => ({ x: valueOf(r, "params", state.sx), y: Number(valueOf(r, "metrics", state.sy)), label: label(r), id: r.info.run_id }))
      .filter((p): p is { x: string; y: number; label: string; id: string } => p.x !== undefined && Number.isFinite(p.y));
    if (!points.length) {
      scatterBox.append(h("p.muted", {}, `No run has both ${state.sx} and ${state.sy}.`));
      return;
    }
    scatterPlot = scatterChart(scatterBox, state.sx, state.sy, points, (id) => (location.hash = hashFor(["runs", id])));
    scatterBox.classList.add("drawn");
  };

  view.append(
    h("h1", {}, `Compare ${runs.length} runs`),
    asked.length > ids.length ? h("p.muted", {}, `Showing the first ${MAX_RUNS} of ${asked.length} selected runs.`) : "",
    table,
    h("h2", {}, "Metric across runs"),
    metricKeys.length
      ? h(
          "section.panel",
          {},
          h(
            "div.toolbar.controls",
            {},
            select("overlay-metric", "Metric", metricKeys, state.metric, (v) => {
              state.metric = v;
              save();
              drawOverlay();
            }),
            xRadios,
            h("label.control", {}, logBox, " Log scale"),
            h("label.control", { for: "smoothing" }, "Smoothing ", smooth, " ", smoothOut),
          ),
          overlayBox,
          overlayNote,
        )
      : h("p.muted", {}, "These runs logged no metrics."),
    h("div.columns", {},
      h(
        "section",
        {},
        h("h2", {}, "Parallel coordinates"),
        metricKeys.length && paramKeys.length
          ? h("div", {},
              h("div.toolbar.controls", {}, select("pc-metric", "Metric", metricKeys, state.pcMetric, (v) => {
                state.pcMetric = v;
                save();
                drawPc();
              })),
              pcBox,
              h("p.muted.small", {}, "One line per run, coloured from low (blue) to high (red) metric; hover or Tab onto a line to name the run, click or Enter opens it."),
            )
          : h("p.muted", {}, "Needs params and metrics."),
      ),
      h(
        "section",
        {},
        h("h2", {}, "Parameter vs metric"),
        metricKeys.length && paramKeys.length
          ? h("div", {},
              h(
                "div.toolbar.controls",
                {},
                select("scatter-x", "Param", paramKeys, state.sx, (v) => {
                  state.sx = v;
                  save();
                  drawScatter();
                }),
                select("scatter-y", "Metric", metricKeys, state.sy, (v) => {
                  state.sy = v;
                  save();
                  drawScatter();
                }),
              ),
              scatterBox,
              h("p.muted.small", {}, "Hover a dot to name its run; click opens it."),
            )
          : h("p.muted", {}, "Needs params and metrics."),
      ),
    ),
  );
  attach();
  drawPc();
  drawScatter();
  drawOverlay();
}
