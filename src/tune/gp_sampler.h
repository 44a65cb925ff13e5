// GpSampler: Gaussian-process Bayesian optimisation as Optuna v5's GPSampler runs it
// (optuna/samplers/_gp/sampler.py), for single-objective studies.
//
// Until n_startup_trials trials are COMPLETE, and for every parameter outside the joint space
// (conditional parameters: "categorical-conditional leftovers"), the independent sampler
// draws (RandomSampler with the same seed, so the start-up trials repeat Optuna's). Then, per
// trial, over the intersection of the COMPLETE trials' spaces (single-valued distributions
// left out): normalise the parameters (gp_search_space.h), standardise the values (signed so
// that larger is better), fit the GP's hyperparameters MAP, warm-started from the previous
// fit (gp_regressor.h), and maximise the acquisition (gp_optimizer.h): log-EI, or, when
// other trials are RUNNING with their joint sample known, the batch-aware qLogEI that
// fantasises their outcomes (gp_acquisition.h), so parallel workers spread out. The best
// trial so far is a warm start of the local search.
//
// Multi-objective and constrained studies are not modelled here (Optuna uses log-EHVI and
// feasibility GPs): in a study with several objectives the joint sample is empty and every
// parameter comes from the independent sampler.
//
// Owns its random streams and the previous fit; not thread-safe (one per Study).
#ifndef PLINTH_TUNE_GP_SAMPLER_H_
#define PLINTH_TUNE_GP_SAMPLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tune/gp_optimizer.h"
#include "tune/gp_regressor.h"
#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

struct GpSamplerOptions {
  std::optional<uint32_t> seed;
  int n_startup_trials = 10;
  // Fix the noise variance at its minimum (1e-6) instead of fitting it.
  bool deterministic_objective = false;
  // The fit's lengthscale prior: kOptuna (the default) is Optuna's GPSampler; kDimensionScaled
  // is Hvarfner et al.'s (gp_regressor.h), an opt-in departure.
  GpLengthscalePrior lengthscale_prior = GpLengthscalePrior::kOptuna;
  bool warn_independent_sampling = true;
  // Builds the sampler for start-up trials and conditional parameters; unset: RandomSampler
  // with `seed` (Optuna's default).
  std::function<std::unique_ptr<Sampler>()> independent_sampler;
  // Acquisition optimisation (Optuna's private constants).
  int n_preliminary_samples = 2048;
  int n_local_search = 10;
  double tol = 1e-4;
  int n_qmc_samples = 128;  // qLogEI's base samples

  // kInvalidArgument: negative n_startup_trials, n_preliminary_samples < 1,
  // n_local_search < 2, tol <= 0 or n_qmc_samples < 1.
  Status Validate() const;
};

class GpSampler : public Sampler {
 public:
  static Result<std::unique_ptr<GpSampler>> Create(GpSamplerOptions options = {});

  void BeforeTrial(const Study& study, const FrozenTrial& trial) override;
  SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) override;
  Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                  const SearchSpace& space) override;
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override;
  void AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                  std::optional<double> value) override;

  const GpSamplerOptions& options() const { return options_; }
  // The last fit's hyperparameters (the next fit starts there), if any.
  const std::optional<GpKernelParams>& last_fit() const { return cache_; }

 private:
  explicit GpSampler(GpSamplerOptions options);
  void UpdateIntersection(const Study& study);

  GpSamplerOptions options_;
  RandomState rng_;  // Optuna's sampler._rng
  std::unique_ptr<Sampler> independent_;
  std::optional<GpKernelParams> cache_;
  size_t finish_seen_ = 0;
  std::optional<std::vector<std::pair<int, int>>> intersection_;
  bool warned_ = false;
};

// Standardises y in place as Optuna's _standardize_values: non-finite values clipped to the
// finite range, then (y − mean)/max(1e-10, std).
void StandardizeValues(std::vector<double>* y);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GP_SAMPLER_H_
