#include "tune/multi_objective.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace plinth::tune {
namespace {

constexpr double kReferenceEps = 1e-12;  // the TPE sampler's EPS

bool Dominates(const double* a, const double* b, size_t m) {
  bool strictly = false;
  for (size_t k = 0; k < m; ++k) {
    if (a[k] > b[k]) return false;
    strictly = strictly || a[k] < b[k];
  }
  return strictly;
}

bool LexLess(const double* a, const double* b, size_t m) {
  return std::lexicographical_compare(a, a + m, b, b + m);
}

// np.unique(rows, axis=0, return_index, return_inverse): lexsorted distinct rows, the first
// occurrence of each, and each row's distinct index.
struct UniqueRows {
  std::vector<double> rows;
  std::vector<size_t> first;
  std::vector<size_t> inverse;
};

UniqueRows Unique(std::span<const double> loss, size_t m) {
  const size_t n = m == 0 ? 0 : loss.size() / m;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return LexLess(&loss[a * m], &loss[b * m], m); });
  UniqueRows u;
  u.inverse.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t r = order[i];
    if (u.first.empty() ||
        !std::equal(&loss[r * m], &loss[r * m] + m, &u.rows[u.rows.size() - m])) {
      u.rows.insert(u.rows.end(), &loss[r * m], &loss[r * m] + m);
      u.first.push_back(r);
    }
    u.inverse[r] = u.first.size() - 1;
  }
  return u;
}

double Hypervolume2d(std::vector<const double*> points, std::span<const double> ref) {
  std::sort(points.begin(), points.end(), [](const double* a, const double* b) {
    return a[0] != b[0] ? a[0] < b[0] : a[1] < b[1];
  });
  double hv = 0.0, ceiling = ref[1];
  for (const double* p : points) {
    if (p[1] < ceiling) {
      hv += (ref[0] - p[0]) * (ceiling - p[1]);
      ceiling = p[1];
    }
  }
  return hv;
}

// Slicing along the last objective (HSO): exact, for the few points HSSP meets here.
double HypervolumeRecursive(std::vector<const double*> points, size_t m,
                            std::span<const double> ref) {
  if (points.empty()) return 0.0;
  if (m == 1) {
    double best = ref[0];
    for (const double* p : points) best = std::min(best, p[0]);
    return ref[0] - best;
  }
  if (m == 2) return Hypervolume2d(std::move(points), ref);
  std::sort(points.begin(), points.end(),
            [m](const double* a, const double* b) { return a[m - 1] < b[m - 1]; });
  double hv = 0.0;
  std::vector<const double*> slice;
  for (size_t i = 0; i < points.size(); ++i) {
    slice.push_back(points[i]);
    const double next = i + 1 < points.size() ? points[i + 1][m - 1] : ref[m - 1];
    const double depth = next - points[i][m - 1];
    if (depth > 0) hv += depth * HypervolumeRecursive(slice, m - 1, ref.first(m - 1));
  }
  return hv;
}

double HypervolumeOfRows(const std::vector<std::vector<double>>& rows, size_t m,
                         std::span<const double> ref) {
  std::vector<const double*> points;
  for (const auto& r : rows) points.push_back(r.data());
  return HypervolumeRecursive(std::move(points), m, ref);
}

std::vector<size_t> SolveHssp2d(const std::vector<double>& vals, size_t subset,
                                std::span<const double> ref) {
  const size_t n = vals.size() / 2;
  std::vector<size_t> sorted(n);
  std::iota(sorted.begin(), sorted.end(), 0);
  std::vector<double> points = vals;
  std::vector<double> diags;
  for (size_t i = 0; i < n; ++i) diags.insert(diags.end(), {ref[0], ref[1]});
  std::vector<size_t> selected;
  for (size_t i = 0; i < subset; ++i) {
    const size_t count = sorted.size();
    size_t best = 0;
    double best_c = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < count; ++j) {
      const double c = (diags[2 * j] - points[2 * j]) * (diags[2 * j + 1] - points[2 * j + 1]);
      if (c > best_c) {
        best_c = c;
        best = j;
      }
    }
    selected.push_back(sorted[best]);
    const double p0 = points[2 * best], p1 = points[2 * best + 1];
    sorted.erase(sorted.begin() + best);
    points.erase(points.begin() + 2 * best, points.begin() + 2 * best + 2);
    diags.erase(diags.begin() + 2 * best, diags.begin() + 2 * best + 2);
    for (size_t j = 0; j < best; ++j) diags[2 * j] = std::min(p0, diags[2 * j]);
    for (size_t j = best; j < sorted.size(); ++j) diags[2 * j + 1] = std::min(p1, diags[2 * j + 1]);
  }
  return selected;
}

// Greedy selection on distinct lexsorted rows; returns positions into them.
std::vector<size_t> SolveHsspUnique(const std::vector<double>& vals, size_t m, size_t subset,
                                    std::span<const double> ref) {
  const size_t n = vals.size() / m;
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (!std::all_of(ref.begin(), ref.end(), [](double r) { return std::isfinite(r); })) {
    all.resize(subset);
    return all;
  }
  if (n == subset) return all;
  if (m == 2) return SolveHssp2d(vals, subset, ref);
  // Optuna updates the contributions lazily (bounds from submodularity, exact values only
  // where they can win); its argmax is the argmax of the exact contributions computed here.
  std::vector<double> contribs(n);
  for (size_t i = 0; i < n; ++i) {
    double c = 1.0;
    for (size_t k = 0; k < m; ++k) c *= ref[k] - vals[i * m + k];
    contribs[i] = c;
  }
  std::vector<size_t> indices = all, selected;
  std::vector<std::vector<double>> selected_vecs;
  double hv = 0.0;
  for (size_t step = 0; step < subset; ++step) {
    const size_t best = std::max_element(contribs.begin(), contribs.end()) - contribs.begin();
    hv += contribs[best];
    selected.push_back(indices[best]);
    selected_vecs.emplace_back(&vals[indices[best] * m], &vals[indices[best] * m] + m);
    contribs.erase(contribs.begin() + best);
    indices.erase(indices.begin() + best);
    if (step + 1 == subset) break;
    if (std::isinf(hv)) {
      std::fill(contribs.begin(), contribs.end(), std::numeric_limits<double>::infinity());
      continue;
    }
    for (size_t j = 0; j < indices.size(); ++j) {
      const double* p = &vals[indices[j] * m];
      if (m <= 3) {
        // Incremental, as Optuna for up to three objectives: H(S ∪ {j}) − H(S).
        selected_vecs.emplace_back(p, p + m);
        contribs[j] = HypervolumeOfRows(selected_vecs, m, ref) - hv;
        selected_vecs.pop_back();
      } else {
        // Decremental: H({j}) − H({max(j, s) : s ∈ S}).
        double inclusive = 1.0;
        for (size_t k = 0; k < m; ++k) inclusive *= ref[k] - p[k];
        std::vector<std::vector<double>> limited;
        for (const auto& s : selected_vecs) {
          std::vector<double> r(m);
          for (size_t k = 0; k < m; ++k) r[k] = std::max(p[k], s[k]);
          limited.push_back(std::move(r));
        }
        contribs[j] = inclusive - HypervolumeOfRows(limited, m, ref);
      }
    }
  }
  return selected;
}

}  // namespace

std::vector<bool> ParetoFront(std::span<const double> loss, size_t m) {
  const size_t n = m == 0 ? 0 : loss.size() / m;
  std::vector<bool> on(n, true);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n && on[i]; ++j) {
      if (j != i && Dominates(&loss[j * m], &loss[i * m], m)) on[i] = false;
    }
  }
  return on;
}

std::vector<int> NondominationRanks(std::span<const double> loss, size_t m, int n_below) {
  const size_t n = m == 0 ? 0 : loss.size() / m;
  std::vector<int> out(n, 0);
  if (n == 0) return out;
  UniqueRows u = Unique(loss, m);
  const size_t n_unique = u.first.size();
  std::vector<int> ranks(n_unique, 0);
  if (m == 1) {
    std::iota(ranks.begin(), ranks.end(), 0);  // distinct values, ascending
  } else {
    const size_t target = std::min(n_below > 0 ? static_cast<size_t>(n_below) : n_unique, n_unique);
    std::vector<size_t> remaining(n_unique);
    std::iota(remaining.begin(), remaining.end(), 0);
    int rank = 0;
    while (n_unique - remaining.size() < target) {
      std::vector<size_t> rest;
      for (size_t a : remaining) {
        bool dominated = false;
        for (size_t b : remaining) {
          if (b != a && Dominates(&u.rows[b * m], &u.rows[a * m], m)) {
            dominated = true;
            break;
          }
        }
        if (dominated) {
          rest.push_back(a);
        } else {
          ranks[a] = rank;
        }
      }
      remaining.swap(rest);
      ++rank;
    }
    for (size_t a : remaining) ranks[a] = rank;
  }
  for (size_t i = 0; i < n; ++i) out[i] = ranks[u.inverse[i]];
  return out;
}

double Hypervolume(std::span<const double> loss, size_t m, std::span<const double> reference) {
  if (!std::all_of(reference.begin(), reference.end(), [](double r) { return std::isfinite(r); })) {
    return std::numeric_limits<double>::infinity();
  }
  std::vector<const double*> points;
  for (size_t i = 0; i + m <= loss.size(); i += m) points.push_back(&loss[i]);
  double hv = HypervolumeRecursive(std::move(points), m, reference);
  return std::isfinite(hv) ? hv : std::numeric_limits<double>::infinity();
}

std::vector<double> TpeReferencePoint(std::span<const double> loss, size_t m) {
  std::vector<double> worst(m, -std::numeric_limits<double>::infinity());
  for (size_t i = 0; i + m <= loss.size(); i += m) {
    for (size_t k = 0; k < m; ++k) worst[k] = std::max(worst[k], loss[i + k]);
  }
  for (double& w : worst) {
    w = std::max(1.1 * w, 0.9 * w);
    if (w == 0) w = kReferenceEps;
  }
  return worst;
}

std::vector<int> SolveHssp(std::span<const double> loss, size_t m, std::span<const int> indices,
                           size_t subset_size, std::span<const double> reference) {
  const size_t n = indices.size();
  if (subset_size == n) return {indices.begin(), indices.end()};
  UniqueRows u = Unique(loss, m);
  const size_t n_unique = u.first.size();
  std::vector<int> out;
  if (n_unique < subset_size) {
    // Every distinct row (first occurrences), then the earliest duplicates, in row order.
    std::vector<bool> chosen(n, false);
    for (size_t f : u.first) chosen[f] = true;
    size_t extra = subset_size - n_unique;
    for (size_t i = 0; i < n && extra > 0; ++i) {
      if (!chosen[i]) {
        chosen[i] = true;
        --extra;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (chosen[i]) out.push_back(indices[i]);
    }
    return out;
  }
  for (size_t pos : SolveHsspUnique(u.rows, m, subset_size, reference)) {
    out.push_back(indices[u.first[pos]]);
  }
  return out;
}

std::vector<bool> SplitMultiObjective(std::span<const double> loss, size_t m, int n_below) {
  const size_t n = m == 0 ? 0 : loss.size() / m;
  std::vector<bool> below(n, false);
  if (n_below <= 0) return below;
  if (static_cast<size_t>(n_below) >= n) return std::vector<bool>(n, true);
  std::vector<int> ranks = NondominationRanks(loss, m, n_below);
  const int max_rank = *std::max_element(ranks.begin(), ranks.end());
  std::vector<int> counts(max_rank + 1, 0);
  for (int r : ranks) ++counts[r];
  int last_rank = -1, cumulative = 0;
  for (int r = 0; r <= max_rank; ++r) {
    cumulative += counts[r];
    if (cumulative <= n_below) last_rank = r;
  }
  int taken = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ranks[i] <= last_rank) {
      below[i] = true;
      ++taken;
    }
  }
  if (taken < n_below) {
    std::vector<double> tie_loss;
    std::vector<int> tie_indices;
    for (size_t i = 0; i < n; ++i) {
      if (ranks[i] == last_rank + 1) {
        tie_loss.insert(tie_loss.end(), &loss[i * m], &loss[i * m] + m);
        tie_indices.push_back(static_cast<int>(i));
      }
    }
    std::vector<double> ref = TpeReferencePoint(tie_loss, m);
    for (int i : SolveHssp(tie_loss, m, tie_indices, n_below - taken, ref)) below[i] = true;
  }
  return below;
}

}  // namespace plinth::tune
