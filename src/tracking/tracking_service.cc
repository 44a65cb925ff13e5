#include "tracking/tracking_service.h"

#include <cmath>
#include <unordered_map>

#include "core/base64.h"
#include "core/ids.h"
#include "core/json.h"
#include "tracking/search_filter.h"

namespace plinth::tracking {
namespace {

constexpr const char* kRunNameTag = "mlflow.runName";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '/' || c == '.' || c == '-' || c == ' ' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;  // \w in Python matches Unicode letters
}

// MLflow: a name must match ^[/\w.\- :]*$ and be a normalized relative path.
Status ValidateEntityName(const std::string& name, const char* entity) {
  std::string what = std::string(entity) + " name";
  if (name.empty()) {
    return InvalidArgument("Invalid " + what + ": ''. " + entity + " name must not be empty.");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidArgument("Invalid " + what + ": '" + name +
                             "'. Names may only contain alphanumerics, underscores (_), dashes "
                             "(-), periods (.), spaces ( ), colons (:) and slashes (/).");
    }
  }
  // normpath(name) == name: no leading '/', no '//', no '.' or '..' segments, no trailing '/'.
  bool bad_path = name.front() == '/' || name.back() == '/' || name.find("//") != std::string::npos;
  size_t i = 0;
  while (!bad_path && i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    std::string_view seg(name.data() + i, j - i);
    if (seg == "." || seg == "..") bad_path = true;
    i = j + 1;
  }
  if (bad_path) {
    return InvalidArgument("Invalid " + what + ": '" + name +
                           "'. Names may be treated as files in certain cases, and must not "
                           "resolve to other names when treated as such. Names cannot contain "
                           "path components like '..', '.', leading or trailing '/', or '//'.");
  }
  if (name.size() > kMaxEntityKeyLength) {
    return InvalidArgument("'key' exceeds the maximum length of " +
                           std::to_string(kMaxEntityKeyLength) + " characters (got " +
                           std::to_string(name.size()) + ")");
  }
  return Status::Ok();
}

// MLflow's server truncates over-long param and run-tag values (MLFLOW_TRUNCATE_LONG_VALUES, on
// by default) rather than refusing them. Cuts at a UTF-8 character boundary.
void TruncateValue(std::string* value, size_t limit) {
  if (value->size() <= limit) return;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>((*value)[cut]) & 0xC0) == 0x80) --cut;
  value->resize(cut);
}

Status ValidateLength(const std::string& value, size_t limit, const char* what,
                      const std::string& key) {
  if (value.size() > limit) {
    return InvalidArgument(std::string(what) + " value '" + value.substr(0, 32) + "...' for key '" +
                           key + "' had length " + std::to_string(value.size()) +
                           ", which exceeded length limit of " + std::to_string(limit));
  }
  return Status::Ok();
}

Status ValidateExperimentName(const std::string& name) {
  if (name.empty()) {
    return InvalidArgument(
        "Invalid experiment name: ''. Experiment name must be a non-empty string.");
  }
  if (name.size() > kMaxExperimentNameLength) {
    return InvalidArgument("'name' exceeds the maximum length of " +
                           std::to_string(kMaxExperimentNameLength) + " characters (got " +
                           std::to_string(name.size()) + ")");
  }
  return Status::Ok();
}

Status ValidateMaxResults(int64_t max_results, int64_t limit, const char* what) {
  if (max_results <= 0) {
    return InvalidArgument(std::string("Invalid value ") + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be a positive "
                           "integer.");
  }
  if (max_results > limit) {
    return InvalidArgument(std::string("Invalid value ") + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(limit) + " for " + what + ".");
  }
  return Status::Ok();
}

// A store page as the API returns it: the next token points just past this page.
template <typename T>
Paged<T> ToPaged(std::vector<T> items, bool has_more, int64_t offset, int64_t max_results) {
  Paged<T> out;
  out.items = std::move(items);
  if (has_more) {
    out.next_page_token = EncodePageToken(offset + max_results);
  }
  return out;
}

}  // namespace

Status ValidateMetricName(const std::string& name) { return ValidateEntityName(name, "Metric"); }
Status ValidateParamName(const std::string& name) { return ValidateEntityName(name, "Param"); }
Status ValidateTagName(const std::string& name) { return ValidateEntityName(name, "Tag"); }

std::string EncodePageToken(int64_t offset) {
  return Base64Encode("{\"offset\": " + std::to_string(offset) + "}");
}

Result<int64_t> DecodePageToken(const std::string& token) {
  if (token.empty()) {
    return int64_t{0};
  }
  auto bad =
      InvalidArgument("Invalid page token, could not base64-decode or parse '" + token + "'");
  auto decoded = Base64Decode(token);
  if (!decoded) {
    return bad;
  }
  JsonDocument doc;
  if (!ParseJson(*decoded, &doc).ok() || !doc.IsObject()) {
    return bad;
  }
  auto offset = JsonGetInt64(doc, "offset");
  if (!offset.ok() || !offset->has_value() || **offset < 0) {
    return bad;
  }
  return **offset;
}

TrackingService::TrackingService(store::MetadataStore* store, Clock* clock, TrackingOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

// ---------------------------------------------------------------- experiments

Result<std::string> TrackingService::CreateExperiment(const std::string& name,
                                                      const std::string& artifact_location,
                                                      const std::vector<KeyValue>& tags) {
  PLINTH_RETURN_IF_ERROR(ValidateExperimentName(name));
  for (const KeyValue& t : tags) {
    PLINTH_RETURN_IF_ERROR(ValidateTagName(t.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength(t.value, kMaxExperimentTagValueLength, "Tag", t.key));
  }
  Experiment e;
  e.name = name;
  e.artifact_location = artifact_location;
  e.creation_time = clock_->NowMillis();
  e.last_update_time = e.creation_time;
  e.tags = tags;
  return store_->CreateExperiment(e, options_.default_artifact_root);
}

Result<Experiment> TrackingService::GetExperiment(const std::string& experiment_id) {
  return store_->GetExperiment(experiment_id);
}

Result<Experiment> TrackingService::GetExperimentByName(const std::string& name) {
  return store_->GetExperimentByName(name);
}

Result<Paged<Experiment>> TrackingService::SearchExperiments(
    const SearchExperimentsRequest& request) {
  PLINTH_RETURN_IF_ERROR(
      ValidateMaxResults(request.max_results, kMaxSearchExperimentsResults, "search_experiments"));
  store::ExperimentSearch search;
  PLINTH_ASSIGN_OR_RETURN(search.filter, ParseExperimentFilter(request.filter));
  PLINTH_ASSIGN_OR_RETURN(search.order_by, ParseExperimentOrderBy(request.order_by));
  search.view_type = request.view_type;
  search.max_results = request.max_results;
  PLINTH_ASSIGN_OR_RETURN(search.offset, DecodePageToken(request.page_token));
  PLINTH_ASSIGN_OR_RETURN(store::ExperimentPage page, store_->SearchExperiments(search));
  return ToPaged(std::move(page.experiments), page.has_more, search.offset, search.max_results);
}

Status TrackingService::RenameExperiment(const std::string& experiment_id,
                                         const std::string& new_name) {
  PLINTH_RETURN_IF_ERROR(ValidateExperimentName(new_name));
  return store_->RenameExperiment(experiment_id, new_name, clock_->NowMillis());
}

Status TrackingService::DeleteExperiment(const std::string& experiment_id) {
  if (experiment_id == "0") {
    return InvalidArgument(
        "Cannot delete the default experiment '0'. This is an internally "
        "reserved experiment.");
  }
  return store_->SetExperimentLifecycle(experiment_id, store::LifecycleStage::kDeleted,
                                        clock_->NowMillis());
}

Status TrackingService::RestoreExperiment(const std::string& experiment_id) {
  return store_->SetExperimentLifecycle(experiment_id, store::LifecycleStage::kActive,
                                        clock_->NowMillis());
}

Status TrackingService::SetExperimentTag(const std::string& experiment_id, const KeyValue& tag) {
  PLINTH_RETURN_IF_ERROR(ValidateTagName(tag.key));
  PLINTH_RETURN_IF_ERROR(ValidateLength(tag.value, kMaxExperimentTagValueLength, "Tag", tag.key));
  return store_->SetExperimentTag(experiment_id, tag);
}

Status TrackingService::DeleteExperimentTag(const std::string& experiment_id,
                                            const std::string& key) {
  return store_->DeleteExperimentTag(experiment_id, key);
}

// ---------------------------------------------------------------- runs

Result<std::string> TrackingService::ArtifactLocationOf(const std::string& experiment_id) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = artifact_locations_.find(experiment_id);
    if (it != artifact_locations_.end()) {
      return it->second;
    }
  }
  PLINTH_ASSIGN_OR_RETURN(Experiment experiment, store_->GetExperiment(experiment_id));
  std::lock_guard<std::mutex> lock(cache_mu_);
  artifact_locations_[experiment_id] = experiment.artifact_location;
  return experiment.artifact_location;
}

Result<Run> TrackingService::CreateRun(const CreateRunRequest& request) {
  std::string experiment_id = request.experiment_id.empty() ? "0" : request.experiment_id;
  // The store checks in the same transaction that the experiment exists and is active.
  PLINTH_ASSIGN_OR_RETURN(std::string artifact_location, ArtifactLocationOf(experiment_id));
  std::string run_name = request.run_name;
  for (const KeyValue& t : request.tags) {
    PLINTH_RETURN_IF_ERROR(ValidateTagName(t.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength(t.value, kMaxTagValueLength, "Tag", t.key));
    if (t.key == kRunNameTag) {
      if (!run_name.empty() && run_name != t.value) {
        return InvalidArgument(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, "
            "but with different values (run_name='" +
            run_name + "', mlflow.runName='" + t.value + "').");
      }
      run_name = t.value;
    }
  }
  if (run_name.empty()) {
    run_name = NewRunName();
  }
  Run run;
  run.info.run_id = NewRunId();
  run.info.run_name = run_name;
  run.info.experiment_id = experiment_id;
  run.info.user_id = request.user_id;
  run.info.status = store::RunStatus::kRunning;
  run.info.start_time = request.start_time.value_or(clock_->NowMillis());
  run.info.artifact_uri = artifact_location + "/" + run.info.run_id + "/artifacts";
  run.tags = request.tags;
  bool has_name_tag = false;
  for (const KeyValue& t : run.tags) has_name_tag |= t.key == kRunNameTag;
  if (!has_name_tag) {
    run.tags.push_back({kRunNameTag, run_name});
  }
  PLINTH_RETURN_IF_ERROR(store_->CreateRun(run));
  return run;
}

Result<Run> TrackingService::GetRun(const std::string& run_id) { return store_->GetRun(run_id); }

Result<RunInfo> TrackingService::UpdateRun(const std::string& run_id,
                                           const store::RunUpdate& update) {
  return store_->UpdateRun(run_id, update);
}

Status TrackingService::DeleteRun(const std::string& run_id) {
  return store_->SetRunLifecycle(run_id, store::LifecycleStage::kDeleted, clock_->NowMillis());
}

Status TrackingService::RestoreRun(const std::string& run_id) {
  return store_->SetRunLifecycle(run_id, store::LifecycleStage::kActive, clock_->NowMillis());
}

Status TrackingService::LogBatch(const std::string& run_id, std::vector<Metric> metrics,
                                 std::vector<KeyValue> params, std::vector<KeyValue> tags) {
  if (metrics.size() > kMaxBatchMetrics) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxBatchMetrics) + " metrics. Got " +
                           std::to_string(metrics.size()) +
                           " metrics. Please split up metrics across multiple requests and try "
                           "again.");
  }
  if (params.size() > kMaxBatchParams) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxBatchParams) + " params. Got " +
                           std::to_string(params.size()) +
                           " params. Please split up params across multiple requests and try "
                           "again.");
  }
  if (tags.size() > kMaxBatchTags) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxBatchTags) + " tags. Got " +
                           std::to_string(tags.size()) +
                           " tags. Please split up tags across multiple requests and try again.");
  }
  size_t total = metrics.size() + params.size() + tags.size();
  if (total > kMaxBatchEntities) {
    return InvalidArgument("A batch logging request can contain at most " +
                           std::to_string(kMaxBatchEntities) +
                           " metrics, params, and tags in total. Got " + std::to_string(total) +
                           " entities. Please split up entities across multiple requests and "
                           "try again.");
  }
  for (const Metric& m : metrics) {
    PLINTH_RETURN_IF_ERROR(ValidateMetricName(m.key));
  }
  std::unordered_map<std::string_view, std::string_view> seen_params;
  for (KeyValue& p : params) {
    PLINTH_RETURN_IF_ERROR(ValidateParamName(p.key));
    TruncateValue(&p.value, kMaxParamValueLength);
    auto [it, inserted] = seen_params.emplace(p.key, p.value);
    if (!inserted && it->second != p.value) {
      return InvalidArgument("Duplicate parameter keys have been submitted: ['" + p.key +
                             "']. Please ensure the request contains only one param value per "
                             "param key.");
    }
  }
  for (KeyValue& t : tags) {
    PLINTH_RETURN_IF_ERROR(ValidateTagName(t.key));
    TruncateValue(&t.value, kMaxTagValueLength);
  }
  return store_->LogBatch(run_id, metrics, params, tags);
}

Status TrackingService::DeleteTag(const std::string& run_id, const std::string& key) {
  return store_->DeleteTag(run_id, key);
}

Status TrackingService::LogInputs(const std::string& run_id,
                                  const std::vector<DatasetInput>& datasets,
                                  const std::vector<ModelIo>& models) {
  for (const DatasetInput& d : datasets) {
    if (d.dataset.name.empty() || d.dataset.digest.empty()) {
      return InvalidArgument("Dataset name and digest are required for log_inputs");
    }
  }
  return store_->LogInputs(run_id, datasets, models);
}

Status TrackingService::LogOutputs(const std::string& run_id, const std::vector<ModelIo>& models) {
  return store_->LogOutputs(run_id, models);
}

Result<Paged<Metric>> TrackingService::GetMetricHistory(const std::string& run_id,
                                                        const std::string& key,
                                                        std::optional<int64_t> max_results,
                                                        const std::string& page_token) {
  PLINTH_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  Paged<Metric> out;
  if (!max_results) {
    // No page size: the whole history, read in pages so no single query is unbounded.
    for (;;) {
      PLINTH_ASSIGN_OR_RETURN(store::MetricPage page,
                              store_->GetMetricHistory(run_id, key, 100000, offset));
      offset += static_cast<int64_t>(page.metrics.size());
      for (Metric& m : page.metrics) out.items.push_back(std::move(m));
      if (!page.has_more) break;
    }
    return out;
  }
  if (*max_results <= 0) {
    return InvalidArgument("Invalid value for parameter 'max_results': must be positive");
  }
  PLINTH_ASSIGN_OR_RETURN(store::MetricPage page,
                          store_->GetMetricHistory(run_id, key, *max_results, offset));
  out.items = std::move(page.metrics);
  if (page.has_more) {
    out.next_page_token = EncodePageToken(offset + *max_results);
  }
  return out;
}

Result<std::vector<Metric>> TrackingService::GetMetricHistoryBulkInterval(
    const std::vector<std::string>& run_ids, const std::string& key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step,
    std::optional<int64_t> max_results) {
  if (run_ids.empty()) {
    return InvalidArgument(
        "GetMetricHistoryBulkInterval request must specify at least one run_id.");
  }
  if (run_ids.size() > 100) {
    return InvalidArgument(
        "GetMetricHistoryBulkInterval request cannot specify more than 100 "
        "run_ids. Received " +
        std::to_string(run_ids.size()) + " run_ids.");
  }
  if (start_step && end_step && *start_step > *end_step) {
    return InvalidArgument("end_step must be greater than start_step. Found start_step=" +
                           std::to_string(*start_step) +
                           " and end_step=" + std::to_string(*end_step) + ".");
  }
  if (start_step.has_value() != end_step.has_value()) {
    return InvalidArgument(
        "If either start step or end step are specified, both must be specified.");
  }
  // MLflow's default and cap (MAX_RESULTS_PER_RUN): points per run, not in all.
  int64_t limit = max_results.value_or(2500);
  if (limit <= 0 || limit > 2500) {
    return InvalidArgument("max_results must be between 1 and 2500.");
  }
  for (const std::string& id : run_ids) {
    PLINTH_ASSIGN_OR_RETURN(Run run, store_->GetRun(id));
    (void)run;
  }
  return store_->GetMetricHistorySampled(run_ids, key, start_step, end_step, limit);
}

Result<Paged<Run>> TrackingService::SearchRuns(const SearchRunsRequest& request) {
  PLINTH_RETURN_IF_ERROR(
      ValidateMaxResults(request.max_results, kMaxSearchRunsResults, "search_runs"));
  store::RunSearch search;
  search.experiment_ids = request.experiment_ids;
  PLINTH_ASSIGN_OR_RETURN(search.filter, ParseRunFilter(request.filter));
  PLINTH_ASSIGN_OR_RETURN(search.order_by, ParseRunOrderBy(request.order_by));
  search.view_type = request.view_type;
  search.max_results = request.max_results;
  PLINTH_ASSIGN_OR_RETURN(search.offset, DecodePageToken(request.page_token));
  PLINTH_ASSIGN_OR_RETURN(store::RunPage page, store_->SearchRuns(search));
  return ToPaged(std::move(page.runs), page.has_more, search.offset, search.max_results);
}

// ---------------------------------------------------------------- logged models

Result<LoggedModel> TrackingService::CreateLoggedModel(LoggedModel model) {
  std::string experiment_id = model.experiment_id.empty() ? "0" : model.experiment_id;
  PLINTH_ASSIGN_OR_RETURN(Experiment experiment, store_->GetExperiment(experiment_id));
  model.experiment_id = experiment_id;
  model.model_id = NewLoggedModelId();
  if (model.name.empty()) {
    model.name = NewRunName();
  }
  for (const KeyValue& t : model.tags) {
    PLINTH_RETURN_IF_ERROR(ValidateTagName(t.key));
  }
  for (const KeyValue& p : model.params) {
    PLINTH_RETURN_IF_ERROR(ValidateParamName(p.key));
  }
  model.artifact_uri = experiment.artifact_location + "/models/" + model.model_id + "/artifacts";
  model.status = store::LoggedModelStatus::kPending;
  model.creation_timestamp_ms = clock_->NowMillis();
  model.last_updated_timestamp_ms = model.creation_timestamp_ms;
  PLINTH_RETURN_IF_ERROR(store_->CreateLoggedModel(model));
  return store_->GetLoggedModel(model.model_id);
}

Result<LoggedModel> TrackingService::GetLoggedModel(const std::string& model_id) {
  return store_->GetLoggedModel(model_id);
}

Result<LoggedModel> TrackingService::FinalizeLoggedModel(const std::string& model_id,
                                                         store::LoggedModelStatus status) {
  PLINTH_RETURN_IF_ERROR(store_->SetLoggedModelStatus(model_id, status, "", clock_->NowMillis()));
  return store_->GetLoggedModel(model_id);
}

Status TrackingService::DeleteLoggedModel(const std::string& model_id) {
  return store_->DeleteLoggedModel(model_id, clock_->NowMillis());
}

Result<LoggedModel> TrackingService::SetLoggedModelTags(const std::string& model_id,
                                                        const std::vector<KeyValue>& tags) {
  for (const KeyValue& t : tags) {
    PLINTH_RETURN_IF_ERROR(ValidateTagName(t.key));
  }
  PLINTH_RETURN_IF_ERROR(store_->SetLoggedModelTags(model_id, tags, clock_->NowMillis()));
  return store_->GetLoggedModel(model_id);
}

Status TrackingService::DeleteLoggedModelTag(const std::string& model_id, const std::string& key) {
  return store_->DeleteLoggedModelTag(model_id, key);
}

Status TrackingService::LogLoggedModelParams(const std::string& model_id,
                                             const std::vector<KeyValue>& params) {
  for (const KeyValue& p : params) {
    PLINTH_RETURN_IF_ERROR(ValidateParamName(p.key));
    PLINTH_RETURN_IF_ERROR(ValidateLength(p.value, kMaxParamValueLength, "Param", p.key));
  }
  return store_->LogLoggedModelParams(model_id, params);
}

Result<Paged<LoggedModel>> TrackingService::SearchLoggedModels(
    const SearchLoggedModelsRequest& request) {
  PLINTH_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, 1000, "search_logged_models"));
  store::LoggedModelSearch search;
  search.experiment_ids = request.experiment_ids;
  PLINTH_ASSIGN_OR_RETURN(search.filter, ParseLoggedModelFilter(request.filter));
  search.order_by = request.order_by;
  search.max_results = request.max_results;
  PLINTH_ASSIGN_OR_RETURN(search.offset, DecodePageToken(request.page_token));
  PLINTH_ASSIGN_OR_RETURN(store::LoggedModelPage page, store_->SearchLoggedModels(search));
  return ToPaged(std::move(page.models), page.has_more, search.offset, search.max_results);
}

}  // namespace plinth::tracking
