// A dataset version's stored profile drawn per column (counts, nulls, distinct, range,
// quantiles, a histogram or the top values), and the distributions the drift page plots for
// two versions: numeric histograms re-binned onto common edges, categories' shares.
import type { ColumnDrift, ColumnProfile } from "./api";
import { h, formatNumber } from "./dom";
import { barChart, PALETTE } from "./chart";

const pct = (n: number, of: number) => (of > 0 ? `${formatNumber(Number(((100 * n) / of).toPrecision(3)))}%` : "");

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

// Four significant digits: enough for a summary, short enough for a card.
const short = (v: number) => formatNumber(Number.isInteger(v) ? v : Number(v.toPrecision(4)));
const edgeLabel = (v: number) => formatNumber(Number(v.toPrecision(3)));

// Counts spread onto `edges` in proportion to each source bin's overlap (uniform within a bin).
function rebin(hist: { edges: number[]; counts: number[] }, edges: number[]): number[] {
  const out = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < hist.counts.length; i++) {
    const a = hist.edges[i];
    const b = hist.edges[i + 1];
    const c = hist.counts[i];
    if (!c) continue;
    if (!(b > a)) {
      let j = edges.findIndex((e, k) => k < edges.length - 1 && a >= e && a <= edges[k + 1]);
      if (j < 0) j = a < edges[0] ? 0 : out.length - 1;
      out[j] += c;
      continue;
    }
    for (let j = 0; j < out.length; j++) {
      const overlap = Math.min(b, edges[j + 1]) - Math.max(a, edges[j]);
      if (overlap > 0) out[j] += (c * overlap) / (b - a);
    }
  }
  return out;
}

export interface Distribution {
  labels: string[];
  reference: number[]; // shares of the non-null values
  current: number[];
  kind: "histogram" | "categories";
}

// Reference and current side by side from two profiles of one column; null when neither
// profile has what the column's kind needs.
export function compareDistributions(ref: ColumnProfile | undefined, cur: ColumnProfile | undefined, categorical: boolean): Distribution | null {
  if (!ref || !cur) return null;
  const nonNull = (p: ColumnProfile) => Math.max(0, p.count - p.null_count);
  if (!categorical && ref.histogram?.edges.length && cur.histogram?.edges.length) {
    const lo = Math.min(ref.histogram.edges[0], cur.histogram.edges[0]);
    const hi = Math.max(ref.histogram.edges[ref.histogram.edges.length - 1], cur.histogram.edges[cur.histogram.edges.length - 1]);
    const bins = hi > lo ? 20 : 1;
    const edges = Array.from({ length: bins + 1 }, (_, i) => (bins === 1 && hi === lo ? lo + i : lo + ((hi - lo) * i) / bins));
    const share = (p: ColumnProfile) => {
      const counts = rebin(p.histogram!, edges);
      const total = counts.reduce((a, b) => a + b, 0);
      return counts.map((c) => (total > 0 ? c / total : 0));
    };
    return {
      labels: edges.slice(0, -1).map(edgeLabel),
      reference: share(ref),
      current: share(cur),
      kind: "histogram",
    };
  }
  if (ref.top_values?.length || cur.top_values?.length) {
    const r = new Map((ref.top_values ?? []).map((t) => [t.value, t.count]));
    const c = new Map((cur.top_values ?? []).map((t) => [t.value, t.count]));
    const order = [...new Set([...r.keys(), ...c.keys()])]
      .sort((a, b) => (r.get(b) ?? 0) + (c.get(b) ?? 0) - ((r.get(a) ?? 0) + (c.get(a) ?? 0)))
      .slice(0, 12);
    const rn = nonNull(ref);
    const cn = nonNull(cur);
    return {
      labels: order.map((v) => (v.length > 14 ? v.slice(0, 13) + "…" : v)),
      reference: order.map((v) => (rn ? (r.get(v) ?? 0) / rn : 0)),
      current: order.map((v) => (cn ? (c.get(v) ?? 0) / cn : 0)),
      kind: "categories",
    };
  }
  return null;
}

// A column's distribution as a drift report carries it (exact, from the server), or null.
export function reportDistribution(d: ColumnDrift): Distribution | null {
  const x = d.distribution;
  if (!x || !x.reference.length) return null;
  if (x.kind === "histogram" && x.edges?.length) {
    return { labels: x.edges.slice(0, -1).map(edgeLabel), reference: x.reference, current: x.current, kind: "histogram" };
  }
  if (x.kind === "categories" && x.labels?.length) {
    return {
      labels: x.labels.map((v) => (v.length > 14 ? v.slice(0, 13) + "…" : v)),
      reference: x.reference,
      current: x.current,
      kind: "categories",
    };
  }
  return null;
}

// The colour key the distribution charts share (they draw no legend of their own).
export function distributionKey(): HTMLElement {
  return h(
    "p.key.small",
    {},
    h("span.swatch", { style: `background: ${REFERENCE_COLOR}` }),
    "reference ",
    h("span.swatch", { style: `background: ${CURRENT_COLOR}` }),
    "current",
  );
}

export const REFERENCE_COLOR = PALETTE[0];
export const CURRENT_COLOR = PALETTE[4];

function stats(p: ColumnProfile): [string, string][] {
  const rows: [string, string][] = [
    ["count", formatNumber(p.count)],
    ["nulls", `${formatNumber(p.null_count)}${p.null_count ? ` (${pct(p.null_count, p.count)})` : ""}`],
    ["distinct", p.distinct_estimate === undefined ? "" : `≈ ${formatNumber(p.distinct_estimate)}`],
  ];
  if (isNumber(p.mean)) {
    rows.push(["mean", short(p.mean)]);
    if (isNumber(p.std)) rows.push(["std", short(p.std)]);
  }
  if (p.min !== undefined && p.min !== null) rows.push(["min", typeof p.min === "number" ? short(p.min) : String(p.min)]);
  if (p.max !== undefined && p.max !== null) rows.push(["max", typeof p.max === "number" ? short(p.max) : String(p.max)]);
  if (p.true_count !== undefined) rows.push(["true", `${formatNumber(p.true_count)} (${pct(p.true_count, p.count - p.null_count)})`]);
  if (p.min_length !== undefined) rows.push(["length", `${p.min_length}–${p.max_length}${isNumber(p.mean_length) ? `, mean ${formatNumber(Number(p.mean_length.toPrecision(3)))}` : ""}`]);
  return rows;
}

// One card per column; uPlot histograms for numbers, bars of the top values otherwise. Call
// draw() once the card is in the page (uPlot measures its container).
export function columnCard(p: ColumnProfile, schemaType?: string): { card: HTMLElement; draw: () => void } {
  let draw = () => {};
  const chartBox = h("div.mini-chart");
  const card = h(
    "figure.column-profile",
    { "data-column": p.name },
    h("figcaption", {}, h("strong", {}, p.name), " ", h("span.badge", {}, schemaType ?? p.type)),
    h("dl.stats", {}, ...stats(p).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
  );
  const q = p.quantiles ?? {};
  const levels = Object.keys(q)
    .map(Number)
    .filter((l) => [0.05, 0.25, 0.5, 0.75, 0.95].includes(l))
    .sort((a, b) => a - b);
  if (levels.length) {
    card.append(
      h(
        "table.quantiles",
        {},
        h("caption.sr-only", {}, `Quantiles of ${p.name}`),
        h("tr", {}, ...levels.map((l) => h("th", { scope: "col" }, l === 0.5 ? "median" : `p${Math.round(l * 100)}`))),
        h("tr", {}, ...levels.map((l) => h("td", { title: String(q[String(l)]) }, short(q[String(l)])))),
      ),
    );
  }
  if (p.histogram && p.histogram.counts.length) {
    card.append(chartBox);
    draw = () => {
      const e = p.histogram!.edges;
      barChart(
        chartBox,
        p.histogram!.counts.map((_, i) => edgeLabel(e[i])),
        [{ label: "rows", color: PALETTE[0], values: p.histogram!.counts }],
        { height: 120, legend: false },
      );
      card.classList.add("drawn");
    };
  } else if (p.top_values?.length) {
    const n = Math.max(1, p.count - p.null_count);
    const top = p.top_values.slice(0, 8);
    card.append(
      h(
        "table.top-values",
        {},
        h("caption.sr-only", {}, `Most frequent values of ${p.name}`),
        ...top.map((t) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", title: t.value }, t.value === "" ? "(empty)" : t.value),
            h("td", {}, h("span.bar", { style: `width: ${((100 * t.count) / n).toFixed(1)}%` })),
            h("td.num", {}, `${formatNumber(t.count)} (${pct(t.count, n)})`),
          ),
        ),
      ),
    );
    if (p.top_values.length > top.length || p.top_values_exact === false) {
      card.append(h("p.muted.small", {}, p.top_values_exact === false ? "Top values estimated (a frequent-items sketch)." : `${p.top_values.length - top.length} more values`));
    }
    card.classList.add("drawn");
  } else {
    card.classList.add("drawn");
  }
  return { card, draw };
}

export function distributionChart(container: HTMLElement, d: Distribution) {
  return barChart(
    container,
    d.labels,
    [
      { label: "reference", color: REFERENCE_COLOR, values: d.reference },
      { label: "current", color: CURRENT_COLOR, values: d.current },
    ],
    { height: 150, legend: false, percent: true },
  );
}
