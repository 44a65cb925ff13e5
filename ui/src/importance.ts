// Parameter importance, computed in the browser from a study's complete trials. An
// approximation of Optuna's default (fANOVA on a random forest): for each parameter, the trials
// are grouped into bins of that parameter (quantile bins by rank for numbers, one bin per
// value for categories), and the importance is the share of the objective's variance that the
// bins' means explain (between-bin variance / total variance, i.e. the parameter's first-order
// effect, eta²). The shares are then normalized to sum to 1, as Optuna's are. No forest and no
// interactions: with few trials each parameter picks up some noise, so small differences do
// not mean much.

export interface ImportanceInput {
  params: Record<string, string | number | boolean | null>;
  value: number;
}

export interface Importance {
  param: string;
  importance: number; // normalized share, 0..1
  trials: number; // trials that set the parameter
}

function binsOf(values: (string | number | boolean | null)[]): number[] {
  const numeric = values.every((v) => typeof v === "number" && Number.isFinite(v));
  if (!numeric) {
    const cats = new Map<string, number>();
    return values.map((v) => {
      const k = String(v);
      if (!cats.has(k)) cats.set(k, cats.size);
      return cats.get(k)!;
    });
  }
  const n = values.length;
  const k = Math.max(2, Math.min(10, Math.floor(Math.sqrt(n))));
  const order = values.map((v, i) => [v as number, i] as const).sort((a, b) => a[0] - b[0]);
  const bins = new Array<number>(n);
  // Equal values share the bin of their first rank, so a bin edge never splits a value.
  let firstRank = 0;
  for (let r = 0; r < n; r++) {
    if (r > 0 && order[r][0] !== order[r - 1][0]) firstRank = r;
    bins[order[r][1]] = Math.floor((firstRank * k) / n);
  }
  return bins;
}

// Between-bin share of the variance of `ys` (0 when the objective is constant).
function explainedShare(bins: number[], ys: number[]): number {
  const n = ys.length;
  const mean = ys.reduce((a, b) => a + b, 0) / n;
  let total = 0;
  for (const y of ys) total += (y - mean) ** 2;
  if (total <= 0) return 0;
  const sums = new Map<number, { s: number; c: number }>();
  bins.forEach((b, i) => {
    const e = sums.get(b) ?? { s: 0, c: 0 };
    e.s += ys[i];
    e.c += 1;
    sums.set(b, e);
  });
  let between = 0;
  for (const { s, c } of sums.values()) between += c * (s / c - mean) ** 2;
  return between / total;
}

export function paramImportance(trials: ImportanceInput[]): Importance[] {
  const finite = trials.filter((t) => Number.isFinite(t.value));
  const names = [...new Set(finite.flatMap((t) => Object.keys(t.params)))];
  const raw = names.map((param) => {
    const with_ = finite.filter((t) => t.params[param] !== undefined);
    if (with_.length < 2) return { param, importance: 0, trials: with_.length };
    const bins = binsOf(with_.map((t) => t.params[param]));
    return { param, importance: explainedShare(bins, with_.map((t) => t.value)), trials: with_.length };
  });
  const sum = raw.reduce((a, r) => a + r.importance, 0);
  return raw
    .map((r) => ({ ...r, importance: sum > 0 ? r.importance / sum : 0 }))
    .sort((a, b) => b.importance - a.importance || a.param.localeCompare(b.param));
}
