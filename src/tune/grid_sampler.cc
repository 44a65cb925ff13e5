#include "tune/grid_sampler.h"

#include <algorithm>

namespace plinth::tune {

Result<std::unique_ptr<GridSampler>> GridSampler::Create(Grid grid, std::optional<uint32_t> seed) {
  std::sort(grid.begin(), grid.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < grid.size(); ++i) {
    if (grid[i].second.empty()) {
      return InvalidArgument("The grid of '" + grid[i].first + "' has no values.");
    }
    if (i > 0 && grid[i].first == grid[i - 1].first) {
      return InvalidArgument("The parameter '" + grid[i].first + "' is named twice.");
    }
  }
  // Optuna seeds with `seed or 0`: no seed means the fixed order of seed 0.
  return std::unique_ptr<GridSampler>(new GridSampler(std::move(grid), seed.value_or(0)));
}

GridSampler::GridSampler(Grid grid, uint32_t seed) : rng_(seed) {
  n_grids_ = 1;
  for (auto& [name, values] : grid) {
    names_.push_back(name);
    n_grids_ *= values.size();
    values_.push_back(std::move(values));
  }
  order_.resize(n_grids_);
  for (size_t i = 0; i < n_grids_; ++i) {
    order_[i] = i;
  }
  rng_.Shuffle(&order_);
}

void GridSampler::BeforeTrial(const Study& study, const FrozenTrial& trial) {
  if (!trial.fixed_params.empty() || GridIdOf(trial.number) >= 0) {
    return;
  }
  int64_t grid_id;
  if (trial.number >= 0 && static_cast<size_t>(trial.number) < n_grids_) {
    grid_id = trial.number;
  } else {
    // Optuna draws from a Python set of ids, whose iteration order is CPython's; ascending
    // order is used here, so past the grid's size the draws differ from Optuna's.
    std::vector<int64_t> targets = UnvisitedGridIds(study, /*exclude_running=*/true);
    if (targets.empty()) {
      for (size_t i = 0; i < n_grids_; ++i) {
        targets.push_back(static_cast<int64_t>(i));
      }
    }
    grid_id = targets[rng_.RandInt(0, static_cast<int64_t>(targets.size()))];
  }
  if (grid_id_of_trial_.size() <= static_cast<size_t>(trial.number)) {
    grid_id_of_trial_.resize(trial.number + 1, -1);
  }
  grid_id_of_trial_[trial.number] = grid_id;
}

Result<double> GridSampler::SampleIndependent(const Study& study, const FrozenTrial& trial,
                                              std::string_view name,
                                              const Distribution& distribution) {
  int64_t grid_id = GridIdOf(trial.number);
  if (grid_id < 0) {
    return InvalidArgument(
        "All parameters must be specified when using GridSampler with enqueue_trial.");
  }
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  if (it == names_.end() || *it != name) {
    return InvalidArgument("The parameter name, " + std::string(name) +
                           ", is not found in the given grid.");
  }
  size_t param = static_cast<size_t>(it - names_.begin());
  uint64_t combination = order_[grid_id];
  for (size_t j = values_.size(); j-- > param + 1;) {
    combination /= values_[j].size();
  }
  const ParamValue& value = values_[param][combination % values_[param].size()];
  // A value outside the distribution is used as it is (Optuna only warns).
  return distribution.ToInternal(value);
}

int64_t GridSampler::GridIdOf(int trial_number) const {
  if (trial_number < 0 || static_cast<size_t>(trial_number) >= grid_id_of_trial_.size()) {
    return -1;
  }
  return grid_id_of_trial_[trial_number];
}

std::vector<int64_t> GridSampler::UnvisitedGridIds(const Study& study, bool exclude_running) const {
  std::vector<unsigned char> visited(n_grids_, 0), running(n_grids_, 0);
  for (const FrozenTrial& t : study.trials()) {
    int64_t id = GridIdOf(t.number);
    if (id < 0) {
      continue;
    }
    if (IsFinished(t.state)) {
      visited[id] = 1;
    } else if (t.state == TrialState::kRunning) {
      running[id] = 1;
    }
  }
  std::vector<int64_t> ids;
  for (int pass = 0; pass < 2 && ids.empty(); ++pass) {
    bool skip_running = exclude_running && pass == 0;
    for (size_t i = 0; i < n_grids_; ++i) {
      if (!visited[i] && !(skip_running && running[i])) {
        ids.push_back(static_cast<int64_t>(i));
      }
    }
  }
  return ids;
}

bool GridSampler::IsExhausted(const Study& study) const {
  return UnvisitedGridIds(study, /*exclude_running=*/true).empty();
}

}  // namespace plinth::tune
