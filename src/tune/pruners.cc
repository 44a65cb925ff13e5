#include "tune/pruners.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace plinth::tune {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy's _lerp: the two-sided form keeps the result exact at both ends.
double Lerp(double a, double b, double t) {
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// r·η^k, saturating: Optuna's Python integers do not overflow, and a rung that far out is
// never reached anyway.
int64_t RungStep(int64_t r, int64_t eta, int64_t k) {
  int64_t out = r;
  for (int64_t i = 0; i < k; ++i) {
    if (out > std::numeric_limits<int64_t>::max() / eta) {
      return std::numeric_limits<int64_t>::max();
    }
    out *= eta;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Percentile / median

Status PercentilePrunerOptions::Validate() const {
  if (!(percentile >= 0.0 && percentile <= 100.0)) {
    return InvalidArgument("Percentile must be between 0 and 100 inclusive, but got percentile=" +
                           std::to_string(percentile) + ".");
  }
  if (n_startup_trials < 0) {
    return InvalidArgument("Number of startup trials cannot be negative.");
  }
  if (n_warmup_steps < 0) {
    return InvalidArgument("Number of warmup steps cannot be negative.");
  }
  if (interval_steps < 1) {
    return InvalidArgument("Pruning interval steps must be at least 1.");
  }
  if (n_min_trials < 1) {
    return InvalidArgument("Number of trials for pruning must be at least 1.");
  }
  return Status::Ok();
}

Result<std::unique_ptr<PercentilePruner>> PercentilePruner::Create(
    PercentilePrunerOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<PercentilePruner>(new PercentilePruner(options));
}

Result<std::unique_ptr<PercentilePruner>> PercentilePruner::Median(
    PercentilePrunerOptions options) {
  options.percentile = 50.0;
  return Create(options);
}

double NanPercentile(std::vector<double>* values, double percentile) {
  auto& v = *values;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  std::sort(v.begin(), v.end());
  return SortedPercentile(v, percentile);
}

double SortedPercentile(const std::vector<double>& v, double percentile) {
  if (v.empty()) {
    return kNaN;
  }
  // numpy's "linear" method: virtual index (n−1)·q, neighbours clipped to the ends.
  const int64_t n = static_cast<int64_t>(v.size());
  const double q = percentile / 100.0;
  const double virtual_index = static_cast<double>(n - 1) * q;
  int64_t previous = static_cast<int64_t>(std::floor(virtual_index));
  int64_t next = previous + 1;
  if (virtual_index >= static_cast<double>(n - 1)) {
    previous = next = -1;  // numpy's "last element"; gamma below still uses −1
  } else if (virtual_index < 0) {
    previous = next = 0;
  }
  const double gamma = virtual_index - static_cast<double>(previous);
  const double a = v[previous < 0 ? n + previous : previous];
  const double b = v[next < 0 ? n + next : next];
  return Lerp(a, b, gamma);
}

void PercentilePruner::CatchUp(const Study& study) {
  const std::vector<int>& order = study.FinishOrder();
  if (&study != cached_study_ || order.size() < finish_seen_) {
    cached_study_ = &study;
    finish_seen_ = 0;
    by_step_.clear();
  }
  for (; finish_seen_ < order.size(); ++finish_seen_) {
    const FrozenTrial& t = study.trial(order[finish_seen_]);
    if (t.state != TrialState::kComplete) {
      continue;
    }
    for (const auto& [step, value] : t.intermediate_values) {
      StepValues& column = by_step_[step];
      ++column.count;
      if (!std::isnan(value)) {
        column.values.push_back(value);
      }
    }
  }
}

bool PercentilePruner::Prune(Study& study, const FrozenTrial& trial) {
  const int n_complete = study.CountInState(TrialState::kComplete);
  if (n_complete == 0 || n_complete < options_.n_startup_trials) {
    return false;
  }
  std::optional<int64_t> last = trial.last_step();
  if (!last) {
    return false;
  }
  const int64_t step = *last;
  const int64_t warmup = options_.n_warmup_steps;
  if (step < warmup) {
    return false;
  }
  // Only the first report at or after each check point n_warmup + k·interval is checked:
  // the step reported before this one must lie before the latest check point.
  const int64_t nearest_check =
      (step - warmup) / options_.interval_steps * options_.interval_steps + warmup;
  const auto& reported = trial.intermediate_values;
  const int64_t second_last = reported.size() >= 2 ? reported[reported.size() - 2].first : -1;
  if (second_last >= nearest_check) {
    return false;
  }

  const bool maximize = study.direction() == StudyDirection::kMaximize;
  double best = kNaN;
  for (const auto& [s, value] : reported) {
    if (std::isnan(value)) {
      continue;
    }
    if (std::isnan(best) || (maximize ? value > best : value < best)) {
      best = value;
    }
  }
  if (std::isnan(best)) {
    return true;  // every reported value is NaN
  }

  CatchUp(study);
  auto it = by_step_.find(step);
  // Reports at the step count towards n_min_trials even when NaN, as in Optuna.
  if (it == by_step_.end() || it->second.count < options_.n_min_trials) {
    return false;
  }
  StepValues& column = it->second;
  if (column.n_sorted < column.values.size()) {
    auto middle = column.values.begin() + static_cast<std::ptrdiff_t>(column.n_sorted);
    std::sort(middle, column.values.end());
    std::inplace_merge(column.values.begin(), middle, column.values.end());
    column.n_sorted = column.values.size();
  }
  const double p =
      SortedPercentile(column.values, maximize ? 100.0 - options_.percentile : options_.percentile);
  if (std::isnan(p)) {
    return false;
  }
  return maximize ? best < p : best > p;
}

// ---------------------------------------------------------------------------------------------
// Successive halving

Status SuccessiveHalvingOptions::Validate() const {
  if (min_resource && *min_resource < 1) {
    return InvalidArgument("The value of `min_resource` is " + std::to_string(*min_resource) +
                           ", but must be either `min_resource >= 1` or 'auto'");
  }
  if (reduction_factor < 2) {
    return InvalidArgument("The value of `reduction_factor` is " +
                           std::to_string(reduction_factor) +
                           ", but must be `reduction_factor >= 2`");
  }
  if (min_early_stopping_rate < 0) {
    return InvalidArgument("The value of `min_early_stopping_rate` must be >= 0.");
  }
  if (bootstrap_count < 0) {
    return InvalidArgument("The value of `bootstrap_count` must be >= 0.");
  }
  if (bootstrap_count > 0 && !min_resource) {
    return InvalidArgument(
        "bootstrap_count > 0 and min_resource == 'auto' are mutually incompatible.");
  }
  return Status::Ok();
}

Result<std::unique_ptr<SuccessiveHalvingPruner>> SuccessiveHalvingPruner::Create(
    SuccessiveHalvingOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<SuccessiveHalvingPruner>(new SuccessiveHalvingPruner(options));
}

bool SuccessiveHalvingPruner::Prune(Study& study, const FrozenTrial& trial) {
  return PruneAmong(study, trial, [](const FrozenTrial&) { return true; });
}

bool SuccessiveHalvingPruner::PruneAmong(Study& study, const FrozenTrial& trial,
                                         const std::function<bool(const FrozenTrial&)>& in_view) {
  std::optional<int64_t> last = trial.last_step();
  if (!last) {
    return false;
  }
  const int64_t step = *last;
  const int number = trial.number;
  const double value = trial.intermediate_values.back().second;
  int64_t rung = static_cast<int64_t>(trial.completed_rungs.size());
  const bool maximize = study.direction() == StudyDirection::kMaximize;
  const int64_t eta = options_.reduction_factor;
  while (true) {
    if (!min_resource_) {
      // "auto": a hundredth of the longest COMPLETE trial, once one exists.
      std::optional<int64_t> longest;
      for (const FrozenTrial& t : study.trials()) {
        if (t.state == TrialState::kComplete && t.last_step() && in_view(t)) {
          longest = std::max(longest.value_or(*t.last_step()), *t.last_step());
        }
      }
      if (!longest) {
        return false;
      }
      min_resource_ = std::max<int64_t>(*longest / 100, 1);
    }
    if (step < RungStep(*min_resource_, eta, options_.min_early_stopping_rate + rung)) {
      return false;
    }
    if (std::isnan(value)) {
      return true;
    }
    // Competitors: every other trial that recorded this rung (read before this trial's own
    // record, which Optuna's snapshot of the trials does not contain either), plus this one.
    competing_.clear();
    for (const FrozenTrial& t : study.trials()) {
      if (t.number != number && static_cast<int64_t>(t.completed_rungs.size()) > rung &&
          in_view(t)) {
        competing_.push_back(t.completed_rungs[rung]);
      }
    }
    competing_.push_back(value);
    study.RecordCompletedRung(number, static_cast<int>(rung), value);
    if (static_cast<int64_t>(competing_.size()) <= options_.bootstrap_count) {
      return true;
    }
    // Promotable if within the top 1/η; while fewer than η compete, only the best is (Optuna
    // cannot pause a trial until enough others arrive).
    int64_t promotable = static_cast<int64_t>(competing_.size()) / eta - 1;
    if (promotable < 0) {
      promotable = 0;
    }
    // Optuna sorts and indexes; the k-th smallest alone is the same number.
    const size_t k = maximize ? competing_.size() - 1 - static_cast<size_t>(promotable)
                              : static_cast<size_t>(promotable);
    std::nth_element(competing_.begin(), competing_.begin() + static_cast<std::ptrdiff_t>(k),
                     competing_.end());
    const bool promoted = maximize ? value >= competing_[k] : value <= competing_[k];
    if (!promoted) {
      return true;
    }
    ++rung;
  }
}

// ---------------------------------------------------------------------------------------------
// Hyperband

Status HyperbandOptions::Validate() const {
  if (min_resource < 1) {
    return InvalidArgument("The value of `min_resource` must be >= 1.");
  }
  if (max_resource && *max_resource < min_resource) {
    return InvalidArgument("The value of `max_resource` must be >= `min_resource`.");
  }
  if (reduction_factor < 2) {
    return InvalidArgument("The value of `reduction_factor` must be >= 2.");
  }
  if (bootstrap_count < 0) {
    return InvalidArgument("The value of `bootstrap_count` must be >= 0.");
  }
  if (bootstrap_count > 0 && !max_resource) {
    return InvalidArgument(
        "bootstrap_count > 0 and max_resource == 'auto' are mutually incompatible.");
  }
  return Status::Ok();
}

Result<std::unique_ptr<HyperbandPruner>> HyperbandPruner::Create(HyperbandOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<HyperbandPruner>(new HyperbandPruner(options));
}

void HyperbandPruner::TryInitialize(const Study& study) {
  if (!max_resource_) {
    std::optional<int64_t> longest;
    for (int number : study.CompleteTrialsByValue()) {
      std::optional<int64_t> s = study.trial(number).last_step();
      if (s) {
        longest = std::max(longest.value_or(*s), *s);
      }
    }
    if (!longest) {
      return;
    }
    max_resource_ = *longest + 1;
  }
  if (n_brackets_computed_) {
    return;
  }
  n_brackets_computed_ = true;
  // floor(log_η(max/min)) + 1, in Python's floating point (math.log(x, base) divides logs).
  const double ratio =
      static_cast<double>(*max_resource_) / static_cast<double>(options_.min_resource);
  const int n_brackets = static_cast<int>(
      std::floor(std::log(ratio) / std::log(static_cast<double>(options_.reduction_factor))) + 1);
  for (int b = 0; b < n_brackets; ++b) {
    const int64_t s = n_brackets - 1 - b;
    const double eta_s = static_cast<double>(RungStep(1, options_.reduction_factor, s));
    const int64_t budget =
        static_cast<int64_t>(std::ceil(n_brackets * eta_s / static_cast<double>(s + 1)));
    total_budget_ += budget;
    budgets_.push_back(budget);
    SuccessiveHalvingOptions sh;
    sh.min_resource = options_.min_resource;
    sh.reduction_factor = options_.reduction_factor;
    sh.min_early_stopping_rate = b;
    sh.bootstrap_count = options_.bootstrap_count;
    pruners_.push_back(SuccessiveHalvingPruner::Create(sh).value());
  }
}

int HyperbandPruner::BracketId(const Study& study, int trial_number) {
  if (pruners_.empty()) {
    return 0;
  }
  if (study.name() != bracket_study_name_) {
    bracket_cache_.clear();
    bracket_study_name_ = study.name();
  }
  if (trial_number >= static_cast<int>(bracket_cache_.size())) {
    bracket_cache_.resize(trial_number + 1, -1);
  }
  int8_t& cached = bracket_cache_[trial_number];
  if (cached >= 0) {
    return cached;
  }
  int64_t n = static_cast<int64_t>(Crc32(study.name() + "_" + std::to_string(trial_number)) %
                                   static_cast<uint64_t>(total_budget_));
  for (size_t b = 0; b < budgets_.size(); ++b) {
    n -= budgets_[b];
    if (n < 0) {
      cached = static_cast<int8_t>(b);
      return cached;
    }
  }
  return 0;  // unreachable: the budgets sum to total_budget_
}

bool HyperbandPruner::Prune(Study& study, const FrozenTrial& trial) {
  if (pruners_.empty()) {
    TryInitialize(study);
    if (pruners_.empty()) {
      return false;
    }
  }
  const int bracket = BracketId(study, trial.number);
  return pruners_[bracket]->PruneAmong(
      study, trial, [&](const FrozenTrial& t) { return BracketId(study, t.number) == bracket; });
}

uint32_t Crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> kTable = [] {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) {
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      }
      table[i] = c;
    }
    return table;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc = kTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace plinth::tune
