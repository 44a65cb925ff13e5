#include "tune/gp_sampler.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include "core/log.h"
#include "core/pairwise_sum.h"
#include "tune/gp_search_space.h"
#include "tune/random_sampler.h"

namespace plinth::tune {
namespace {

constexpr int64_t kMaxQmcSeed = int64_t{1} << 30;  // Optuna's _MAX_QMC_SEED_VALUE

// numpy's legacy RandomState.standard_normal (Marsaglia's polar method, one value cached).
class NormalStream {
 public:
  explicit NormalStream(uint32_t seed) : rng_(seed) {}
  double Next() {
    if (has_cached_) {
      has_cached_ = false;
      return cached_;
    }
    double x1, x2, r2;
    do {
      x1 = 2.0 * rng_.RandomSample() - 1.0;
      x2 = 2.0 * rng_.RandomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    cached_ = f * x1;
    has_cached_ = true;
    return f * x2;
  }

 private:
  RandomState rng_;
  bool has_cached_ = false;
  double cached_ = 0.0;
};

}  // namespace

void StandardizeValues(std::vector<double>* y) {
  const size_t n = y->size();
  if (n == 0) return;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : *y) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) lo = hi = 0.0;
  for (double& v : *y) v = std::clamp(v, lo, hi);
  const double mean = PairwiseSum(y->data(), n) / static_cast<double>(n);
  std::vector<double> sq(n);
  for (size_t i = 0; i < n; ++i) sq[i] = ((*y)[i] - mean) * ((*y)[i] - mean);
  const double std = std::sqrt(PairwiseSum(sq.data(), n) / static_cast<double>(n));
  for (double& v : *y) v = (v - mean) / std::max(1e-10, std);
}

Status GpSamplerOptions::Validate() const {
  if (n_startup_trials < 0) return InvalidArgument("n_startup_trials must be non-negative.");
  if (n_preliminary_samples < 1) return InvalidArgument("n_preliminary_samples must be positive.");
  if (n_local_search < 2) return InvalidArgument("n_local_search must be at least 2.");
  if (!(tol > 0)) return InvalidArgument("tol must be positive.");
  if (n_qmc_samples < 1) return InvalidArgument("n_qmc_samples must be positive.");
  return Status::Ok();
}

Result<std::unique_ptr<GpSampler>> GpSampler::Create(GpSamplerOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<GpSampler>(new GpSampler(std::move(options)));
}

// Optuna seeds its own stream and the default RandomSampler with the same seed, separately.
GpSampler::GpSampler(GpSamplerOptions options)
    : options_(std::move(options)),
      rng_(options_.seed ? RandomState(*options_.seed) : RandomState::FromEntropy()) {
  independent_ = options_.independent_sampler ? options_.independent_sampler()
                                              : std::make_unique<RandomSampler>(options_.seed);
}

void GpSampler::BeforeTrial(const Study& study, const FrozenTrial& trial) {
  independent_->BeforeTrial(study, trial);
}

void GpSampler::AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                           std::optional<double> value) {
  independent_->AfterTrial(study, trial, state, value);
}

void GpSampler::UpdateIntersection(const Study& study) {
  const std::vector<int>& order = study.FinishOrder();
  std::vector<std::pair<int, int>> params, kept;
  for (; finish_seen_ < order.size(); ++finish_seen_) {
    const FrozenTrial& t = study.trial(order[finish_seen_]);
    if (t.state != TrialState::kComplete) continue;
    params.clear();
    for (const TrialParam& p : t.params) params.emplace_back(p.param_id, p.distribution_id);
    std::sort(params.begin(), params.end());
    if (!intersection_) {
      intersection_ = params;
      continue;
    }
    kept.clear();
    std::set_intersection(intersection_->begin(), intersection_->end(), params.begin(),
                          params.end(), std::back_inserter(kept));
    intersection_->swap(kept);
  }
}

SearchSpace GpSampler::InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) {
  UpdateIntersection(study);
  SearchSpace space;
  // Several objectives would need log-EHVI: not modelled, everything is sampled independently.
  if (!intersection_ || study.is_multi_objective()) return space;
  for (const auto& [pid, did] : *intersection_) {
    const Distribution& d = study.distribution(did);
    if (d.Single()) continue;
    space.push_back({study.ParamName(pid), d});
  }
  std::sort(space.begin(), space.end(),
            [](const SearchSpaceEntry& a, const SearchSpaceEntry& b) { return a.name < b.name; });
  return space;
}

Result<ParamMap> GpSampler::SampleRelative(const Study& study, const FrozenTrial& trial,
                                           const SearchSpace& space) {
  if (space.empty() || study.CountInState(TrialState::kComplete) < options_.n_startup_trials) {
    return ParamMap{};
  }
  const size_t d = space.size();
  GpSearchSpace gp_space(space);
  std::vector<int> pids(d);
  for (size_t i = 0; i < d; ++i) pids[i] = study.ParamId(space[i].name);

  std::vector<double> x, y, running;
  const double sign = study.direction() == StudyDirection::kMinimize ? -1.0 : 1.0;
  std::vector<double> row(d);
  for (const FrozenTrial& t : study.trials()) {
    if (t.state == TrialState::kComplete) {
      for (size_t i = 0; i < d; ++i) {
        row[i] = gp_space.Normalize(i, study.ParamColumn(pids[i])[t.number]);
      }
      x.insert(x.end(), row.begin(), row.end());
      y.push_back(sign * *t.value);
    } else if (t.state == TrialState::kRunning) {
      // A running trial counts when its parameters (set, or its joint sample) cover the space.
      bool complete = true;
      for (size_t i = 0; i < d && complete; ++i) {
        double v = study.ParamColumn(pids[i])[t.number];
        if (std::isnan(v) && t.relative_sampled) v = study.RelativeColumn(pids[i])[t.number];
        complete = !std::isnan(v) && space[i].distribution.Contains(v);
        row[i] = complete ? gp_space.Normalize(i, v) : 0.0;
      }
      if (complete) running.insert(running.end(), row.begin(), row.end());
    }
  }
  StandardizeValues(&y);
  const size_t best = std::max_element(y.begin(), y.end()) - y.begin();
  const double threshold = y[best];
  std::vector<double> warm(x.begin() + best * d, x.begin() + (best + 1) * d);

  PLINTH_ASSIGN_OR_RETURN(
      GpRegressor gpr, FitGpRegressor(std::move(x), std::move(y), gp_space.is_categorical(), cache_,
                                      options_.deterministic_objective, kGpMinimumNoiseVar,
                                      /*gtol=*/1e-2, options_.lengthscale_prior));
  cache_ = gpr.params();

  AcqfOptimizerOptions opt;
  opt.n_preliminary_samples = options_.n_preliminary_samples;
  opt.n_local_search = options_.n_local_search;
  opt.tol = options_.tol;
  std::vector<double> best_x;
  if (running.empty()) {
    LogEiAcquisition acqf(&gpr, threshold);
    best_x = OptimizeAcquisition(acqf, gp_space, warm, opt, &rng_).first;
  } else {
    // Optuna draws the QMC seed before the optimiser's draws.
    NormalStream normals(static_cast<uint32_t>(rng_.RandInt(0, kMaxQmcSeed)));
    const size_t r = running.size() / d;
    std::vector<double> base(static_cast<size_t>(options_.n_qmc_samples) * (r + 1));
    for (double& z : base) z = normals.Next();
    PLINTH_ASSIGN_OR_RETURN(QLogEiAcquisition acqf,
                            QLogEiAcquisition::Create(&gpr, threshold, running, std::move(base)));
    best_x = OptimizeAcquisition(acqf, gp_space, warm, opt, &rng_).first;
  }
  ParamMap out;
  for (size_t i = 0; i < d; ++i)
    out.emplace_back(space[i].name, gp_space.Unnormalize(i, best_x[i]));
  return out;
}

Result<double> GpSampler::SampleIndependent(const Study& study, const FrozenTrial& trial,
                                            std::string_view name,
                                            const Distribution& distribution) {
  if (options_.warn_independent_sampling && !warned_ &&
      study.CountInState(TrialState::kComplete) >= options_.n_startup_trials) {
    // Once per sampler: Optuna warns per parameter and trial, which floods long studies.
    PLINTH_LOG_WARN(
        "The parameter '{}' in trial#{} is sampled independently by RandomSampler instead of "
        "GPSampler: dynamic search space is not supported by GPSampler.",
        name, trial.number);
    warned_ = true;
  }
  return independent_->SampleIndependent(study, trial, name, distribution);
}

}  // namespace plinth::tune
