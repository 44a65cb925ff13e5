#include "tune/gp_optimizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "tune/lbfgsb.h"

namespace plinth::tune {
namespace {

constexpr int kMaxExhaustiveSearchValues = 16;  // Optuna's MAX_INT_EXHAUSTIVE_SEARCH_PARAMS
constexpr int kContinuous = -1;

// L-BFGS on the continuous dimensions of x (in place). Returns whether it improved f.
bool GradientAscent(const AcquisitionFunction& acqf, const GpSearchSpace& space,
                    const std::vector<double>& lengthscales, double tol, std::vector<double>* x,
                    double* f) {
  const auto& cont = space.continuous_indices();
  if (cont.empty()) return false;
  const size_t d = space.dim();
  std::vector<double> z0(cont.size()), lower(cont.size(), 0.0), upper(cont.size());
  for (size_t j = 0; j < cont.size(); ++j) {
    z0[j] = (*x)[cont[j]] / lengthscales[j];
    upper[j] = 1.0 / lengthscales[j];
  }
  std::vector<double> point = *x, grad(d);
  LbfgsbOptions options;
  options.pgtol = std::sqrt(tol);
  options.max_iterations = 200;
  LbfgsbResult r = MinimizeLbfgsb(
      [&](std::span<const double> z, std::span<double> g) {
        for (size_t j = 0; j < cont.size(); ++j) point[cont[j]] = z[j] * lengthscales[j];
        double v = acqf.EvalWithGradient(point.data(), grad.data());
        for (size_t j = 0; j < cont.size(); ++j) g[j] = -grad[cont[j]] * lengthscales[j];
        return -v;
      },
      z0, lower, upper, options);
  if (r.iterations > 0 && -r.f > *f) {
    for (size_t j = 0; j < cont.size(); ++j) (*x)[cont[j]] = r.x[j] * lengthscales[j];
    *f = -r.f;
    return true;
  }
  return false;
}

bool ExhaustiveSearch(const AcquisitionFunction& acqf, size_t dim_index,
                      const std::vector<double>& choices, std::vector<double>* x, double* f) {
  if (choices.size() <= 1) return false;
  const size_t d = x->size();
  std::vector<double> points, values, others;
  for (double c : choices) {
    if (c == (*x)[dim_index]) continue;
    others.push_back(c);
    points.insert(points.end(), x->begin(), x->end());
    points[points.size() - d + dim_index] = c;
  }
  if (others.empty()) return false;
  values.resize(others.size());
  acqf.EvalBatch(points.data(), others.size(), values.data());
  double best = -std::numeric_limits<double>::infinity();
  double best_choice = 0.0;
  for (size_t j = 0; j < others.size(); ++j) {
    if (values[j] > best) {  // np.argmax: the first maximum
      best = values[j];
      best_choice = others[j];
    }
  }
  if (best > *f) {
    (*x)[dim_index] = best_choice;
    *f = best;
    return true;
  }
  return false;
}

bool LineSearch(const AcquisitionFunction& acqf, size_t dim_index, const std::vector<double>& grid,
                double xtol, std::vector<double>* x, double* f) {
  if (grid.size() <= 1) return false;
  auto nearest = [&](double v) {
    size_t i = std::lower_bound(grid.begin(), grid.end(), v) - grid.begin();
    i = std::clamp<size_t>(i, 1, grid.size() - 1);
    return std::abs(v - grid[i - 1]) < std::abs(v - grid[i]) ? i - 1 : i;
  };
  const size_t current = nearest((*x)[dim_index]);
  std::map<size_t, double> cache{{current, -*f}};
  std::vector<double> point = *x;
  auto neg_at = [&](size_t i) {
    auto it = cache.find(i);
    if (it != cache.end()) return it->second;
    point[dim_index] = grid[i];
    double v = -acqf.Eval(point.data());
    cache[i] = v;
    return v;
  };
  auto interpolated = [&](double v) {
    size_t right = std::lower_bound(grid.begin(), grid.end(), v) - grid.begin();
    right = std::clamp<size_t>(right, 1, grid.size() - 1);
    size_t left = right - 1;
    double wl = (grid[right] - v) / (grid[right] - grid[left]);
    return wl * neg_at(left) + (1.0 - wl) * neg_at(right);
  };
  // Golden-section search on [grid.front(), grid.back()].
  const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = grid.front(), b = grid.back();
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  double fc = interpolated(c), fd = interpolated(d);
  while (b - a > xtol) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = interpolated(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = interpolated(d);
    }
  }
  const size_t opt = nearest(0.5 * (a + b));
  const double fval = -neg_at(opt);
  if (opt != current && fval > *f) {
    (*x)[dim_index] = grid[opt];
    *f = fval;
    return true;
  }
  return false;
}

void LocalSearch(const AcquisitionFunction& acqf, const GpSearchSpace& space,
                 const std::vector<double>& lengthscales, const AcqfOptimizerOptions& options,
                 std::vector<double>* x, double* f) {
  const auto& discrete = space.discrete_indices();
  int last_changed = kContinuous;
  for (int round = 0; round < options.max_rounds; ++round) {
    if (GradientAscent(acqf, space, lengthscales, options.tol, x, f)) {
      last_changed = kContinuous;
    }
    for (size_t k = 0; k < discrete.size(); ++k) {
      const size_t i = discrete[k];
      if (last_changed == static_cast<int>(i)) return;  // a full round changed nothing else
      const std::vector<double>& choices = space.Choices(k);
      bool updated;
      if (space.is_categorical()[i] || choices.size() <= kMaxExhaustiveSearchValues) {
        updated = ExhaustiveSearch(acqf, i, choices, x, f);
      } else {
        double min_gap = std::numeric_limits<double>::infinity();
        for (size_t j = 1; j < choices.size(); ++j) {
          min_gap = std::min(min_gap, choices[j] - choices[j - 1]);
        }
        updated = LineSearch(acqf, i, choices, min_gap / 4, x, f);
      }
      if (updated) last_changed = static_cast<int>(i);
    }
    if (last_changed == kContinuous) return;
  }
}

}  // namespace

std::vector<size_t> ChoiceWithoutReplacement(RandomState* rng, std::vector<double> p, size_t size) {
  std::vector<size_t> found;
  std::vector<double> cdf(p.size()), draws;
  while (found.size() < size) {
    draws.clear();
    for (size_t k = found.size(); k < size; ++k) draws.push_back(rng->RandomSample());
    for (size_t i : found) p[i] = 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < p.size(); ++i) cdf[i] = (sum += p[i]);
    const double last = cdf.back();
    for (double& c : cdf) c /= last;
    // Keep each new index's first occurrence, in draw order.
    std::set<size_t> seen;
    for (double u : draws) {
      size_t idx = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
      if (seen.insert(idx).second) found.push_back(idx);
    }
  }
  return found;
}

std::pair<std::vector<double>, double> OptimizeAcquisition(const AcquisitionFunction& acqf,
                                                           const GpSearchSpace& space,
                                                           const std::vector<double>& warm_starts,
                                                           const AcqfOptimizerOptions& options,
                                                           RandomState* rng) {
  const size_t d = space.dim();
  const size_t n_warm = d == 0 ? 0 : warm_starts.size() / d;
  // Optuna seeds its Sobol engine with rng.randint(int32 max); the draw seeds ours.
  RandomState qmc_rng(static_cast<uint32_t>(rng->RandInt(0, 2147483647)));
  const size_t n_samples = options.n_preliminary_samples;
  std::vector<double> samples = space.SamplePoints(n_samples, &qmc_rng);
  std::vector<double> fvals(n_samples);
  acqf.EvalBatch(samples.data(), n_samples, fvals.data());
  size_t max_i = 0;
  for (size_t p = 0; p < n_samples; ++p) {
    if (fvals[p] > fvals[max_i]) max_i = p;
  }
  std::vector<double> probs(n_samples);
  size_t nonzero = 0;
  double total = 0.0;
  for (size_t p = 0; p < n_samples; ++p) {
    probs[p] = p == max_i ? 0.0 : std::exp(fvals[p] - fvals[max_i]);
    total += probs[p];
  }
  for (double& q : probs) {
    q /= total;
    nonzero += q > 0.0;
  }
  const size_t n_additional =
      std::min(static_cast<size_t>(options.n_local_search) - n_warm - 1, nonzero);
  std::vector<size_t> chosen{max_i};
  if (n_additional > 0) {
    for (size_t i : ChoiceWithoutReplacement(rng, probs, n_additional)) chosen.push_back(i);
  }
  std::vector<std::vector<double>> starts;
  for (size_t i : chosen)
    starts.emplace_back(samples.begin() + i * d, samples.begin() + (i + 1) * d);
  for (size_t w = 0; w < n_warm; ++w) {
    starts.emplace_back(warm_starts.begin() + w * d, warm_starts.begin() + (w + 1) * d);
  }
  std::vector<double> lengthscales;
  const std::vector<double> all_ls = acqf.gpr().LengthScales();
  for (size_t i : space.continuous_indices()) lengthscales.push_back(all_ls[i]);

  std::vector<double> best_x;
  double best_f = -std::numeric_limits<double>::infinity();
  for (std::vector<double>& x : starts) {
    double f = acqf.Eval(x.data());
    LocalSearch(acqf, space, lengthscales, options, &x, &f);
    if (best_x.empty() || f > best_f) {
      best_x = x;
      best_f = f;
    }
  }
  return {best_x, best_f};
}

}  // namespace plinth::tune
