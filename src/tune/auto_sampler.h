// AutoSampler: the default sampler, choosing among the others by search space and budget as
// OptunaHub's AutoSampler does (optunahub-registry package/samplers/auto_sampler/_sampler.py,
// single objective).
//
// Before each trial, once some trial is COMPLETE, it looks at the COMPLETE trials' common
// parameters and the history:
//   * a categorical parameter, or trials with different parameter sets (a conditional
//     space): TPE (multivariate, constant liar), and TPE for good;
//   * otherwise, fewer than `gp_trials` (100) COMPLETE trials: GP, or TPE (multivariate,
//     constant liar) when the space has more than `max_dimension_for_gp` (8) parameters;
//   * otherwise, fewer than 250 COMPLETE trials: TPE (multivariate, constant liar);
//   * otherwise: CMA-ES, warm-started (WS-CMA-ES) from the first 250 trials to complete.
// The dimension rule and the GP→TPE handoff at `gp_trials` are Plinth's, not OptunaHub's: over
// 40 seeds Optuna's TPE beat the GP on Styblinski-Tang-10 (200 trials) and Rosenbrock-10 (100
// trials), and on Ackley-5 at 200 trials, while the GP won on Branin, Hartmann-6 and Ackley-5
// up to 100 trials (docs/tuning.md). `max_dimension_for_gp = INT_MAX` with `gp_trials >=
// max_budget_for_gp` is OptunaHub's rule.
// Before the first COMPLETE trial it samples at random. Each switch creates the new sampler
// with a seed drawn from the AutoSampler's own stream, so a seeded run repeats.
//
// GP is pluggable: `AutoSamplerOptions::gp_factory` builds it; by default it is GpSampler
// (gp_sampler.h) with Optuna's defaults. Not thread-safe (one per Study).
#ifndef PLINTH_TUNE_AUTO_SAMPLER_H_
#define PLINTH_TUNE_AUTO_SAMPLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

// Builds a sampler from a seed (AutoSampler draws one per switch).
using SamplerFactory = std::function<Result<std::unique_ptr<Sampler>>(uint32_t seed)>;

enum class AutoSamplerChoice : uint8_t { kRandom, kTpe, kGp, kCmaEs };
// Optuna's class name of the choice ("RandomSampler", "TPESampler", "GPSampler",
// "CmaEsSampler"), as AutoSampler records it in the `auto:sampler` system attribute.
std::string_view AutoSamplerChoiceName(AutoSamplerChoice choice);

struct AutoSamplerOptions {
  std::optional<uint32_t> seed;
  // Builds the GP sampler used for numeric spaces below `max_budget_for_gp` COMPLETE trials.
  // Unset: DefaultGpSamplerFactory().
  SamplerFactory gp_factory;
  // OptunaHub's _MAX_BUDGET_FOR_SINGLE_GP: GP below, CMA-ES from here on.
  int max_budget_for_gp = 250;
  // Numeric spaces with more parameters than this get TPE instead of GP below
  // max_budget_for_gp (Plinth's rule; std::numeric_limits<int>::max() turns it off).
  int max_dimension_for_gp = 8;
  // The GP's share (Plinth's rule): GP below this many COMPLETE trials, then TPE (multivariate,
  // constant liar) until max_budget_for_gp. Any value >= max_budget_for_gp (e.g. 250) is
  // OptunaHub's rule: GP until CMA-ES takes over.
  int gp_trials = 100;

  // kInvalidArgument for max_budget_for_gp < 1, max_dimension_for_gp < 0 or gp_trials < 0.
  Status Validate() const;
};

// The GP sampler AutoSampler uses by default: GpSampler seeded from AutoSampler's stream, with
// Optuna 5's defaults (10 start-up trials).
SamplerFactory DefaultGpSamplerFactory();

class AutoSampler : public Sampler {
 public:
  static Result<std::unique_ptr<AutoSampler>> Create(AutoSamplerOptions options = {});

  void BeforeTrial(const Study& study, const FrozenTrial& trial) override;
  SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) override;
  Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                  const SearchSpace& space) override;
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override;
  void AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                  std::optional<double> value) override;

  // The sampler in use now, and the one each trial was sampled with.
  AutoSamplerChoice choice() const { return choice_; }
  std::optional<AutoSamplerChoice> ChoiceOf(int number) const;

 private:
  explicit AutoSampler(AutoSamplerOptions options);
  // The lazily created first sampler (a RandomSampler seeded from the stream).
  Sampler& Current();
  // OptunaHub's _determine_single_objective_sampler.
  Status Determine(const Study& study);
  // Folds newly finished trials into the intersection space and the conditional flag.
  void UpdateViews(const Study& study);

  AutoSamplerOptions options_;
  RandomState rng_;
  std::unique_ptr<Sampler> sampler_;
  AutoSamplerChoice choice_ = AutoSamplerChoice::kRandom;
  std::vector<int8_t> choice_by_trial_;  // -1: not asked yet

  size_t finish_seen_ = 0;
  // COMPLETE trials' common (param id, distribution id), sorted.
  std::optional<std::vector<std::pair<int, int>>> intersection_;
  // COMPLETE/PRUNED trials' parameter-id sets: the first seen, and whether another differed.
  std::optional<std::vector<int>> first_param_set_;
  bool conditional_ = false;
  // TPE chosen for a categorical or conditional space: kept for the rest of the study (TPE in
  // the GP's slot for a wide numeric space, or after gp_trials, still gives way to CMA-ES at
  // max_budget_for_gp).
  bool tpe_for_good_ = false;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_AUTO_SAMPLER_H_
