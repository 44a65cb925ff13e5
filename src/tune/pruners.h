// Pruners: whether a running trial should stop early, from the intermediate values it and the
// other trials reported (Trial::Report). Optuna's BasePruner and its median, percentile,
// successive-halving (ASHA) and Hyperband pruners (optuna/pruners/), with Optuna 5's defaults
// and, on the same history, the same decisions (tests/golden/tune/make_golden_pruners.py).
//
// A Study owns one pruner (MedianPruner unless set, as in Optuna); Trial::ShouldPrune and
// Study::ShouldPrune call it. A pruner may be given several studies in turn, but successive
// halving's "auto" min_resource and Hyperband's "auto" max_resource are fixed by the first
// study that can estimate them, as in Optuna.
//
// Successive halving writes: when a trial passes a rung it records its value there
// (FrozenTrial::completed_rungs, Optuna's `completed_rung_<k>` system attributes) and later
// decisions compare against those values; so Prune takes the Study mutable, and a store that
// persists trials must persist `completed_rungs` too. Not thread-safe; the Study's thread.
#ifndef PLINTH_TUNE_PRUNERS_H_
#define PLINTH_TUNE_PRUNERS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "tune/study.h"

namespace plinth::tune {

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Whether `trial` (a trial of `study`, usually RUNNING, with the values reported so far)
  // should stop now. Never fails: with too little history the answer is false.
  virtual bool Prune(Study& study, const FrozenTrial& trial) = 0;
};

// Never prunes (Optuna's NopPruner).
class NopPruner : public Pruner {
 public:
  bool Prune(Study& study, const FrozenTrial& trial) override { return false; }
};

// MedianPruner / PercentilePruner options. Defaults: Optuna's MedianPruner().
struct PercentilePrunerOptions {
  // Keep the best `percentile` %: prune a trial whose best value so far is worse than this
  // percentile of the COMPLETE trials' values at the same step. 50 = the median rule.
  double percentile = 50.0;
  // No pruning until this many trials are COMPLETE.
  int n_startup_trials = 5;
  // No pruning before step n_warmup_steps.
  int64_t n_warmup_steps = 0;
  // Check at steps n_warmup_steps + k·interval_steps (the first report at or after each).
  int64_t interval_steps = 1;
  // No pruning while fewer COMPLETE trials reported the step.
  int n_min_trials = 1;

  // kInvalidArgument outside Optuna's ranges (percentile in [0, 100], counts >= 0,
  // interval_steps >= 1, n_min_trials >= 1).
  Status Validate() const;
};

// Optuna's PercentilePruner (and MedianPruner at 50). A trial is pruned when its best value
// over its steps (NaN-ignoring; all NaN prunes) is worse than the percentile (numpy's linear
// interpolation, NaN-ignoring) of the values COMPLETE trials reported at its last step.
//
// The COMPLETE trials' values are kept per step, sorted (a COMPLETE trial's reports never
// change), so a decision costs a lookup and a merge of the trials completed since the last
// one, not a pass over the history. That copy is per study: given another study, the pruner
// starts it afresh.
class PercentilePruner : public Pruner {
 public:
  static Result<std::unique_ptr<PercentilePruner>> Create(PercentilePrunerOptions options);
  // Optuna's MedianPruner: `options` with percentile 50.
  static Result<std::unique_ptr<PercentilePruner>> Median(PercentilePrunerOptions options = {});

  bool Prune(Study& study, const FrozenTrial& trial) override;
  const PercentilePrunerOptions& options() const { return options_; }

 private:
  // The COMPLETE trials' reports at one step: how many (NaN included, as n_min_trials counts
  // them) and the numbers, sorted up to `n_sorted`, newer ones appended unsorted.
  struct StepValues {
    int64_t count = 0;
    size_t n_sorted = 0;
    std::vector<double> values;
  };
  explicit PercentilePruner(PercentilePrunerOptions options) : options_(options) {}
  void CatchUp(const Study& study);

  PercentilePrunerOptions options_;
  const Study* cached_study_ = nullptr;
  size_t finish_seen_ = 0;
  std::unordered_map<int64_t, StepValues> by_step_;
};

// numpy.nanpercentile(values, percentile) with the default linear method; NaN when no value
// is a number. Sorts `values` in place.
double NanPercentile(std::vector<double>* values, double percentile);
// The same on values already sorted, without NaN.
double SortedPercentile(const std::vector<double>& sorted, double percentile);

// SuccessiveHalvingPruner options. Defaults: Optuna's.
struct SuccessiveHalvingOptions {
  // r: rung k ends at step r·η^(s+k). Unset = Optuna's "auto": max(last step of the longest
  // COMPLETE trial // 100, 1), fixed once the first COMPLETE trial with a report exists.
  std::optional<int64_t> min_resource;
  int64_t reduction_factor = 4;         // η
  int64_t min_early_stopping_rate = 0;  // s
  // A trial is pruned at a rung until more than this many trials reached it.
  int bootstrap_count = 0;

  // kInvalidArgument: min_resource < 1, reduction_factor < 2, s < 0, bootstrap_count < 0,
  // or bootstrap_count > 0 with "auto" min_resource.
  Status Validate() const;
};

// Optuna's SuccessiveHalvingPruner (asynchronous successive halving). At each rung the trial
// records its value and continues only if it is within the top 1/η of the values recorded at
// that rung so far (the best of them while fewer than η trials reached it).
class SuccessiveHalvingPruner : public Pruner {
 public:
  static Result<std::unique_ptr<SuccessiveHalvingPruner>> Create(
      SuccessiveHalvingOptions options = {});

  bool Prune(Study& study, const FrozenTrial& trial) override;
  // The same decision with only the trials `in_view` accepts as competitors (Hyperband's
  // per-bracket study).
  bool PruneAmong(Study& study, const FrozenTrial& trial,
                  const std::function<bool(const FrozenTrial&)>& in_view);

  // The resolved min_resource (unset while "auto" is not yet estimated).
  std::optional<int64_t> min_resource() const { return min_resource_; }

 private:
  explicit SuccessiveHalvingPruner(SuccessiveHalvingOptions options)
      : options_(options), min_resource_(options.min_resource) {}
  SuccessiveHalvingOptions options_;
  std::optional<int64_t> min_resource_;
  std::vector<double> competing_;  // reused per decision
};

// HyperbandPruner options. Defaults: Optuna's.
struct HyperbandOptions {
  int64_t min_resource = 1;
  // Unset = "auto": 1 + the last step of the longest COMPLETE trial, fixed at the first
  // decision that sees one.
  std::optional<int64_t> max_resource;
  int64_t reduction_factor = 3;
  int bootstrap_count = 0;

  // kInvalidArgument: min_resource < 1, max_resource < min_resource, reduction_factor < 2,
  // bootstrap_count < 0, or bootstrap_count > 0 with "auto" max_resource.
  Status Validate() const;
};

// Optuna's HyperbandPruner: floor(log_η(max/min)) + 1 brackets, each a successive-halving
// pruner with min_early_stopping_rate = its index. A trial's bracket is
// crc32("<study name>_<trial number>") modulo the total budget, bracket b taking
// ceil(n·η^(n−1−b)/(n−b)) of it; it competes only with trials of its bracket. Before the
// brackets exist (no COMPLETE trial with a report under "auto") every trial is in bracket 0
// and nothing is pruned.
class HyperbandPruner : public Pruner {
 public:
  static Result<std::unique_ptr<HyperbandPruner>> Create(HyperbandOptions options = {});

  bool Prune(Study& study, const FrozenTrial& trial) override;

  // The bracket of `trial` in `study` (0 before the brackets exist).
  int BracketId(const Study& study, int trial_number);
  // 0 until the brackets are set up.
  int n_brackets() const { return static_cast<int>(pruners_.size()); }

 private:
  explicit HyperbandPruner(HyperbandOptions options)
      : options_(options), max_resource_(options.max_resource) {}
  void TryInitialize(const Study& study);

  HyperbandOptions options_;
  std::optional<int64_t> max_resource_;
  std::vector<std::unique_ptr<SuccessiveHalvingPruner>> pruners_;
  std::vector<int64_t> budgets_;
  int64_t total_budget_ = 0;
  bool n_brackets_computed_ = false;
  // Bracket ids by trial number for `bracket_study_name_`: a crc32 per trial per decision
  // would cost more than the decision itself.
  std::vector<int8_t> bracket_cache_;
  std::string bracket_study_name_;
};

// binascii.crc32 / zlib's CRC-32 of `bytes`.
uint32_t Crc32(std::string_view bytes);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_PRUNERS_H_
