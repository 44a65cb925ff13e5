#include "api/tune_api.h"

#include <charconv>
#include <string>
#include <vector>

#include "api/json_route.h"
#include "api/request_message.h"

namespace plinth::api {
namespace {

using http::Method;
using http::Request;
using store::StoredTrialState;
using store::TrialRecord;
using tune::StudyView;
using tune::TuneService;

constexpr int64_t kDefaultTrialPage = 1000;
constexpr int64_t kMaxTrialPage = 10000;
constexpr int64_t kDefaultStudyPage = 100;

// The body as a JSON document, for fields RequestMessage has no reader for (whole objects,
// values of any type).
Result<JsonDocument> Body(const Request& req) {
  JsonDocument doc;
  PLINTH_RETURN_IF_ERROR(ParseJson(req.body.empty() ? "{}" : req.body, &doc));
  if (!doc.IsObject()) return BadRequest("the request body must be a JSON object");
  return doc;
}

Result<tune::StudyRef> ReadStudyRef(const RequestMessage& m) {
  tune::StudyRef ref;
  PLINTH_ASSIGN_OR_RETURN(ref.id, m.Int64("study_id"));
  PLINTH_ASSIGN_OR_RETURN(auto name, m.String("study_name"));
  ref.name = name.value_or("");
  if (!ref.id && ref.name.empty()) {
    return InvalidArgument("Missing value for required parameter 'study_id' (or 'study_name')");
  }
  return ref;
}

Result<int64_t> ReadTrialId(const RequestMessage& m) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> id, m.Int64("trial_id"));
  if (!id) return MissingParameter("trial_id");
  return *id;
}

// Page tokens are offsets (the rows are in a fixed order: ids, trial numbers).
Result<int64_t> ReadOffset(const RequestMessage& m) {
  PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
  if (!token || token->empty()) return int64_t{0};
  int64_t offset = 0;
  auto [end, ec] = std::from_chars(token->data(), token->data() + token->size(), offset);
  if (ec != std::errc() || end != token->data() + token->size() || offset < 0) {
    return InvalidArgument("Invalid page token '" + *token + "'");
  }
  return offset;
}

Result<int64_t> ReadMaxResults(const RequestMessage& m, int64_t fallback, int64_t limit) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> n, m.Int64("max_results"));
  if (!n) return fallback;
  if (*n < 1 || *n > limit) {
    return InvalidArgument("'max_results' must be between 1 and " + std::to_string(limit));
  }
  return *n;
}

// A number as proto-JSON carries it: a JSON number, or "NaN"/"Infinity"/"-Infinity".
Result<double> NumberOf(const JsonValue& v, std::string_view field) {
  if (v.IsNumber()) return v.GetDouble();
  if (v.IsString()) return ParseDouble(v.GetString(), field);
  return InvalidArgument("'" + std::string(field) + "' must hold numbers");
}

Result<StoredTrialState> ReadState(std::string_view text, std::string_view field) {
  auto state = store::ParseStoredTrialState(text);
  if (!state) {
    return InvalidArgument("'" + std::string(field) +
                           "' must be RUNNING, COMPLETE, PRUNED, FAIL or WAITING, not '" +
                           std::string(text) + "'");
  }
  return *state;
}

void WriteUserAttrs(JsonWriter& w, const std::vector<store::KeyValue>& attrs) {
  w.Key("user_attrs");
  w.StartObject();
  for (const store::KeyValue& a : attrs) {
    w.Key(a.key);
    w.Raw(a.value);
  }
  w.EndObject();
}

void WriteStudy(JsonWriter& w, const StudyView& s) {
  w.StartObject();
  w.KeyInt64("study_id", s.record.study_id);
  w.KeyString("name", s.record.name);
  w.KeyString("experiment_id", s.record.experiment_id);
  w.Key("directions");
  w.StartArray();
  for (const std::string& d : s.record.directions) w.String(d);
  w.EndArray();
  w.Key("search_space");
  w.Raw(s.record.search_space_json);
  w.Key("sampler");
  w.Raw(s.record.sampler_json);
  w.Key("pruner");
  w.Raw(s.record.pruner_json);
  const tune::StudyOptions& o = s.config.options;
  if (o.n_trials) w.KeyInt64("n_trials", *o.n_trials);
  w.KeyDouble("heartbeat_grace_seconds", o.heartbeat_grace_seconds);
  w.KeyBool("retry_failed", o.retry_failed);
  w.Key("metric_names");
  w.StartArray();
  for (size_t i = 0; i < s.config.directions.size(); ++i) {
    w.String(tune::MetricName(o, s.config.directions.size(), i));
  }
  w.EndArray();
  WriteUserAttrs(w, s.record.user_attrs);
  w.KeyInt64("creation_time", s.record.creation_time);
  if (!s.trial_counts.empty()) {
    w.Key("trial_counts");
    w.StartObject();
    for (size_t i = 0; i < s.trial_counts.size(); ++i) {
      w.KeyInt64(store::StoredTrialStateName(static_cast<StoredTrialState>(i)), s.trial_counts[i]);
    }
    w.EndObject();
  }
  w.EndObject();
}

void WriteTrial(JsonWriter& w, const TrialRecord& t) {
  w.StartObject();
  w.KeyInt64("trial_id", t.trial_id);
  w.KeyInt64("study_id", t.study_id);
  w.KeyInt64("number", t.number);
  w.KeyString("state", store::StoredTrialStateName(t.state));
  if (!t.values.empty()) {
    w.KeyDouble("value", t.values[0]);
    w.Key("values");
    w.StartArray();
    for (double v : t.values) w.Double(v);
    w.EndArray();
  }
  w.Key("params");
  w.StartObject();
  for (const auto& p : t.params) {
    w.Key(p.name);
    w.Raw(p.external_json);
  }
  w.EndObject();
  w.Key("distributions");
  w.StartObject();
  for (const auto& p : t.params) {
    w.Key(p.name);
    w.Raw(p.distribution_json);
  }
  w.EndObject();
  w.Key("intermediate_values");
  w.StartArray();
  for (const auto& [step, value] : t.intermediate_values) {
    w.StartObject();
    w.KeyInt64("step", step);
    w.KeyDouble("value", value);
    w.EndObject();
  }
  w.EndArray();
  WriteUserAttrs(w, t.user_attrs);
  if (!t.fixed_params_json.empty()) {
    w.Key("fixed_params");
    w.Raw(t.fixed_params_json);
  }
  if (t.retry_of) w.KeyInt64("retry_of", *t.retry_of);
  if (!t.run_id.empty()) w.KeyString("run_id", t.run_id);
  if (t.start_time) w.KeyInt64("start_time", *t.start_time);
  if (t.complete_time) w.KeyInt64("complete_time", *t.complete_time);
  if (t.heartbeat_time) w.KeyInt64("heartbeat_time", *t.heartbeat_time);
  w.EndObject();
}

void WriteTrialResponse(JsonWriter& w, const TrialRecord& t) {
  w.StartObject();
  w.Key("trial");
  WriteTrial(w, t);
  w.EndObject();
}

std::string Path(const char* tail) { return std::string(kStudiesPrefix) + tail; }

void RegisterStudies(http::Router& r, TuneService* tune) {
  AddJsonRoute(r, Method::kPost, Path("/create"),
               [tune](const Request& req, const RequestMessage&, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(JsonDocument body, Body(req));
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyConfig config,
                                         tune::StudyConfigFromRequest(body));
                 std::vector<store::KeyValue> attrs;
                 if (const JsonValue* a = JsonFind(body, "user_attrs")) {
                   if (!a->IsObject()) return InvalidArgument("'user_attrs' must be an object");
                   for (const auto& m : a->GetObject()) {
                     rapidjson::StringBuffer buffer;
                     rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
                     m.value.Accept(writer);
                     attrs.push_back({m.name.GetString(), buffer.GetString()});
                   }
                 }
                 PLINTH_ASSIGN_OR_RETURN(auto load, JsonGetBool(body, "load_if_exists"));
                 PLINTH_ASSIGN_OR_RETURN(StudyView study,
                                         tune->CreateStudy(config, attrs, load.value_or(false)));
                 w.StartObject();
                 w.Key("study");
                 WriteStudy(w, study);
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, Path("/get"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyRef ref, ReadStudyRef(m));
                 PLINTH_ASSIGN_OR_RETURN(StudyView study, tune->GetStudy(ref));
                 w.StartObject();
                 w.Key("study");
                 WriteStudy(w, study);
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, Path("/list"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t max_results,
                                         ReadMaxResults(m, kDefaultStudyPage, kMaxTrialPage));
                 PLINTH_ASSIGN_OR_RETURN(int64_t offset, ReadOffset(m));
                 bool has_more = false;
                 PLINTH_ASSIGN_OR_RETURN(std::vector<StudyView> studies,
                                         tune->ListStudies(max_results, offset, &has_more));
                 w.StartObject();
                 w.Key("studies");
                 w.StartArray();
                 for (const StudyView& s : studies) WriteStudy(w, s);
                 w.EndArray();
                 if (has_more) w.KeyString("next_page_token", std::to_string(offset + max_results));
                 w.EndObject();
                 return Status::Ok();
               });
}

void RegisterTrials(http::Router& r, TuneService* tune) {
  AddJsonRoute(r, Method::kPost, Path("/ask"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyRef ref, ReadStudyRef(m));
                 PLINTH_ASSIGN_OR_RETURN(tune::AskReply reply, tune->Ask(ref));
                 w.StartObject();
                 w.Key("trial");
                 if (reply.trial) {
                   WriteTrial(w, *reply.trial);
                 } else {
                   w.Null();
                 }
                 w.KeyBool("study_done", reply.study_done);
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, Path("/suggest"),
               [tune](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t trial_id, ReadTrialId(m));
                 PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
                 PLINTH_ASSIGN_OR_RETURN(JsonDocument body, Body(req));
                 const JsonValue* d = JsonFind(body, "distribution");
                 if (d == nullptr) return MissingParameter("distribution");
                 PLINTH_ASSIGN_OR_RETURN(tune::Distribution distribution,
                                         tune::DistributionFromJson(*d, "distribution"));
                 PLINTH_ASSIGN_OR_RETURN(store::TrialParamRecord p,
                                         tune->Suggest(trial_id, name, distribution));
                 w.StartObject();
                 w.KeyString("name", p.name);
                 w.Key("value");
                 w.Raw(p.external_json);
                 w.Key("distribution");
                 w.Raw(p.distribution_json);
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, Path("/report"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t trial_id, ReadTrialId(m));
                 PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> step, m.Int64("step"));
                 if (!step) return MissingParameter("step");
                 PLINTH_ASSIGN_OR_RETURN(std::optional<double> value, m.Double("value"));
                 if (!value) return MissingParameter("value");
                 PLINTH_ASSIGN_OR_RETURN(bool prune, tune->Report(trial_id, *step, *value));
                 w.StartObject();
                 w.KeyBool("should_prune", prune);
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, Path("/heartbeat"),
               [tune](const Request&, const RequestMessage& m, JsonWriter&) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t trial_id, ReadTrialId(m));
                 return tune->Heartbeat(trial_id);
               });
  AddJsonRoute(r, Method::kPost, Path("/tell"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 tune::TellRequest tell;
                 PLINTH_ASSIGN_OR_RETURN(tell.trial_id, ReadTrialId(m));
                 PLINTH_ASSIGN_OR_RETURN(std::optional<double> value, m.Double("value"));
                 PLINTH_ASSIGN_OR_RETURN(const JsonValue* values, m.Array("values"));
                 if (value && values != nullptr) {
                   return InvalidArgument("give 'value' or 'values', not both");
                 }
                 if (value) tell.values.push_back(*value);
                 if (values != nullptr) {
                   for (const JsonValue& v : values->GetArray()) {
                     PLINTH_ASSIGN_OR_RETURN(double d, NumberOf(v, "values"));
                     tell.values.push_back(d);
                   }
                 }
                 PLINTH_ASSIGN_OR_RETURN(auto state, m.String("state"));
                 if (state) {
                   PLINTH_ASSIGN_OR_RETURN(tell.state, ReadState(*state, "state"));
                 }
                 PLINTH_ASSIGN_OR_RETURN(TrialRecord t, tune->Tell(tell));
                 WriteTrialResponse(w, t);
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, Path("/best"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyRef ref, ReadStudyRef(m));
                 PLINTH_ASSIGN_OR_RETURN(std::vector<TrialRecord> best, tune->BestTrials(ref));
                 w.StartObject();
                 w.Key("best_trials");
                 w.StartArray();
                 for (const TrialRecord& t : best) WriteTrial(w, t);
                 w.EndArray();
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, Path("/trials"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyRef ref, ReadStudyRef(m));
                 PLINTH_ASSIGN_OR_RETURN(std::vector<std::string> names, m.StringList("states"));
                 std::vector<StoredTrialState> states;
                 for (const std::string& n : names) {
                   PLINTH_ASSIGN_OR_RETURN(StoredTrialState s, ReadState(n, "states"));
                   states.push_back(s);
                 }
                 PLINTH_ASSIGN_OR_RETURN(int64_t max_results,
                                         ReadMaxResults(m, kDefaultTrialPage, kMaxTrialPage));
                 PLINTH_ASSIGN_OR_RETURN(int64_t offset, ReadOffset(m));
                 PLINTH_ASSIGN_OR_RETURN(store::TrialPage page,
                                         tune->ListTrials(ref, states, max_results, offset));
                 w.StartObject();
                 w.Key("trials");
                 w.StartArray();
                 for (const TrialRecord& t : page.trials) WriteTrial(w, t);
                 w.EndArray();
                 if (page.has_more) {
                   w.KeyString("next_page_token", std::to_string(offset + max_results));
                 }
                 w.EndObject();
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kGet, Path("/trials/get"),
               [tune](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t trial_id, ReadTrialId(m));
                 PLINTH_ASSIGN_OR_RETURN(TrialRecord t, tune->GetTrial(trial_id));
                 WriteTrialResponse(w, t);
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, Path("/enqueue"),
               [tune](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(tune::StudyRef ref, ReadStudyRef(m));
                 PLINTH_ASSIGN_OR_RETURN(JsonDocument body, Body(req));
                 const JsonValue* params = JsonFind(body, "params");
                 if (params == nullptr || !params->IsObject()) {
                   return InvalidArgument("'params' must be an object of parameter values");
                 }
                 std::vector<std::pair<std::string, tune::ParamValue>> values;
                 for (const auto& p : params->GetObject()) {
                   std::string name(p.name.GetString(), p.name.GetStringLength());
                   PLINTH_ASSIGN_OR_RETURN(tune::ParamValue v,
                                           tune::ParamValueFromJson(p.value, "params." + name));
                   values.emplace_back(std::move(name), std::move(v));
                 }
                 PLINTH_ASSIGN_OR_RETURN(TrialRecord t, tune->Enqueue(ref, values));
                 WriteTrialResponse(w, t);
                 return Status::Ok();
               });
  AddJsonRoute(r, Method::kPost, Path("/trials/set-user-attr"),
               [tune](const Request& req, const RequestMessage& m, JsonWriter&) -> Status {
                 PLINTH_ASSIGN_OR_RETURN(int64_t trial_id, ReadTrialId(m));
                 PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
                 PLINTH_ASSIGN_OR_RETURN(JsonDocument body, Body(req));
                 const JsonValue* value = body.HasMember("value") ? &body["value"] : nullptr;
                 if (value == nullptr) return MissingParameter("value");
                 rapidjson::StringBuffer buffer;
                 rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
                 value->Accept(writer);
                 return tune->SetTrialUserAttr(trial_id, key, buffer.GetString());
               });
}

}  // namespace

void RegisterTuneApi(http::Router& router, TuneService* tune) {
  RegisterStudies(router, tune);
  RegisterTrials(router, tune);
}

}  // namespace plinth::api
