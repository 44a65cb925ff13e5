#include "tune/study.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tune/multi_objective.h"
#include "tune/pruners.h"

namespace plinth::tune {
namespace {

constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::string_view TrialStateName(TrialState s) {
  switch (s) {
    case TrialState::kRunning:
      return "RUNNING";
    case TrialState::kComplete:
      return "COMPLETE";
    case TrialState::kPruned:
      return "PRUNED";
    case TrialState::kFail:
      return "FAIL";
    case TrialState::kWaiting:
      return "WAITING";
  }
  return "UNKNOWN";
}

// ---------------------------------------------------------------------------------------------
// Trial

Result<double> Trial::SuggestFloat(std::string_view name, double low, double high, bool log,
                                   std::optional<double> step) {
  PLINTH_ASSIGN_OR_RETURN(Distribution d, Distribution::Float(low, high, log, step));
  return study_->SuggestInternal(number_, name, d);
}

Result<int64_t> Trial::SuggestInt(std::string_view name, int64_t low, int64_t high, int64_t step,
                                  bool log) {
  PLINTH_ASSIGN_OR_RETURN(Distribution d, Distribution::Int(low, high, log, step));
  PLINTH_ASSIGN_OR_RETURN(double v, study_->SuggestInternal(number_, name, d));
  return static_cast<int64_t>(v);
}

Result<ParamValue> Trial::SuggestCategorical(std::string_view name,
                                             std::vector<ParamValue> choices) {
  PLINTH_ASSIGN_OR_RETURN(Distribution d, Distribution::Categorical(std::move(choices)));
  PLINTH_ASSIGN_OR_RETURN(double v, study_->SuggestInternal(number_, name, d));
  return d.ToExternal(v);
}

Result<double> Trial::Suggest(std::string_view name, const Distribution& distribution) {
  return study_->SuggestInternal(number_, name, distribution);
}

Status Trial::Report(double value, int64_t step) {
  FrozenTrial& t = study_->trials_[number_];
  if (t.state != TrialState::kRunning) {
    return FailedPrecondition("Trial#" + std::to_string(number_) + " has already finished (" +
                              std::string(TrialStateName(t.state)) + ") and cannot be updated.");
  }
  if (step < 0) {
    return InvalidArgument("The `step` argument is " + std::to_string(step) +
                           " but cannot be negative.");
  }
  auto it = std::lower_bound(t.intermediate_values.begin(), t.intermediate_values.end(), step,
                             [](const auto& e, int64_t s) { return e.first < s; });
  if (it != t.intermediate_values.end() && it->first == step) {
    return Status::Ok();  // Optuna warns and keeps the first value
  }
  t.intermediate_values.insert(it, {step, value});
  return Status::Ok();
}

bool Trial::ShouldPrune() { return study_->ShouldPrune(number_).value(); }

// ---------------------------------------------------------------------------------------------
// Study

Study::Study(std::unique_ptr<Sampler> sampler, StudyDirection direction)
    : sampler_(std::move(sampler)),
      pruner_(PercentilePruner::Median().value()),
      direction_(direction),
      directions_{direction} {}

Study::Study(std::unique_ptr<Sampler> sampler, std::vector<StudyDirection> directions)
    : sampler_(std::move(sampler)),
      pruner_(PercentilePruner::Median().value()),
      direction_(directions.empty() ? StudyDirection::kMinimize : directions.front()),
      directions_(directions.empty() ? std::vector<StudyDirection>{StudyDirection::kMinimize}
                                     : std::move(directions)) {}

Study::~Study() = default;

void Study::SetPruner(std::unique_ptr<Pruner> pruner) { pruner_ = std::move(pruner); }

Result<bool> Study::ShouldPrune(int number) {
  if (number < 0 || number >= static_cast<int>(trials_.size())) {
    return NotFound("Trial#" + std::to_string(number) + " does not exist.");
  }
  if (!pruner_) {
    return false;
  }
  return pruner_->Prune(*this, trials_[number]);
}

void Study::RecordCompletedRung(int number, int rung, double value) {
  std::vector<double>& rungs = trials_[number].completed_rungs;
  if (rung >= static_cast<int>(rungs.size())) {
    rungs.resize(rung + 1, std::numeric_limits<double>::quiet_NaN());
  }
  rungs[rung] = value;
}

Trial Study::Ask() {
  int number;
  if (!waiting_.empty()) {
    number = waiting_.front();
    waiting_.erase(waiting_.begin());
    SetState(number, TrialState::kRunning);
  } else {
    number = NewTrial(TrialState::kRunning);
  }
  sampler_->BeforeTrial(*this, trials_[number]);
  return Trial(this, number);
}

Status Study::Tell(int number, std::optional<double> value, std::optional<TrialState> state) {
  if (number < 0 || number >= static_cast<int>(trials_.size())) {
    return NotFound("Trial#" + std::to_string(number) + " does not exist.");
  }
  FrozenTrial& t = trials_[number];
  if (t.state != TrialState::kRunning) {
    return FailedPrecondition("Cannot tell a " + std::string(TrialStateName(t.state)) + " trial.");
  }
  if (state && !IsFinished(*state)) {
    return InvalidArgument("Cannot tell with state " + std::string(TrialStateName(*state)) + ".");
  }
  if (state && *state != TrialState::kComplete && value) {
    return InvalidArgument("Values must not be given for a " + std::string(TrialStateName(*state)) +
                           " trial.");
  }
  if (is_multi_objective() && value) {
    return TellValues(number, {*value}, state);  // one value: the wrong arity
  }
  std::optional<double> final_value;
  TrialState final_state;
  if (state == TrialState::kComplete) {
    if (!value || std::isnan(*value)) {
      return InvalidArgument("A COMPLETE trial needs a value that is not NaN.");
    }
    final_state = TrialState::kComplete;
    final_value = value;
  } else if (state == TrialState::kPruned) {
    final_state = TrialState::kPruned;
    // The last reported value stands for the pruned trial, when it is a number.
    if (!t.intermediate_values.empty() && !std::isnan(t.intermediate_values.back().second)) {
      final_value = t.intermediate_values.back().second;
    }
  } else if (state == TrialState::kFail) {
    final_state = TrialState::kFail;
  } else if (value && !std::isnan(*value)) {
    final_state = TrialState::kComplete;
    final_value = value;
  } else {
    final_state = TrialState::kFail;  // Optuna warns and records a failure
  }
  sampler_->AfterTrial(*this, t, final_state, final_value);
  trials_[number].value = final_value;
  if (final_state == TrialState::kComplete) {
    trials_[number].values = {*final_value};
  }
  SetState(number, final_state);
  return Status::Ok();
}

Status Study::TellValues(int number, std::vector<double> values, std::optional<TrialState> state) {
  if (number < 0 || number >= static_cast<int>(trials_.size())) {
    return NotFound("Trial#" + std::to_string(number) + " does not exist.");
  }
  if (state && *state != TrialState::kComplete) {
    if (!values.empty()) {
      return InvalidArgument("Values must not be given for a " +
                             std::string(TrialStateName(*state)) + " trial.");
    }
    return Tell(number, std::nullopt, state);
  }
  FrozenTrial& t = trials_[number];
  if (t.state != TrialState::kRunning) {
    return FailedPrecondition("Cannot tell a " + std::string(TrialStateName(t.state)) + " trial.");
  }
  const bool feasible =
      values.size() == directions_.size() &&
      std::none_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
  if (!feasible) {
    if (state) {
      return InvalidArgument("A COMPLETE trial needs " + std::to_string(directions_.size()) +
                             " values, none NaN.");
    }
    return Tell(number, std::nullopt, TrialState::kFail);  // Optuna warns and records a failure
  }
  sampler_->AfterTrial(*this, t, TrialState::kComplete, values.front());
  t.value = values.front();
  t.values = std::move(values);
  SetState(number, TrialState::kComplete);
  return Status::Ok();
}

void Study::EnqueueTrial(std::vector<std::pair<std::string, ParamValue>> params) {
  int number = NewTrial(TrialState::kWaiting);
  trials_[number].fixed_params = std::move(params);
  waiting_.push_back(number);
}

Result<int> Study::AddTrial(const TrialSpec& spec) {
  if (spec.state == TrialState::kWaiting) {
    return InvalidArgument("A WAITING trial cannot be added; use EnqueueTrial.");
  }
  if (!spec.values.empty() &&
      (spec.state != TrialState::kComplete || spec.values.size() != directions_.size() ||
       std::any_of(spec.values.begin(), spec.values.end(),
                   [](double v) { return std::isnan(v); }))) {
    return InvalidArgument(
        "values should be given for a complete trial only, one per objective, "
        "none NaN.");
  }
  const std::optional<double> value =
      spec.values.empty() ? spec.value : std::optional<double>(spec.values.front());
  if (spec.state == TrialState::kComplete &&
      (!value || std::isnan(*value) || (spec.values.empty() && is_multi_objective()))) {
    return InvalidArgument("values should be set for a complete trial and not contain NaN.");
  }
  if (spec.state == TrialState::kFail && spec.value) {
    return InvalidArgument("values should be None for a failed trial.");
  }
  // Validate everything before the trial exists, so a refusal leaves the study unchanged.
  std::vector<double> internal;
  for (const auto& [name, dv] : spec.params) {
    const auto& [dist, external] = dv;
    PLINTH_ASSIGN_OR_RETURN(double v, dist.ToInternal(external));
    if (!dist.Contains(v)) {
      return InvalidArgument("The value " + ParamValueToString(external) + " of parameter '" +
                             name + "' isn't contained in the distribution " + dist.ToString() +
                             ".");
    }
    internal.push_back(v);
  }
  int number = NewTrial(TrialState::kRunning);
  for (size_t i = 0; i < spec.params.size(); ++i) {
    int pid = InternParam(spec.params[i].first);
    SetParam(number, pid, InternDistribution(spec.params[i].second.first), internal[i]);
  }
  for (const auto& [name, dv] : spec.relative_params) {
    int pid = InternParam(name);
    SetRelativeParam(number, pid, InternDistribution(dv.first), dv.second);
  }
  FrozenTrial& t = trials_[number];
  t.intermediate_values = spec.intermediate_values;
  std::sort(t.intermediate_values.begin(), t.intermediate_values.end());
  t.completed_rungs = spec.completed_rungs;
  t.value = value;
  if (spec.state == TrialState::kComplete) {
    t.values = spec.values.empty() ? std::vector<double>{*value} : spec.values;
  }
  if (spec.state != TrialState::kRunning) {
    SetState(number, spec.state);
  }
  return number;
}

std::optional<ParamValue> Study::ParamValueOf(int number, std::string_view name) const {
  int pid = ParamId(name);
  if (pid < 0) {
    return std::nullopt;
  }
  for (const TrialParam& p : trials_[number].params) {
    if (p.param_id == pid) {
      return distributions_[p.distribution_id].ToExternal(p.value);
    }
  }
  return std::nullopt;
}

std::optional<int> Study::BestTrial() const {
  if (complete_by_value_.empty()) {
    return std::nullopt;
  }
  return complete_by_value_.front();
}

std::vector<int> Study::BestTrials() const {
  std::vector<int> complete;
  std::vector<double> loss;  // row per COMPLETE trial, maximised objectives negated
  const size_t m = directions_.size();
  for (const FrozenTrial& t : trials_) {
    if (t.state != TrialState::kComplete) {
      continue;
    }
    complete.push_back(t.number);
    for (size_t k = 0; k < m; ++k) {
      loss.push_back(directions_[k] == StudyDirection::kMaximize ? -t.values[k] : t.values[k]);
    }
  }
  std::vector<bool> on_front = ParetoFront(loss, m);
  std::vector<int> out;
  for (size_t i = 0; i < complete.size(); ++i) {
    if (on_front[i]) out.push_back(complete[i]);
  }
  return out;
}

int Study::ParamId(std::string_view name) const {
  auto it = param_ids_.find(std::string(name));
  return it == param_ids_.end() ? -1 : it->second;
}

int Study::InternParam(std::string_view name) {
  auto [it, inserted] = param_ids_.try_emplace(std::string(name), 0);
  if (inserted) {
    it->second = static_cast<int>(param_names_.size());
    param_names_.emplace_back(name);
    columns_.emplace_back(trials_.size(), kAbsent);
    relative_columns_.emplace_back(trials_.size(), kAbsent);
    sorted_by_param_.emplace_back();
  }
  return it->second;
}

int Study::InternDistribution(const Distribution& d) {
  // Few distinct distributions exist; the newest is the likeliest match.
  for (size_t i = distributions_.size(); i-- > 0;) {
    if (distributions_[i] == d) {
      return static_cast<int>(i);
    }
  }
  distributions_.push_back(d);
  return static_cast<int>(distributions_.size() - 1);
}

int Study::NewTrial(TrialState state) {
  int number = static_cast<int>(trials_.size());
  trials_.emplace_back();
  trials_.back().number = number;
  trials_.back().state = state;
  states_.push_back(state);
  ++state_counts_[static_cast<int>(state)];
  for (auto& column : columns_) {
    column.push_back(kAbsent);
  }
  for (auto& column : relative_columns_) {
    column.push_back(kAbsent);
  }
  return number;
}

void Study::SetParam(int number, int param_id, int distribution_id, double value) {
  trials_[number].params.push_back({param_id, distribution_id, value});
  columns_[param_id][number] = value;
  std::vector<int>& sorted = sorted_by_param_[param_id];
  const std::vector<double>& column = columns_[param_id];
  sorted.insert(
      std::upper_bound(
          sorted.begin(), sorted.end(), number,
          [&](int a, int b) { return column[a] < column[b] || (column[a] == column[b] && a < b); }),
      number);
}

void Study::SetRelativeParam(int number, int param_id, int distribution_id, double value) {
  trials_[number].relative_params.push_back({param_id, distribution_id, value});
  relative_columns_[param_id][number] = value;
}

void Study::SetState(int number, TrialState state) {
  FrozenTrial& t = trials_[number];
  --state_counts_[static_cast<int>(t.state)];
  ++state_counts_[static_cast<int>(state)];
  t.state = state;
  states_[number] = state;
  if (!IsFinished(state)) {
    return;
  }
  finish_order_.push_back(number);
  if (state != TrialState::kComplete) {
    return;
  }
  // Insert into the value order; ties stay in trial-number order, as Python's stable sort
  // (also with reverse=True for maximisation) leaves them.
  const bool maximize = direction_ == StudyDirection::kMaximize;
  auto before = [&](int a, int b) {
    double va = *trials_[a].value, vb = *trials_[b].value;
    if (va != vb) {
      return maximize ? va > vb : va < vb;
    }
    return a < b;
  };
  complete_by_value_.insert(
      std::upper_bound(complete_by_value_.begin(), complete_by_value_.end(), number, before),
      number);
}

Status Study::EnsureRelativeParams(int number) {
  if (trials_[number].relative_sampled) {
    return Status::Ok();
  }
  SearchSpace space = sampler_->InferRelativeSearchSpace(*this, trials_[number]);
  PLINTH_ASSIGN_OR_RETURN(ParamMap params, sampler_->SampleRelative(*this, trials_[number], space));
  for (const auto& [name, value] : params) {
    auto it = std::find_if(space.begin(), space.end(),
                           [&](const SearchSpaceEntry& e) { return e.name == name; });
    if (it == space.end()) {
      return Internal("The parameter " + name +
                      " was sampled by `sample_relative` method but it is not contained in the "
                      "relative search space.");
    }
    SetRelativeParam(number, InternParam(name), InternDistribution(it->distribution), value);
  }
  trials_[number].relative_search_space = std::move(space);
  trials_[number].relative_sampled = true;
  return Status::Ok();
}

Result<double> Study::SuggestInternal(int number, std::string_view name,
                                      const Distribution& distribution) {
  if (trials_[number].state != TrialState::kRunning) {
    return FailedPrecondition("Trial#" + std::to_string(number) +
                              " is not running; its parameters cannot be suggested.");
  }
  int pid = ParamId(name);
  if (pid >= 0) {
    for (const TrialParam& p : trials_[number].params) {
      if (p.param_id != pid) {
        continue;
      }
      if (!distributions_[p.distribution_id].CompatibleWith(distribution)) {
        return InvalidArgument("Cannot set a different distribution to the parameter '" +
                               std::string(name) +
                               "': " + distributions_[p.distribution_id].ToString() + " vs " +
                               distribution.ToString() + ".");
      }
      return p.value;
    }
  }

  double value = 0.0;
  const auto& fixed = trials_[number].fixed_params;
  auto fixed_it =
      std::find_if(fixed.begin(), fixed.end(), [&](const auto& f) { return f.first == name; });
  bool sampled = false;
  if (fixed_it != fixed.end()) {
    PLINTH_ASSIGN_OR_RETURN(value, distribution.ToInternal(fixed_it->second));
    sampled = true;
  } else if (distribution.Single()) {
    value = distribution.SingleValue();
    sampled = true;
  } else {
    PLINTH_RETURN_IF_ERROR(EnsureRelativeParams(number));
    const FrozenTrial& t = trials_[number];
    for (const TrialParam& p : t.relative_params) {
      if (param_names_[p.param_id] != name) {
        continue;
      }
      if (!distributions_[p.distribution_id].CompatibleWith(distribution)) {
        return InvalidArgument("The parameter '" + std::string(name) +
                               "' was sampled jointly with an incompatible distribution " +
                               distributions_[p.distribution_id].ToString() + ".");
      }
      if (distribution.Contains(p.value)) {
        value = p.value;
        sampled = true;
      }
      break;
    }
    if (!sampled) {
      PLINTH_ASSIGN_OR_RETURN(
          value, sampler_->SampleIndependent(*this, trials_[number], name, distribution));
    }
  }
  // Store what the user sees, in internal form: an int is truncated, a categorical value maps
  // to the first equal choice (Optuna round-trips through the external value the same way).
  PLINTH_ASSIGN_OR_RETURN(double internal, distribution.ToInternal(distribution.ToExternal(value)));
  SetParam(number, InternParam(name), InternDistribution(distribution), internal);
  return internal;
}

}  // namespace plinth::tune
