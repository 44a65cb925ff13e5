// uPlot wrappers: one metric's history (run page), one metric overlaid across runs (compare
// page: step / relative time / wall time axis, log scale, EMA smoothing) and a scatter of a
// parameter against a metric. Every chart follows its container's width.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Metric } from "./api";
import { formatNumber } from "./dom";

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#db2777", "#65a30d", "#4f46e5", "#a16207"];
export const colorFor = (i: number) => PALETTE[i % PALETTE.length];

function follow(container: HTMLElement, plot: uPlot, height: number) {
  const width = () => Math.max(240, container.clientWidth - 2 || 480);
  const ro = new ResizeObserver(() => {
    if (!plot.root.isConnected) return ro.disconnect();
    const w = width();
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height });
  });
  ro.observe(container);
  return width();
}

const initialWidth = (container: HTMLElement) => Math.max(240, container.clientWidth - 2 || 480);

const stepData = (points: Metric[]): uPlot.AlignedData => [points.map((p) => p.step), points.map((p) => p.value)];

// `points` in step order (see history.ts); update later with plot.setData(stepData(points)).
export function updateMetricChart(plot: uPlot, points: Metric[]) {
  plot.setData(stepData(points));
}

export function metricChart(container: HTMLElement, key: string, points: Metric[]): uPlot {
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height: 220,
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      series: [
        { label: "step" },
        { label: key, stroke: PALETTE[0], width: 2, points: { show: points.length <= 50 } },
      ],
    },
    stepData(points),
    container,
  );
  follow(container, plot, 220);
  return plot;
}

export type XAxis = "step" | "relative" | "wall";

export interface OverlayOptions {
  xAxis: XAxis;
  log: boolean;
  smoothing: number; // EMA weight in [0, 1): 0 is raw
}

// TensorBoard's debiased exponential moving average.
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

export function overlayChart(
  container: HTMLElement,
  series: { label: string; color: string; points: Metric[] }[],
  opts: OverlayOptions,
  height = 360,
): uPlot {
  const tables: uPlot.AlignedData[] = series.map((s) => {
    const pts = [...s.points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    const t0 = pts.length ? Math.min(...pts.map((p) => p.timestamp)) : 0;
    const byX = new Map<number, number>();
    for (const p of pts) {
      const x = opts.xAxis === "step" ? p.step : opts.xAxis === "relative" ? (p.timestamp - t0) / 1000 : p.timestamp / 1000;
      byX.set(x, p.value); // the last value logged at an x wins
    }
    const xs = [...byX.keys()].sort((a, b) => a - b);
    let ys: (number | null)[] = xs.map((x) => byX.get(x)!);
    ys = ema(ys, opts.smoothing);
    if (opts.log) ys = ys.map((v) => (v !== null && v > 0 ? v : null));
    return [xs, ys] as uPlot.AlignedData;
  });
  const data = tables.length > 1 ? uPlot.join(tables) : tables[0] ?? [[], []];
  const xLabel = opts.xAxis === "step" ? "step" : opts.xAxis === "relative" ? "seconds since first point" : "time";
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height,
      legend: { show: true, live: true },
      cursor: { focus: { prox: 16 } },
      focus: { alpha: 0.3 },
      scales: {
        x: { time: opts.xAxis === "wall" },
        y: opts.log ? { distr: 3 } : {},
      },
      axes: [{ label: xLabel }, { values: (_u, vals) => vals.map((v) => (v === null ? "" : formatNumber(v))) }],
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "–" : formatNumber(v)),
        })),
      ],
    },
    data as uPlot.AlignedData,
    container,
  );
  follow(container, plot, height);
  return plot;
}

export interface ScatterPoint {
  x: string; // the parameter's value as logged
  y: number;
  label: string;
  id?: string;
}

// A parameter (numeric, or categories placed at 0, 1, 2, …) against a metric, one dot per run.
export function scatterChart(
  container: HTMLElement,
  xName: string,
  yName: string,
  points: ScatterPoint[],
  onOpen?: (id: string) => void,
  height = 320,
): uPlot {
  const numeric = points.length > 0 && points.every((p) => p.x.trim() !== "" && Number.isFinite(Number(p.x)));
  const categories = numeric ? [] : [...new Set(points.map((p) => p.x))].sort();
  const xOf = (p: ScatterPoint) => (numeric ? Number(p.x) : categories.indexOf(p.x));
  const sorted = [...points].sort((a, b) => xOf(a) - xOf(b));
  const xs = sorted.map(xOf);
  const logX = numeric && xs.length > 1 && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 100;
  // Aligned data wants distinct x values: runs sharing an x become separate series slots.
  const uniq = [...new Set(xs)];
  const slots: (number | null)[][] = [];
  const slotLabels: string[][] = [];
  const slotIds: string[][] = [];
  for (const p of sorted) {
    const xi = uniq.indexOf(xOf(p));
    let k = 0;
    while (slots[k] && slots[k][xi] !== null) k++;
    if (!slots[k]) {
      slots[k] = uniq.map(() => null);
      slotLabels[k] = uniq.map(() => "");
      slotIds[k] = uniq.map(() => "");
    }
    slots[k][xi] = p.y;
    slotLabels[k][xi] = p.label;
    slotIds[k][xi] = p.id ?? "";
  }
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height,
      legend: { show: false },
      scales: {
        x: {
          time: false,
          ...(logX ? { distr: 3 as const } : {}),
          ...(numeric ? {} : { range: () => [-0.5, Math.max(0.5, categories.length - 0.5)] as [number, number] }),
        },
      },
      axes: [
        {
          label: xName,
          ...(numeric
            ? {}
            : {
                splits: () => categories.map((_, i) => i),
                values: () => categories,
              }),
        },
        { label: yName, values: (_u, vals) => vals.map((v) => (v === null ? "" : formatNumber(v))) },
      ],
      series: [
        { label: xName },
        ...slots.map((_, k) => ({
          label: `runs ${k}`,
          stroke: PALETTE[0],
          fill: PALETTE[0] + "aa",
          paths: () => null,
          points: { show: true, size: 9, width: 1, fill: PALETTE[0] + "99" },
        })),
      ],
    },
    [uniq, ...slots] as uPlot.AlignedData,
    container,
  );
  container.dataset.points = String(points.length);
  // A readout of the run under the cursor (the nearest dot at the cursor's x).
  const readout = document.createElement("div");
  readout.className = "readout muted";
  readout.setAttribute("aria-live", "polite");
  container.append(readout);
  let under = "";
  plot.hooks.setCursor = [
    (u) => {
      const i = u.cursor.idx;
      under = "";
      if (i === null || i === undefined || u.cursor.top === undefined || u.cursor.top < 0) return;
      const y = u.posToVal(u.cursor.top, "y");
      let best = -1;
      for (let k = 0; k < slots.length; k++) {
        const v = slots[k][i];
        if (v !== null && (best < 0 || Math.abs(v - y) < Math.abs((slots[best][i] as number) - y))) best = k;
      }
      if (best >= 0) {
        const x = numeric ? formatNumber(uniq[i]) : categories[uniq[i]];
        readout.textContent = `${slotLabels[best][i]}: ${xName} = ${x}, ${yName} = ${formatNumber(slots[best][i] as number)}`;
        // Close enough to the dot to click it open.
        if (Math.abs(u.valToPos(slots[best][i] as number, "y") - u.cursor.top) < 8) under = slotIds[best][i];
      }
      plot.over.style.cursor = under && onOpen ? "pointer" : "";
    },
  ];
  plot.over.addEventListener("click", () => under && onOpen?.(under));
  follow(container, plot, height);
  return plot;
}

// ------------------------------------------------------------------ studies and datasets

export interface XYPoint {
  x: number;
  y: number;
  label: string;
  id?: string; // what a click opens (a run id)
}

// Groups of points onto one aligned table: distinct x values, and per group as many y slots
// as the most points it has at one x (uPlot's aligned data holds one y per x and series).
function alignGroups(groups: XYPoint[][]) {
  const xs = [...new Set(groups.flat().map((p) => p.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  return {
    xs,
    groups: groups.map((points) => {
      const slots: { ys: (number | null)[]; pts: (XYPoint | null)[] }[] = [];
      for (const p of points) {
        const i = at.get(p.x)!;
        let k = 0;
        while (slots[k] && slots[k].ys[i] !== null) k++;
        if (!slots[k]) slots[k] = { ys: xs.map(() => null), pts: xs.map(() => null) };
        slots[k].ys[i] = p.y;
        slots[k].pts[i] = p;
      }
      return slots;
    }),
  };
}

// A readout naming the point nearest the cursor, and a click on it calling onOpen(point.id).
function pointReadout(
  container: HTMLElement,
  plot: uPlot,
  slots: { ys: (number | null)[]; pts: (XYPoint | null)[] }[],
  describe: (p: XYPoint) => string,
  onOpen?: (id: string) => void,
) {
  const readout = document.createElement("div");
  readout.className = "readout muted";
  readout.setAttribute("aria-live", "polite");
  container.append(readout);
  let under = "";
  plot.hooks.setCursor = [
    (u) => {
      const i = u.cursor.idx;
      under = "";
      if (i === null || i === undefined || u.cursor.top === undefined || u.cursor.top < 0) return;
      const y = u.posToVal(u.cursor.top, "y");
      let best: XYPoint | null = null;
      for (const s of slots) {
        const p = s.pts[i];
        if (p && (!best || Math.abs(p.y - y) < Math.abs(best.y - y))) best = p;
      }
      if (!best) return;
      readout.textContent = describe(best);
      if (best.id && Math.abs(u.valToPos(best.y, "y") - u.cursor.top) < 8) under = best.id;
      plot.over.style.cursor = under && onOpen ? "pointer" : "";
    },
  ];
  plot.over.addEventListener("click", () => under && onOpen?.(under));
}

const numberAxis = (label: string) => ({
  label,
  values: (_u: uPlot, vals: (number | null)[]) => vals.map((v) => (v === null ? "" : formatNumber(v))),
});

// Optuna's optimization history: a dot per complete trial (x = trial number) and the best
// value so far as a stepped line.
export function historyChart(
  container: HTMLElement,
  points: XYPoint[],
  minimize: boolean,
  metric: string,
  onOpen?: (id: string) => void,
  height = 300,
): uPlot {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const xs = sorted.map((p) => p.x);
  const ys = sorted.map((p) => p.y);
  let best = NaN;
  const bests = ys.map((y) => (best = Number.isNaN(best) || (minimize ? y < best : y > best) ? y : best));
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height,
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [{ label: "trial" }, numberAxis(metric)],
      series: [
        { label: "trial" },
        {
          label: metric,
          stroke: PALETTE[0],
          paths: () => null,
          points: { show: true, size: 8, width: 1, fill: PALETTE[0] + "99" },
          value: (_u, v) => (v === null || v === undefined ? "–" : formatNumber(v)),
        },
        {
          label: "best so far",
          stroke: PALETTE[1],
          width: 2,
          paths: uPlot.paths.stepped!({ align: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? "–" : formatNumber(v)),
        },
      ],
    },
    [xs, ys, bests],
    container,
  );
  container.dataset.points = String(points.length);
  pointReadout(container, plot, [{ ys, pts: sorted }], (p) => `${p.label}: ${metric} = ${formatNumber(p.y)}`, onOpen);
  follow(container, plot, height);
  return plot;
}

// Two objectives against each other: dominated trials in grey, the Pareto front in red with
// a line through it.
export function paretoChart(
  container: HTMLElement,
  dominated: XYPoint[],
  front: XYPoint[],
  xName: string,
  yName: string,
  onOpen?: (id: string) => void,
  height = 320,
): uPlot {
  const { xs, groups } = alignGroups([dominated, front]);
  const frontSorted = [...front].sort((a, b) => a.x - b.x);
  const lineYs: (number | null)[] = xs.map(() => null);
  for (const p of frontSorted) lineYs[xs.indexOf(p.x)] ??= p.y;
  const dot = (label: string, color: string) => ({
    label,
    stroke: color,
    paths: () => null,
    points: { show: true, size: 8, width: 1, fill: color + "99" },
  });
  const series: uPlot.Series[] = [
    { label: xName },
    ...groups[0].map((_, k) => ({ ...dot(k ? `trials ${k}` : "trials", "#6b7280"), show: true })),
    ...groups[1].map((_, k) => dot(k ? `Pareto front ${k}` : "Pareto front", PALETTE[1])),
    { label: "front", stroke: PALETTE[1] + "88", width: 1.5, spanGaps: true, points: { show: false } },
  ];
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [numberAxis(xName), numberAxis(yName)],
      series,
    },
    [xs, ...groups[0].map((s) => s.ys), ...groups[1].map((s) => s.ys), lineYs] as uPlot.AlignedData,
    container,
  );
  container.dataset.points = String(dominated.length + front.length);
  container.dataset.front = String(front.length);
  pointReadout(
    container,
    plot,
    [...groups[0], ...groups[1]],
    (p) => `${p.label}: ${xName} = ${formatNumber(p.x)}, ${yName} = ${formatNumber(p.y)}`,
    onOpen,
  );
  follow(container, plot, height);
  return plot;
}

export interface BarSeries {
  label: string;
  color: string;
  values: number[];
}

// Bars at x = 0, 1, 2, … (one group per x; two series sit side by side), labelled by
// `xLabels` (a bin's range or a category). Small: profile histograms and drift plots.
export function barChart(
  container: HTMLElement,
  xLabels: string[],
  series: BarSeries[],
  opts: { height?: number; yLabel?: string; legend?: boolean; percent?: boolean } = {},
): uPlot {
  const height = opts.height ?? 140;
  const xs = xLabels.map((_, i) => i);
  const n = series.length;
  const fmt = (v: number | null) => (v === null ? "" : opts.percent ? `${formatNumber(Number((v * 100).toPrecision(3)))}%` : formatNumber(v));
  // Sparse tick labels so they do not collide on small charts.
  const every = Math.max(1, Math.ceil(xLabels.length / 4));
  const plot = new uPlot(
    {
      width: initialWidth(container),
      height,
      legend: { show: opts.legend ?? n > 1 },
      cursor: { points: { show: false } },
      scales: { x: { time: false, range: () => [-0.5, Math.max(0.5, xLabels.length - 0.5)] }, y: { range: (_u, _lo, hi) => [0, hi > 0 ? hi * 1.05 : 1] } },
      axes: [
        {
          splits: () => xs.filter((i) => i % every === 0),
          values: (_u, vals) => vals.map((v) => xLabels[v] ?? ""),
          size: 30,
        },
        { label: opts.yLabel, size: 50, values: (_u, vals) => vals.map(fmt) },
      ],
      series: [
        { label: "bin", value: (_u, v) => (v === null || v === undefined ? "" : xLabels[v] ?? "") },
        ...series.map((s, k) => ({
          label: s.label,
          stroke: s.color,
          fill: s.color + "b0",
          width: 1,
          paths: uPlot.paths.bars!({ size: [n > 1 ? 0.42 : 0.9, 80], align: n > 1 ? ((k === 0 ? -1 : 1) as -1 | 1) : 0 }),
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "–" : fmt(v)),
        })),
      ],
    },
    [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
    container,
  );
  follow(container, plot, height);
  return plot;
}
