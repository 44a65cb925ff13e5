// The GP sampler's coordinates (optuna/_gp/search_space.py): each numeric parameter mapped to
// [0, 1] (log scale under log; a step's range widened by half a step each side, ints having
// step 1), each categorical one kept as its choice index. Discrete dimensions (stepped,
// int, categorical) are searched on their grid; continuous ones by gradient.
//
// Immutable after construction; thread-safe.
#ifndef PLINTH_TUNE_GP_SEARCH_SPACE_H_
#define PLINTH_TUNE_GP_SEARCH_SPACE_H_

#include <vector>

#include "tune/random_state.h"
#include "tune/study.h"

namespace plinth::tune {

class GpSearchSpace {
 public:
  explicit GpSearchSpace(const SearchSpace& space);

  size_t dim() const { return entries_.size(); }
  const std::vector<bool>& is_categorical() const { return is_categorical_; }
  const std::vector<size_t>& continuous_indices() const { return continuous_; }
  const std::vector<size_t>& discrete_indices() const { return discrete_; }

  // Internal value of dimension i ↔ its coordinate.
  double Normalize(size_t i, double internal) const;
  // Back to an internal value: clipped to the bounds, ints rounded half to even, choices as
  // the index (Optuna's get_unnormalized_param).
  double Unnormalize(size_t i, double coordinate) const;
  // A coordinate snapped to its step's grid (Optuna's _round_one_normalized_param).
  double Round(size_t i, double coordinate) const;
  // The grid of discrete dimension i (an index into discrete_indices()), ascending.
  const std::vector<double>& Choices(size_t discrete_index) const {
    return choices_[discrete_index];
  }
  // n uniform points (rows), discrete dimensions on their grid. Optuna draws a scrambled
  // Sobol sequence seeded from rng; this draws rng's own uniforms (see README).
  std::vector<double> SamplePoints(size_t n, RandomState* rng) const;

 private:
  struct Entry {
    Distribution distribution;
    bool categorical, log;
    double low, high, step;  // bounds and step of the distribution (step 0: continuous)
  };
  std::vector<Entry> entries_;
  std::vector<bool> is_categorical_;
  std::vector<size_t> continuous_, discrete_;
  std::vector<std::vector<double>> choices_;
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_GP_SEARCH_SPACE_H_
