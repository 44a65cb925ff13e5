// GridSampler: every combination of the given values, once each, in a seeded shuffled order
// (Optuna's GridSampler: itertools.product over the names in sorted order, shuffled by numpy's
// RandomState(seed or 0), trial k takes combination k). Trials past the grid take a random
// unvisited combination (running ones avoided while others remain), then any combination.
// Not thread-safe (one per Study).
#ifndef PLINTH_TUNE_GRID_SAMPLER_H_
#define PLINTH_TUNE_GRID_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

class GridSampler : public Sampler {
 public:
  using Grid = std::vector<std::pair<std::string, std::vector<ParamValue>>>;

  // Failure: kInvalidArgument for a parameter without values or named twice.
  static Result<std::unique_ptr<GridSampler>> Create(Grid grid,
                                                     std::optional<uint32_t> seed = std::nullopt);

  void BeforeTrial(const Study& study, const FrozenTrial& trial) override;
  // The trial's combination's value for `name`. Failure: kInvalidArgument when the trial has
  // no combination (enqueued with fixed values) or `name` is not in the grid.
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override;

  size_t size() const { return n_grids_; }
  // The combination assigned to a trial, or -1.
  int64_t GridIdOf(int trial_number) const;
  // Every combination has a finished trial.
  bool IsExhausted(const Study& study) const;

 private:
  GridSampler(Grid grid, uint32_t seed);
  // Combinations not yet finished; running ones left out unless nothing else remains.
  std::vector<int64_t> UnvisitedGridIds(const Study& study, bool exclude_running) const;

  std::vector<std::string> names_;               // sorted
  std::vector<std::vector<ParamValue>> values_;  // per name
  size_t n_grids_ = 0;
  std::vector<uint64_t> order_;  // grid id -> combination index (mixed radix, last name fastest)
  RandomState rng_;
  std::vector<int64_t> grid_id_of_trial_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GRID_SAMPLER_H_
