// Parallel coordinates in SVG: one vertical axis per parameter (numeric, or categories spaced
// evenly) and a last axis for the metric; one line per run, coloured from low (blue) to high
// (red) metric. Hovering or focusing a line highlights it and names the run.
import { formatNumber } from "./dom";

const NS = "http://www.w3.org/2000/svg";

export interface PcRow {
  id: string;
  label: string;
  values: Record<string, string | undefined>; // axis name → value as logged
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function heat(t: number): string {
  // blue → purple → red
  const a = [37, 99, 235];
  const b = [220, 38, 38];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c.join(",")})`;
}

interface Axis {
  name: string;
  toY: (v: string | undefined) => number | null;
  ticks: { y: number; label: string }[];
}

function buildAxis(name: string, rows: PcRow[], top: number, bottom: number): Axis {
  const raw = rows.map((r) => r.values[name]).filter((v): v is string => v !== undefined && v !== "");
  const numeric = raw.length > 0 && raw.every((v) => Number.isFinite(Number(v)));
  if (numeric) {
    const nums = raw.map(Number);
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 100;
    const f = (x: number) => (log ? Math.log10(x) : x);
    let flo = f(lo);
    let fhi = f(hi);
    if (flo === fhi) {
      flo -= 1;
      fhi += 1;
    }
    const toY = (v: string | undefined) => {
      if (v === undefined || v === "" || !Number.isFinite(Number(v))) return null;
      return bottom - ((f(Number(v)) - flo) / (fhi - flo)) * (bottom - top);
    };
    const ticks = (lo === hi ? [lo] : [lo, hi]).map((x) => ({ y: toY(String(x))!, label: formatNumber(Number(x.toPrecision(4))) }));
    if (lo !== hi && !log) {
      const mid = (lo + hi) / 2;
      ticks.push({ y: toY(String(mid))!, label: formatNumber(Number(mid.toPrecision(3))) });
    }
    return { name, toY, ticks };
  }
  const cats = [...new Set(raw)].sort();
  const step = cats.length > 1 ? (bottom - top) / (cats.length - 1) : 0;
  const yOf = (i: number) => (cats.length > 1 ? bottom - i * step : (top + bottom) / 2);
  return {
    name,
    toY: (v) => (v === undefined || cats.indexOf(v) < 0 ? null : yOf(cats.indexOf(v))),
    ticks: cats.slice(0, 12).map((c, i) => ({ y: yOf(i), label: c.length > 14 ? c.slice(0, 13) + "…" : c })),
  };
}

export function parallelCoordinates(
  container: HTMLElement,
  axes: string[],
  metric: string,
  rows: PcRow[],
  onOpen?: (id: string) => void,
) {
  const names = [...axes, metric];
  const perAxis = 130;
  const width = Math.max(480, names.length * perAxis);
  const height = 340;
  const top = 40;
  const bottom = height - 30;
  const left = 60;
  const right = width - 70;
  const xs = names.map((_, i) => (names.length === 1 ? (left + right) / 2 : left + (i * (right - left)) / (names.length - 1)));
  const built = names.map((n) => buildAxis(n, rows, top, bottom));
  const mvals = rows.map((r) => Number(r.values[metric])).filter(Number.isFinite);
  const mlo = Math.min(...mvals);
  const mhi = Math.max(...mvals);

  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "parcoords" });
  root.append(svg("title", {}, `Parallel coordinates of ${axes.join(", ")} and ${metric} over ${rows.length} runs`));
  const lines = svg("g", { class: "lines" });
  const label = svg("text", { x: left, y: 14, class: "pc-hover" }, "");
  for (const r of rows) {
    const pts: string[] = [];
    built.forEach((a, i) => {
      const y = a.toY(r.values[a.name]);
      if (y !== null) pts.push(`${xs[i].toFixed(1)},${y.toFixed(1)}`);
    });
    if (pts.length < 2) continue;
    const m = Number(r.values[metric]);
    const t = Number.isFinite(m) && mhi > mlo ? (m - mlo) / (mhi - mlo) : 0.5;
    const line = svg("polyline", { points: pts.join(" "), stroke: heat(t), "data-run-id": r.id, tabindex: 0 });
    line.append(svg("title", {}, `${r.label}: ${names.map((n) => `${n}=${r.values[n] ?? "–"}`).join(", ")}`));
    const show = () => {
      lines.append(line); // on top
      line.classList.add("hot");
      label.textContent = `${r.label} — ${metric} ${Number.isFinite(m) ? formatNumber(m) : "–"}`;
    };
    const hide = () => line.classList.remove("hot");
    line.addEventListener("mouseenter", show);
    line.addEventListener("focus", show);
    line.addEventListener("mouseleave", hide);
    line.addEventListener("blur", hide);
    if (onOpen) {
      line.addEventListener("click", () => onOpen(r.id));
      line.addEventListener("keydown", (ev) => {
        if ((ev as KeyboardEvent).key === "Enter") onOpen(r.id);
      });
    }
    lines.append(line);
  }
  root.append(lines);
  built.forEach((a, i) => {
    const g = svg("g", { class: i === built.length - 1 ? "axis metric" : "axis" });
    g.append(svg("line", { x1: xs[i], x2: xs[i], y1: top, y2: bottom }));
    g.append(svg("text", { x: xs[i], y: top - 10, "text-anchor": "middle", class: "axis-name" }, a.name));
    for (const t of a.ticks) {
      g.append(svg("line", { x1: xs[i] - 4, x2: xs[i], y1: t.y, y2: t.y }));
      g.append(svg("text", { x: xs[i] - 7, y: t.y + 4, "text-anchor": "end", class: "tick" }, t.label));
    }
    root.append(g);
  });
  root.append(label);
  container.replaceChildren(root);
  container.dataset.lines = String(lines.childNodes.length);
}
