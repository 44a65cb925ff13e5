#include "tune/service/tune_service.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "tune/auto_sampler.h"
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
    o.lengthscale_prior = s.lengthscale_prior;
    o.warn_independent_sampling = false;  // a server log line per conditional parameter is noise
    PLINTH_RETURN_IF_ERROR(o.Validate());
    PLINTH_ASSIGN_OR_RETURN(auto sampler, GpSampler::Create(std::move(o)));
    return std::unique_ptr<Sampler>(std::move(sampler));
  }
  if (s.type == "auto") {
    // OptunaHub's AutoSampler (tune/auto_sampler.h), seeded like the others. Built fresh for
    // each request, it decides from the stored history: GP below gp_trials COMPLETE trials, TPE
    // from there (stateless apart from its seed, so a fresh one per request is TPE as usual);
    // its CMA-ES stage (from 250 COMPLETE trials on numeric spaces) therefore restarts from its
    // warm start at every trial.
    AutoSamplerOptions o;
    o.seed = seed;
    o.gp_trials = s.gp_trials.value_or(o.gp_trials);
    PLINTH_RETURN_IF_ERROR(o.Validate());
    PLINTH_ASSIGN_OR_RETURN(auto sampler, AutoSampler::Create(std::move(o)));
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

// The sampler of a cached Study: a fresh sampler per sampling request (seeded from the
// study's seed, the trial number and the params it already has, as before the cache) is put
// in, and taken out afterwards, so a request's draws depend only on the history, not on which
// replica answers or what it sampled before. Empty, it samples nothing and hears nothing.
class RequestSampler final : public Sampler {
 public:
  void Set(std::unique_ptr<Sampler> sampler) { inner_ = std::move(sampler); }
  Sampler* inner() { return inner_.get(); }

  void BeforeTrial(const Study& study, const FrozenTrial& trial) override {
    if (inner_) inner_->BeforeTrial(study, trial);
  }
  SearchSpace InferRelativeSearchSpace(const Study& study, const FrozenTrial& trial) override {
    return inner_ ? inner_->InferRelativeSearchSpace(study, trial) : SearchSpace{};
  }
  Result<ParamMap> SampleRelative(const Study& study, const FrozenTrial& trial,
                                  const SearchSpace& space) override {
    return inner_ ? inner_->SampleRelative(study, trial, space) : ParamMap{};
  }
  Result<double> SampleIndependent(const Study& study, const FrozenTrial& trial,
                                   std::string_view name,
                                   const Distribution& distribution) override {
    if (!inner_) return Internal("no sampler for this request");
    return inner_->SampleIndependent(study, trial, name, distribution);
  }
  void AfterTrial(const Study& study, const FrozenTrial& trial, TrialState state,
                  std::optional<double> value) override {
    if (inner_) inner_->AfterTrial(study, trial, state, value);
  }

 private:
  std::unique_ptr<Sampler> inner_;
};

std::vector<std::pair<std::string, ParamValue>> FixedParams(const TrialRecord& t) {
  std::vector<std::pair<std::string, ParamValue>> fixed;
  if (t.fixed_params_json.empty()) return fixed;
  JsonDocument doc;
  if (!ParseJson(t.fixed_params_json, &doc).ok() || !doc.IsObject()) return fixed;
  for (const auto& m : doc.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    auto v = ParamValueFromJson(m.value, name);
    if (v.ok()) fixed.emplace_back(std::move(name), std::move(*v));
  }
  return fixed;
}

void AddPlaceholder(Study& study) {
  TrialSpec placeholder;
  placeholder.state = TrialState::kFail;
  (void)study.AddTrial(placeholder);
}

// Appends stored trial `t` to `study` at its own number. WAITING trials (the engine cannot
// add one) and rows that do not parse become FAIL placeholders, so engine numbers stay the
// stored numbers. A RUNNING trial with enqueued values is started from them, so a suggestion
// of one of those names takes the enqueued value.
void AppendTrial(Study& study, const TrialRecord& t, size_t n_objectives,
                 DistributionCache* cache) {
  if (t.state == StoredTrialState::kRunning) {
    std::vector<std::pair<std::string, ParamValue>> fixed = FixedParams(t);
    if (!fixed.empty()) {
      std::vector<std::pair<std::string, Distribution>> existing;
      for (const TrialParamRecord& p : t.params) {
        const std::optional<Distribution>& d = CachedDistribution(cache, p.distribution_json);
        auto v = ParamValueFromJsonText(p.external_json);
        if (!d || !v.ok()) continue;
        fixed.emplace_back(p.name, std::move(*v));
        existing.emplace_back(p.name, *d);
      }
      // No other trial waits in a mirror (WAITING ones are placeholders): Ask pops this one.
      study.EnqueueTrial(std::move(fixed));
      Trial trial = study.Ask();
      for (const auto& [name, distribution] : existing) {
        (void)trial.Suggest(name, distribution);
      }
      for (const auto& [step, value] : t.intermediate_values) (void)trial.Report(value, step);
      const std::vector<double> rungs = CompletedRungs(t);
      for (size_t k = 0; k < rungs.size(); ++k) {
        study.RecordCompletedRung(trial.number(), static_cast<int>(k), rungs[k]);
      }
      return;
    }
  }
  if (!study.AddTrial(SpecOf(t, n_objectives, cache)).ok()) AddPlaceholder(study);
}

bool SameValue(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Brings the mirror's trial `t.number` up to the stored `t` when the change is one the engine
// can replay (params it already has, new reports and rungs, a RUNNING trial finishing).
// Returns false when it is not (the mirror is then rebuilt).
bool UpdateTrial(Study& study, const TrialRecord& t, size_t n_objectives) {
  const int number = static_cast<int>(t.number);
  const FrozenTrial& e = study.trial(number);
  if (t.state == StoredTrialState::kWaiting) {
    return e.state == TrialState::kFail && e.params.empty();
  }
  if (e.params.size() != t.params.size()) return false;
  for (const TrialParam& p : e.params) {
    const std::string& name = study.ParamName(p.param_id);
    auto it = std::find_if(t.params.begin(), t.params.end(),
                           [&](const TrialParamRecord& r) { return r.name == name; });
    if (it == t.params.end() || it->internal != p.value) return false;
  }
  const std::vector<double> rungs = CompletedRungs(t);
  if (rungs.size() < e.completed_rungs.size() ||
      !std::equal(e.completed_rungs.begin(), e.completed_rungs.end(), rungs.begin(), SameValue)) {
    return false;
  }
  if (e.state != TrialState::kRunning) {
    // Finished in the mirror: it can only gain rungs (and system attributes it does not keep).
    if (e.state != EngineState(t.state)) return false;
    for (size_t k = e.completed_rungs.size(); k < rungs.size(); ++k) {
      study.RecordCompletedRung(number, static_cast<int>(k), rungs[k]);
    }
    return true;
  }
  for (const auto& [step, value] : e.intermediate_values) {
    auto it = std::find_if(t.intermediate_values.begin(), t.intermediate_values.end(),
                           [&](const auto& iv) { return iv.first == step; });
    if (it == t.intermediate_values.end() || !SameValue(it->second, value)) return false;
  }
  Trial trial(&study, number);
  if (t.intermediate_values.size() != e.intermediate_values.size()) {
    for (const auto& [step, value] : t.intermediate_values) {
      if (!trial.Report(value, step).ok()) return false;  // a step it has keeps its value
    }
  }
  for (size_t k = e.completed_rungs.size(); k < rungs.size(); ++k) {
    study.RecordCompletedRung(number, static_cast<int>(k), rungs[k]);
  }
  switch (t.state) {
    case StoredTrialState::kRunning:
    case StoredTrialState::kWaiting:
      return true;
    case StoredTrialState::kComplete:
      if (t.values.size() != n_objectives) return false;
      if (n_objectives == 1) return study.Tell(number, t.values[0], TrialState::kComplete).ok();
      return study.TellValues(number, t.values, TrialState::kComplete).ok();
    case StoredTrialState::kPruned: {
      if (!study.Tell(number, std::nullopt, TrialState::kPruned).ok()) return false;
      // The store keeps the last number reported; the engine the last report if a number.
      const std::optional<double> stored = n_objectives == 1 && !t.values.empty()
                                               ? std::optional<double>(t.values[0])
                                               : std::nullopt;
      return study.trial(number).value == stored;
    }
    case StoredTrialState::kFail:
      return study.Tell(number, std::nullopt, TrialState::kFail).ok();
  }
  return false;
}

// CMA-ES's state saved with one trial (kCmaGeneration, kCmaSnapshot).
struct CmaTrialState {
  int generation = 0;
  std::vector<double> snapshot;
};

std::optional<CmaTrialState> CmaStateOf(const TrialRecord& t) {
  std::optional<int> generation;
  std::vector<double> snapshot;
  for (const store::KeyValue& a : t.system_attrs) {
    if (a.key != kCmaGeneration && a.key != kCmaSnapshot) continue;
    JsonDocument doc;
    if (!ParseJson(a.value, &doc).ok()) continue;
    if (a.key == kCmaGeneration && doc.IsInt()) generation = doc.GetInt();
    if (a.key == kCmaSnapshot && doc.IsArray()) {
      for (const JsonValue& v : doc.GetArray()) snapshot.push_back(NumberOrNan(v));
    }
  }
  if (!generation) return std::nullopt;
  return CmaTrialState{*generation, std::move(snapshot)};
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

// ------------------------------------------------------------------ the cache

struct TuneService::CachedStudy {
  std::mutex mu;  // one request at a time reads or changes what follows
  // The settings, parsed once (a study's settings never change; user attributes here are
  // as first read and not served from here).
  StudyView view;
  bool loaded = false;
  int64_t version = 0;                             // the store version `trials` reflect
  std::vector<TrialRecord> trials;                 // by number (numbers are gap-free)
  std::unordered_map<int64_t, int64_t> number_of;  // trial id -> number
  std::map<int, CmaTrialState> cma;                // CMA-ES states saved with trials, by number
  DistributionCache distributions;
  // The mirror of `trials` the samplers read; null until needed or after a change it could
  // not replay.
  std::unique_ptr<Study> engine;
  RequestSampler* sampler = nullptr;  // the engine's
  uint64_t last_use = 0;              // GUARDED_BY(TuneService::mu_)
};

Result<TuneService::CachedStudyPtr> TuneService::Insert(const store::StudyRecord& record) {
  PLINTH_ASSIGN_OR_RETURN(StudyView view, Load(record, false));
  auto fresh = std::make_shared<CachedStudy>();
  fresh->view = std::move(view);
  std::lock_guard lock(mu_);
  auto [it, inserted] = cache_.try_emplace(record.study_id, std::move(fresh));
  it->second->last_use = ++uses_;
  study_ids_[record.name] = record.study_id;
  CachedStudyPtr out = it->second;
  while (cache_.size() > std::max<size_t>(options_.max_cached_studies, 1)) {
    auto oldest = cache_.end();
    for (auto e = cache_.begin(); e != cache_.end(); ++e) {
      if (e->second != out &&
          (oldest == cache_.end() || e->second->last_use < oldest->second->last_use)) {
        oldest = e;
      }
    }
    if (oldest == cache_.end()) break;
    // Its trial ids are forgotten too (a request holding the entry keeps using it).
    std::unique_lock entry(oldest->second->mu, std::try_to_lock);
    if (entry.owns_lock()) {
      for (const auto& [trial_id, number] : oldest->second->number_of) {
        study_of_trial_.erase(trial_id);
      }
    }
    entry = {};
    cache_.erase(oldest);
  }
  return out;
}

Result<TuneService::CachedStudyPtr> TuneService::CachedById(int64_t study_id) {
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(study_id);
    if (it != cache_.end()) {
      it->second->last_use = ++uses_;
      return it->second;
    }
  }
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, store_->studies().GetStudy(study_id));
  return Insert(record);
}

Result<TuneService::CachedStudyPtr> TuneService::Cached(const StudyRef& ref) {
  if (ref.id) return CachedById(*ref.id);
  if (ref.name.empty()) return InvalidArgument("give 'study_id' or 'study_name'");
  {
    std::unique_lock lock(mu_);
    auto it = study_ids_.find(ref.name);  // names never change and studies are never deleted
    if (it != study_ids_.end()) {
      const int64_t id = it->second;
      lock.unlock();
      return CachedById(id);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(store::StudyRecord record, store_->studies().GetStudyByName(ref.name));
  return Insert(record);
}

Result<TuneService::CachedStudyPtr> TuneService::CachedForTrial(int64_t trial_id) {
  {
    std::unique_lock lock(mu_);
    auto it = study_of_trial_.find(trial_id);
    if (it != study_of_trial_.end()) {
      const int64_t id = it->second;
      lock.unlock();
      return CachedById(id);
    }
  }
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, store_->studies().GetTrial(trial_id));
  return CachedById(trial.study_id);
}

Status TuneService::Refresh(CachedStudy& c) {
  const int64_t study_id = c.view.record.study_id;
  PLINTH_ASSIGN_OR_RETURN(store::TrialChanges changes,
                          store_->studies().LoadTrialsSince(study_id, c.loaded ? c.version : -1));
  if (c.loaded && changes.version < c.version) {
    // The counter went back (a database restored under a running server): read it all again.
    c.loaded = false;
    PLINTH_ASSIGN_OR_RETURN(changes, store_->studies().LoadTrialsSince(study_id, -1));
  }
  if (!c.loaded) {
    c.trials.clear();
    c.number_of.clear();
    c.cma.clear();
    c.engine.reset();
  }
  c.loaded = true;
  c.version = changes.version;
  if (changes.trials.empty()) return Status::Ok();
  const size_t n_objectives = c.view.config.directions.size();
  std::vector<int64_t> new_ids;
  for (TrialRecord& t : changes.trials) {
    if (t.number < 0 || static_cast<size_t>(t.number) > c.trials.size()) {
      c.loaded = false;
      return Internal("study " + std::to_string(study_id) + ": trial " + std::to_string(t.number) +
                      " read before the trials ahead of it");
    }
    const auto k = static_cast<size_t>(t.number);
    if (std::optional<CmaTrialState> cma = CmaStateOf(t)) c.cma[static_cast<int>(k)] = *cma;
    if (k == c.trials.size()) {
      if (c.engine && c.engine->trials().size() == k) {
        AppendTrial(*c.engine, t, n_objectives, &c.distributions);
      } else {
        c.engine.reset();
      }
      c.number_of[t.trial_id] = t.number;
      new_ids.push_back(t.trial_id);
      c.trials.push_back(std::move(t));
    } else {
      if (c.engine && k < c.engine->trials().size() && !UpdateTrial(*c.engine, t, n_objectives)) {
        c.engine.reset();
      }
      c.trials[k] = std::move(t);
    }
  }
  if (!new_ids.empty()) {
    std::lock_guard lock(mu_);
    for (int64_t id : new_ids) study_of_trial_[id] = study_id;
  }
  return Status::Ok();
}

Study& TuneService::Engine(CachedStudy& c) {
  if (c.engine) return *c.engine;
  auto sampler = std::make_unique<RequestSampler>();
  c.sampler = sampler.get();
  c.engine = std::make_unique<Study>(std::move(sampler), c.view.config.directions);
  c.engine->set_name(c.view.record.name);  // Hyperband's brackets hash it
  c.engine->SetPruner(nullptr);
  const size_t n_objectives = c.view.config.directions.size();
  for (const TrialRecord& t : c.trials) {
    AppendTrial(*c.engine, t, n_objectives, &c.distributions);
  }
  return *c.engine;
}

// ------------------------------------------------------------------ trials

Result<std::vector<TrialRecord>> TuneService::SweepIfStale(CachedStudy& c) {
  const StudyOptions& options = c.view.config.options;
  const int64_t before = clock_->NowMillis() -
                         static_cast<int64_t>(std::ceil(options.heartbeat_grace_seconds * 1000.0));
  const bool maybe_stale = std::any_of(c.trials.begin(), c.trials.end(), [&](const TrialRecord& t) {
    return t.state == StoredTrialState::kRunning && t.heartbeat_time.value_or(0) < before;
  });
  if (!maybe_stale) return std::vector<TrialRecord>{};
  return Sweep(c.view);  // the failures reach the cache with the next refresh
}

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
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, Cached(ref));
  std::lock_guard lock(c->mu);
  PLINTH_RETURN_IF_ERROR(Refresh(*c));
  return SweepIfStale(*c);
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

Result<std::vector<TrialParamRecord>> TuneService::Sample(CachedStudy& c, const TrialRecord& target,
                                                          const SearchSpace& wanted) {
  const StudyConfig& config = c.view.config;
  const uint32_t seed = config.sampler.seed
                            ? MixSeed(*config.sampler.seed, target.number, target.params.size())
                            : EntropySeed();
  const int number = static_cast<int>(target.number);
  Study& engine = Engine(c);
  if (number >= static_cast<int>(engine.trials().size()) ||
      engine.trial(number).state != TrialState::kRunning) {
    return Internal("trial " + std::to_string(number) + " is not running in the cache");
  }
  PLINTH_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> made, MakeSampler(config, seed));
  Sampler* sampler = made.get();
  c.sampler->Set(std::move(made));
  // Whatever happens, the request's sampler goes; a failure leaves the mirror suspect.
  auto done = [&](Status status) {
    c.sampler->Set(nullptr);
    if (!status.ok()) c.engine.reset();
    return status;
  };
  auto* cma = dynamic_cast<CmaEsSampler*>(sampler);
  if (cma != nullptr) {
    // CMA-ES continues from the optimizer states its earlier trials stored (Optuna keeps them
    // in the trials' system attributes too).
    for (const auto& [n, state] : c.cma) {
      Status restored = cma->RestoreTrialState(n, state.generation, state.snapshot);
      if (!restored.ok()) return done(restored);
    }
  }
  sampler->BeforeTrial(engine, engine.trial(number));
  Trial trial(&engine, number);
  std::vector<TrialParamRecord> out;
  for (const SearchSpaceEntry& e : wanted) {
    Result<double> internal = trial.Suggest(e.name, e.distribution);
    if (!internal.ok()) return done(internal.status());
    out.push_back({e.name, *internal, ParamValueToJson(e.distribution.ToExternal(*internal)),
                   DistributionToJson(e.distribution)});
  }
  if (cma != nullptr) {
    // What this trial's sampling did to the optimizer, for the next request to continue from.
    const int generation = cma->GenerationOf(number);
    if (generation >= 0) {
      Status saved = store_->studies().SetTrialSystemAttr(
          target.trial_id, {kCmaGeneration, std::to_string(generation)});
      if (!saved.ok()) return done(saved);
    }
    if (const Cma* snapshot = cma->SnapshotOf(number)) {
      JsonWriter w;
      w.StartArray();
      for (double v : snapshot->Serialize()) w.Double(v);
      w.EndArray();
      Status saved =
          store_->studies().SetTrialSystemAttr(target.trial_id, {kCmaSnapshot, w.Take()});
      if (!saved.ok()) return done(saved);
    }
  }
  (void)done(Status::Ok());
  return out;
}

Result<AskReply> TuneService::Ask(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, Cached(ref));
  std::lock_guard lock(c->mu);
  const StudyView& study = c->view;
  const store::StudyRecord& record = study.record;
  PLINTH_RETURN_IF_ERROR(Refresh(*c));
  PLINTH_RETURN_IF_ERROR(SweepIfStale(*c).status());
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
  std::vector<TrialParamRecord> params;
  if (!study.config.space.empty()) {
    // A define-by-run study has nothing to sample yet: its suggestions come one by one.
    Status refreshed = Refresh(*c);
    if (!refreshed.ok()) return fail(refreshed);
    auto it = c->number_of.find(trial.trial_id);
    if (it == c->number_of.end()) return fail(Internal("the asked trial is not in the cache"));
    auto sampled = Sample(*c, c->trials[static_cast<size_t>(it->second)], study.config.space);
    if (!sampled.ok()) return fail(sampled.status());
    params = std::move(*sampled);
  }

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
  for (const TrialParamRecord& p : params) {
    auto v = ParamValueFromJsonText(p.external_json);
    mlflow_params.push_back({p.name, v.ok() ? MlflowParamValue(*v) : p.external_json});
  }
  if (!mlflow_params.empty()) {
    Status logged = tracking_->LogBatch(trial.run_id, {}, mlflow_params, {});
    if (!logged.ok()) return fail(logged);
  }
  Status set =
      store_->studies().SetTrialParams(trial.trial_id, params, trial.run_id, clock_->NowMillis());
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
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, CachedForTrial(trial_id));
  std::lock_guard lock(c->mu);
  PLINTH_RETURN_IF_ERROR(Refresh(*c));
  auto number = c->number_of.find(trial_id);
  if (number == c->number_of.end()) {
    return NotFound("Trial with id " + std::to_string(trial_id) + " not found");
  }
  const auto k = static_cast<size_t>(number->second);
  const TrialRecord trial = c->trials[k];
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
  PLINTH_ASSIGN_OR_RETURN(std::vector<TrialParamRecord> params,
                          Sample(*c, trial, {{name, distribution}}));
  Status set = store_->studies().SetTrialParams(trial_id, params, "", clock_->NowMillis());
  if (!set.ok()) {
    c->engine.reset();  // it holds a value the store refused
    return set;
  }
  if (!trial.run_id.empty()) {
    auto v = ParamValueFromJsonText(params[0].external_json);
    Status logged = tracking_->LogBatch(
        trial.run_id, {}, {{name, v.ok() ? MlflowParamValue(*v) : params[0].external_json}}, {});
    if (!logged.ok()) {
      PLINTH_LOG_WARN("trial {}: could not log param {} to run {}: {}", trial.number, name,
                      trial.run_id, logged.ToString());
    }
  }
  // Two suggests of one name racing (on two replicas): the first stored value is the trial's.
  PLINTH_RETURN_IF_ERROR(Refresh(*c));
  for (const TrialParamRecord& p : c->trials[k].params) {
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
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, CachedForTrial(trial_id));
  std::lock_guard lock(c->mu);
  const StudyView& study = c->view;
  PLINTH_RETURN_IF_ERROR(Refresh(*c));
  auto number = c->number_of.find(trial_id);
  if (number == c->number_of.end()) {
    return NotFound("Trial with id " + std::to_string(trial_id) + " not found");
  }
  const TrialRecord trial = c->trials[static_cast<size_t>(number->second)];
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
  Study& engine = Engine(*c);
  const int target = static_cast<int>(trial.number);
  // A pruner per decision, as without the cache: "auto" resources are estimated from the
  // history each time (tune/README.md).
  engine.SetPruner(std::move(pruner));
  Result<bool> prune = engine.ShouldPrune(target);
  engine.SetPruner(nullptr);
  if (!prune.ok()) {
    c->engine.reset();
    return prune.status();
  }
  // Successive halving records the trial's value at each rung it reaches; later decisions (on
  // any replica) compare against those records, so they are kept with the trial.
  const std::vector<double>& rungs = engine.trial(target).completed_rungs;
  if (rungs != CompletedRungs(trial)) {
    JsonWriter w;
    w.StartArray();
    for (double v : rungs) w.Double(v);
    w.EndArray();
    Status saved =
        store_->studies().SetTrialSystemAttr(trial.trial_id, {kCompletedRungs, w.Take()});
    if (!saved.ok()) {
      c->engine.reset();
      return saved;
    }
  }
  return *prune;
}

Status TuneService::Heartbeat(int64_t trial_id) {
  return store_->studies().Heartbeat(trial_id, clock_->NowMillis());
}

Result<TrialRecord> TuneService::Tell(const TellRequest& request) {
  PLINTH_ASSIGN_OR_RETURN(TrialRecord trial, store_->studies().GetTrial(request.trial_id));
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, CachedById(trial.study_id));
  const StudyView& study = c->view;  // settings never change: no lock needed
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
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, Cached(ref));
  {
    std::lock_guard lock(c->mu);
    PLINTH_RETURN_IF_ERROR(Refresh(*c));
    PLINTH_RETURN_IF_ERROR(SweepIfStale(*c).status());
  }
  store::TrialListRequest request;
  request.study_id = c->view.record.study_id;
  request.states = states;
  request.max_results = max_results;
  request.offset = offset;
  return store_->studies().ListTrials(request);
}

Result<std::vector<TrialRecord>> TuneService::BestTrials(const StudyRef& ref) {
  PLINTH_ASSIGN_OR_RETURN(CachedStudyPtr c, Cached(ref));
  {
    std::lock_guard lock(c->mu);
    PLINTH_RETURN_IF_ERROR(Refresh(*c));
    PLINTH_RETURN_IF_ERROR(SweepIfStale(*c).status());
  }
  const auto& directions = c->view.config.directions;
  std::vector<TrialRecord> complete;
  store::TrialListRequest request;
  request.study_id = c->view.record.study_id;
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
