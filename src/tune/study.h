// Study, Trial and the Sampler interface: Optuna's in-memory model of an optimisation with
// define-by-run search spaces through ask/tell.
//
// A Study owns its trials (numbered 0, 1, … in creation order) and one Sampler. `Ask()` starts
// a trial (RUNNING, or the oldest WAITING one queued by `EnqueueTrial`), and the trial's
// `Suggest*` calls discover the search space as the objective runs, conditional parameters
// included; `Tell()` finishes it as COMPLETE, PRUNED or FAIL. Samplers are asked the way
// Optuna asks them (optuna/samplers/_base.py): once per trial for a joint ("relative") sample
// over the space they infer, lazily at the first suggestion, and for every other parameter an
// independent sample.
//
// Besides the per-trial records, the Study keeps columnar copies that make samplers fast on
// long histories: one array per parameter indexed by trial number (NaN where the trial has no
// such parameter), the COMPLETE trials kept sorted by value, and the order in which trials
// finished. Nothing is rebuilt per trial; appends only.
//
// Not thread-safe: one Study is driven by one thread (a server wraps it in a lock).
#ifndef PLINTH_TUNE_STUDY_H_
#define PLINTH_TUNE_STUDY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "tune/distribution.h"

namespace plinth::tune {

// Optuna's TrialState, with its numeric values.
enum class TrialState : uint8_t {
  kRunning = 0,
  kComplete = 1,
  kPruned = 2,
  kFail = 3,
  kWaiting = 4
};
inline bool IsFinished(TrialState s) {
  return s != TrialState::kRunning && s != TrialState::kWaiting;
}
std::string_view TrialStateName(TrialState s);

enum class StudyDirection : uint8_t { kMinimize, kMaximize };

// A parameter name with its distribution. Samplers receive search spaces sorted by name.
struct SearchSpaceEntry {
  std::string name;
  Distribution distribution;
};
using SearchSpace = std::vector<SearchSpaceEntry>;

// Parameter values by name, internal representation.
using ParamMap = std::vector<std::pair<std::string, double>>;

// One parameter of a trial: interned name and distribution, internal value.
struct TrialParam {
  int param_id;
  int distribution_id;
  double value;
};

// The record of one trial (Optuna's FrozenTrial).
struct FrozenTrial {
  int number = 0;
  TrialState state = TrialState::kRunning;
  // The objective value; in a multi-objective study, the first objective's.
  std::optional<double> value;
  // A COMPLETE trial's values, one per study direction (Optuna's `values`); empty otherwise.
  std::vector<double> values;
  // (step, value) sorted by step; a step is reported once.
  std::vector<std::pair<int64_t, double>> intermediate_values;
  // In the order they were suggested.
  std::vector<TrialParam> params;
  // The joint sample the sampler drew for this trial (Optuna's `tpe:relative_params` system
  // attributes): other trials' samplers read it while this one runs (constant liar).
  std::vector<TrialParam> relative_params;
  SearchSpace relative_search_space;
  bool relative_sampled = false;
  // Values fixed by EnqueueTrial, by name.
  std::vector<std::pair<std::string, ParamValue>> fixed_params;
  // Successive halving's record: the value with which the trial reached rung k (Optuna's
  // `completed_rung_<k>` system attributes), written by the pruner, read for other trials.
  std::vector<double> completed_rungs;

  std::optional<int64_t> last_step() const {
    if (intermediate_values.empty()) {
      return std::nullopt;
    }
    return intermediate_values.back().first;
  }
};

// A finished (or running) trial to add as it is: warm starts, and tests that need a fixed
// history. Values are external (ParamValue) with their distribution, as in create_trial().
struct TrialSpec {
  TrialState state = TrialState::kComplete;
  std::optional<double> value;
  // Multi-objective: one value per direction, instead of `value`.
  std::vector<double> values;
  std::vector<std::pair<std::string, std::pair<Distribution, ParamValue>>> params;
  std::vector<std::pair<int64_t, double>> intermediate_values;
  // For a RUNNING trial: a joint sample other samplers see (internal values by name).
  std::vector<std::pair<std::string, std::pair<Distribution, double>>> relative_params;
  // Successive-halving rung values (FrozenTrial::completed_rungs), e.g. restored from a store.
  std::vector<double> completed_rungs;
};

class Study;
class Sampler;
class Pruner;

// A handle on a trial of a Study, for the objective to suggest parameters and report values.
// Cheap to copy; valid while its Study lives.
class Trial {
 public:
  Trial(Study* study, int number) : study_(study), number_(number) {}
  int number() const { return number_; }

  // Define-by-run suggestions (Optuna's suggest_float/int/categorical). A parameter suggested
  // again returns its first value. Failure: kInvalidArgument for an invalid range, a
  // distribution incompatible with the parameter's earlier one, or a trial that is finished;
  // a sampler's error is passed on.
  Result<double> SuggestFloat(std::string_view name, double low, double high, bool log = false,
                              std::optional<double> step = std::nullopt);
  Result<int64_t> SuggestInt(std::string_view name, int64_t low, int64_t high, int64_t step = 1,
                             bool log = false);
  Result<ParamValue> SuggestCategorical(std::string_view name, std::vector<ParamValue> choices);
  // The general form: the internal value of `name` under `distribution`.
  Result<double> Suggest(std::string_view name, const Distribution& distribution);

  // Records the objective's value at `step` (for pruning). A step reported twice keeps its
  // first value, as Optuna does. Failure: kFailedPrecondition if the trial is finished,
  // kInvalidArgument for a negative step.
  Status Report(double value, int64_t step);
  // Whether the study's pruner says this trial should stop now (Optuna's should_prune), from
  // the values reported so far. The caller then tells the trial PRUNED (or carries on).
  bool ShouldPrune();

 private:
  Study* study_;
  int number_;
};

// Sampler: how new parameter values are chosen. Implementations: RandomSampler, GridSampler,
// TpeSampler. Called by the Study only, from its one thread.
class Sampler {
 public:
  virtual ~Sampler() = default;

  // When a trial starts (after Ask created or popped it).
  virtual void BeforeTrial(const Study& study, const FrozenTrial& trial) {}
  // The space to sample jointly for `trial`, sorted by name; empty for none.
  virtual SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) {
    return {};
  }
  // A joint sample over `space` (a subset may be returned; the rest falls back to independent
  // sampling). Values internal.
  virtual Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                          const SearchSpace& space) {
    return ParamMap{};
  }
  // One parameter on its own. Returns an internal value.
  virtual Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                           std::string_view name,
                                           const Distribution& distribution) = 0;
  // Before a trial's final state is written (`state` is COMPLETE, PRUNED or FAIL).
  virtual void AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                          std::optional<double> value) {}
};

class Study {
 public:
  // The pruner is Optuna's default, MedianPruner(), until SetPruner.
  explicit Study(std::unique_ptr<Sampler> sampler,
                 StudyDirection direction = StudyDirection::kMinimize);
  // A study with one objective per direction (multi-objective when there are several; an
  // empty list means one minimised objective).
  Study(std::unique_ptr<Sampler> sampler, std::vector<StudyDirection> directions);
  ~Study();
  Study(const Study&) = delete;
  Study& operator=(const Study&) = delete;

  // Starts a trial: the oldest WAITING one if any, else a new RUNNING one.
  Trial Ask();
  // Finishes a RUNNING trial (Optuna's tell). `state` unset means COMPLETE with `value`, or
  // FAIL when the value is missing or NaN. PRUNED takes the last reported value as its value.
  // Failure: kNotFound for an unknown trial, kFailedPrecondition if it is not RUNNING,
  // kInvalidArgument for a COMPLETE without a finite value or a value given with PRUNED/FAIL.
  Status Tell(int number, std::optional<double> value,
              std::optional<TrialState> state = std::nullopt);
  // The same with one value per objective (Optuna's tell(values=...)). Without a state, values
  // of the wrong arity or with a NaN make the trial FAIL, as Optuna does; with COMPLETE they
  // are kInvalidArgument.
  Status TellValues(int number, std::vector<double> values,
                    std::optional<TrialState> state = std::nullopt);
  // Queues a WAITING trial whose parameters take the given values when suggested.
  void EnqueueTrial(std::vector<std::pair<std::string, ParamValue>> params);
  // Adds a trial as given (Optuna's add_trial). Returns its number. Failure: kInvalidArgument
  // when a value is not in its distribution, a COMPLETE trial has no value or a NaN one, or
  // the state is WAITING.
  Result<int> AddTrial(const TrialSpec& spec);

  // Optuna's study_name; Hyperband assigns trials to brackets by it. Empty unless set.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // Replaces the pruner (null: never prune).
  void SetPruner(std::unique_ptr<Pruner> pruner);
  Pruner* pruner() { return pruner_.get(); }
  // Whether trial `number` should stop now, by the pruner (Trial::ShouldPrune). Failure:
  // kNotFound for an unknown trial.
  Result<bool> ShouldPrune(int number);
  // Successive halving's bookkeeping: trial `number` reached `rung` with `value`. Rungs are
  // recorded in order; recording rung k again overwrites it.
  void RecordCompletedRung(int number, int rung, double value);

  // The first objective's direction (the only one in a single-objective study).
  StudyDirection direction() const { return direction_; }
  const std::vector<StudyDirection>& directions() const { return directions_; }
  bool is_multi_objective() const { return directions_.size() > 1; }
  Sampler& sampler() { return *sampler_; }
  const std::vector<FrozenTrial>& trials() const { return trials_; }
  const FrozenTrial& trial(int number) const { return trials_[number]; }
  // The external value of a trial's parameter, if it has one.
  std::optional<ParamValue> ParamValueOf(int number, std::string_view name) const;
  // The COMPLETE trial with the best value; nullopt while there is none.
  std::optional<int> BestTrial() const;
  // Optuna's best_trials: the COMPLETE trials no other COMPLETE trial dominates (the Pareto
  // front; with one objective, every trial with the best value), by trial number.
  std::vector<int> BestTrials() const;

  // --- Columnar views for samplers. ---
  // The id of a parameter name, or -1 if no trial has it.
  int ParamId(std::string_view name) const;
  const std::string& ParamName(int param_id) const { return param_names_[param_id]; }
  const Distribution& distribution(int distribution_id) const {
    return distributions_[distribution_id];
  }
  // Internal values of a parameter by trial number; NaN where absent.
  const std::vector<double>& ParamColumn(int param_id) const { return columns_[param_id]; }
  // Joint-sample values of a parameter by trial number (only while the trial runs matters).
  const std::vector<double>& RelativeColumn(int param_id) const {
    return relative_columns_[param_id];
  }
  // Trial numbers that have the parameter, by ascending internal value, ties by number. Kept
  // sorted as parameters are set, so TPE's bandwidth rule needs no sort per suggestion.
  const std::vector<int>& TrialsSortedByParam(int param_id) const {
    return sorted_by_param_[param_id];
  }
  // COMPLETE trial numbers, best value first; ties in trial-number order (a stable sort).
  const std::vector<int>& CompleteTrialsByValue() const { return complete_by_value_; }
  // Trial numbers in the order they reached a finished state.
  const std::vector<int>& FinishOrder() const { return finish_order_; }
  // Number of trials in each state.
  int CountInState(TrialState s) const { return state_counts_[static_cast<int>(s)]; }
  // Each trial's state by number (trial(number).state without touching the trial records).
  const std::vector<TrialState>& TrialStates() const { return states_; }

 private:
  friend class Trial;

  int InternParam(std::string_view name);
  int InternDistribution(const Distribution& d);
  int NewTrial(TrialState state);
  void SetParam(int number, int param_id, int distribution_id, double value);
  void SetRelativeParam(int number, int param_id, int distribution_id, double value);
  void SetState(int number, TrialState state);
  // Runs the sampler's joint sample for a trial the first time one of its parameters needs it.
  Status EnsureRelativeParams(int number);
  Result<double> SuggestInternal(int number, std::string_view name,
                                 const Distribution& distribution);

  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Pruner> pruner_;
  StudyDirection direction_;
  std::vector<StudyDirection> directions_;
  std::string name_;
  std::vector<FrozenTrial> trials_;

  std::vector<std::string> param_names_;
  std::unordered_map<std::string, int> param_ids_;
  std::vector<Distribution> distributions_;
  std::vector<std::vector<double>> columns_;
  std::vector<std::vector<double>> relative_columns_;
  std::vector<std::vector<int>> sorted_by_param_;
  std::vector<int> complete_by_value_;
  std::vector<int> finish_order_;
  std::vector<int> waiting_;  // WAITING trial numbers, oldest first
  int state_counts_[5] = {0, 0, 0, 0, 0};
  std::vector<TrialState> states_;  // by trial number, as in trials_
};

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_STUDY_H_
