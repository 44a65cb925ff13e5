// Long metric histories. A chart first asks the server for its even sample of the history
// (metrics/get-history-bulk-interval, SAMPLE_POINTS points, first and last kept; the server finds
// them by index seeks, a few ms even for 1,000,000 points): one request, and a history no longer
// than that comes back whole. A sample can step over a spike between two sampled points, so on
// request (`full`) the chart pages through every point with get-history (pages of 25,000; all of
// 1,000,000 in a few seconds), draws after the first page and redraws as pages arrive, reducing
// what it draws to the min and max of each of DRAW_BUCKETS buckets — spikes included.
import { metricHistoryPage, metricHistorySample, Metric } from "./api";

// Points per run in the server's sample: MLflow's cap for get-history-bulk-interval.
export const SAMPLE_POINTS = 2500;
export const DRAW_BUCKETS = 2000;

// Min/max per bucket of a step-ordered history (first and last points kept).
export function decimate(points: Metric[], buckets = DRAW_BUCKETS): Metric[] {
  if (points.length <= buckets * 2) return points;
  const out: Metric[] = [];
  const size = points.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * size);
    const hi = Math.min(points.length, Math.floor((b + 1) * size));
    let min = lo;
    let max = lo;
    for (let i = lo + 1; i < hi; i++) {
      const v = points[i].value;
      if (v < points[min].value) min = i;
      if (v > points[max].value) max = i;
    }
    if (min === max) out.push(points[min]);
    else if (min < max) out.push(points[min], points[max]);
    else out.push(points[max], points[min]);
  }
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  if (out[0] !== points[0]) out.unshift(points[0]);
  return out;
}

const byStep = (a: Metric, b: Metric) => a.step - b.step || a.timestamp - b.timestamp;

export interface HistoryUpdate {
  points: Metric[]; // what to draw (decimated when long)
  total: number; // points loaded so far
  done: boolean;
  // The server's sample of a longer history (and its step range), not every point.
  sampled?: { first: number; last: number };
}

// Loads a metric's history for drawing: the server's sample (whole when short), or with `full`
// every point page by page, calling `update` after the first page, then at most every
// `everyMs`, and at the end. A server without the sampled route gets the pages. Stops early when
// `cancelled()` turns true.
export async function loadHistory(
  runId: string,
  key: string,
  update: (u: HistoryUpdate) => void,
  cancelled: () => boolean = () => false,
  { full = false, everyMs = 400 } = {},
): Promise<void> {
  if (!full) {
    let sample: Metric[] | null = null;
    try {
      sample = await metricHistorySample([runId], key, SAMPLE_POINTS);
    } catch {
      // no sampled route (or it failed): page through the history instead
    }
    if (cancelled()) return;
    if (sample) {
      sample.sort(byStep);
      const sampled =
        sample.length >= SAMPLE_POINTS ? { first: sample[0].step, last: sample[sample.length - 1].step } : undefined;
      update({ points: sample, total: sample.length, done: true, sampled });
      return;
    }
  }
  const all: Metric[] = [];
  let sorted = true;
  let token: string | undefined;
  let last = -Infinity;
  do {
    const r = await metricHistoryPage(runId, key, token);
    if (cancelled()) return;
    for (const m of r.metrics ?? []) {
      if (sorted && all.length && byStep(all[all.length - 1], m) > 0) sorted = false;
      all.push(m);
    }
    token = r.next_page_token || undefined;
    const now = performance.now();
    if (!token || now - last >= everyMs) {
      if (!sorted) {
        all.sort(byStep);
        sorted = true;
      }
      update({ points: decimate(all), total: all.length, done: !token });
      last = performance.now();
    }
  } while (token);
}
