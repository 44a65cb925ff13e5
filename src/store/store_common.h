// Helpers both MetadataStore backends share (SqliteStore, PgStore): id parsing, MLflow's error
// messages, the stored form of metric values, and the SELECT column lists. Internal to store/.
#ifndef PLINTH_STORE_STORE_COMMON_H_
#define PLINTH_STORE_STORE_COMMON_H_

#include <algorithm>
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

// ---- Sampled metric history (get-history-bulk-interval)
//
// MLflow's SQL store samples a run's history by row: of the `total` points in the step range,
// ordered by (step, timestamp, value, is_nan), it keeps the first point of each of
// NTILE(max_results)'s buckets and puts the last point in place of the last bucket's, so the
// first and last points are always there (SqlAlchemyStore.get_metric_history_bulk_interval,
// MLflow 3.17). Which ordinals that keeps, ascending; every ordinal when total <= max_results.
// `max_results` >= 1.
inline std::vector<int64_t> SampledOrdinals(int64_t total, int64_t max_results) {
  std::vector<int64_t> out;
  if (total <= 0) return out;
  if (total <= max_results) {
    out.reserve(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) out.push_back(i);
    return out;
  }
  // NTILE(k) over n rows: the first n % k buckets hold n / k + 1 rows, the others n / k.
  const int64_t q = total / max_results;
  const int64_t r = total % max_results;
  out.reserve(static_cast<size_t>(max_results));
  for (int64_t b = 0; b + 1 < max_results; ++b) out.push_back(b * q + std::min(b, r));
  out.push_back(total - 1);
  return out;
}

// One point of a sampled history: the columns MLflow's sampled answer carries.
struct SampledPoint {
  int64_t step = 0;
  int64_t timestamp = 0;
  double value = 0;  // as stored: see StoredValue
  int64_t is_nan = 0;
  bool operator==(const SampledPoint&) const = default;
};

// The first point at or after a target step, and whether the point after it has the same step.
struct StepSeek {
  SampledPoint point;
  bool step_repeats = false;
};

// Samples one run's history of one key within a step range, as SampledOrdinals says, without
// reading every point when it need not. `Source` answers over the points in range, ordered by
// (step, timestamp, value, is_nan), from an index on (run_key, key, step, ...):
//   Result<std::vector<SampledPoint>> Head(int64_t n)   the first n points
//   Result<SampledPoint> Last()                         the last point (the range is not empty)
//   Result<std::vector<StepSeek>> FirstAtOrAfter(const std::vector<int64_t>& steps)
//                                   for each step (ascending, all <= the last point's step) the
//                                   first point whose step is >= it
//   Result<int64_t> Count()
//   Result<std::vector<SampledPoint>> AtOrdinals(const std::vector<int64_t>& ordinals)
// The usual history has one point per step, every step logged. Then the point at ordinal i is
// the one at step first + i, so the sample is found by max_results index seeks (O(k log n)) and
// is exactly MLflow's. Where steps are missing, the same seeks give points evenly spaced over
// the step range (first and last kept): what a chart over steps wants, and MLflow's sample up to
// a neighbouring point. Where a step is seen to hold several points (in the first k, or at a
// sampled step), or the seeks find fewer distinct points than asked, ordinals and steps part
// ways: the range is counted and MLflow's rows picked in one ordered index scan (O(n)).
template <typename Source>
Result<std::vector<SampledPoint>> SampleMetricHistory(Source& source, int64_t max_results) {
  PLINTH_ASSIGN_OR_RETURN(std::vector<SampledPoint> head, source.Head(max_results + 1));
  if (static_cast<int64_t>(head.size()) <= max_results) return head;
  bool repeats = false;
  for (size_t i = 1; i < head.size() && !repeats; ++i) repeats = head[i].step == head[i - 1].step;
  PLINTH_ASSIGN_OR_RETURN(SampledPoint last, source.Last());
  const int64_t first_step = head.front().step;
  int64_t span = 0;
  if (!repeats && !__builtin_sub_overflow(last.step, first_step, &span) &&
      span < std::numeric_limits<int64_t>::max()) {
    std::vector<int64_t> targets = SampledOrdinals(span + 1, max_results);
    targets.pop_back();  // the last step is `last`
    for (int64_t& t : targets) t += first_step;
    PLINTH_ASSIGN_OR_RETURN(std::vector<StepSeek> found, source.FirstAtOrAfter(targets));
    std::vector<SampledPoint> out;
    out.reserve(found.size() + 1);
    for (const StepSeek& f : found) {
      if (f.step_repeats) {
        repeats = true;
        break;
      }
      if (out.empty() || out.back().step != f.point.step) out.push_back(f.point);
    }
    if (!repeats && out.size() == targets.size()) {
      if (out.empty() || !(out.back() == last)) out.push_back(last);
      return out;
    }
  }
  PLINTH_ASSIGN_OR_RETURN(int64_t total, source.Count());
  return source.AtOrdinals(SampledOrdinals(total, max_results));
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
