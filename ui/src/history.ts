// Long metric histories. The server's sampled history (metrics/get-history-bulk-interval)
// exists but costs a scan of the run's history per sampled step today (~19 s for 1,000 samples
// of 100,000 points, minutes for 1,000,000), while plain get-history pages of 25,000 points
// are cheap (all of 1,000,000 in ~5 s). So the UI pages through the history, draws after the
// first page, and redraws as pages arrive, reducing what it draws to the min and max of each of
// DRAW_BUCKETS buckets — the shape of the curve, spikes included, in a few thousand points.
import { metricHistoryPage, Metric } from "./api";

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
}

// Loads a metric's whole history page by page, calling `update` after the first page, then at
// most every `everyMs`, and at the end. Stops early when `cancelled()` turns true.
export async function loadHistory(
  runId: string,
  key: string,
  update: (u: HistoryUpdate) => void,
  cancelled: () => boolean = () => false,
  everyMs = 400,
): Promise<void> {
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
