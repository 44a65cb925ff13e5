// One study (#/studies/<name>?sort=…): overview, optimization history (one objective) or the
// Pareto front of the first two objectives (several), parameter importance (importance.ts),
// parallel coordinates of the params and the first objective, and every trial in a table
// sortable by any column. While a trial is RUNNING or WAITING and the tab is visible, the page
// re-reads the trials every 2 s and redraws what changed; it stops when the page is left.
import type uPlot from "uplot";
import { getStudy, isMissingRoute, listTrials, ApiError, ParamValue, Study, Trial } from "../api";
import { h, formatTime, formatNumber, formatDuration, errorBox } from "../dom";
import { hashFor, parseHash, Route } from "../route";
import { historyChart, paretoChart, XYPoint } from "../chart";
import { parallelCoordinates } from "../parcoords";
import { paramImportance } from "../importance";
import { missingApi, numberOf, samplerText, stateBadges } from "./studies";

const POLL_MS = 2000;

const openRun = (id: string) => {
  location.hash = hashFor(["runs", id]);
};

function paramText(v: ParamValue | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "number") return formatNumber(v);
  return String(v);
}

// Trials whose objective vector is not dominated by another's (directions respected).
export function paretoFront(points: { values: number[]; trial: Trial }[], directions: string[]) {
  const sign = directions.map((d) => (d === "maximize" ? -1 : 1));
  const better = (a: number[], b: number[]) => {
    let strictly = false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] * sign[i];
      const y = b[i] * sign[i];
      if (x > y) return false;
      if (x < y) strictly = true;
    }
    return strictly;
  };
  return points.filter((p) => !points.some((q) => q !== p && better(q.values, p.values)));
}

type SortKey = string; // "number" | "state" | "value:<i>" | "param:<name>" | "duration"

interface Column {
  key: SortKey;
  label: string;
  num: boolean;
  cell: (t: Trial) => Node | string;
  sortValue: (t: Trial) => number | string | undefined;
}

function durationMs(t: Trial): number | undefined {
  if (!t.start_time) return undefined;
  const end = t.complete_time ?? (t.state === "RUNNING" ? Date.now() : undefined);
  return end ? end - t.start_time : undefined;
}

export async function renderStudy(view: HTMLElement, name: string, route: Route, attach: () => void) {
  document.title = `${name} · Studies · Plinth`;
  view.append(
    h("nav.crumbs", { "aria-label": "Breadcrumb" }, h("a", { href: "#/studies" }, "Studies"), " / ", h("span", {}, name)),
  );
  let study: Study;
  let trials: Trial[];
  try {
    study = await getStudy(name);
    trials = await listTrials(study.study_id);
  } catch (e) {
    if (isMissingRoute(e)) view.append(h("h1", {}, name), missingApi("hyperparameter studies"));
    else if (e instanceof ApiError && e.status === 404) view.append(h("h1", {}, name), h("p.muted", {}, `No study named “${name}”.`));
    else view.append(errorBox(e));
    attach();
    return;
  }

  const live = h("span.live.muted", { "aria-live": "polite" });
  const overview = h("dl.overview");
  const historyBox = h("div.chart-box");
  const historyFig = h("figure.chart.wide", { id: "history" }, h("figcaption"), historyBox);
  const importanceBox = h("div", { id: "importance" });
  const pcBox = h("div.parcoords-wrap", { id: "study-parcoords" });
  const tableBox = h("div.table-wrap", { role: "region", "aria-label": "Trials", tabindex: 0 });
  const trialsHead = h("h2", {}, "Trials");
  view.append(
    h("div.section-head", {}, h("h1", {}, name), live),
    overview,
    h("h2", {}, study.directions.length > 1 ? "Pareto front" : "Optimization history"),
    historyFig,
    h(
      "div.columns",
      {},
      h("section", {}, h("h2", {}, "Parameter importance"), importanceBox),
      h("section", {}, h("h2", {}, "Parallel coordinates"), pcBox),
    ),
    trialsHead,
    tableBox,
  );

  const sort = {
    key: route.query.get("sort") ?? "number",
    desc: route.query.get("desc") === "1",
  };
  let plot: uPlot | null = null;

  const fillOverview = () => {
    const metrics = study.metric_names ?? [];
    const rows: [string, Node | string][] = [
      ["Objective", study.directions.map((d, i) => `${d} ${metrics[i] ?? `value ${i}`}`).join(", ")],
      ["Sampler", samplerText(study)],
      ["Pruner", study.pruner?.type ? String(study.pruner.type) : "none"],
      ["Trials", h("span", {}, stateBadges(study.trial_counts), study.n_trials ? h("span.muted", {}, ` of ${study.n_trials}`) : "")],
      ["Experiment", h("a", { href: hashFor(["experiments", study.experiment_id]) }, `runs of experiment ${study.experiment_id}`)],
      ["Created", formatTime(study.creation_time)],
    ];
    overview.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  };

  const label = (t: Trial) => `trial ${t.number}`;
  const complete = () =>
    trials
      .filter((t) => t.state === "COMPLETE")
      .map((t) => ({ trial: t, values: (t.values ?? [t.value]).map((v) => numberOf(v)) }))
      .filter((p) => p.values.length && p.values.every(Number.isFinite));

  const drawHistory = () => {
    plot?.destroy();
    plot = null;
    historyBox.replaceChildren();
    historyFig.classList.remove("drawn");
    const done = complete();
    const metrics = study.metric_names ?? [];
    const caption = historyFig.querySelector("figcaption")!;
    if (!done.length) {
      caption.textContent = "";
      historyBox.append(h("p.muted", {}, "No complete trial yet."));
      return;
    }
    const toPoint = (p: { trial: Trial; values: number[] }, xi: number, yi: number): XYPoint => ({
      x: p.values[xi],
      y: p.values[yi],
      label: label(p.trial),
      id: p.trial.run_id,
    });
    if (study.directions.length > 1) {
      const xName = metrics[0] ?? "value 0";
      const yName = metrics[1] ?? "value 1";
      // The front of the first two objectives (what the chart can show), not of all of them.
      const two = done.map((p) => ({ ...p, values: p.values.slice(0, 2) }));
      const front = new Set(paretoFront(two, study.directions.slice(0, 2)).map((p) => p.trial.number));
      caption.textContent = `${xName} (${study.directions[0]}) against ${yName} (${study.directions[1]}); red: the Pareto front of these two, ${front.size} trials`;
      plot = paretoChart(
        historyBox,
        two.filter((p) => !front.has(p.trial.number)).map((p) => toPoint(p, 0, 1)),
        two.filter((p) => front.has(p.trial.number)).map((p) => toPoint(p, 0, 1)),
        xName,
        yName,
        openRun,
      );
    } else {
      const metric = metrics[0] ?? "value";
      caption.textContent = `${metric} of each complete trial, and the best so far (${study.directions[0]})`;
      plot = historyChart(
        historyBox,
        done.map((p) => ({ x: p.trial.number, y: p.values[0], label: label(p.trial), id: p.trial.run_id })),
        study.directions[0] !== "maximize",
        metric,
        openRun,
      );
    }
    historyFig.classList.add("drawn");
  };

  const drawImportance = () => {
    const done = complete();
    const metric = study.metric_names?.[0] ?? "value";
    const imp = paramImportance(done.map((p) => ({ params: p.trial.params, value: p.values[0] })));
    if (done.length < 3 || !imp.length) {
      importanceBox.replaceChildren(h("p.muted", {}, "Needs at least 3 complete trials with parameters."));
      return;
    }
    importanceBox.replaceChildren(
      h(
        "table.importance",
        {},
        h("caption.sr-only", {}, `Importance of each parameter for ${metric}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Parameter"), h("th", { scope: "col" }, "Importance"))),
        h(
          "tbody",
          {},
          ...imp.map((r) =>
            h(
              "tr",
              { "data-param": r.param },
              h("th", { scope: "row" }, r.param),
              h(
                "td",
                {},
                h("span.bar", { style: `width: ${(r.importance * 100).toFixed(1)}%` }),
                h("span.bar-value", {}, `${(r.importance * 100).toFixed(1)}%`),
              ),
            ),
          ),
        ),
      ),
      h(
        "p.muted.small",
        {},
        `Share of the variance of ${metric}${study.directions.length > 1 ? " (the first objective)" : ""} explained by each parameter's bins over ${done.length} complete trials, normalized — an approximation of Optuna's fANOVA importance.`,
      ),
    );
  };

  const drawParcoords = () => {
    const done = complete();
    const metric = study.metric_names?.[0] ?? "value";
    const axes = paramNames();
    if (done.length < 2 || !axes.length) {
      pcBox.replaceChildren(h("p.muted", {}, "Needs at least 2 complete trials."));
      return;
    }
    parallelCoordinates(
      pcBox,
      axes,
      metric,
      done.map((p) => ({
        id: p.trial.run_id ?? "",
        label: label(p.trial),
        values: {
          ...Object.fromEntries(Object.entries(p.trial.params).map(([k, v]) => [k, v === null ? undefined : String(v)])),
          [metric]: String(p.values[0]),
        },
      })),
      (id) => id && openRun(id),
    );
  };

  const paramNames = () => {
    const declared = Object.keys(study.search_space ?? {});
    const seen = new Set(trials.flatMap((t) => Object.keys(t.params)));
    return [...declared.filter((n) => seen.has(n)), ...[...seen].filter((n) => !declared.includes(n)).sort()];
  };

  const columns = (): Column[] => {
    const metrics = study.metric_names ?? [];
    const cols: Column[] = [
      { key: "number", label: "Trial", num: true, cell: (t) => String(t.number), sortValue: (t) => t.number },
      {
        key: "state",
        label: "State",
        num: false,
        cell: (t) => h(`span.badge.state-${t.state.toLowerCase()}`, {}, t.state),
        sortValue: (t) => t.state,
      },
    ];
    study.directions.forEach((_, i) => {
      const name = metrics[i] ?? (study.directions.length > 1 ? `value ${i}` : "value");
      cols.push({
        key: `value:${i}`,
        label: name,
        num: true,
        cell: (t) => {
          const v = t.values?.[i] ?? (i === 0 ? t.value : undefined);
          return v === undefined ? "" : formatNumber(numberOf(v));
        },
        sortValue: (t) => {
          const v = numberOf(t.values?.[i] ?? (i === 0 ? t.value : undefined));
          return Number.isNaN(v) ? undefined : v;
        },
      });
    });
    for (const p of paramNames()) {
      cols.push({
        key: `param:${p}`,
        label: p,
        num: trials.every((t) => t.params[p] === undefined || typeof t.params[p] === "number"),
        cell: (t) => paramText(t.params[p]),
        sortValue: (t) => {
          const v = t.params[p];
          return v === undefined || v === null ? undefined : typeof v === "number" ? v : String(v);
        },
      });
    }
    cols.push({
      key: "duration",
      label: "Duration",
      num: true,
      cell: (t) => (t.start_time ? formatDuration(t.start_time, t.complete_time ?? Date.now()) : ""),
      sortValue: durationMs,
    });
    cols.push({
      key: "run",
      label: "Run",
      num: false,
      cell: (t) => (t.run_id ? h("a", { href: hashFor(["runs", t.run_id]) }, t.run_id.slice(0, 8)) : ""),
      sortValue: (t) => t.run_id,
    });
    return cols;
  };

  const drawTable = () => {
    const cols = columns();
    const col = cols.find((c) => c.key === sort.key) ?? cols[0];
    // Missing values sort last both ways, as MLflow's runs table does.
    const rows = [...trials].sort((a, b) => {
      const x = col.sortValue(a);
      const y = col.sortValue(b);
      if (x === undefined || y === undefined) return x === y ? a.number - b.number : x === undefined ? 1 : -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return (sort.desc ? -c : c) || a.number - b.number;
    });
    const focusedKey = (document.activeElement as HTMLElement | null)?.closest?.("#trials thead th")?.getAttribute("data-key");
    const head = h(
      "tr",
      {},
      ...cols.map((c) => {
        const active = c.key === col.key;
        const button = h(
          "button.sort",
          {
            type: "button",
            onclick: () => {
              if (sort.key === c.key) sort.desc = !sort.desc;
              else {
                sort.key = c.key;
                sort.desc = false;
              }
              history.replaceState(null, "", hashFor(["studies", name], { sort: sort.key === "number" ? undefined : sort.key, desc: sort.desc ? "1" : undefined }));
              drawTable();
            },
          },
          c.label,
          active ? (sort.desc ? " ▼" : " ▲") : "",
        );
        return h(
          `th${c.num ? ".num" : ""}`,
          { scope: "col", "data-key": c.key, "aria-sort": active ? (sort.desc ? "descending" : "ascending") : null },
          button,
        );
      }),
    );
    const body = h(
      "tbody",
      {},
      ...rows.map((t) =>
        h("tr", { "data-number": t.number, "data-state": t.state }, ...cols.map((c) => h(`td${c.num ? ".num" : ""}`, {}, c.cell(t)))),
      ),
    );
    tableBox.replaceChildren(h("table.grid", { id: "trials" }, h("thead", {}, head), body));
    trialsHead.textContent = `Trials (${trials.length})`;
    if (focusedKey) tableBox.querySelector<HTMLElement>(`th[data-key="${CSS.escape(focusedKey)}"] button`)?.focus();
  };

  const active = () => trials.some((t) => t.state === "RUNNING" || t.state === "WAITING");
  const drawAll = () => {
    fillOverview();
    drawHistory();
    drawImportance();
    drawParcoords();
    drawTable();
    live.textContent = active() ? "live: updating every 2 s while trials run" : "";
    view.dataset.trials = String(trials.length);
    view.dataset.complete = String(trials.filter((t) => t.state === "COMPLETE").length);
  };
  drawAll();
  attach();

  // Live updates: poll while a trial runs and the tab is visible; stop once the page is gone.
  const signature = () => trials.map((t) => `${t.number}:${t.state}:${t.values?.join(",") ?? ""}`).join(";");
  let timer = 0;
  const poll = async () => {
    timer = 0;
    if (!view.isConnected) return stop();
    if (document.visibilityState !== "visible" || !active()) return; // resumed by visibilitychange
    try {
      const before = signature();
      const [s, t] = await Promise.all([getStudy(name), listTrials(study.study_id)]);
      if (!view.isConnected) return stop();
      study = s;
      trials = t;
      if (signature() !== before) drawAll();
      else {
        fillOverview();
        if (!active()) live.textContent = "";
      }
    } catch {
      // A failed poll is retried on the next tick.
    }
    schedule();
  };
  const schedule = () => {
    if (!timer && view.isConnected && active()) timer = window.setTimeout(poll, POLL_MS);
  };
  const onVisibility = () => {
    if (!view.isConnected) return stop();
    if (document.visibilityState === "visible") schedule();
  };
  const stop = () => {
    if (timer) window.clearTimeout(timer);
    timer = 0;
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener("hashchange", onHashChange);
  };
  const onHashChange = () => {
    // Leaving the page (another route) stops at once; the old view is replaced right after.
    const next = parseHash(location.hash).path;
    if (next[0] !== "studies" || next[1] !== name) stop();
  };
  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener("hashchange", onHashChange);
  schedule();
}
