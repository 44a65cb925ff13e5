#include "tune/service/study_config.h"

#include <cmath>
#include <limits>

namespace plinth::tune {
namespace {

std::string Field(std::string_view parent, std::string_view child) {
  return parent.empty() ? std::string(child) : std::string(parent) + "." + std::string(child);
}

Status WrongType(std::string_view field, std::string_view expected) {
  return InvalidArgument("'" + std::string(field) + "' must be " + std::string(expected));
}

Result<double> RequiredNumber(const JsonValue& obj, std::string_view parent, const char* name) {
  const JsonValue* v = JsonFind(obj, name);
  if (v == nullptr) return InvalidArgument("'" + Field(parent, name) + "' is required");
  if (!v->IsNumber()) return WrongType(Field(parent, name), "a number");
  return v->GetDouble();
}

Result<int64_t> RequiredInt(const JsonValue& obj, std::string_view parent, const char* name) {
  const JsonValue* v = JsonFind(obj, name);
  if (v == nullptr) return InvalidArgument("'" + Field(parent, name) + "' is required");
  if (v->IsInt64()) return v->GetInt64();
  // 3.0 from a YAML or Python float is an integer still.
  if (v->IsDouble() && std::floor(v->GetDouble()) == v->GetDouble() &&
      std::fabs(v->GetDouble()) < 9e15) {
    return static_cast<int64_t>(v->GetDouble());
  }
  return WrongType(Field(parent, name), "an integer");
}

Result<bool> OptionalBool(const JsonValue& obj, std::string_view parent, const char* name,
                          bool fallback) {
  const JsonValue* v = JsonFind(obj, name);
  if (v == nullptr) return fallback;
  if (!v->IsBool()) return WrongType(Field(parent, name), "true or false");
  return v->GetBool();
}

Result<std::optional<int64_t>> OptionalInt(const JsonValue& obj, std::string_view parent,
                                           const char* name) {
  if (JsonFind(obj, name) == nullptr) return std::optional<int64_t>();
  PLINTH_ASSIGN_OR_RETURN(int64_t v, RequiredInt(obj, parent, name));
  return std::optional<int64_t>(v);
}

Result<JsonDocument> Parse(std::string_view text, std::string_view what) {
  JsonDocument doc;
  Status s = ParseJson(text.empty() ? "{}" : text, &doc);
  if (!s.ok()) return InvalidArgument("'" + std::string(what) + "' is not JSON: " + s.message());
  if (!doc.IsObject()) return WrongType(what, "a JSON object");
  return doc;
}

// Optuna's distribution_to_json form: {"name": "FloatDistribution", "attributes": {…}}.
Result<Distribution> OptunaDistribution(const JsonValue& v, std::string_view field) {
  const JsonValue* name = JsonFind(v, "name");
  const JsonValue* attrs = JsonFind(v, "attributes");
  if (!name->IsString() || attrs == nullptr || !attrs->IsObject()) {
    return WrongType(field, "a distribution with 'name' and 'attributes'");
  }
  std::string kind = name->GetString();
  std::string at = Field(field, "attributes");
  if (kind == "FloatDistribution" || kind == "UniformDistribution" ||
      kind == "LogUniformDistribution" || kind == "DiscreteUniformDistribution") {
    PLINTH_ASSIGN_OR_RETURN(double low, RequiredNumber(*attrs, at, "low"));
    PLINTH_ASSIGN_OR_RETURN(double high, RequiredNumber(*attrs, at, "high"));
    PLINTH_ASSIGN_OR_RETURN(bool log,
                            OptionalBool(*attrs, at, "log", kind == "LogUniformDistribution"));
    std::optional<double> step;
    const char* step_key = kind == "DiscreteUniformDistribution" ? "q" : "step";
    if (const JsonValue* s = JsonFind(*attrs, step_key)) {
      if (!s->IsNumber()) return WrongType(Field(at, step_key), "a number or null");
      step = s->GetDouble();
    }
    return Distribution::Float(low, high, log, step);
  }
  if (kind == "IntDistribution" || kind == "IntUniformDistribution" ||
      kind == "IntLogUniformDistribution") {
    PLINTH_ASSIGN_OR_RETURN(int64_t low, RequiredInt(*attrs, at, "low"));
    PLINTH_ASSIGN_OR_RETURN(int64_t high, RequiredInt(*attrs, at, "high"));
    PLINTH_ASSIGN_OR_RETURN(bool log,
                            OptionalBool(*attrs, at, "log", kind == "IntLogUniformDistribution"));
    PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> step, OptionalInt(*attrs, at, "step"));
    return Distribution::Int(low, high, log, step.value_or(1));
  }
  if (kind == "CategoricalDistribution") {
    const JsonValue* choices = JsonFind(*attrs, "choices");
    if (choices == nullptr || !choices->IsArray()) {
      return WrongType(Field(at, "choices"), "an array");
    }
    std::vector<ParamValue> values;
    for (const JsonValue& c : choices->GetArray()) {
      PLINTH_ASSIGN_OR_RETURN(ParamValue pv, ParamValueFromJson(c, Field(at, "choices")));
      values.push_back(std::move(pv));
    }
    return Distribution::Categorical(std::move(values));
  }
  return InvalidArgument("'" + Field(field, "name") + "' is not a known distribution: " + kind);
}

Status WithField(const Status& s, std::string_view field) {
  if (s.ok()) return s;
  return Status(s.code(), "'" + std::string(field) + "': " + s.message());
}

void WriteSampler(JsonWriter& w, const SamplerConfig& s) {
  w.StartObject();
  w.KeyString("type", s.type);
  if (s.seed) w.KeyInt64("seed", *s.seed);
  if (s.type == "gp" || s.type == "cmaes") {
    w.KeyInt64("n_startup_trials", s.n_startup_trials.value_or(s.type == "gp" ? 10 : 1));
  }
  if (s.type == "gp") {
    w.KeyBool("deterministic_objective", s.deterministic_objective);
    if (s.lengthscale_prior != GpLengthscalePrior::kOptuna) {
      w.KeyString("lengthscale_prior", GpLengthscalePriorName(s.lengthscale_prior));
    }
  }
  if (s.type == "auto" && s.gp_trials) w.KeyInt64("gp_trials", *s.gp_trials);
  if (s.type == "cmaes") {
    if (s.sigma0) w.KeyDouble("sigma0", *s.sigma0);
    if (s.popsize) w.KeyInt64("popsize", *s.popsize);
    w.KeyBool("consider_pruned_trials", s.consider_pruned_trials);
  }
  if (s.type == "tpe") {
    w.KeyInt64("n_startup_trials", s.n_startup_trials.value_or(10));
    w.KeyInt64("n_ei_candidates", s.n_ei_candidates);
    if (s.multivariate) w.KeyBool("multivariate", *s.multivariate);
    w.KeyBool("group", s.group);
    w.KeyBool("constant_liar", s.constant_liar);
    w.KeyDouble("prior_weight", s.prior_weight);
    w.KeyBool("consider_endpoints", s.consider_endpoints);
    w.KeyBool("consider_magic_clip", s.consider_magic_clip);
  }
  if (!s.grid.empty()) {
    w.Key("search_space");
    w.StartObject();
    for (const auto& [name, values] : s.grid) {
      w.Key(name);
      w.StartArray();
      for (const ParamValue& v : values) WriteParamValue(w, v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
}

Result<SamplerConfig> SamplerFromValue(const JsonValue& v, std::string_view field) {
  SamplerConfig s;
  if (!v.IsObject()) return WrongType(field, "an object such as {\"type\": \"tpe\"}");
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> type, JsonGetString(v, "type"));
  if (type) s.type = *type;
  if (s.type != "tpe" && s.type != "random" && s.type != "grid" && s.type != "gp" &&
      s.type != "cmaes" && s.type != "auto") {
    return InvalidArgument("'" + Field(field, "type") +
                           "' must be tpe, random, grid, gp, cmaes or auto, not '" + s.type + "'");
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> seed, OptionalInt(v, field, "seed"));
  if (seed) {
    if (*seed < 0 || *seed > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgument("'" + Field(field, "seed") + "' must be between 0 and 2**32 - 1");
    }
    s.seed = static_cast<uint32_t>(*seed);
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> n_startup,
                          OptionalInt(v, field, "n_startup_trials"));
  if (n_startup) {
    if (*n_startup < 0 || *n_startup > 1000000) {
      return InvalidArgument("'" + Field(field, "n_startup_trials") + "' must be >= 0");
    }
    s.n_startup_trials = static_cast<int>(*n_startup);
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> gp_trials, OptionalInt(v, field, "gp_trials"));
  if (gp_trials) {
    if (*gp_trials < 0 || *gp_trials > 1000000) {
      return InvalidArgument("'" + Field(field, "gp_trials") + "' must be >= 0");
    }
    s.gp_trials = static_cast<int>(*gp_trials);
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> n_ei, OptionalInt(v, field, "n_ei_candidates"));
  if (n_ei) {
    if (*n_ei < 1) return InvalidArgument("'" + Field(field, "n_ei_candidates") + "' must be >= 1");
    s.n_ei_candidates = static_cast<int>(*n_ei);
  }
  if (JsonFind(v, "multivariate") != nullptr) {
    PLINTH_ASSIGN_OR_RETURN(s.multivariate, OptionalBool(v, field, "multivariate", true));
  }
  PLINTH_ASSIGN_OR_RETURN(s.group, OptionalBool(v, field, "group", s.group));
  PLINTH_ASSIGN_OR_RETURN(s.constant_liar,
                          OptionalBool(v, field, "constant_liar", s.constant_liar));
  PLINTH_ASSIGN_OR_RETURN(s.consider_endpoints,
                          OptionalBool(v, field, "consider_endpoints", s.consider_endpoints));
  PLINTH_ASSIGN_OR_RETURN(s.consider_magic_clip,
                          OptionalBool(v, field, "consider_magic_clip", s.consider_magic_clip));
  PLINTH_ASSIGN_OR_RETURN(
      s.deterministic_objective,
      OptionalBool(v, field, "deterministic_objective", s.deterministic_objective));
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> prior, JsonGetString(v, "lengthscale_prior"));
  if (prior) {
    Result<GpLengthscalePrior> parsed = ParseGpLengthscalePrior(*prior);
    if (!parsed.ok()) return WithField(parsed.status(), Field(field, "lengthscale_prior"));
    s.lengthscale_prior = *parsed;
  }
  PLINTH_ASSIGN_OR_RETURN(s.consider_pruned_trials, OptionalBool(v, field, "consider_pruned_trials",
                                                                 s.consider_pruned_trials));
  if (const JsonValue* sigma0 = JsonFind(v, "sigma0")) {
    if (!sigma0->IsNumber() || !(sigma0->GetDouble() > 0)) {
      return WrongType(Field(field, "sigma0"), "a number > 0");
    }
    s.sigma0 = sigma0->GetDouble();
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> popsize, OptionalInt(v, field, "popsize"));
  if (popsize) {
    if (*popsize < 1 || *popsize > 100000) {
      return InvalidArgument("'" + Field(field, "popsize") + "' must be >= 1");
    }
    s.popsize = static_cast<int>(*popsize);
  }
  if (const JsonValue* pw = JsonFind(v, "prior_weight")) {
    if (!pw->IsNumber() || pw->GetDouble() < 0) {
      return WrongType(Field(field, "prior_weight"), "a number >= 0");
    }
    s.prior_weight = pw->GetDouble();
  }
  if (s.group && s.multivariate == false) {
    return InvalidArgument("'" + Field(field, "group") + "' needs multivariate: true");
  }
  if (const JsonValue* grid = JsonFind(v, "search_space")) {
    std::string gf = Field(field, "search_space");
    if (!grid->IsObject()) return WrongType(gf, "an object of value lists");
    for (const auto& m : grid->GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (!m.value.IsArray() || m.value.Empty()) {
        return WrongType(Field(gf, name), "a non-empty array of values");
      }
      std::vector<ParamValue> values;
      for (const JsonValue& e : m.value.GetArray()) {
        PLINTH_ASSIGN_OR_RETURN(ParamValue pv, ParamValueFromJson(e, Field(gf, name)));
        values.push_back(std::move(pv));
      }
      s.grid.emplace_back(std::move(name), std::move(values));
    }
  }
  return s;
}

Result<PrunerConfig> PrunerFromValue(const JsonValue& v, std::string_view field) {
  PrunerConfig p;
  if (!v.IsObject()) return WrongType(field, "an object such as {\"type\": \"none\"}");
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> type, JsonGetString(v, "type"));
  if (type) p.type = *type;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  p.options_json = buffer.GetString();
  if (!type) p.options_json = "{\"type\":\"none\"}";
  return p;
}

Result<StudyOptions> OptionsFromValue(const JsonValue& v) {
  StudyOptions o;
  PLINTH_ASSIGN_OR_RETURN(o.n_trials, OptionalInt(v, "", "n_trials"));
  if (o.n_trials && *o.n_trials < 1) return InvalidArgument("'n_trials' must be >= 1");
  if (const JsonValue* g = JsonFind(v, "heartbeat_grace_seconds")) {
    if (!g->IsNumber() || !(g->GetDouble() > 0) || !std::isfinite(g->GetDouble())) {
      return WrongType("heartbeat_grace_seconds", "a number of seconds > 0");
    }
    o.heartbeat_grace_seconds = g->GetDouble();
  }
  PLINTH_ASSIGN_OR_RETURN(o.retry_failed, OptionalBool(v, "", "retry_failed", false));
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> one, JsonGetString(v, "metric_name"));
  if (one) o.metric_names.push_back(*one);
  if (const JsonValue* names = JsonFind(v, "metric_names")) {
    if (!names->IsArray()) return WrongType("metric_names", "an array of names");
    o.metric_names.clear();
    for (const JsonValue& n : names->GetArray()) {
      if (!n.IsString() || n.GetStringLength() == 0) {
        return WrongType("metric_names", "an array of non-empty names");
      }
      o.metric_names.emplace_back(n.GetString(), n.GetStringLength());
    }
  }
  for (const std::string& n : o.metric_names) {
    if (n.empty() || n.size() > 250) return InvalidArgument("'metric_name' must be 1-250 chars");
  }
  return o;
}

Result<SearchSpace> SpaceFromValue(const JsonValue& v, std::string_view field) {
  if (!v.IsObject()) return WrongType(field, "an object of parameter distributions");
  SearchSpace space;
  for (const auto& m : v.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    if (name.empty() || name.size() > 250) {
      return InvalidArgument("'" + std::string(field) +
                             "': a parameter name must have 1 to 250 characters");
    }
    PLINTH_ASSIGN_OR_RETURN(Distribution d, DistributionFromJson(m.value, Field(field, name)));
    space.push_back({std::move(name), std::move(d)});
  }
  return space;
}

}  // namespace

std::string_view DirectionName(StudyDirection d) {
  return d == StudyDirection::kMaximize ? "maximize" : "minimize";
}

Result<ParamValue> ParamValueFromJson(const JsonValue& v, std::string_view field) {
  if (v.IsNull()) return ParamValue();
  if (v.IsBool()) return ParamValue(v.GetBool());
  if (v.IsInt64()) return ParamValue(v.GetInt64());
  if (v.IsNumber()) return ParamValue(v.GetDouble());
  if (v.IsString()) return ParamValue(std::string(v.GetString(), v.GetStringLength()));
  return WrongType(field, "null, a boolean, a number or a string");
}

void WriteParamValue(JsonWriter& w, const ParamValue& v) {
  switch (v.index()) {
    case 0:
      w.Null();
      break;
    case 1:
      w.Bool(std::get<bool>(v));
      break;
    case 2:
      w.Int64(std::get<int64_t>(v));
      break;
    case 3:
      w.Double(std::get<double>(v));
      break;
    default:
      w.String(std::get<std::string>(v));
  }
}

std::string ParamValueToJson(const ParamValue& v) {
  JsonWriter w;
  WriteParamValue(w, v);
  return w.Take();
}

Result<Distribution> DistributionFromJson(const JsonValue& v, std::string_view field) {
  if (!v.IsObject()) return WrongType(field, "a distribution object");
  if (JsonFind(v, "name") != nullptr && JsonFind(v, "type") == nullptr) {
    return OptunaDistribution(v, field);
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> type, JsonGetString(v, "type"));
  if (!type) return InvalidArgument("'" + Field(field, "type") + "' is required");
  Result<Distribution> out = InvalidArgument("");
  if (*type == "float") {
    PLINTH_ASSIGN_OR_RETURN(double low, RequiredNumber(v, field, "low"));
    PLINTH_ASSIGN_OR_RETURN(double high, RequiredNumber(v, field, "high"));
    PLINTH_ASSIGN_OR_RETURN(bool log, OptionalBool(v, field, "log", false));
    std::optional<double> step;
    if (const JsonValue* s = JsonFind(v, "step")) {
      if (!s->IsNumber()) return WrongType(Field(field, "step"), "a number");
      step = s->GetDouble();
    }
    out = Distribution::Float(low, high, log, step);
  } else if (*type == "int") {
    PLINTH_ASSIGN_OR_RETURN(int64_t low, RequiredInt(v, field, "low"));
    PLINTH_ASSIGN_OR_RETURN(int64_t high, RequiredInt(v, field, "high"));
    PLINTH_ASSIGN_OR_RETURN(bool log, OptionalBool(v, field, "log", false));
    PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> step, OptionalInt(v, field, "step"));
    out = Distribution::Int(low, high, log, step.value_or(1));
  } else if (*type == "categorical") {
    const JsonValue* choices = JsonFind(v, "choices");
    if (choices == nullptr || !choices->IsArray() || choices->Empty()) {
      return WrongType(Field(field, "choices"), "a non-empty array");
    }
    std::vector<ParamValue> values;
    for (const JsonValue& c : choices->GetArray()) {
      PLINTH_ASSIGN_OR_RETURN(ParamValue pv, ParamValueFromJson(c, Field(field, "choices")));
      values.push_back(std::move(pv));
    }
    out = Distribution::Categorical(std::move(values));
  } else {
    return InvalidArgument("'" + Field(field, "type") +
                           "' must be float, int or categorical, not '" + *type + "'");
  }
  if (!out.ok()) return WithField(out.status(), field);
  return out;
}

void WriteDistribution(JsonWriter& w, const Distribution& d) {
  w.StartObject();
  switch (d.kind()) {
    case DistributionKind::kFloat:
      w.KeyString("type", "float");
      w.KeyDouble("low", d.low());
      w.KeyDouble("high", d.high());
      w.KeyBool("log", d.log());
      if (d.has_step()) w.KeyDouble("step", d.step());
      break;
    case DistributionKind::kInt:
      w.KeyString("type", "int");
      w.KeyInt64("low", static_cast<int64_t>(d.low()));
      w.KeyInt64("high", static_cast<int64_t>(d.high()));
      w.KeyBool("log", d.log());
      w.KeyInt64("step", static_cast<int64_t>(d.step()));
      break;
    case DistributionKind::kCategorical:
      w.KeyString("type", "categorical");
      w.Key("choices");
      w.StartArray();
      for (const ParamValue& c : d.choices()) WriteParamValue(w, c);
      w.EndArray();
      break;
  }
  w.EndObject();
}

std::string DistributionToJson(const Distribution& d) {
  JsonWriter w;
  WriteDistribution(w, d);
  return w.Take();
}

Result<Distribution> DistributionFromJsonText(std::string_view text) {
  PLINTH_ASSIGN_OR_RETURN(JsonDocument doc, Parse(text, "distribution"));
  return DistributionFromJson(doc, "distribution");
}

Result<ParamValue> ParamValueFromJsonText(std::string_view text) {
  JsonDocument doc;
  PLINTH_RETURN_IF_ERROR(ParseJson(text, &doc));
  return ParamValueFromJson(doc, "value");
}

Result<StudyConfig> StudyConfigFromRequest(const JsonValue& body) {
  StudyConfig c;
  if (!body.IsObject()) return WrongType("body", "a JSON object");
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> name, JsonGetString(body, "name"));
  if (!name || name->empty()) return InvalidArgument("'name' is required");
  if (name->size() > 500) return InvalidArgument("'name' is longer than 500 characters");
  c.name = *name;
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> experiment,
                          JsonGetString(body, "experiment_name"));
  c.experiment_name = experiment.value_or("");
  auto direction_of = [](const JsonValue& v, std::string_view field) -> Result<StudyDirection> {
    if (v.IsString() && std::string_view(v.GetString()) == "minimize") {
      return StudyDirection::kMinimize;
    }
    if (v.IsString() && std::string_view(v.GetString()) == "maximize") {
      return StudyDirection::kMaximize;
    }
    return WrongType(field, "\"minimize\" or \"maximize\"");
  };
  const JsonValue* direction = JsonFind(body, "direction");
  const JsonValue* directions = JsonFind(body, "directions");
  if (direction != nullptr && directions != nullptr) {
    return InvalidArgument("give 'direction' or 'directions', not both");
  }
  if (direction != nullptr) {
    PLINTH_ASSIGN_OR_RETURN(StudyDirection d, direction_of(*direction, "direction"));
    c.directions = {d};
  } else if (directions != nullptr) {
    if (!directions->IsArray() || directions->Empty()) {
      return WrongType("directions", "a non-empty array of \"minimize\"/\"maximize\"");
    }
    c.directions.clear();
    for (const JsonValue& d : directions->GetArray()) {
      PLINTH_ASSIGN_OR_RETURN(StudyDirection parsed, direction_of(d, "directions"));
      c.directions.push_back(parsed);
    }
  }
  if (const JsonValue* space = JsonFind(body, "search_space")) {
    PLINTH_ASSIGN_OR_RETURN(c.space, SpaceFromValue(*space, "search_space"));
  }
  if (const JsonValue* sampler = JsonFind(body, "sampler")) {
    PLINTH_ASSIGN_OR_RETURN(c.sampler, SamplerFromValue(*sampler, "sampler"));
  }
  if (const JsonValue* pruner = JsonFind(body, "pruner")) {
    PLINTH_ASSIGN_OR_RETURN(c.pruner, PrunerFromValue(*pruner, "pruner"));
  }
  PLINTH_ASSIGN_OR_RETURN(c.options, OptionsFromValue(body));
  if (!c.options.metric_names.empty() && c.options.metric_names.size() != c.directions.size()) {
    return InvalidArgument("'metric_names' needs one name per direction (" +
                           std::to_string(c.directions.size()) + ")");
  }
  return c;
}

std::string SearchSpaceToJson(const SearchSpace& space) {
  JsonWriter w;
  w.StartObject();
  for (const SearchSpaceEntry& e : space) {
    w.Key(e.name);
    WriteDistribution(w, e.distribution);
  }
  w.EndObject();
  return w.Take();
}

std::string SamplerToJson(const SamplerConfig& sampler) {
  JsonWriter w;
  WriteSampler(w, sampler);
  return w.Take();
}

std::string StudyOptionsToJson(const StudyOptions& o) {
  JsonWriter w;
  w.StartObject();
  if (o.n_trials) w.KeyInt64("n_trials", *o.n_trials);
  w.KeyDouble("heartbeat_grace_seconds", o.heartbeat_grace_seconds);
  w.KeyBool("retry_failed", o.retry_failed);
  if (!o.metric_names.empty()) {
    w.Key("metric_names");
    w.StartArray();
    for (const std::string& n : o.metric_names) w.String(n);
    w.EndArray();
  }
  w.EndObject();
  return w.Take();
}

Result<SearchSpace> SearchSpaceFromJson(std::string_view text) {
  PLINTH_ASSIGN_OR_RETURN(JsonDocument doc, Parse(text, "search_space"));
  return SpaceFromValue(doc, "search_space");
}

Result<SamplerConfig> SamplerFromJson(std::string_view text, std::string_view field) {
  PLINTH_ASSIGN_OR_RETURN(JsonDocument doc, Parse(text, field));
  return SamplerFromValue(doc, field);
}

Result<PrunerConfig> PrunerFromJson(std::string_view text, std::string_view field) {
  PLINTH_ASSIGN_OR_RETURN(JsonDocument doc, Parse(text, field));
  return PrunerFromValue(doc, field);
}

Result<StudyOptions> StudyOptionsFromJson(std::string_view text) {
  PLINTH_ASSIGN_OR_RETURN(JsonDocument doc, Parse(text, "options"));
  return OptionsFromValue(doc);
}

std::string MetricName(const StudyOptions& options, size_t n_objectives, size_t i) {
  if (i < options.metric_names.size()) return options.metric_names[i];
  return n_objectives == 1 ? "value" : "value_" + std::to_string(i);
}

}  // namespace plinth::tune
