#include "api/mlflow_json.h"

#include "api/request_message.h"
#include "store/metadata_store.h"

namespace plinth::api {

void WriteKeyValues(JsonWriter& w, std::string_view field,
                    const std::vector<store::KeyValue>& kvs) {
  if (kvs.empty()) return;  // empty repeated fields are omitted, as protobuf does
  w.Key(field);
  w.StartArray();
  for (const auto& kv : kvs) {
    w.StartObject();
    w.KeyString("key", kv.key);
    w.KeyString("value", kv.value);
    w.EndObject();
  }
  w.EndArray();
}

void WriteExperiment(JsonWriter& w, const store::Experiment& e) {
  w.StartObject();
  w.KeyString("experiment_id", e.experiment_id);
  w.KeyString("name", e.name);
  w.KeyString("artifact_location", e.artifact_location);
  w.KeyString("lifecycle_stage", store::LifecycleName(e.lifecycle_stage));
  w.KeyInt64("last_update_time", e.last_update_time);
  w.KeyInt64("creation_time", e.creation_time);
  WriteKeyValues(w, "tags", e.tags);
  w.EndObject();
}

void WriteRunInfo(JsonWriter& w, const store::RunInfo& i) {
  w.StartObject();
  w.KeyString("run_id", i.run_id);
  w.KeyString("run_uuid", i.run_id);
  w.KeyString("run_name", i.run_name);
  w.KeyString("experiment_id", i.experiment_id);
  w.KeyString("user_id", i.user_id);
  w.KeyString("status", store::RunStatusName(i.status));
  w.KeyInt64("start_time", i.start_time);
  if (i.end_time) w.KeyInt64("end_time", *i.end_time);
  w.KeyString("artifact_uri", i.artifact_uri);
  w.KeyString("lifecycle_stage", store::LifecycleName(i.lifecycle_stage));
  w.EndObject();
}

void WriteMetric(JsonWriter& w, const store::Metric& m, bool with_run_id) {
  w.StartObject();
  w.KeyString("key", m.key);
  w.KeyDouble("value", m.value);
  w.KeyInt64("timestamp", m.timestamp);
  w.KeyInt64("step", m.step);
  if (!m.dataset_name.empty()) w.KeyString("dataset_name", m.dataset_name);
  if (!m.dataset_digest.empty()) w.KeyString("dataset_digest", m.dataset_digest);
  if (!m.model_id.empty()) w.KeyString("model_id", m.model_id);
  if (with_run_id && !m.run_id.empty()) w.KeyString("run_id", m.run_id);
  w.EndObject();
}

void WriteRun(JsonWriter& w, const store::Run& run) {
  w.StartObject();
  w.Key("info");
  WriteRunInfo(w, run.info);
  w.Key("data");
  w.StartObject();
  if (!run.metrics.empty()) {
    w.Key("metrics");
    w.StartArray();
    for (const auto& m : run.metrics) WriteMetric(w, m, false);
    w.EndArray();
  }
  WriteKeyValues(w, "params", run.params);
  WriteKeyValues(w, "tags", run.tags);
  w.EndObject();
  w.Key("inputs");
  w.StartObject();
  if (!run.dataset_inputs.empty()) {
    w.Key("dataset_inputs");
    w.StartArray();
    for (const auto& in : run.dataset_inputs) {
      w.StartObject();
      WriteKeyValues(w, "tags", in.tags);
      w.Key("dataset");
      w.StartObject();
      w.KeyString("name", in.dataset.name);
      w.KeyString("digest", in.dataset.digest);
      w.KeyString("source_type", in.dataset.source_type);
      w.KeyString("source", in.dataset.source);
      if (!in.dataset.schema.empty()) w.KeyString("schema", in.dataset.schema);
      if (!in.dataset.profile.empty()) w.KeyString("profile", in.dataset.profile);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  if (!run.model_inputs.empty()) {
    w.Key("model_inputs");
    w.StartArray();
    for (const auto& m : run.model_inputs) {
      w.StartObject();
      w.KeyString("model_id", m.model_id);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("outputs");
  w.StartObject();
  if (!run.model_outputs.empty()) {
    w.Key("model_outputs");
    w.StartArray();
    for (const auto& m : run.model_outputs) {
      w.StartObject();
      w.KeyString("model_id", m.model_id);
      w.KeyInt64("step", m.step.value_or(0));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
}

void WriteLoggedModel(JsonWriter& w, const store::LoggedModel& m) {
  w.StartObject();
  w.Key("info");
  w.StartObject();
  w.KeyString("model_id", m.model_id);
  w.KeyString("experiment_id", m.experiment_id);
  w.KeyString("name", m.name);
  w.KeyInt64("creation_timestamp_ms", m.creation_timestamp_ms);
  w.KeyInt64("last_updated_timestamp_ms", m.last_updated_timestamp_ms);
  w.KeyString("artifact_uri", m.artifact_uri);
  w.KeyString("status", store::LoggedModelStatusName(m.status));
  if (!m.status_message.empty()) w.KeyString("status_message", m.status_message);
  if (!m.model_type.empty()) w.KeyString("model_type", m.model_type);
  if (!m.source_run_id.empty()) w.KeyString("source_run_id", m.source_run_id);
  WriteKeyValues(w, "tags", m.tags);
  w.EndObject();
  w.Key("data");
  w.StartObject();
  WriteKeyValues(w, "params", m.params);
  if (!m.metrics.empty()) {
    w.Key("metrics");
    w.StartArray();
    for (const auto& metric : m.metrics) WriteMetric(w, metric, true);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
}

Result<std::vector<store::KeyValue>> ReadKeyValues(const JsonValue* array, std::string_view what) {
  std::vector<store::KeyValue> out;
  if (array == nullptr) return out;
  if (!array->IsArray()) {
    return InvalidArgument("Invalid value for parameter '" + std::string(what) +
                           "': expected a list");
  }
  out.reserve(array->Size());
  for (const JsonValue& item : array->GetArray()) {
    if (!item.IsObject()) {
      return InvalidArgument("Invalid value for parameter '" + std::string(what) +
                             "': each entry must be an object with key and value");
    }
    PLINTH_ASSIGN_OR_RETURN(auto key, JsonGetString(item, "key"));
    PLINTH_ASSIGN_OR_RETURN(auto value, JsonGetString(item, "value"));
    if (!key) {
      return MissingParameter(std::string(what) + ".key");
    }
    if (!value) {
      // MLflow treats a missing value as an error for params and tags.
      return MissingParameter(std::string(what) + ".value");
    }
    out.push_back({std::move(*key), std::move(*value)});
  }
  return out;
}

Result<std::vector<store::Metric>> ReadMetrics(const JsonValue* array) {
  std::vector<store::Metric> out;
  if (array == nullptr) return out;
  if (!array->IsArray()) {
    return InvalidArgument("Invalid value for parameter 'metrics': expected a list");
  }
  out.reserve(array->Size());
  for (const JsonValue& item : array->GetArray()) {
    if (!item.IsObject()) {
      return InvalidArgument("Invalid value for parameter 'metrics': entries must be objects");
    }
    store::Metric m;
    PLINTH_ASSIGN_OR_RETURN(auto key, JsonGetString(item, "key"));
    PLINTH_ASSIGN_OR_RETURN(auto value, JsonGetDouble(item, "value"));
    PLINTH_ASSIGN_OR_RETURN(auto timestamp, JsonGetInt64(item, "timestamp"));
    PLINTH_ASSIGN_OR_RETURN(auto step, JsonGetInt64(item, "step"));
    if (!key) return MissingParameter("metrics.key");
    if (!value) return MissingParameter("metrics.value");
    if (!timestamp) return MissingParameter("metrics.timestamp");
    m.key = std::move(*key);
    m.value = *value;
    m.timestamp = *timestamp;
    m.step = step.value_or(0);
    PLINTH_ASSIGN_OR_RETURN(auto model_id, JsonGetString(item, "model_id"));
    PLINTH_ASSIGN_OR_RETURN(auto dataset_name, JsonGetString(item, "dataset_name"));
    PLINTH_ASSIGN_OR_RETURN(auto dataset_digest, JsonGetString(item, "dataset_digest"));
    m.model_id = model_id.value_or("");
    m.dataset_name = dataset_name.value_or("");
    m.dataset_digest = dataset_digest.value_or("");
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<store::DatasetInput>> ReadDatasetInputs(const JsonValue* array) {
  std::vector<store::DatasetInput> out;
  if (array == nullptr) return out;
  if (!array->IsArray()) {
    return InvalidArgument("Invalid value for parameter 'datasets': expected a list");
  }
  for (const JsonValue& item : array->GetArray()) {
    store::DatasetInput in;
    PLINTH_ASSIGN_OR_RETURN(in.tags, ReadKeyValues(JsonFind(item, "tags"), "datasets.tags"));
    const JsonValue* d = JsonFind(item, "dataset");
    if (d == nullptr || !d->IsObject()) {
      return MissingParameter("datasets.dataset");
    }
    auto get = [&](const char* field, std::string* out_field, bool required) -> Status {
      PLINTH_ASSIGN_OR_RETURN(auto v, JsonGetString(*d, field));
      if (!v && required) return MissingParameter(std::string("dataset.") + field);
      *out_field = v.value_or("");
      return Status::Ok();
    };
    PLINTH_RETURN_IF_ERROR(get("name", &in.dataset.name, true));
    PLINTH_RETURN_IF_ERROR(get("digest", &in.dataset.digest, true));
    PLINTH_RETURN_IF_ERROR(get("source_type", &in.dataset.source_type, true));
    PLINTH_RETURN_IF_ERROR(get("source", &in.dataset.source, true));
    PLINTH_RETURN_IF_ERROR(get("schema", &in.dataset.schema, false));
    PLINTH_RETURN_IF_ERROR(get("profile", &in.dataset.profile, false));
    out.push_back(std::move(in));
  }
  return out;
}

Result<std::vector<store::ModelIo>> ReadModelIos(const JsonValue* array) {
  std::vector<store::ModelIo> out;
  if (array == nullptr) return out;
  if (!array->IsArray()) {
    return InvalidArgument("Invalid value for parameter 'models': expected a list");
  }
  for (const JsonValue& item : array->GetArray()) {
    PLINTH_ASSIGN_OR_RETURN(auto id, JsonGetString(item, "model_id"));
    if (!id) return MissingParameter("models.model_id");
    PLINTH_ASSIGN_OR_RETURN(auto step, JsonGetInt64(item, "step"));
    out.push_back({std::move(*id), step});
  }
  return out;
}

}  // namespace plinth::api
