#include "tune/service/tune_service.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "tune/cmaes_sampler.h"
#include "tune/gp_sampler.h"
#include "tune/grid_sampler.h"
#include "tune/random_sampler.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

using store::StoredTrialState;
using store::TrialParamRecord;
using store::TrialRecord;

// Grids larger than this are refused: a grid that size is a random search in disguise.
constexpr size_t kMaxGridSize = 1'000'000;
// Trials read per page where the service walks a whole study (best trials).
constexpr int64_t kPage = 1000;

// SplitMix64's finalizer: turns (seed, trial number, parameters already set) into an unrelated
// 32-bit seed, so each sampling call draws from its own stream.
uint32_t MixSeed(uint32_t seed, int64_t number, size_t n_set) {
  uint64_t z = (static_cast<uint64_t>(seed) << 32) ^ (static_cast<uint64_t>(number) * 0x9E37u) ^
               (static_cast<uint64_t>(n_set) << 48);
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<uint32_t>(z);
}

uint32_t EntropySeed() {
  thread_local std::random_device device;
  return device();
}

// The grid's values: the sampler's own, else every value of the declared space (categorical
// choices, int and stepped float grids). Failure: kInvalidArgument for a continuous float or a
// grid over kMaxGridSize combinations.
Result<GridSampler::Grid> GridOf(const StudyConfig& config) {
  if (!config.sampler.grid.empty()) return config.sampler.grid;
  if (config.space.empty()) {
    return InvalidArgument(
        "'sampler': the grid sampler needs a 'search_space' (in the study or in the sampler)");
  }
  GridSampler::Grid grid;
  size_t total = 1;
  for (const SearchSpaceEntry& e : config.space) {
    const Distribution& d = e.distribution;
    std::vector<ParamValue> values;
    if (d.is_categorical()) {
      values = d.choices();
    } else if (d.kind() == DistributionKind::kFloat && !d.has_step()) {
      return InvalidArgument("'search_space." + e.name +
                             "': the grid sampler needs a step for float parameters");
    } else {
      const double n = std::floor((d.high() - d.low()) / d.step() + 1e-9) + 1;
      if (n > static_cast<double>(kMaxGridSize)) {
        return InvalidArgument("'search_space." + e.name + "' has too many grid values");
      }
      for (int64_t k = 0; k < static_cast<int64_t>(n); ++k) {
        double v = d.low() + static_cast<double>(k) * d.step();
        values.push_back(d.ToExternal(std::min(v, d.high())));
      }
    }
    total *= values.size();
    if (total > kMaxGridSize) {
      return InvalidArgument("'search_space': the grid has more than " +
                             std::to_string(kMaxGridSize) + " combinations");
    }
    grid.emplace_back(e.name, std::move(values));
  }
  return grid;
}

Result<std::unique_ptr<Sampler>> MakeSampler(const StudyConfig& config, uint32_t seed) {
  const SamplerConfig& s = config.sampler;
  if (s.type == "random") return std::unique_ptr<Sampler>(std::make_unique<RandomSampler>(seed));
  if (s.type == "grid") {
    PLINTH_ASSIGN_OR_RETURN(GridSampler::Grid grid, GridOf(config));
    // The grid's order comes from the study's seed, the same on every call: trial k takes
    // combination k of one shuffled order.
    PLINTH_ASSIGN_OR_RETURN(auto sampler, GridSampler::Create(std::move(grid), s.seed));
    return std::unique_ptr<Sampler>(std::move(sampler));
  }
  if (s.type == "gp") {
    GpSamplerOptions o;
    o.seed = seed;
    o.n_startup_trials = s.n_startup_trials.value_or(o.n_startup_trials);
    o.deterministic_objective = s.deterministic_objective;
    o.warn_independent_sampling = false;  // a server log line per conditional parameter is noise
    PLINTH_RETURN_IF_ERROR(o.Validate());
    PLINTH_ASSIGN_OR_RETURN(auto sampler, GpSampler::Create(std::move(o)));
    return std::unique_ptr<Sampler>(std::move(sampler));
  }
  if (s.type == "cmaes") {
    CmaEsOptions o;
    o.seed = seed;
    o.n_startup_trials = s.n_startup_trials.value_or(o.n_startup_trials);
    o.sigma0 = s.sigma0;
    o.popsize = s.popsize;
    o.consider_pruned_trials = s.consider_pruned_trials;
    o.warn_independent_sampling = false;
    PLINTH_RETURN_IF_ERROR(o.Validate());
    PLINTH_ASSIGN_OR_RETURN(auto sampler, CmaEsSampler::Create(std::move(o)));
    return std::unique_ptr<Sampler>(std::move(sampler));
  }
  TpeOptions o;
  o.seed = seed;
  o.n_startup_trials = s.n_startup_trials.value_or(o.n_startup_trials);
  o.n_ei_candidates = s.n_ei_candidates;
  o.multivariate = s.multivariate;
  o.group = s.group;
  o.constant_liar = s.constant_liar;
  o.prior_weight = s.prior_weight;
  o.consider_endpoints = s.consider_endpoints;
  o.consider_magic_clip = s.consider_magic_clip;
  PLINTH_RETURN_IF_ERROR(o.Validate());
  PLINTH_ASSIGN_OR_RETURN(auto sampler, TpeSampler::Create(o));
  return std::unique_ptr<Sampler>(std::move(sampler));
}

TrialState EngineState(StoredTrialState s) {
  switch (s) {
    case StoredTrialState::kRunning:
      return TrialState::kRunning;
    case StoredTrialState::kComplete:
      return TrialState::kComplete;
    case StoredTrialState::kPruned:
      return TrialState::kPruned;
    case StoredTrialState::kWaiting:
      return TrialState::kWaiting;
    case StoredTrialState::kFail:
      break;
  }
  return TrialState::kFail;
}

// A stored trial as the engine takes it. A WAITING trial (the engine cannot add one) or a row
// that does not parse becomes a FAIL placeholder, so engine numbers stay the stored numbers.
// The system attribute that keeps successive halving's rung values (Optuna's
// `completed_rung_<k>` system attributes, as one JSON array).
constexpr const char* kCompletedRungs = "completed_rungs";

std::vector<double> CompletedRungs(const TrialRecord& t) {
  std::vector<double> rungs;
  for (const store::KeyValue& a : t.system_attrs) {
    if (a.key != kCompletedRungs) continue;
    JsonDocument doc;
    if (!ParseJson(a.value, &doc).ok() || !doc.IsArray()) break;
    for (const JsonValue& v : doc.GetArray()) {
      if (v.IsNumber()) rungs.push_back(v.GetDouble());
    }
  }
  return rungs;
}

// CMA-ES's per-trial state (Optuna's `cma:generation` and the pickled optimizer).
constexpr const char* kCmaGeneration = "cma:generation";
constexpr const char* kCmaSnapshot = "cma:snapshot";

double NumberOrNan(const JsonValue& v) {
  if (v.IsNumber()) return v.GetDouble();
  if (v.IsString()) {
    auto d = ParseDouble(v.GetString(), "snapshot");
    if (d.ok()) return *d;
  }
  return std::nan("");
}

// Distributions by their JSON text: a study's trials share a handful, so a rebuild parses each
// once instead of once per trial and parameter.
using DistributionCache = std::unordered_map<std::string, std::optional<Distribution>>;

const std::optional<Distribution>& CachedDistribution(DistributionCache* cache,
                                                      const std::string& json) {
  auto [it, inserted] = cache->try_emplace(json);
  if (inserted) {
    auto d = DistributionFromJsonText(json);
    if (d.ok()) it->second = std::move(*d);
  }
  return it->second;
}

TrialSpec SpecOf(const TrialRecord& t, size_t n_objectives, DistributionCache* cache) {
  TrialSpec failed;
  failed.state = TrialState::kFail;
  TrialSpec spec;
  spec.state = EngineState(t.state);
  if (spec.state == TrialState::kWaiting) return failed;
  if (spec.state == TrialState::kComplete) {
    if (t.values.size() != n_objectives) return failed;
    if (n_objectives == 1) {
      spec.value = t.values[0];
    } else {
      spec.values = t.values;
    }
  } else if (spec.state == TrialState::kPruned && n_objectives == 1 && !t.values.empty()) {
    spec.value = t.values[0];
  }
  for (const TrialParamRecord& p : t.params) {
    const std::optional<Distribution>& d = CachedDistribution(cache, p.distribution_json);
    if (!d) return failed;
    // The external value from the exact internal one: no JSON to parse per value.
    spec.params.push_back({p.name, {*d, d->ToExternal(p.internal)}});
    if (spec.state == TrialState::kRunning) {
      // What TPE's constant liar reads of a running trial.
      spec.relative_params.push_back({p.name, {*d, p.internal}});
    }
  }
  spec.intermediate_values = t.intermediate_values;
  spec.completed_rungs = CompletedRungs(t);
  return spec;
}

std::string MlflowParamValue(const ParamValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return ParamValueToString(v);  // Python's str(): None, True, 3, 0.5
}

store::RunStatus RunStatusFor(StoredTrialState s) {
  switch (s) {
    case StoredTrialState::kComplete:
      return store::RunStatus::kFinished;
    case StoredTrialState::kPruned:
      return store::RunStatus::kKilled;
    default:
      return store::RunStatus::kFailed;
  }
}

// An in-memory Study rebuilt from the stored trials, with `target` started (RUNNING) at its
// own number, its earlier params and intermediate values in place.
struct Rebuilt {
  std::unique_ptr<Study> study;
  int target = -1;
};

Result<Rebuilt> Rebuild(const StudyConfig& config, const std::vector<TrialRecord>& trials,
                        const TrialRecord& target, uint32_t seed) {
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> sampler, MakeSampler(config, seed));
  Rebuilt out;
  out.study = std::make_unique<Study>(std::move(sampler), config.directions);
  Study& study = *out.study;
  // The target's fixed values (enqueued) and the params it already has (define-by-run).
  std::vector<std::pair<std::string, ParamValue>> fixed;
  if (!target.fixed_params_json.empty()) {
    JsonDocument doc;
    PLINTH_RETURN_IF_ERROR(ParseJson(target.fixed_params_json, &doc));
    if (doc.IsObject()) {
      for (const auto& m : doc.GetObject()) {
        std::string name(m.name.GetString(), m.name.GetStringLength());
        PLINTH_ASSIGN_OR_RETURN(ParamValue v, ParamValueFromJson(m.value, name));
        fixed.emplace_back(std::move(name), std::move(v));
      }
    }
  }
  std::vector<std::pair<std::string, Distribution>> existing;
  for (const TrialParamRecord& p : target.params) {
    PLINTH_ASSIGN_OR_RETURN(Distribution d, DistributionFromJsonText(p.distribution_json));
    PLINTH_ASSIGN_OR_RETURN(ParamValue v, ParamValueFromJsonText(p.external_json));
    fixed.emplace_back(p.name, std::move(v));
    existing.emplace_back(p.name, std::move(d));
  }
  DistributionCache cache;
  for (const TrialRecord& t : trials) {
    if (t.trial_id == target.trial_id) {
      study.EnqueueTrial(fixed);
      out.target = study.Ask().number();
      continue;
    }
    if (!study.AddTrial(SpecOf(t, config.directions.size(), &cache)).ok()) {
      TrialSpec placeholder;
      placeholder.state = TrialState::kFail;
      (void)study.AddTrial(placeholder);
    }
  }
  if (out.target < 0) return Internal("the trial is missing from its study's trials");
  Trial trial(&study, out.target);
  for (const auto& [name, distribution] : existing) {
    PLINTH_RETURN_IF_ERROR(trial.Suggest(name, distribution).status());
  }
  for (const auto& [step, value] : target.intermediate_values) {
    PLINTH_RETURN_IF_ERROR(trial.Report(value, step));
  }
  const std::vector<double> rungs = CompletedRungs(target);
  for (size_t k = 0; k < rungs.size(); ++k) {
    study.RecordCompletedRung(out.target, static_cast<int>(k), rungs[k]);
  }
  // CMA-ES continues from the optimizer states its earlier trials stored (Optuna keeps them in
  // the trials' system attributes too).
  if (auto* cma = dynamic_cast<CmaEsSampler*>(&study.sampler())) {
    for (const TrialRecord& t : trials) {
      std::optional<int> generation;
      std::vector<double> snapshot;
      for (const store::KeyValue& a : t.system_attrs) {
        JsonDocument doc;
        if (!ParseJson(a.value, &doc).ok()) continue;
        if (a.key == kCmaGeneration && doc.IsInt()) generation = doc.GetInt();
        if (a.key == kCmaSnapshot && doc.IsArray()) {
          for (const JsonValue& v : doc.GetArray()) snapshot.push_back(NumberOrNan(v));
        }
      }
      if (generation) {
        PLINTH_RETURN_IF_ERROR(
            cma->RestoreTrialState(static_cast<int>(t.number), *generation, snapshot));
      }
    }
  }
  return out;
}

bool Dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<StudyDirection>& directions) {
  bool better = false;
  for (size_t i = 0; i < directions.size(); ++i) {
    double x = directions[i] == StudyDirection::kMaximize ? -a[i] : a[i];
    double y = directions[i] == StudyDirection::kMaximize ? -b[i] : b[i];
    if (x > y) return false;
    if (x < y) better = true;
  }
  return better;
}

}  // namespace

Result<std::unique_ptr<Pruner>> MakeBuiltinPruner(const PrunerConfig& config) {
  if (config.type == "none" || config.type == "nop") {
    return std::unique_ptr<Pruner>(std::make_unique<NopPruner>());
  }
  if (config.type == "median" || config.type == "percentile") {
    JsonDocument doc;
    PLINTH_RETURN_IF_ERROR(ParseJson(config.options_json, &doc));
    PercentilePrunerOptions o;
    auto number = [&](const char* key, auto* out) -> Status {
      const JsonValue* v = JsonFind(doc, key);
      if (v == nullptr) return Status::Ok();
      if (!v->IsNumber())
        return InvalidArgument(std::string("'pruner.") + key + "' must be a number");
      using T = std::remove_pointer_t<decltype(out)>;
      if constexpr (std::is_integral_v<T>) {
        if (!v->IsInt64())
          return InvalidArgument(std::string("'pruner.") + key + "' must be an integer");
        *out = static_cast<T>(v->GetInt64());
      } else {
        *out = v->GetDouble();
      }
      return Status::Ok();
    };
    if (config.type == "percentile") {
      if (JsonFind(doc, "percentile") == nullptr) {
        return InvalidArgument("'pruner.percentile' is required for the percentile pruner");
      }
      PLINTH_RETURN_IF_ERROR(number("percentile", &o.percentile));
    }
    PLINTH_RETURN_IF_ERROR(number("n_startup_trials", &o.n_startup_trials));
    PLINTH_RETURN_IF_ERROR(number("n_warmup_steps", &o.n_warmup_steps));
    PLINTH_RETURN_IF_ERROR(number("interval_steps", &o.interval_steps));
    PLINTH_RETURN_IF_ERROR(number("n_min_trials", &o.n_min_trials));
    Status valid = o.Validate();
    if (!valid.ok()) return InvalidArgument("'pruner': " + valid.message());
    PLINTH_ASSIGN_OR_RETURN(auto pruner, PercentilePruner::Create(o));
    return std::unique_ptr<Pruner>(std::move(pruner));
  }
  if (config.type == "successive_halving" || config.type == "hyperband") {
    JsonDocument doc;
    PLINTH_RETURN_IF_ERROR(ParseJson(config.options_json, &doc));
    // An integer option, or nullopt for "auto" (and for an absent one when `auto_default`).
    auto resource = [&](const char* key, std::optional<int64_t> fallback,
                        std::optional<int64_t>* out) -> Status {
      const JsonValue* v = JsonFind(doc, key);
      if (v == nullptr) {
        *out = fallback;
      } else if (v->IsString() && std::string_view(v->GetString()) == "auto") {
        *out = std::nullopt;
      } else if (v->IsInt64()) {
        *out = v->GetInt64();
      } else {
        return InvalidArgument(std::string("'pruner.") + key + "' must be an integer or \"auto\"");
      }
      return Status::Ok();
    };
    auto integer = [&](const char* key, auto* out) -> Status {
      const JsonValue* v = JsonFind(doc, key);
      if (v == nullptr) return Status::Ok();
      if (!v->IsInt64())
        return InvalidArgument(std::string("'pruner.") + key + "' must be an integer");
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(v->GetInt64());
      return Status::Ok();
    };
    if (config.type == "successive_halving") {
      SuccessiveHalvingOptions o;
      PLINTH_RETURN_IF_ERROR(resource("min_resource", std::nullopt, &o.min_resource));
      PLINTH_RETURN_IF_ERROR(integer("reduction_factor", &o.reduction_factor));
      PLINTH_RETURN_IF_ERROR(integer("min_early_stopping_rate", &o.min_early_stopping_rate));
      PLINTH_RETURN_IF_ERROR(integer("bootstrap_count", &o.bootstrap_count));
      Status valid = o.Validate();
      if (!valid.ok()) return InvalidArgument("'pruner': " + valid.message());
      PLINTH_ASSIGN_OR_RETURN(auto pruner, SuccessiveHalvingPruner::Create(o));
      return std::unique_ptr<Pruner>(std::move(pruner));
    }
    HyperbandOptions o;
    std::optional<int64_t> min_resource;
    PLINTH_RETURN_IF_ERROR(resource("min_resource", o.min_resource, &min_resource));
    if (!min_resource) return InvalidArgument("'pruner.min_resource' must be an integer");
    o.min_resource = *min_resource;
    PLINTH_RETURN_IF_ERROR(resource("max_resource", std::nullopt, &o.max_resource));
    PLINTH_RETURN_IF_ERROR(integer("reduction_factor", &o.reduction_factor));
    PLINTH_RETURN_IF_ERROR(integer("bootstrap_count", &o.bootstrap_count));
    Status valid = o.Validate();
    if (!valid.ok()) return InvalidArgument("'pruner': " + valid.message());
    PLINTH_ASSIGN_OR_RETURN(auto pruner, HyperbandPruner::Create(o));
    return std::unique_ptr<Pruner>(std::move(pruner));
  }
  return InvalidArgument("'pruner.type': '" + config.type +
                         "' is not a pruner; use none, median, percentile, successive_halving "
                         "or hyperband");
}

TuneService::TuneService(store::MetadataStore* store, tracking::TrackingService* tracking,
                         Clock* clock, TuneServiceOptions options)
    : store_(store), tracking_(tracking), clock_(clock), options_(std::move(options)) {}

// ------------------------------------------------------------------ studies

Result<StudyView> TuneService::Load(const store::StudyRecord& record, bool with_counts) {
  StudyView view;
  view.record = record;
  view.config.name = record.name;
  view.config.directions.clear();
  for (const std::string& d : record.directions) {
    view.config.directions.push_back(d == "maximize" ? StudyDirection::kMaximize
                                                     : StudyDirection::kMinimize);
  }
  if (view.config.directions.empty()) view.config.directions = {StudyDirection::kMinimize};
  PLINTH_ASSIGN_OR_RETURN(view.config.space, SearchSpaceFromJson(record.search_space_json));
  PLINTH_ASSIGN_OR_RETURN(view.config.sampler, SamplerFromJson(record.sampler_json));
  PLINTH_ASSIGN_OR_RETURN(view.config.pruner, PrunerFromJson(record.pruner_json));
  PLINTH_ASSIGN_OR_RETURN(view.config.options, StudyOptionsFromJson(record.options_json));
  if (with_counts) {
    PLINTH_ASSIGN_OR_RETURN(view.trial_counts, store_->studies().CountTrials(record.study_id));
  }
  return view;
}

Result<store::StudyRecord> TuneService::Resolve(const StudyRef& ref) {
  if (ref.id) return store_->studies().GetStudy(*ref.id);
  if (ref.name.empty()) return InvalidArgument("give 'study_id' or 'study_name'");
  return store_->studies().GetStudyByName(ref.name);
}

Result<StudyView> TuneService::CreateStudy(const StudyConfig& config,
                                           const std::vector<store::KeyValue>& user_attrs,
                                           bool load_if_exists) {
  if (load_if_exists) {
    auto existing = store_->studies().GetStudyByName(config.name);
    if (existing.ok()) return Load(*existing, true);
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  }
  if (config.directions.size() > 1 && config.sampler.type != "random" &&
      config.sampler.type != "grid" && config.sampler.type != "tpe") {
    return InvalidArgument(
        "'sampler.type': " + config.sampler.type +
        " here optimizes one objective; use tpe, random or grid for a study with " +
        std::to_string(config.directions.size()) + " directions");
  }
  if (config.sampler.type == "grid") PLINTH_RETURN_IF_ERROR(GridOf(config).status());
  PLINTH_RETURN_IF_ERROR(MakeSampler(config, 0).status());
  PLINTH_RETURN_IF_ERROR(options_.pruner_factory(config.pruner).status());

  const std::string experiment_name =
      config.experiment_name.empty() ? config.name : config.experiment_name;
  std::string experiment_id;
  auto experiment = tracking_->GetExperimentByName(experiment_name);
  if (experiment.ok()) {
    experiment_id = experiment->experiment_id;
  } else if (experiment.status().code() == StatusCode::kNotFound) {
    auto created = tracking_->CreateExperiment(experiment_name, "", {});
    if (created.ok()) {
      experiment_id = *created;
    } else if (created.status().code() == StatusCode::kAlreadyExists) {
      // Another worker created it a moment ago.
      PLINTH_ASSIGN_OR_RETURN(store::Experiment e, tracking_->GetExperimentByName(experiment_name));
      experiment_id = e.experiment_id;
    } else {
      return created.status();
    }
  } else {
    return experiment.status();
  }

  store::StudyRecord record;
  record.name = config.name;
  record.experiment_id = experiment_id;
  for (StudyDirection d : config.directions) record.directions.emplace_back(DirectionName(d));
  record.search_space_json = SearchSpaceToJson(config.space);
  record.sampler_json = SamplerToJson(config.sampler);
  record.pruner_json = config.pruner.options_json;
  record.options_json = StudyOptionsToJson(config.options);
  record.user_attrs = user_attrs;
  record.creation_time = clock_->NowMillis();
  auto id = store_->studies().CreateStudy(record);
  if (!id.ok()) {
    if (load_if_exists && id.status().code() == StatusCode::kAlreadyExists) {
      PLINTH_ASSIGN_OR_RETURN(store::StudyRecord existing,
                              store_->studies().GetStudyByName(config.name));
      return Load(existing, true);
    }
    return id.status();
  }
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord stored, store_->studies().GetStudy(*id));
  return Load(stored, true);
}

Result<StudyView> TuneService::GetStudy(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  return Load(record, true);
}

Result<std::vector<StudyView>> TuneService::ListStudies(int64_t max_results, int64_t offset,
                                                        bool* has_more) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<store::StudyRecord> records,
                          store_->studies().ListStudies(max_results, offset, has_more));
  std::vector<StudyView> out;
  for (const store::StudyRecord& r : records) {
    PLINTH_ASSIGN_OR_RETURN(StudyView v, Load(r, true));
    out.push_back(std::move(v));
  }
  return out;
}

// ------------------------------------------------------------------ trials

Result<std::vector<TrialRecord>> TuneService::Sweep(const StudyView& study) {
  const int64_t now = clock_->NowMillis();
  const auto grace_ms =
      static_cast<int64_t>(std::ceil(study.config.options.heartbeat_grace_seconds * 1000.0));
  PLINTH_ASSIGN_OR_RETURN(
      std::vector<TrialRecord> failed,
      store_->studies().FailStaleTrials(study.record.study_id, now - grace_ms, now,
                                        study.config.options.retry_failed));
  for (const TrialRecord& t : failed) {
    PLINTH_LOG_INFO("study '{}': trial {} sent no heartbeat for {} s and failed{}",
                    study.record.name, t.number, study.config.options.heartbeat_grace_seconds,
                    study.config.options.retry_failed ? " (queued again)" : "");
    FinishRun(t, store::RunStatus::kFailed);
  }
  return failed;
}

Result<std::vector<TrialRecord>> TuneService::SweepStaleTrials(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  return Sweep(study);
}

void TuneService::FinishRun(const TrialRecord& trial, store::RunStatus status) {
  if (trial.run_id.empty()) return;
  store::RunUpdate update;
  update.status = status;
  update.end_time = clock_->NowMillis();
  auto updated = tracking_->UpdateRun(trial.run_id, update);
  if (!updated.ok()) {
    PLINTH_LOG_WARN("trial {}: could not finish run {}: {}", trial.number, trial.run_id,
                    updated.status().ToString());
  }
}

Result<std::vector<TrialParamRecord>> TuneService::Sample(const StudyView& study,
                                                          const std::vector<TrialRecord>& trials,
                                                          const TrialRecord& target,
                                                          const SearchSpace& wanted) {
  const uint32_t seed = study.config.sampler.seed ? MixSeed(*study.config.sampler.seed,
                                                            target.number, target.params.size())
                                                  : EntropySeed();
  PLINTH_ASSIGN_OR_RETURN(Rebuilt rebuilt, Rebuild(study.config, trials, target, seed));
  Trial trial(rebuilt.study.get(), rebuilt.target);
  std::vector<TrialParamRecord> out;
  for (const SearchSpaceEntry& e : wanted) {
    PLINTH_ASSIGN_OR_RETURN(double internal, trial.Suggest(e.name, e.distribution));
    out.push_back({e.name, internal, ParamValueToJson(e.distribution.ToExternal(internal)),
                   DistributionToJson(e.distribution)});
  }
  if (auto* cma = dynamic_cast<CmaEsSampler*>(&rebuilt.study->sampler())) {
    // What this trial's sampling did to the optimizer, for the next request to continue from.
    const int generation = cma->GenerationOf(rebuilt.target);
    if (generation >= 0) {
      PLINTH_RETURN_IF_ERROR(store_->studies().SetTrialSystemAttr(
          target.trial_id, {kCmaGeneration, std::to_string(generation)}));
    }
    if (const Cma* snapshot = cma->SnapshotOf(rebuilt.target)) {
      JsonWriter w;
      w.StartArray();
      for (double v : snapshot->Serialize()) w.Double(v);
      w.EndArray();
      PLINTH_RETURN_IF_ERROR(
          store_->studies().SetTrialSystemAttr(target.trial_id, {kCmaSnapshot, w.Take()}));
    }
  }
  return out;
}

Result<AskReply> TuneService::Ask(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  PLINTH_RETURN_IF_ERROR(Sweep(study).status());
  PLINTH_ASSIGN_OR_RETURN(store::AskResult asked,
                          store_->studies().AskTrial(record.study_id, study.config.options.n_trials,
                                                     clock_->NowMillis()));
  AskReply reply;
  reply.study_done = asked.study_done;
  if (!asked.trial) return reply;
  TrialRecord trial = std::move(*asked.trial);

  // Anything that goes wrong from here fails the trial, so it does not hold a budget slot
  // until the heartbeat sweep finds it.
  auto fail = [&](const Status& why) -> Status {
    store::TrialFinish finish;
    finish.state = StoredTrialState::kFail;
    finish.now = clock_->NowMillis();
    (void)store_->studies().FinishTrial(trial.trial_id, finish);
    FinishRun(trial, store::RunStatus::kFailed);
    return why;
  };
  auto trials = store_->studies().LoadTrials(record.study_id);
  if (!trials.ok()) return fail(trials.status());
  auto params = Sample(study, *trials, trial, study.config.space);
  if (!params.ok()) return fail(params.status());

  tracking::CreateRunRequest run;
  run.experiment_id = record.experiment_id;
  run.run_name = "trial-" + std::to_string(trial.number);
  run.start_time = trial.start_time;
  run.tags = {{"plinth.study", record.name},
              {"plinth.study_id", std::to_string(record.study_id)},
              {"plinth.trial_number", std::to_string(trial.number)},
              {"plinth.trial_id", std::to_string(trial.trial_id)}};
  auto created = tracking_->CreateRun(run);
  if (!created.ok()) return fail(created.status());
  trial.run_id = created->info.run_id;
  std::vector<store::KeyValue> mlflow_params;
  for (const TrialParamRecord& p : *params) {
    auto v = ParamValueFromJsonText(p.external_json);
    mlflow_params.push_back({p.name, v.ok() ? MlflowParamValue(*v) : p.external_json});
  }
  if (!mlflow_params.empty()) {
    Status logged = tracking_->LogBatch(trial.run_id, {}, mlflow_params, {});
    if (!logged.ok()) return fail(logged);
  }
  Status set =
      store_->studies().SetTrialParams(trial.trial_id, *params, trial.run_id, clock_->NowMillis());
  if (!set.ok()) return fail(set);
  PLINTH_ASSIGN_OR_RETURN(TrialRecord stored, store_->studies().GetTrial(trial.trial_id));
  reply.trial = std::move(stored);
  return reply;
}

Result<TrialParamRecord> TuneService::Suggest(int64_t trial_id, const std::string& name,
                                              const Distribution& distribution) {
  if (name.empty() || name.size() > 250) {
    return InvalidArgument("'name' must have 1 to 250 characters");
  }
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, store_->studies().GetTrial(trial_id));
  if (trial.state != StoredTrialState::kRunning) {
    return FailedPrecondition("Trial " + std::to_string(trial.number) + " is " +
                              std::string(store::StoredTrialStateName(trial.state)) +
                              ", not RUNNING: its parameters cannot be suggested.");
  }
  auto existing = std::find_if(trial.params.begin(), trial.params.end(),
                               [&](const TrialParamRecord& p) { return p.name == name; });
  if (existing != trial.params.end()) {
    PLINTH_ASSIGN_OR_RETURN(Distribution first,
                            DistributionFromJsonText(existing->distribution_json));
    if (!first.CompatibleWith(distribution)) {
      return InvalidArgument("Cannot set a different distribution to the parameter '" + name +
                             "': " + first.ToString() + " vs " + distribution.ToString() + ".");
    }
    PLINTH_RETURN_IF_ERROR(store_->studies().Heartbeat(trial_id, clock_->NowMillis()));
    return *existing;
  }
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, store_->studies().GetStudy(trial.study_id));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  PLINTH_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials,
                          store_->studies().LoadTrials(record.study_id));
  PLINTH_ASSIGN_OR_RETURN(std::vector<TrialParamRecord> params,
                          Sample(study, trials, trial, {{name, distribution}}));
  PLINTH_RETURN_IF_ERROR(
      store_->studies().SetTrialParams(trial_id, params, "", clock_->NowMillis()));
  if (!trial.run_id.empty()) {
    auto v = ParamValueFromJsonText(params[0].external_json);
    Status logged = tracking_->LogBatch(
        trial.run_id, {}, {{name, v.ok() ? MlflowParamValue(*v) : params[0].external_json}}, {});
    if (!logged.ok()) {
      PLINTH_LOG_WARN("trial {}: could not log param {} to run {}: {}", trial.number, name,
                      trial.run_id, logged.ToString());
    }
  }
  // Two suggests of one name racing: the first stored value is the trial's.
  PLINTH_ASSIGN_OR_RETURN(TrialRecord after, store_->studies().GetTrial(trial_id));
  for (const TrialParamRecord& p : after.params) {
    if (p.name == name) return p;
  }
  return params[0];
}

Result<bool> TuneService::Report(int64_t trial_id, int64_t step, double value) {
  if (step < 0) {
    return InvalidArgument("'step' is " + std::to_string(step) + " but cannot be negative");
  }
  const int64_t now = clock_->NowMillis();
  PLINTH_RETURN_IF_ERROR(store_->studies().ReportIntermediate(trial_id, step, value, now));
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, store_->studies().GetTrial(trial_id));
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, store_->studies().GetStudy(trial.study_id));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  if (!trial.run_id.empty()) {
    store::Metric m;
    m.key = MetricName(study.config.options, study.config.directions.size(), 0);
    m.value = value;
    m.timestamp = now;
    m.step = step;
    Status logged = tracking_->LogBatch(trial.run_id, {m}, {}, {});
    if (!logged.ok()) {
      PLINTH_LOG_WARN("trial {}: could not log the intermediate value: {}", trial.number,
                      logged.ToString());
    }
  }
  if (study.config.pruner.type == "none" || study.config.pruner.type == "nop") return false;
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Pruner> pruner,
                          options_.pruner_factory(study.config.pruner));
  PLINTH_ASSIGN_OR_RETURN(std::vector<TrialRecord> trials,
                          store_->studies().LoadTrials(record.study_id));
  PLINTH_ASSIGN_OR_RETURN(Rebuilt rebuilt, Rebuild(study.config, trials, trial, 0));
  rebuilt.study->set_name(record.name);
  rebuilt.study->SetPruner(std::move(pruner));
  PLINTH_ASSIGN_OR_RETURN(bool prune, rebuilt.study->ShouldPrune(rebuilt.target));
  // Successive halving records the trial's value at each rung it reaches; later decisions (on
  // any replica) compare against those records, so they are kept with the trial.
  const std::vector<double>& rungs = rebuilt.study->trial(rebuilt.target).completed_rungs;
  if (rungs != CompletedRungs(trial)) {
    JsonWriter w;
    w.StartArray();
    for (double v : rungs) w.Double(v);
    w.EndArray();
    PLINTH_RETURN_IF_ERROR(
        store_->studies().SetTrialSystemAttr(trial.trial_id, {kCompletedRungs, w.Take()}));
  }
  return prune;
}

Status TuneService::Heartbeat(int64_t trial_id) {
  return store_->studies().Heartbeat(trial_id, clock_->NowMillis());
}

Result<TrialRecord> TuneService::Tell(const TellRequest& request) {
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, store_->studies().GetTrial(request.trial_id));
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, store_->studies().GetStudy(trial.study_id));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  const size_t n = study.config.directions.size();
  store::TrialFinish finish;
  finish.now = clock_->NowMillis();
  const bool has_nan = std::any_of(request.values.begin(), request.values.end(),
                                   [](double v) { return std::isnan(v); });
  if (request.state == StoredTrialState::kRunning || request.state == StoredTrialState::kWaiting) {
    return InvalidArgument("'state' must be COMPLETE, PRUNED or FAIL");
  }
  if (request.state == StoredTrialState::kPruned || request.state == StoredTrialState::kFail) {
    if (!request.values.empty()) {
      return InvalidArgument("'values' must not be given for a " +
                             std::string(store::StoredTrialStateName(*request.state)) + " trial");
    }
    finish.state = *request.state;
    if (finish.state == StoredTrialState::kPruned) {
      // The last reported number stands for a pruned trial (Optuna).
      for (auto it = trial.intermediate_values.rbegin(); it != trial.intermediate_values.rend();
           ++it) {
        if (!std::isnan(it->second)) {
          finish.values = {it->second};
          break;
        }
      }
      if (n > 1) finish.values.clear();
    }
  } else {
    if (request.values.empty()) {
      return InvalidArgument("'values' (or 'value') is required unless 'state' is PRUNED or FAIL");
    }
    if (request.values.size() != n) {
      return InvalidArgument("'values' has " + std::to_string(request.values.size()) +
                             " values but the study has " + std::to_string(n) + " directions");
    }
    if (has_nan && request.state == StoredTrialState::kComplete) {
      return InvalidArgument("'values' must not be NaN for a COMPLETE trial");
    }
    // NaN without an explicit state fails the trial, as Optuna's tell does.
    finish.state = has_nan ? StoredTrialState::kFail : StoredTrialState::kComplete;
    if (!has_nan) finish.values = request.values;
  }
  PLINTH_RETURN_IF_ERROR(store_->studies().FinishTrial(trial.trial_id, finish));
  if (!trial.run_id.empty() && finish.state == StoredTrialState::kComplete) {
    const int64_t step =
        trial.intermediate_values.empty() ? 0 : trial.intermediate_values.back().first;
    std::vector<store::Metric> metrics;
    for (size_t i = 0; i < n; ++i) {
      store::Metric m;
      m.key = MetricName(study.config.options, n, i);
      m.value = finish.values[i];
      m.timestamp = finish.now;
      m.step = step;
      metrics.push_back(std::move(m));
    }
    Status logged = tracking_->LogBatch(trial.run_id, metrics, {}, {});
    if (!logged.ok()) {
      PLINTH_LOG_WARN("trial {}: could not log its values: {}", trial.number, logged.ToString());
    }
  }
  FinishRun(trial, RunStatusFor(finish.state));
  return store_->studies().GetTrial(trial.trial_id);
}

Result<TrialRecord> TuneService::Enqueue(
    const StudyRef& ref, const std::vector<std::pair<std::string, ParamValue>>& params) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  JsonWriter w;
  w.StartObject();
  for (const auto& [name, value] : params) {
    w.Key(name);
    WriteParamValue(w, value);
  }
  w.EndObject();
  return store_->studies().EnqueueTrial(record.study_id, w.Take(), std::nullopt,
                                        clock_->NowMillis());
}

Result<TrialRecord> TuneService::GetTrial(int64_t trial_id) {
  return store_->studies().GetTrial(trial_id);
}

Result<store::TrialPage> TuneService::ListTrials(const StudyRef& ref,
                                                 const std::vector<StoredTrialState>& states,
                                                 int64_t max_results, int64_t offset) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  PLINTH_RETURN_IF_ERROR(Sweep(study).status());
  store::TrialListRequest request;
  request.study_id = record.study_id;
  request.states = states;
  request.max_results = max_results;
  request.offset = offset;
  return store_->studies().ListTrials(request);
}

Result<std::vector<TrialRecord>> TuneService::BestTrials(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, Resolve(ref));
  PLINTH_ASSIGN_OR_RETURN(StudyView study, Load(record, false));
  PLINTH_RETURN_IF_ERROR(Sweep(study).status());
  const auto& directions = study.config.directions;
  std::vector<TrialRecord> complete;
  store::TrialListRequest request;
  request.study_id = record.study_id;
  request.states = {StoredTrialState::kComplete};
  request.max_results = kPage;
  for (;;) {
    PLINTH_ASSIGN_OR_RETURN(store::TrialPage page, store_->studies().ListTrials(request));
    for (TrialRecord& t : page.trials) {
      if (t.values.size() == directions.size()) complete.push_back(std::move(t));
    }
    if (!page.has_more) break;
    request.offset += kPage;
  }
  if (complete.empty()) return complete;
  if (directions.size() == 1) {
    const bool maximize = directions[0] == StudyDirection::kMaximize;
    // Ties go to the earliest trial, as Optuna's best_trial.
    auto best = std::min_element(
        complete.begin(), complete.end(), [&](const TrialRecord& a, const TrialRecord& b) {
          return maximize ? a.values[0] > b.values[0] : a.values[0] < b.values[0];
        });
    return std::vector<TrialRecord>{*best};
  }
  std::vector<TrialRecord> front;
  for (const TrialRecord& t : complete) {
    bool dominated = false;
    for (const TrialRecord& other : complete) {
      if (Dominates(other.values, t.values, directions)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(t);
  }
  return front;
}

Status TuneService::SetTrialUserAttr(int64_t trial_id, const std::string& key,
                                     const std::string& json) {
  if (key.empty()) return InvalidArgument("'key' is required");
  return store_->studies().SetTrialUserAttr(trial_id, {key, json});
}

}  // namespace plinth::tune
