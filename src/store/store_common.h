// Helpers both MetadataStore backends share (SqliteStore, PgStore): id parsing, MLflow's error
// messages, the stored form of metric values, and the SELECT column lists. Internal to store/.
#ifndef PLINTH_STORE_STORE_COMMON_H_
#define PLINTH_STORE_STORE_COMMON_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace plinth::store {

// Experiment ids are integers in the database and strings on the wire.
inline std::optional<int64_t> ParseExperimentId(const std::string& id) {
  if (id.empty() || id.size() > 18) {
    return std::nullopt;
  }
  int64_t out = 0;
  for (char c : id) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    out = out * 10 + (c - '0');
  }
  return out;
}

// "(1,2,3)" for the SQL IN list of `ids`; nullopt when none of them can exist (non-numeric ids
// match nothing, as in MLflow).
inline std::optional<std::string> ExperimentIdList(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& text : ids) {
    if (auto id = ParseExperimentId(text)) {
      out += out.empty() ? "(" : ",";
      out += std::to_string(*id);
    }
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out + ")";
}

inline Status ExperimentNotFound(const std::string& id) {
  return NotFound("No Experiment with id=" + id + " exists");
}
inline Status RunNotFound(const std::string& id) {
  return NotFound("Run with id=" + id + " not found");
}
inline Status LoggedModelNotFound(const std::string& id) {
  return NotFound("Logged model with ID '" + id + "' not found.");
}
inline Status ExperimentNameTaken(const std::string& name) {
  return AlreadyExists("Experiment(name=" + name + ") already exists.");
}
inline Status NotActive(const char* what, const std::string& id, const std::string& stage) {
  return InvalidArgument(std::string("The ") + what + " " + id +
                         " must be in the 'active' state. Current state is " + stage + ".");
}
inline Status ParamChanged(const std::string& key, const std::string& old, const std::string& value,
                           const std::string& run_id) {
  return InvalidArgument("Changing param values is not allowed. Param with key='" + key +
                         "' was already logged with value='" + old + "' for run ID='" + run_id +
                         "'. Attempted logging new value '" + value + "'.");
}
inline Status SchemaTooNew(int current, int latest) {
  return FailedPrecondition("database schema version " + std::to_string(current) +
                            " is newer than this plinth binary knows (" + std::to_string(latest) +
                            "); upgrade plinth");
}

// Stored metric value, as MLflow's SQL store keeps it: NaN as 0 with is_nan=1, and ±Infinity
// clamped to ±DBL_MAX (so `mlflow server` and plinth read back the same numbers).
inline std::pair<double, int> StoredValue(double v) {
  if (std::isnan(v)) {
    return {0.0, 1};
  }
  if (std::isinf(v)) {
    return {v > 0 ? std::numeric_limits<double>::max() : std::numeric_limits<double>::lowest(), 0};
  }
  return {v, 0};
}
inline double LoadedValue(double v, int64_t is_nan) {
  return is_nan ? std::numeric_limits<double>::quiet_NaN() : v;
}

inline std::string LifecycleClause(const char* column, ViewType view) {
  switch (view) {
    case ViewType::kActiveOnly:
      return std::string(column) + "='active'";
    case ViewType::kDeletedOnly:
      return std::string(column) + "='deleted'";
    case ViewType::kAll:
      return "1=1";
  }
  return "1=1";
}

// SELECT lists shared by both backends' row readers.
inline constexpr const char* kExperimentSelect =
    "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
    "last_update_time";
inline constexpr const char* kRunSelect =
    "SELECT r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, "
    "r.end_time, r.artifact_uri, r.lifecycle_stage, r.run_key";
inline constexpr int kRunKeyColumn = 9;
inline constexpr const char* kModelSelect =
    "SELECT m.model_id, m.experiment_id, m.name, m.artifact_uri, m.status, m.status_message, "
    "m.model_type, m.source_run_id, m.creation_timestamp_ms, m.last_updated_timestamp_ms";
inline constexpr const char* kMetricSelect =
    "SELECT key, value, timestamp, step, is_nan, model_id, dataset_name, dataset_digest";

// Row readers over any cursor with Text/Int64/Double/OptInt64(col) accessors.
template <typename Row>
Experiment ExperimentFromRow(const Row& s) {
  Experiment e;
  e.experiment_id = std::to_string(s.Int64(0));
  e.name = s.Text(1);
  e.artifact_location = s.Text(2);
  e.lifecycle_stage = s.Text(3) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  e.creation_time = s.Int64(4);
  e.last_update_time = s.Int64(5);
  return e;
}

template <typename Row>
RunInfo RunInfoFromRow(const Row& s) {
  RunInfo i;
  i.run_id = s.Text(0);
  i.run_name = s.Text(1);
  i.experiment_id = std::to_string(s.Int64(2));
  i.user_id = s.Text(3);
  i.status = ParseRunStatus(s.Text(4)).value_or(RunStatus::kRunning);
  i.start_time = s.Int64(5);
  i.end_time = s.OptInt64(6);
  i.artifact_uri = s.Text(7);
  i.lifecycle_stage = s.Text(8) == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  return i;
}

template <typename Row>
Metric MetricFromRow(const Row& s) {
  Metric m;
  m.key = s.Text(0);
  m.value = LoadedValue(s.Double(1), s.Int64(4));
  m.timestamp = s.Int64(2);
  m.step = s.Int64(3);
  m.model_id = s.Text(5);
  m.dataset_name = s.Text(6);
  m.dataset_digest = s.Text(7);
  return m;
}

template <typename Row>
LoggedModel LoggedModelFromRow(const Row& s) {
  LoggedModel m;
  m.model_id = s.Text(0);
  m.experiment_id = std::to_string(s.Int64(1));
  m.name = s.Text(2);
  m.artifact_uri = s.Text(3);
  m.status = ParseLoggedModelStatus(s.Text(4)).value_or(LoggedModelStatus::kPending);
  m.status_message = s.Text(5);
  m.model_type = s.Text(6);
  m.source_run_id = s.Text(7);
  m.creation_timestamp_ms = s.Int64(8);
  m.last_updated_timestamp_ms = s.Int64(9);
  return m;
}

// One row of the dataset-inputs query (run_key, dataset_uuid, name, digest, source_type, source,
// schema, profile, tag key, tag value), rows of one input together: starts a new input when the
// dataset changes, then adds the row's tag. `last` remembers each run's current dataset.
template <typename Row>
void AddDatasetInputRow(const Row& s, Run& r, std::unordered_map<const Run*, int64_t>* last) {
  int64_t dataset_uuid = s.Int64(1);
  auto it = last->find(&r);
  if (it == last->end() || it->second != dataset_uuid) {
    DatasetInput in;
    in.dataset.name = s.Text(2);
    in.dataset.digest = s.Text(3);
    in.dataset.source_type = s.Text(4);
    in.dataset.source = s.Text(5);
    in.dataset.schema = s.Text(6);
    in.dataset.profile = s.Text(7);
    r.dataset_inputs.push_back(std::move(in));
    (*last)[&r] = dataset_uuid;
  }
  if (!s.IsNull(8)) {
    r.dataset_inputs.back().tags.push_back({s.Text(8), s.Text(9)});
  }
}

// One row of the run-models query (run_key, model_id, direction, step).
template <typename Row>
void AddModelIoRow(const Row& s, Run& r) {
  ModelIo io{s.Text(1), s.OptInt64(3)};
  if (s.Text(2) == "input") {
    io.step.reset();
    r.model_inputs.push_back(std::move(io));
  } else {
    r.model_outputs.push_back(std::move(io));
  }
}

// Evenly samples sorted distinct `steps` down to `max_results`, keeping the first and last.
inline std::vector<int64_t> SampleSteps(const std::vector<int64_t>& all, int64_t max_results) {
  std::vector<int64_t> chosen;
  if (static_cast<int64_t>(all.size()) <= max_results || max_results < 2) {
    chosen = all;
    if (max_results >= 1 && static_cast<int64_t>(chosen.size()) > max_results) {
      chosen.resize(static_cast<size_t>(max_results));
    }
    return chosen;
  }
  double stride = static_cast<double>(all.size() - 1) / static_cast<double>(max_results - 1);
  for (int64_t i = 0; i < max_results; ++i) {
    size_t idx = static_cast<size_t>(std::llround(static_cast<double>(i) * stride));
    if (chosen.empty() || chosen.back() != all[idx]) chosen.push_back(all[idx]);
  }
  return chosen;
}

// Permanent deletion (`plinth gc`), children before parents so foreign keys hold: statements
// with one parameter, the run's key (PurgeRunSql) or the experiment's id (PurgeExperimentSql).
// The same SQL runs on both backends.
inline constexpr const char* kRunChildTables[] = {
    "params",         "tags",       "metrics",    "metrics_staging",
    "latest_metrics", "input_tags", "run_inputs", "run_models",
};

inline const std::vector<std::string>& PurgeRunSql() {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> out;
    for (const char* table : kRunChildTables) {
      out.push_back(std::string("DELETE FROM ") + table + " WHERE run_key = ?");
    }
    out.push_back("DELETE FROM runs WHERE run_key = ?");
    return out;
  }();
  return sql;
}

inline const std::vector<std::string>& PurgeExperimentSql() {
  static const std::vector<std::string> sql = [] {
    std::vector<std::string> out;
    for (const char* table : kRunChildTables) {
      out.push_back(std::string("DELETE FROM ") + table +
                    " WHERE run_key IN (SELECT run_key FROM runs WHERE experiment_id = ?)");
    }
    out.push_back("DELETE FROM runs WHERE experiment_id = ?");
    for (const char* table : {"logged_model_tags", "logged_model_params"}) {
      out.push_back(std::string("DELETE FROM ") + table +
                    " WHERE model_id IN (SELECT model_id FROM logged_models WHERE "
                    "experiment_id = ?)");
    }
    out.push_back("DELETE FROM logged_models WHERE experiment_id = ?");
    out.push_back("DELETE FROM datasets WHERE experiment_id = ?");
    out.push_back("DELETE FROM experiment_tags WHERE experiment_id = ?");
    out.push_back("DELETE FROM experiments WHERE experiment_id = ?");
    return out;
  }();
  return sql;
}

inline Status NotDeleted(const char* what, const std::string& id) {
  return FailedPrecondition(std::string(what) + " " + id +
                            " is not in the deleted lifecycle stage; only deleted ones can be "
                            "permanently deleted");
}

}  // namespace plinth::store

#endif  // PLINTH_STORE_STORE_COMMON_H_
