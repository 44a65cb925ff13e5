// TpeSampler: the Tree-structured Parzen Estimator as Optuna v5 runs it
// (optuna/samplers/_tpe/sampler.py), with the same defaults and, for a given history and
// seed, the same numbers.
//
// Per suggestion: until n_startup_trials trials are COMPLETE or PRUNED, sample at random.
// Then split the trials into "below" (the best gamma(n) of the n finished ones: COMPLETE by
// value, then PRUNED ones that got further, then better) and "above" (the rest, plus every
// other RUNNING trial under constant liar, so that parallel workers avoid points already in
// flight); fit l(x) to below and g(x) to above (ParzenEstimator, weights ramping down the
// oldest observations of g); draw n_ei_candidates points from l and return the one with the
// largest log l(x) − log g(x).
//
// Multivariate (Optuna v5's default for one objective): the parameters every finished trial
// shares (the intersection search space) are sampled jointly once per trial; the others
// (conditional parameters) one at a time. With `group`, the space is cut into groups of
// parameters that always appear together and each group is sampled jointly.
//
// Owns its random streams (numpy-compatible, see random_state.h); not thread-safe.
#ifndef PLINTH_TUNE_TPE_H_
#define PLINTH_TUNE_TPE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tune/parzen_estimator.h"
#include "tune/random_sampler.h"
#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

// min(ceil(0.1·n), 25): how many of n finished trials form l(x). Computed in floating point,
// as Optuna does.
int DefaultGamma(int n);
// ceil(0.1·n), no cap: Optuna's gamma for multi-objective studies.
int DefaultGammaMultiObjective(int n);
// Hyperopt's min(ceil(0.25·sqrt(n)), 25).
int HyperoptDefaultGamma(int n);
// Optuna's default_weights: n ones below 25 observations, else a linear ramp from 1/n to 1 over
// the oldest n − 25 followed by 25 ones.
void DefaultWeights(size_t n, std::vector<double>* out);

struct TpeOptions {
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  std::optional<uint32_t> seed;
  // Unset: Optuna's default, joint sampling with one objective (or with `group`), one
  // parameter at a time with several objectives.
  std::optional<bool> multivariate;
  bool group = false;
  bool constant_liar = true;
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  // Unset: Optuna's default for the study, DefaultGamma with one objective,
  // DefaultGammaMultiObjective with several.
  std::function<int(int)> gamma;
  std::function<void(size_t, std::vector<double>*)> weights = DefaultWeights;

  // kInvalidArgument for negative counts, no candidates, a negative prior weight, group
  // without multivariate, or a missing weights function.
  Status Validate() const;
};

class TpeSampler : public Sampler {
 public:
  static Result<std::unique_ptr<TpeSampler>> Create(TpeOptions options = {});

  SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) override;
  Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                  const SearchSpace& space) override;
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override;

  // --- The steps of one suggestion, public so the golden tests can check each. ---

  struct Split {
    int n_below = 0;         // gamma(n)
    std::vector<int> below;  // trial numbers, ascending
    std::vector<int> above;  // trial numbers, ascending
  };
  // The below/above split as seen from trial `current` (excluded from the running ones).
  void SplitTrials(const Study& study, int current, Split* split);
  // Fits l(x) to the below trials and g(x) to the above ones, over `space` (no Single()
  // distributions). Trials lacking any of the space's parameters are left out. Failure:
  // kInvalidArgument when the weights function returns negative, all-zero or non-finite
  // weights.
  Status BuildEstimators(const Study& study, const Split& split, const SearchSpace& space,
                         ParzenEstimator* below, ParzenEstimator* above);
  // scores[i] = log l(x_i) − log g(x_i); returns the index of the first largest score.
  size_t ScoreCandidates(ParzenEstimator* below, ParzenEstimator* above,
                         const Candidates& candidates, std::vector<double>* scores);
  // ScoreCandidates' argmax, computed exactly only for the candidates that approximate scores
  // (ParzenEstimator::LogPdfApprox) cannot rule out.
  size_t BestCandidate(ParzenEstimator* below, ParzenEstimator* above,
                       const Candidates& candidates);
  // One whole TPE suggestion over `space` for `trial` (after the start-up phase).
  Result<ParamMap> SampleSpace(const Study& study, const FrozenTrial& trial,
                               const SearchSpace& space);

  const TpeOptions& options() const { return options_; }
  // Restarts the TPE stream from `seed` (Optuna's sampler._rng.rng.seed(seed)); the start-up
  // RandomSampler's stream is left as it is.
  void ReseedRng(uint32_t seed) { rng_ = RandomState(seed); }

 private:
  explicit TpeSampler(TpeOptions options);
  // Optuna's _is_multivariate: the option if set, else by the number of objectives.
  bool IsMultivariate(const Study& study) const {
    return options_.multivariate.value_or(options_.group || !study.is_multi_objective());
  }
  int CountFinishedForStartup(const Study& study) const {
    return study.CountInState(TrialState::kComplete) + study.CountInState(TrialState::kPruned);
  }
  // Incremental views of the finished trials' parameters (see InferRelativeSearchSpace).
  void UpdateSpaceViews(const Study& study);
  SearchSpace SpaceOf(const Study& study, const std::vector<std::pair<int, int>>& params) const;
  // uniform_weights: every observation weighs 1 (MOTPE's l(x)) instead of options_.weights.
  Status GatherObservations(const Study& study, const std::vector<int>& trials,
                            const std::vector<int>& param_ids, std::vector<double>* obs,
                            std::vector<uint32_t>* order, size_t* n_obs,
                            bool uniform_weights = false);

  TpeOptions options_;
  ParzenEstimatorParameters parzen_params_;
  RandomState rng_;
  RandomSampler random_sampler_;

  // Intersection of the finished trials' (param id, distribution id), sorted; unset until a
  // trial finishes. Groups for `group`: partition of the parameters seen together.
  size_t finish_seen_ = 0;
  std::optional<std::vector<std::pair<int, int>>> intersection_;
  std::vector<std::vector<std::pair<int, int>>> groups_;

  // Per-suggestion scratch, reused so a suggestion allocates nothing once warm.
  Split split_;
  std::vector<unsigned char> in_below_;
  std::vector<std::pair<std::pair<double, double>, int>> pruned_buf_;
  std::vector<int> param_ids_buf_, kept_buf_;
  std::vector<const Distribution*> dims_buf_;
  std::vector<const double*> columns_buf_, relative_buf_;
  std::vector<double> obs_below_, obs_above_, weights_buf_;
  std::vector<uint32_t> order_below_, order_above_;
  std::vector<int> obs_index_of_trial_;
  std::vector<std::pair<double, uint32_t>> relative_sorted_;
  ParzenEstimator below_, above_;
  Candidates candidates_;
  std::vector<double> scores_, log_l_, log_g_, error_buf_;
  std::vector<uint32_t> contenders_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_TPE_H_
