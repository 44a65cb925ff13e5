// Plain records the MetadataStore reads and writes: experiments, runs, metrics, params, tags,
// dataset inputs and logged models, in MLflow's shapes. Value types, no behaviour.
#ifndef PLINTH_STORE_RECORDS_H_
#define PLINTH_STORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace plinth::store {

enum class LifecycleStage { kActive, kDeleted };
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };

struct KeyValue {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<KeyValue> tags;
};

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
  // Set only where MLflow sets them (bulk history, logged-model metrics).
  std::string run_id;
  std::string model_id;
  std::string dataset_name;
  std::string dataset_digest;
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;   // empty = unset
  std::string profile;  // empty = unset
};

struct DatasetInput {
  std::vector<KeyValue> tags;
  Dataset dataset;
};

struct ModelIo {
  std::string model_id;
  std::optional<int64_t> step;  // outputs only
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key
  std::vector<KeyValue> params;
  std::vector<KeyValue> tags;
  std::vector<DatasetInput> dataset_inputs;
  std::vector<ModelIo> model_inputs;
  std::vector<ModelIo> model_outputs;
};

enum class LoggedModelStatus { kUnspecified, kPending, kReady, kUploadFailed };

struct LoggedModel {
  std::string model_id;
  std::string experiment_id;
  std::string name;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string status_message;
  std::string model_type;
  std::string source_run_id;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::vector<KeyValue> tags;
  std::vector<KeyValue> params;
  std::vector<Metric> metrics;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_RECORDS_H_
