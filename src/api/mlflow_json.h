// MLflow's proto-JSON shapes for tracking entities, both directions: writers emit exactly what
// `mlflow server` emits (snake_case, int64 as numbers, unset fields omitted, enums by name);
// readers take the nested messages of requests (metrics, params, tags, datasets) and name the
// offending field on error. Stateless functions, thread-safe.
#ifndef PLINTH_API_MLFLOW_JSON_H_
#define PLINTH_API_MLFLOW_JSON_H_

#include <vector>

#include "core/json.h"
#include "store/records.h"

namespace plinth::api {

void WriteExperiment(JsonWriter& w, const store::Experiment& e);
void WriteRunInfo(JsonWriter& w, const store::RunInfo& info);
void WriteRun(JsonWriter& w, const store::Run& run);
void WriteMetric(JsonWriter& w, const store::Metric& m, bool with_run_id);
void WriteKeyValues(JsonWriter& w, std::string_view field, const std::vector<store::KeyValue>& kvs);
void WriteLoggedModel(JsonWriter& w, const store::LoggedModel& m);

// Reads [{key, value}, …] from `array` (may be null). `what` names the field in errors.
Result<std::vector<store::KeyValue>> ReadKeyValues(const JsonValue* array, std::string_view what);
// Reads [{key, value, timestamp, step, …}, …].
Result<std::vector<store::Metric>> ReadMetrics(const JsonValue* array);
Result<std::vector<store::DatasetInput>> ReadDatasetInputs(const JsonValue* array);
Result<std::vector<store::ModelIo>> ReadModelIos(const JsonValue* array);

}  // namespace plinth::api

#endif  // PLINTH_API_MLFLOW_JSON_H_
