// TrackingService: the tracking engine. It validates requests the way MLflow does (names,
// lengths, batch limits, run-name/tag agreement), fills in what the server decides (ids, run
// names, artifact locations, times), parses search filters and page tokens, and calls the
// MetadataStore. It knows nothing of HTTP. Thread-safe. Its only state is a cache of
// experiments' artifact locations, which never change once created, so replicas sharing one
// database can each hold their own.
#ifndef PLINTH_TRACKING_TRACKING_SERVICE_H_
#define PLINTH_TRACKING_TRACKING_SERVICE_H_

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"

namespace plinth::tracking {

using store::DatasetInput;
using store::Experiment;
using store::KeyValue;
using store::LoggedModel;
using store::Metric;
using store::ModelIo;
using store::Run;
using store::RunInfo;

// MLflow's limits (mlflow/utils/validation.py).
inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentTagValueLength = 20000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr size_t kMaxBatchMetrics = 1000;
inline constexpr size_t kMaxBatchParams = 100;
inline constexpr size_t kMaxBatchTags = 100;
inline constexpr size_t kMaxBatchEntities = 1000;
inline constexpr int64_t kMaxSearchRunsResults = 50000;
inline constexpr int64_t kMaxSearchExperimentsResults = 50000;

struct TrackingOptions {
  // Root for new experiments' artifact locations: "mlflow-artifacts:" gives
  // "mlflow-artifacts:/<experiment_id>", as `mlflow server` with the artifact proxy.
  std::string default_artifact_root = "mlflow-artifacts:";
};

struct CreateRunRequest {
  std::string experiment_id;
  std::string user_id;
  std::string run_name;
  std::optional<int64_t> start_time;
  std::vector<KeyValue> tags;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<std::string> order_by;
  store::ViewType view_type = store::ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::string page_token;
};

struct SearchExperimentsRequest {
  std::string filter;
  std::vector<std::string> order_by;
  store::ViewType view_type = store::ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::string page_token;
};

struct SearchLoggedModelsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<store::OrderBy> order_by;
  int64_t max_results = 50;
  std::string page_token;
};

template <typename T>
struct Paged {
  std::vector<T> items;
  std::string next_page_token;  // empty when there is no next page
};

class TrackingService {
 public:
  TrackingService(store::MetadataStore* store, Clock* clock, TrackingOptions options);

  // Experiments. Failures as the store's, plus kInvalidArgument for bad names and tags.
  Result<std::string> CreateExperiment(const std::string& name,
                                       const std::string& artifact_location,
                                       const std::vector<KeyValue>& tags);
  Result<Experiment> GetExperiment(const std::string& experiment_id);
  Result<Experiment> GetExperimentByName(const std::string& name);
  Result<Paged<Experiment>> SearchExperiments(const SearchExperimentsRequest& request);
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name);
  Status DeleteExperiment(const std::string& experiment_id);
  Status RestoreExperiment(const std::string& experiment_id);
  Status SetExperimentTag(const std::string& experiment_id, const KeyValue& tag);
  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key);

  // Runs.
  Result<Run> CreateRun(const CreateRunRequest& request);
  Result<Run> GetRun(const std::string& run_id);
  Result<RunInfo> UpdateRun(const std::string& run_id, const store::RunUpdate& update);
  Status DeleteRun(const std::string& run_id);
  Status RestoreRun(const std::string& run_id);
  Status LogBatch(const std::string& run_id, std::vector<Metric> metrics,
                  std::vector<KeyValue> params, std::vector<KeyValue> tags);
  Status DeleteTag(const std::string& run_id, const std::string& key);
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelIo>& models);
  Status LogOutputs(const std::string& run_id, const std::vector<ModelIo>& models);
  // `max_results` absent: the whole history.
  Result<Paged<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                         std::optional<int64_t> max_results,
                                         const std::string& page_token);
  Result<std::vector<Metric>> GetMetricHistoryBulkInterval(const std::vector<std::string>& run_ids,
                                                           const std::string& key,
                                                           std::optional<int64_t> start_step,
                                                           std::optional<int64_t> end_step,
                                                           std::optional<int64_t> max_results);
  Result<Paged<Run>> SearchRuns(const SearchRunsRequest& request);

  // Logged models (MLflow 3).
  Result<LoggedModel> CreateLoggedModel(LoggedModel model);
  Result<LoggedModel> GetLoggedModel(const std::string& model_id);
  Result<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                          store::LoggedModelStatus status);
  Status DeleteLoggedModel(const std::string& model_id);
  Result<LoggedModel> SetLoggedModelTags(const std::string& model_id,
                                         const std::vector<KeyValue>& tags);
  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key);
  Status LogLoggedModelParams(const std::string& model_id, const std::vector<KeyValue>& params);
  Result<Paged<LoggedModel>> SearchLoggedModels(const SearchLoggedModelsRequest& request);

  Clock* clock() const { return clock_; }

  // Whether the metadata store answers (readiness).
  Status PingStore() { return store_->Ping(); }

 private:
  // The experiment's artifact location, from the cache or the store. Failure: kNotFound.
  Result<std::string> ArtifactLocationOf(const std::string& experiment_id);

  store::MetadataStore* store_;
  Clock* clock_;
  TrackingOptions options_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::string> artifact_locations_;  // guarded by cache_mu_
};

// Validation shared with other engines.
Status ValidateMetricName(const std::string& name);
Status ValidateParamName(const std::string& name);
Status ValidateTagName(const std::string& name);

// Page tokens are base64 JSON {"offset": N}, as MLflow's SQL store issues them.
std::string EncodePageToken(int64_t offset);
Result<int64_t> DecodePageToken(const std::string& token);

}  // namespace plinth::tracking

#endif  // PLINTH_TRACKING_TRACKING_SERVICE_H_
