// A stored study's settings as the tuning service reads them: the declared search space,
// directions, sampler and pruner settings and study options, with their JSON forms (what the
// REST API takes and what the store keeps). Parsing validates everything a user can get wrong
// and names the field; the JSON written back is canonical, so a study reads back as it was
// created. Plain functions and value types; thread-safe.
//
// JSON shapes (also docs/tuning.md):
//   distribution  {"type": "float", "low": 1e-4, "high": 0.1, "log": true}
//                 {"type": "float", "low": 0, "high": 1, "step": 0.25}
//                 {"type": "int", "low": 2, "high": 10, "step": 2}        (log: true allowed)
//                 {"type": "categorical", "choices": ["gbtree", "dart", 3, 0.5, true, null]}
//                 Optuna's distribution_to_json form ({"name": "FloatDistribution",
//                 "attributes": {…}}) is read too.
//   search space  {"lr": <distribution>, "depth": <distribution>, …} (declaration order kept)
//   sampler       {"type": "tpe" | "random" | "grid" | "gp" | "cmaes" | "auto", "seed": 42,
//                 …options…} (gp: also "lengthscale_prior": "optuna" | "dim_scaled";
//                 auto: AutoSampler, "seed" and "gp_trials")
//   pruner        {"type": "none"} (see TrialPruner in tune_service.h)
#ifndef PLINTH_TUNE_SERVICE_STUDY_CONFIG_H_
#define PLINTH_TUNE_SERVICE_STUDY_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "tune/distribution.h"
#include "tune/gp_regressor.h"
#include "tune/study.h"

namespace plinth::tune {

struct SamplerConfig {
  std::string type = "tpe";  // tpe, random, grid, gp, cmaes, auto
  std::optional<uint32_t> seed;
  // TPE, GP and CMA-ES; unset: the sampler's Optuna default (10, 10 and 1).
  std::optional<int> n_startup_trials;
  // TPE (Optuna v5 defaults).
  int n_ei_candidates = 24;
  // Unset: Optuna's default (joint with one objective, one parameter at a time with several).
  std::optional<bool> multivariate;
  bool group = false;
  bool constant_liar = true;
  double prior_weight = 1.0;
  bool consider_endpoints = false;
  bool consider_magic_clip = true;
  // GP.
  bool deterministic_objective = false;
  GpLengthscalePrior lengthscale_prior = GpLengthscalePrior::kOptuna;
  // Auto: AutoSamplerOptions::gp_trials (GP below that many COMPLETE trials, then TPE);
  // unset: AutoSampler's default (100).
  std::optional<int> gp_trials;
  // CMA-ES.
  std::optional<double> sigma0;
  std::optional<int> popsize;
  bool consider_pruned_trials = false;
  // Grid: the values per parameter; empty means "from the declared search space".
  std::vector<std::pair<std::string, std::vector<ParamValue>>> grid;
};

struct PrunerConfig {
  std::string type = "none";
  std::string options_json = "{}";  // the whole pruner object, for the pruner's own parser
};

struct StudyOptions {
  // Trials the study runs: asks stop handing out trials once COMPLETE + PRUNED + RUNNING
  // trials reach it. Unset: no limit.
  std::optional<int64_t> n_trials;
  // A RUNNING trial whose last sign of life is older than this is failed (Optuna's
  // heartbeat_interval/grace_period, in one number).
  double heartbeat_grace_seconds = 60;
  // Re-enqueue a trial failed by the heartbeat sweep with the same params.
  bool retry_failed = false;
  // MLflow metric names of the objectives (and of intermediate values: the first one).
  std::vector<std::string> metric_names;
};

struct StudyConfig {
  std::string name;
  std::vector<StudyDirection> directions = {StudyDirection::kMinimize};
  SearchSpace space;  // in declaration order
  SamplerConfig sampler;
  PrunerConfig pruner;
  StudyOptions options;
  std::string experiment_name;  // "" = the study's name
};

// ---- values and distributions
Result<ParamValue> ParamValueFromJson(const JsonValue& v, std::string_view field);
void WriteParamValue(JsonWriter& w, const ParamValue& v);
std::string ParamValueToJson(const ParamValue& v);
Result<Distribution> DistributionFromJson(const JsonValue& v, std::string_view field);
void WriteDistribution(JsonWriter& w, const Distribution& d);
std::string DistributionToJson(const Distribution& d);
Result<Distribution> DistributionFromJsonText(std::string_view text);
Result<ParamValue> ParamValueFromJsonText(std::string_view text);

std::string_view DirectionName(StudyDirection d);

// ---- a study's settings
// From a create request's body (see the header comment and docs/tuning.md): name, direction or
// directions, search_space, sampler, pruner, n_trials, heartbeat_grace_seconds, retry_failed,
// metric_name or metric_names, experiment_name. Failure: kInvalidArgument naming the field.
Result<StudyConfig> StudyConfigFromRequest(const JsonValue& body);
// Canonical JSON texts for the store.
std::string SearchSpaceToJson(const SearchSpace& space);
std::string SamplerToJson(const SamplerConfig& sampler);
std::string StudyOptionsToJson(const StudyOptions& options);
// Back from the store's texts. Failure: kInvalidArgument (a corrupted row).
Result<SearchSpace> SearchSpaceFromJson(std::string_view text);
Result<SamplerConfig> SamplerFromJson(std::string_view text, std::string_view field = "sampler");
Result<PrunerConfig> PrunerFromJson(std::string_view text, std::string_view field = "pruner");
Result<StudyOptions> StudyOptionsFromJson(std::string_view text);

// The metric name of objective `i` (options.metric_names, else "value" / "value_<i>").
std::string MetricName(const StudyOptions& options, size_t n_objectives, size_t i);

}  // namespace plinth::tune

#endif  // PLINTH_TUNE_SERVICE_STUDY_CONFIG_H_
