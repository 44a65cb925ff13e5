#include "tune/auto_sampler.h"

#include <algorithm>
#include <limits>

#include "core/log.h"
#include "tune/cmaes_sampler.h"
#include "tune/gp_sampler.h"
#include "tune/random_sampler.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

// OptunaHub's _MAXINT32: seeds are randint(2**31 − 1).
constexpr int64_t kMaxInt32 = (int64_t{1} << 31) - 1;

Result<std::unique_ptr<Sampler>> MakeTpe(uint32_t seed) {
  // OptunaHub's _get_tpe_sampler: multivariate with constant liar (Optuna 5's defaults).
  TpeOptions options;
  options.seed = seed;
  options.multivariate = true;
  options.constant_liar = true;
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<TpeSampler> tpe, TpeSampler::Create(options));
  return std::unique_ptr<Sampler>(std::move(tpe));
}

}  // namespace

std::string_view AutoSamplerChoiceName(AutoSamplerChoice choice) {
  switch (choice) {
    case AutoSamplerChoice::kRandom:
      return "RandomSampler";
    case AutoSamplerChoice::kTpe:
      return "TPESampler";
    case AutoSamplerChoice::kGp:
      return "GPSampler";
    case AutoSamplerChoice::kCmaEs:
      return "CmaEsSampler";
  }
  return "UnknownSampler";
}

Status AutoSamplerOptions::Validate() const {
  if (max_budget_for_gp < 1) {
    return InvalidArgument("max_budget_for_gp must be >= 1.");
  }
  if (max_dimension_for_gp < 0) {
    return InvalidArgument("max_dimension_for_gp must be >= 0.");
  }
  if (gp_trials < 0) {
    return InvalidArgument("gp_trials must be >= 0.");
  }
  return Status::Ok();
}

SamplerFactory DefaultGpSamplerFactory() {
  // OptunaHub's GPSampler(seed=seed): Optuna's defaults otherwise.
  return [](uint32_t seed) -> Result<std::unique_ptr<Sampler>> {
    GpSamplerOptions options;
    options.seed = seed;
    PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<GpSampler> gp, GpSampler::Create(options));
    return std::unique_ptr<Sampler>(std::move(gp));
  };
}

Result<std::unique_ptr<AutoSampler>> AutoSampler::Create(AutoSamplerOptions options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  if (!options.gp_factory) {
    options.gp_factory = DefaultGpSamplerFactory();
  }
  return std::unique_ptr<AutoSampler>(new AutoSampler(std::move(options)));
}

AutoSampler::AutoSampler(AutoSamplerOptions options)
    : options_(std::move(options)),
      rng_(options_.seed ? RandomState(*options_.seed) : RandomState::FromEntropy()) {}

Sampler& AutoSampler::Current() {
  if (!sampler_) {
    // Created on first use, as OptunaHub does, so the seed is the stream's first draw.
    sampler_ = std::make_unique<RandomSampler>(static_cast<uint32_t>(rng_.RandInt(0, kMaxInt32)));
    choice_ = AutoSamplerChoice::kRandom;
  }
  return *sampler_;
}

void AutoSampler::UpdateViews(const Study& study) {
  const std::vector<int>& order = study.FinishOrder();
  std::vector<std::pair<int, int>> params, kept;
  std::vector<int> ids;
  for (; finish_seen_ < order.size(); ++finish_seen_) {
    const FrozenTrial& t = study.trial(order[finish_seen_]);
    if (t.state != TrialState::kComplete && t.state != TrialState::kPruned) {
      continue;
    }
    ids.clear();
    for (const TrialParam& p : t.params) ids.push_back(p.param_id);
    std::sort(ids.begin(), ids.end());
    // Conditional: two finished trials with different parameter sets (OptunaHub compares each
    // with the first; "some set differs from the first" is "not all sets are equal").
    if (!first_param_set_) {
      first_param_set_ = ids;
    } else if (*first_param_set_ != ids) {
      conditional_ = true;
    }
    if (t.state != TrialState::kComplete) {
      continue;  // the intersection space counts COMPLETE trials only
    }
    params.clear();
    for (const TrialParam& p : t.params) params.emplace_back(p.param_id, p.distribution_id);
    std::sort(params.begin(), params.end());
    if (!intersection_) {
      intersection_ = params;
      continue;
    }
    kept.clear();
    std::set_intersection(intersection_->begin(), intersection_->end(), params.begin(),
                          params.end(), std::back_inserter(kept));
    intersection_->swap(kept);
  }
}

Status AutoSampler::Determine(const Study& study) {
  Current();
  if (tpe_for_good_) {
    return Status::Ok();  // TPE, once chosen for the space's kind, stays
  }
  const uint32_t seed = static_cast<uint32_t>(rng_.RandInt(0, kMaxInt32));
  bool categorical = false;
  if (!intersection_) {
    intersection_.emplace();
  }
  for (const auto& [pid, did] : *intersection_) {
    categorical = categorical || study.distribution(did).is_categorical();
  }
  if (categorical || conditional_) {
    PLINTH_ASSIGN_OR_RETURN(sampler_, MakeTpe(seed));
    choice_ = AutoSamplerChoice::kTpe;
    tpe_for_good_ = true;
    return Status::Ok();
  }
  const int n_complete = study.CountInState(TrialState::kComplete);
  if (n_complete < options_.max_budget_for_gp) {
    // Plinth's departures from OptunaHub (auto_sampler.h): the GP's slot goes to TPE for a wide
    // space, and to TPE from gp_trials COMPLETE trials on.
    const bool wide = static_cast<int>(intersection_->size()) > options_.max_dimension_for_gp;
    if (wide || n_complete >= options_.gp_trials) {
      if (choice_ != AutoSamplerChoice::kTpe) {
        PLINTH_ASSIGN_OR_RETURN(sampler_, MakeTpe(seed));
        choice_ = AutoSamplerChoice::kTpe;
      }
    } else if (choice_ != AutoSamplerChoice::kGp) {
      PLINTH_ASSIGN_OR_RETURN(sampler_, options_.gp_factory(seed));
      choice_ = AutoSamplerChoice::kGp;
    }
    return Status::Ok();
  }
  if (choice_ == AutoSamplerChoice::kCmaEs) {
    return Status::Ok();
  }
  // CMA-ES warm-started from the first trials to complete over exactly this space.
  std::vector<int> space_ids;
  for (const auto& [pid, did] : *intersection_) space_ids.push_back(pid);
  std::vector<CmaSourceTrial> source;
  std::vector<int> ids;
  for (int number : study.FinishOrder()) {
    if (static_cast<int>(source.size()) == options_.max_budget_for_gp) {
      break;
    }
    const FrozenTrial& t = study.trial(number);
    if (t.state != TrialState::kComplete) {
      continue;
    }
    ids.clear();
    for (const TrialParam& p : t.params) ids.push_back(p.param_id);
    std::sort(ids.begin(), ids.end());
    if (ids != space_ids) {
      continue;
    }
    CmaSourceTrial s;
    s.state = TrialState::kComplete;
    s.value = t.value;
    for (const TrialParam& p : t.params)
      s.params.emplace_back(study.ParamName(p.param_id), p.value);
    source.push_back(std::move(s));
  }
  CmaEsOptions cma;
  cma.seed = seed;
  if (source.empty()) {
    PLINTH_LOG_WARN(
        "AutoSampler could not find compatible trials for CMA-ES warm-start (likely due to "
        "dynamic search space). Proceeding with cold-start.");
  } else {
    cma.source_trials = std::move(source);
  }
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<CmaEsSampler> cma_sampler,
                          CmaEsSampler::Create(std::move(cma)));
  sampler_ = std::move(cma_sampler);
  choice_ = AutoSamplerChoice::kCmaEs;
  return Status::Ok();
}

void AutoSampler::BeforeTrial(const Study& study, const FrozenTrial& trial) {
  if (study.CountInState(TrialState::kComplete) != 0) {
    UpdateViews(study);
    Status s = Determine(study);
    if (!s.ok()) {
      // A sampler that cannot be built (a GP factory's error) leaves the current one in use.
      PLINTH_LOG_WARN("AutoSampler keeps {}: {}", AutoSamplerChoiceName(choice_), s.message());
    }
  }
  Sampler& current = Current();
  if (trial.number >= static_cast<int>(choice_by_trial_.size())) {
    choice_by_trial_.resize(trial.number + 1, -1);
  }
  choice_by_trial_[trial.number] = static_cast<int8_t>(choice_);
  current.BeforeTrial(study, trial);
}

SearchSpace AutoSampler::InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) {
  return Current().InferRelativeSearchSpace(study, trial);
}

Result<ParamMap> AutoSampler::SampleRelative(const Study& study, const FrozenTrial& trial,
                                             const SearchSpace& space) {
  return Current().SampleRelative(study, trial, space);
}

Result<double> AutoSampler::SampleIndependent(const Study& study, const FrozenTrial& trial,
                                              std::string_view name,
                                              const Distribution& distribution) {
  return Current().SampleIndependent(study, trial, name, distribution);
}

void AutoSampler::AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                             std::optional<double> value) {
  Current().AfterTrial(study, trial, state, value);
}

std::optional<AutoSamplerChoice> AutoSampler::ChoiceOf(int number) const {
  if (number < 0 || number >= static_cast<int>(choice_by_trial_.size()) ||
      choice_by_trial_[number] < 0) {
    return std::nullopt;
  }
  return static_cast<AutoSamplerChoice>(choice_by_trial_[number]);
}

}  // namespace plinth::tune
