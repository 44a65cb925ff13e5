// RandomSampler: every parameter drawn independently and uniformly (log-uniformly under log),
// exactly as Optuna's RandomSampler draws it, so a seeded run reproduces Optuna's values.
// Also TPE's sampler for its first n_startup_trials. Not thread-safe (one per Study).
#ifndef PLINTH_TUNE_RANDOM_SAMPLER_H_
#define PLINTH_TUNE_RANDOM_SAMPLER_H_

#include <cstdint>
#include <optional>

#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

class RandomSampler : public Sampler {
 public:
  // seed unset: an unpredictable stream.
  explicit RandomSampler(std::optional<uint32_t> seed = std::nullopt)
      : rng_(seed ? RandomState(*seed) : RandomState::FromEntropy()) {}

  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override {
    return Sample(distribution);
  }

  // One draw from `distribution`, internal value. Numbers are drawn uniformly on the
  // transformed range (log scale; a step's range widened by half a step each side so the end
  // points are as likely as the others) and mapped back; a categorical draws one uniform per
  // choice and takes the largest, as Optuna's one-hot transform does.
  double Sample(const Distribution& distribution);

 private:
  RandomState rng_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_RANDOM_SAMPLER_H_
