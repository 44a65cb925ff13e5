#include "tune/tpe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <span>

#include "tune/multi_objective.h"

namespace plinth::tune {

int DefaultGamma(int n) { return std::min(static_cast<int>(std::ceil(0.1 * n)), 25); }

int DefaultGammaMultiObjective(int n) { return static_cast<int>(std::ceil(0.1 * n)); }

int HyperoptDefaultGamma(int n) {
  return std::min(static_cast<int>(std::ceil(0.25 * std::pow(n, 0.5))), 25);
}

void DefaultWeights(size_t n, std::vector<double>* out) {
  out->clear();
  if (n < 25) {
    out->assign(n, 1.0);
    return;
  }
  // numpy.linspace(1/n, 1, n - 25): start + i·step, the last point exactly 1.
  const size_t num = n - 25;
  const double start = 1.0 / static_cast<double>(n);
  if (num == 1) {
    out->push_back(start);
  } else if (num > 1) {
    const double step = (1.0 - start) / static_cast<double>(num - 1);
    for (size_t i = 0; i < num; ++i) {
      out->push_back(static_cast<double>(i) * step + start);
    }
    out->back() = 1.0;
  }
  out->insert(out->end(), 25, 1.0);
}

Status TpeOptions::Validate() const {
  if (n_startup_trials < 0) {
    return InvalidArgument("n_startup_trials must be non-negative.");
  }
  if (n_ei_candidates < 1) {
    return InvalidArgument("n_ei_candidates must be positive.");
  }
  if (!(prior_weight >= 0)) {
    return InvalidArgument("A non-negative value must be specified for prior_weight.");
  }
  if (group && multivariate == false) {
    return InvalidArgument(
        "``group`` option can only be enabled when ``multivariate`` is enabled.");
  }
  if (!weights) {
    return InvalidArgument("The weights function must be set.");
  }
  return Status::Ok();
}

Result<std::unique_ptr<TpeSampler>> TpeSampler::Create(TpeOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<TpeSampler>(new TpeSampler(std::move(options)));
}

// Optuna seeds the TPE stream and its start-up RandomSampler with the same seed, separately.
TpeSampler::TpeSampler(TpeOptions options)
    : options_(std::move(options)),
      rng_(options_.seed ? RandomState(*options_.seed) : RandomState::FromEntropy()),
      random_sampler_(options_.seed) {
  parzen_params_.prior_weight = options_.prior_weight;
  parzen_params_.consider_magic_clip = options_.consider_magic_clip;
  parzen_params_.consider_endpoints = options_.consider_endpoints;
}

// ---------------------------------------------------------------------------------------------
// Search spaces

void TpeSampler::UpdateSpaceViews(const Study& study) {
  // Trials finished since the last call, by number: Optuna rescans every finished trial in
  // number order each time; both views are unchanged by trials already seen, so adding only the
  // new ones, in number order, gives its result (group order included).
  const std::vector<int>& order = study.FinishOrder();
  std::vector<int> fresh(order.begin() + static_cast<std::ptrdiff_t>(finish_seen_), order.end());
  finish_seen_ = order.size();
  std::sort(fresh.begin(), fresh.end());
  std::vector<std::pair<int, int>> params;
  for (int number : fresh) {
    const FrozenTrial& t = study.trial(number);
    if (t.state != TrialState::kComplete && t.state != TrialState::kPruned) {
      continue;
    }
    params.clear();
    for (const TrialParam& p : t.params) {
      params.emplace_back(p.param_id, p.distribution_id);
    }
    std::sort(params.begin(), params.end());
    if (!intersection_) {
      intersection_ = params;
    } else {
      std::vector<std::pair<int, int>> kept;
      std::set_intersection(intersection_->begin(), intersection_->end(), params.begin(),
                            params.end(), std::back_inserter(kept));
      *intersection_ = std::move(kept);
    }
    // Group refinement: each group splits into its part inside this trial and its part
    // outside; this trial's parameters in no group form a new group at the end.
    std::vector<std::pair<int, int>> remaining = params;  // sorted by param id
    std::vector<std::vector<std::pair<int, int>>> next;
    auto has_param = [](const std::vector<std::pair<int, int>>& v, int pid) {
      auto it = std::lower_bound(v.begin(), v.end(), std::make_pair(pid, -1));
      return it != v.end() && it->first == pid;
    };
    for (const auto& g : groups_) {
      std::vector<std::pair<int, int>> inside, outside;
      for (const auto& e : g) {
        (has_param(params, e.first) ? inside : outside).push_back(e);
      }
      std::erase_if(remaining, [&](const auto& e) { return has_param(g, e.first); });
      next.push_back(std::move(inside));
      next.push_back(std::move(outside));
    }
    next.push_back(remaining);
    std::erase_if(next, [](const auto& g) { return g.empty(); });
    groups_ = std::move(next);
  }
}

SearchSpace TpeSampler::SpaceOf(const Study& study,
                                const std::vector<std::pair<int, int>>& params) const {
  SearchSpace space;
  for (const auto& [pid, did] : params) {
    const Distribution& d = study.distribution(did);
    if (!d.Single()) {
      space.push_back({study.ParamName(pid), d});
    }
  }
  std::sort(space.begin(), space.end(),
            [](const SearchSpaceEntry& a, const SearchSpaceEntry& b) { return a.name < b.name; });
  return space;
}

SearchSpace TpeSampler::InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) {
  if (!IsMultivariate(study)) {
    return {};
  }
  UpdateSpaceViews(study);
  if (options_.group) {
    // Group by group, each sorted by name (not one global sort).
    SearchSpace space;
    for (const auto& g : groups_) {
      SearchSpace part = SpaceOf(study, g);
      space.insert(space.end(), part.begin(), part.end());
    }
    return space;
  }
  return intersection_ ? SpaceOf(study, *intersection_) : SearchSpace{};
}

Result<ParamMap> TpeSampler::SampleRelative(const Study& study, const FrozenTrial& trial,
                                            const SearchSpace& space) {
  if (space.empty() || CountFinishedForStartup(study) < options_.n_startup_trials) {
    return ParamMap{};
  }
  if (!options_.group) {
    return SampleSpace(study, trial, space);
  }
  ParamMap result;
  for (const auto& g : groups_) {
    SearchSpace part = SpaceOf(study, g);
    std::erase_if(part, [&](const SearchSpaceEntry& e) {
      return std::none_of(space.begin(), space.end(),
                          [&](const SearchSpaceEntry& s) { return s.name == e.name; });
    });
    if (part.empty()) {
      continue;
    }
    PLINTH_ASSIGN_OR_RETURN(ParamMap values, SampleSpace(study, trial, part));
    result.insert(result.end(), values.begin(), values.end());
  }
  return result;
}

Result<double> TpeSampler::SampleIndependent(const Study& study, const FrozenTrial& trial,
                                             std::string_view name,
                                             const Distribution& distribution) {
  if (CountFinishedForStartup(study) < options_.n_startup_trials) {
    return random_sampler_.Sample(distribution);
  }
  SearchSpace space{{std::string(name), distribution}};
  PLINTH_ASSIGN_OR_RETURN(ParamMap values, SampleSpace(study, trial, space));
  return values.front().second;
}

// ---------------------------------------------------------------------------------------------
// The steps

void TpeSampler::SplitTrials(const Study& study, int current, Split* split) {
  const std::vector<FrozenTrial>& trials = study.trials();
  const int n = CountFinishedForStartup(study);  // running trials do not count
  int n_below = options_.gamma               ? options_.gamma(n)
                : study.is_multi_objective() ? DefaultGammaMultiObjective(n)
                                             : DefaultGamma(n);
  split->n_below = n_below;
  split->below.clear();
  split->above.clear();
  in_below_.assign(trials.size(), 0);

  const bool maximize = study.direction() == StudyDirection::kMaximize;
  int take = 0;
  if (study.is_multi_objective()) {
    // Non-domination ranks, the last rank that does not fit tie-broken by hypervolume subset
    // selection, over the COMPLETE trials in number order.
    const auto& directions = study.directions();
    const size_t m = directions.size();
    std::vector<double> loss;
    std::vector<int> complete;
    for (const FrozenTrial& t : trials) {
      if (t.state != TrialState::kComplete) {
        continue;
      }
      complete.push_back(t.number);
      for (size_t k = 0; k < m; ++k) {
        loss.push_back(directions[k] == StudyDirection::kMaximize ? -t.values[k] : t.values[k]);
      }
    }
    take = std::clamp(n_below, 0, static_cast<int>(complete.size()));
    std::vector<bool> below = SplitMultiObjective(loss, m, take);
    for (size_t i = 0; i < complete.size(); ++i) {
      if (below[i]) in_below_[complete[i]] = 1;
    }
  } else {
    const std::vector<int>& by_value = study.CompleteTrialsByValue();
    take = std::clamp(n_below, 0, static_cast<int>(by_value.size()));
    for (int i = 0; i < take; ++i) {
      in_below_[by_value[i]] = 1;
    }
  }
  int remaining = std::max(0, n_below - take);
  if (remaining > 0 && study.CountInState(TrialState::kPruned) > 0) {
    // Pruned trials that got further are better; at the same step, the better last value; a
    // NaN last value is worst at its step; a trial that reported nothing is worst of all.
    pruned_buf_.clear();
    for (const FrozenTrial& t : trials) {
      if (t.state != TrialState::kPruned) {
        continue;
      }
      std::pair<double, double> score{1.0, 0.0};
      if (!t.intermediate_values.empty()) {
        auto [step, value] = t.intermediate_values.back();
        double v = std::isnan(value) ? std::numeric_limits<double>::infinity()
                                     : (maximize ? -value : value);
        score = {-static_cast<double>(step), v};
      }
      pruned_buf_.push_back({score, t.number});
    }
    std::stable_sort(pruned_buf_.begin(), pruned_buf_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    int take_pruned = std::min(remaining, static_cast<int>(pruned_buf_.size()));
    for (int i = 0; i < take_pruned; ++i) {
      in_below_[pruned_buf_[i].second] = 1;
    }
  }
  const std::vector<TrialState>& states = study.TrialStates();
  for (int number = 0; number < static_cast<int>(states.size()); ++number) {
    const TrialState state = states[number];
    bool considered =
        state == TrialState::kComplete || state == TrialState::kPruned ||
        (options_.constant_liar && state == TrialState::kRunning && number != current);
    if (!considered) {
      continue;
    }
    (in_below_[number] ? split->below : split->above).push_back(number);
  }
}

Status TpeSampler::GatherObservations(const Study& study, const std::vector<int>& trials,
                                      const std::vector<int>& param_ids, std::vector<double>* obs,
                                      std::vector<uint32_t>* order, size_t* n_obs,
                                      bool uniform_weights) {
  // A running trial's joint sample stands in for the parameters it has not suggested yet
  // (multivariate mode only, as Optuna reads it from the trial's system attributes then).
  kept_buf_.clear();
  const bool multivariate = IsMultivariate(study);
  columns_buf_.clear();
  relative_buf_.clear();
  const bool any_unknown =
      std::any_of(param_ids.begin(), param_ids.end(), [](int pid) { return pid < 0; });
  for (size_t d = 0; d < param_ids.size() && !any_unknown; ++d) {
    columns_buf_.push_back(study.ParamColumn(param_ids[d]).data());
    relative_buf_.push_back(study.RelativeColumn(param_ids[d]).data());
  }
  bool any_relative = false;  // whether some observation comes from a joint sample
  for (int number : any_unknown ? std::span<const int>() : std::span<const int>(trials)) {
    bool has_all = true;
    for (size_t d = 0; d < columns_buf_.size(); ++d) {
      double v = columns_buf_[d][number];
      // The trial record only for a missing value (most trials have them all).
      if (std::isnan(v) && multivariate && study.trial(number).state == TrialState::kRunning) {
        v = relative_buf_[d][number];
        any_relative = true;
      }
      if (std::isnan(v)) {
        has_all = false;
        break;
      }
    }
    if (has_all) {
      kept_buf_.push_back(number);
    }
  }
  const size_t n = kept_buf_.size();
  obs->resize(param_ids.size() * n);
  for (size_t d = 0; d < param_ids.size(); ++d) {
    const std::vector<double>& column = study.ParamColumn(param_ids[d]);
    const std::vector<double>& relative = study.RelativeColumn(param_ids[d]);
    double* out = obs->data() + d * n;
    if (!any_relative) {
      for (size_t i = 0; i < n; ++i) {
        out[i] = column[kept_buf_[i]];
      }
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      double v = column[kept_buf_[i]];
      out[i] = std::isnan(v) ? relative[kept_buf_[i]] : v;
    }
  }
  *n_obs = n;

  // Each numerical dimension's observations in value order, read off the study's sorted
  // index instead of sorted here; the few values taken from running trials' joint samples are
  // sorted and merged in.
  order->resize(param_ids.size() * n);
  obs_index_of_trial_.resize(study.trials().size(), -1);
  for (size_t i = 0; i < n; ++i) {
    obs_index_of_trial_[kept_buf_[i]] = static_cast<int>(i);
  }
  for (size_t d = 0; d < param_ids.size() && n > 0; ++d) {
    if (dims_buf_[d]->is_categorical()) {
      continue;
    }
    const std::vector<int>& sorted_trials = study.TrialsSortedByParam(param_ids[d]);
    if (n * 8 < sorted_trials.size()) {
      // A few observations among many trials (l(x)'s): sorting them is cheaper than a walk
      // through every trial, and gives the same order (by value, ties by index).
      relative_sorted_.clear();
      for (size_t i = 0; i < n; ++i) {
        relative_sorted_.push_back({(*obs)[d * n + i], static_cast<uint32_t>(i)});
      }
      std::sort(relative_sorted_.begin(), relative_sorted_.end());
      for (size_t i = 0; i < n; ++i) {
        (*order)[d * n + i] = relative_sorted_[i].second;
      }
      continue;
    }
    const std::vector<double>& column = study.ParamColumn(param_ids[d]);
    uint32_t* out = order->data() + d * n;
    if (!any_relative) {
      size_t written = 0;
      for (int number : sorted_trials) {
        const int i = obs_index_of_trial_[number];
        if (i >= 0) {
          out[written++] = static_cast<uint32_t>(i);
        }
      }
      continue;
    }
    relative_sorted_.clear();
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(column[kept_buf_[i]])) {
        relative_sorted_.push_back({(*obs)[d * n + i], static_cast<uint32_t>(i)});
      }
    }
    std::sort(relative_sorted_.begin(), relative_sorted_.end());
    size_t written = 0, next_relative = 0;
    for (int number : sorted_trials) {
      int i = obs_index_of_trial_[number];
      if (i < 0) {
        continue;
      }
      double v = column[number];
      while (next_relative < relative_sorted_.size() &&
             (relative_sorted_[next_relative].first < v ||
              (relative_sorted_[next_relative].first == v &&
               relative_sorted_[next_relative].second < static_cast<uint32_t>(i)))) {
        out[written++] = relative_sorted_[next_relative++].second;
      }
      out[written++] = static_cast<uint32_t>(i);
    }
    while (next_relative < relative_sorted_.size()) {
      out[written++] = relative_sorted_[next_relative++].second;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    obs_index_of_trial_[kept_buf_[i]] = -1;
  }

  if (uniform_weights) {
    weights_buf_.assign(n, 1.0);
    return Status::Ok();
  }
  options_.weights(n, &weights_buf_);
  weights_buf_.resize(n, 0.0);  // Optuna truncates to n; a short answer is padded here
  bool positive = n == 0;
  for (double w : weights_buf_) {
    if (w < 0) {
      return InvalidArgument("The `weights` function is not allowed to return negative values.");
    }
    if (!std::isfinite(w)) {
      return InvalidArgument(
          "The `weights` function is not allowed to return infinite or NaN values.");
    }
    positive = positive || w > 0;
  }
  if (!positive) {
    return InvalidArgument("The `weights` function is not allowed to return all-zero values.");
  }
  return Status::Ok();
}

Status TpeSampler::BuildEstimators(const Study& study, const Split& split, const SearchSpace& space,
                                   ParzenEstimator* below, ParzenEstimator* above) {
  param_ids_buf_.clear();
  dims_buf_.clear();
  for (const SearchSpaceEntry& e : space) {
    param_ids_buf_.push_back(study.ParamId(e.name));
    dims_buf_.push_back(&e.distribution);
  }
  size_t n_obs = 0;
  // MOTPE weighs every below observation 1 (Optuna 5; v4 weighted by hypervolume
  // contribution).
  PLINTH_RETURN_IF_ERROR(GatherObservations(study, split.below, param_ids_buf_, &obs_below_,
                                            &order_below_, &n_obs, study.is_multi_objective()));
  // Trial numbers name the kernels, so that kernels unchanged since the last suggestion keep
  // their masses.
  below->Build(dims_buf_, obs_below_, n_obs, weights_buf_, parzen_params_, order_below_, kept_buf_);
  PLINTH_RETURN_IF_ERROR(
      GatherObservations(study, split.above, param_ids_buf_, &obs_above_, &order_above_, &n_obs));
  above->Build(dims_buf_, obs_above_, n_obs, weights_buf_, parzen_params_, order_above_, kept_buf_);
  return Status::Ok();
}

size_t TpeSampler::ScoreCandidates(ParzenEstimator* below, ParzenEstimator* above,
                                   const Candidates& candidates, std::vector<double>* scores) {
  log_l_.resize(candidates.n);
  log_g_.resize(candidates.n);
  below->LogPdf(candidates, log_l_);
  above->LogPdf(candidates, log_g_);
  scores->resize(candidates.n);
  size_t best = 0;
  for (size_t i = 0; i < candidates.n; ++i) {
    (*scores)[i] = log_l_[i] - log_g_[i];
  }
  // numpy.argmax: the first maximum, and a NaN counts as the maximum.
  for (size_t i = 0; i < candidates.n; ++i) {
    double s = (*scores)[i];
    if (std::isnan(s)) {
      best = i;
      break;
    }
    if (s > (*scores)[best]) {
      best = i;
    }
  }
  return best;
}

size_t TpeSampler::BestCandidate(ParzenEstimator* below, ParzenEstimator* above,
                                 const Candidates& candidates) {
  // Approximate scores first; only candidates whose score could still be the largest, given
  // each approximation's error bound, are then computed exactly. The exact argmax is among
  // them (its approximate score is within its bound of the exact one), and a candidate left
  // out scores below it exactly, so it is ScoreCandidates' answer: usually one candidate is
  // left and needs no exact score at all.
  const size_t n = candidates.n;
  log_l_.resize(n);
  log_g_.resize(n);
  below->LogPdfApprox(candidates, log_l_);
  above->LogPdfApprox(candidates, log_g_);
  scores_.resize(n);
  error_buf_.resize(n);
  double floor = -std::numeric_limits<double>::infinity();  // the largest score's lower bound
  for (size_t i = 0; i < n; ++i) {
    scores_[i] = log_l_[i] - log_g_[i];
    if (!std::isfinite(scores_[i])) {
      return ScoreCandidates(below, above, candidates, &scores_);  // NaN, ±inf: exactly
    }
    error_buf_[i] = below->LogPdfApproxError(log_l_[i]) + above->LogPdfApproxError(log_g_[i]) +
                    1e-12 * std::abs(scores_[i]);
    floor = std::max(floor, scores_[i] - error_buf_[i]);
  }
  contenders_.clear();
  for (size_t i = 0; i < n; ++i) {
    if (scores_[i] + error_buf_[i] >= floor) {
      contenders_.push_back(static_cast<uint32_t>(i));
    }
  }
  if (contenders_.size() == 1) {
    return contenders_[0];
  }
  below->LogPdfAt(candidates, contenders_, log_l_);
  above->LogPdfAt(candidates, contenders_, log_g_);
  // numpy.argmax over the contenders, in index order: the first maximum, a NaN wins.
  size_t best = contenders_[0];
  double best_score = log_l_[best] - log_g_[best];
  for (uint32_t i : contenders_) {
    const double s = log_l_[i] - log_g_[i];
    if (std::isnan(s)) {
      return i;
    }
    if (s > best_score) {
      best = i;
      best_score = s;
    }
  }
  return best;
}

Result<ParamMap> TpeSampler::SampleSpace(const Study& study, const FrozenTrial& trial,
                                         const SearchSpace& space) {
  SplitTrials(study, trial.number, &split_);
  PLINTH_RETURN_IF_ERROR(BuildEstimators(study, split_, space, &below_, &above_));
  below_.Sample(&rng_, static_cast<size_t>(options_.n_ei_candidates), &candidates_);
  size_t best = BestCandidate(&below_, &above_, candidates_);
  ParamMap result;
  result.reserve(space.size());
  for (size_t d = 0; d < space.size(); ++d) {
    result.emplace_back(space[d].name, candidates_.at(d, best));
  }
  return result;
}

}  // namespace plinth::tune
