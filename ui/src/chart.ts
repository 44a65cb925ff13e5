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
