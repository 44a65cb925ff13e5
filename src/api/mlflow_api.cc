#include "api/mlflow_api.h"

#include <atomic>
#include <charconv>
#include <functional>
#include <memory>

#include "api/dataset_api.h"
#include "api/json_route.h"
#include "api/mlflow_json.h"
#include "api/registry_api.h"
#include "api/request_message.h"
#include "api/tune_api.h"
#include "core/log.h"
#include "store/metadata_store.h"

namespace plinth::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using http::Router;
using tracking::Paged;
using tracking::TrackingService;

constexpr const char* kArtifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts";
constexpr const char* kMlflowArtifactsScheme = "mlflow-artifacts:";

void EmptyObject(JsonWriter& w) {
  w.StartObject();
  w.EndObject();
}

Result<store::ViewType> ReadViewType(const RequestMessage& m, std::string_view field) {
  PLINTH_ASSIGN_OR_RETURN(auto v, m.String(field));
  if (!v || v->empty() || *v == "ACTIVE_ONLY" || *v == "1") return store::ViewType::kActiveOnly;
  if (*v == "DELETED_ONLY" || *v == "2") return store::ViewType::kDeletedOnly;
  if (*v == "ALL" || *v == "3") return store::ViewType::kAll;
  return InvalidArgument("Invalid value '" + *v + "' for parameter '" + std::string(field) +
                         "': expected ACTIVE_ONLY, DELETED_ONLY or ALL");
}

// run_id, or the deprecated run_uuid that older clients send.
Result<std::string> ReadRunId(const RequestMessage& m) {
  PLINTH_ASSIGN_OR_RETURN(auto id, m.String("run_id"));
  if (!id || id->empty()) {
    PLINTH_ASSIGN_OR_RETURN(id, m.String("run_uuid"));
  }
  if (!id || id->empty()) {
    return MissingParameter("run_id");
  }
  return std::move(*id);
}

// Maps an artifact URI this server manages to a path inside the artifact store.
std::optional<std::string> StorePathOf(const std::string& uri) {
  std::string_view u = uri;
  if (u.rfind(kMlflowArtifactsScheme, 0) != 0) return std::nullopt;
  u.remove_prefix(std::string_view(kMlflowArtifactsScheme).size());
  while (!u.empty() && u.front() == '/') u.remove_prefix(1);
  return std::string(u);
}

std::string GuessContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".json")) return "application/json";
  if (ends(".txt") || ends(".log") || ends(".md") || ends("MLmodel") || ends(".yaml") ||
      ends(".yml")) {
    return "text/plain";
  }
  if (ends(".csv")) return "text/csv";
  if (ends(".html")) return "text/html";
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

void WriteFileInfos(JsonWriter& w, const std::string& prefix,
                    const std::vector<artifacts::FileInfo>& files) {
  if (files.empty()) return;
  w.Key("files");
  w.StartArray();
  for (const auto& f : files) {
    w.StartObject();
    w.KeyString("path", prefix.empty() ? f.path : prefix + "/" + f.path);
    w.KeyBool("is_dir", f.is_dir);
    if (f.file_size) w.KeyInt64("file_size", *f.file_size);
    w.EndObject();
  }
  w.EndArray();
}

// Lists folder `rel` of the artifact root `root_uri` into `w`: the proxy's store for
// mlflow-artifacts: roots, a store opened on demand (one per bucket) for s3:// roots that a
// --no-serve-artifacts server hands to clients. Other roots (local folders) list as empty.
Status ListArtifactRoot(const std::string& root_uri, const std::string& rel,
                        artifacts::ArtifactStore* proxy, artifacts::ArtifactStoreCache* stores,
                        JsonWriter& w) {
  auto join = [](const std::string& base, const std::string& sub) {
    if (base.empty()) return sub;
    return sub.empty() ? base : base + "/" + sub;
  };
  if (auto base = StorePathOf(root_uri)) {
    if (proxy == nullptr) {
      return FailedPrecondition("artifacts at " + root_uri +
                                " are served by the artifact proxy, which this server runs "
                                "without (--no-serve-artifacts)");
    }
    PLINTH_ASSIGN_OR_RETURN(auto files, proxy->List(join(*base, rel)));
    WriteFileInfos(w, rel, files);
    return Status::Ok();
  }
  auto location = stores->Resolve(root_uri);
  if (!location.ok()) {
    return location.status().code() == StatusCode::kUnimplemented ? Status::Ok()
                                                                  : location.status();
  }
  PLINTH_ASSIGN_OR_RETURN(auto files, location->store->List(join(location->path, rel)));
  WriteFileInfos(w, rel, files);
  return Status::Ok();
}

// A `Range: bytes=FIRST-[LAST]` header. Other forms (suffix ranges, several ranges) give
// nullopt, and the whole file is sent, as HTTP allows a server to do.
struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};
std::optional<ByteRange> ParseByteRange(std::string_view v) {
  constexpr std::string_view kUnit = "bytes=";
  if (v.rfind(kUnit, 0) != 0) return std::nullopt;
  v.remove_prefix(kUnit.size());
  size_t dash = v.find('-');
  if (dash == 0 || dash == std::string_view::npos || v.find(',') != std::string_view::npos) {
    return std::nullopt;
  }
  auto number = [](std::string_view d) -> std::optional<uint64_t> {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), n);
    if (ec != std::errc() || p != d.data() + d.size() || d.empty()) return std::nullopt;
    return n;
  };
  ByteRange r;
  auto first = number(v.substr(0, dash));
  if (!first) return std::nullopt;
  r.first = *first;
  if (dash + 1 < v.size()) {
    r.last = number(v.substr(dash + 1));
    if (!r.last || *r.last < r.first) return std::nullopt;
  }
  return r;
}

// `mlflow server --no-serve-artifacts` answers its proxy routes this way (Flask's route rule in
// the text, plain 503).
void ProxyDisabled(const std::string& rule, Response& res) {
  res.status = 503;
  res.content_type = "text/html; charset=utf-8";
  res.body = "Endpoint: " + rule +
             " disabled due to the mlflow server running with `--no-serve-artifacts`. To enable "
             "artifacts server functionality, run `mlflow server` with `--serve-artifacts`";
}

// ------------------------------------------------------------------ experiments

void RegisterExperiments(Router& r, TrackingService* t) {
  AddJson(r, Method::kPost, "/experiments/create",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("name"));
            PLINTH_ASSIGN_OR_RETURN(auto location, m.String("artifact_location"));
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(auto tags, ReadKeyValues(array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(std::string id,
                                    t->CreateExperiment(name, location.value_or(""), tags));
            w.StartObject();
            w.KeyString("experiment_id", id);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/experiments/get",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_ASSIGN_OR_RETURN(auto e, t->GetExperiment(id));
            w.StartObject();
            w.Key("experiment");
            WriteExperiment(w, e);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/experiments/get-by-name",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string name, m.RequiredString("experiment_name"));
            PLINTH_ASSIGN_OR_RETURN(auto e, t->GetExperimentByName(name));
            w.StartObject();
            w.Key("experiment");
            WriteExperiment(w, e);
            w.EndObject();
            return Status::Ok();
          });
  JsonHandler search = [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
    tracking::SearchExperimentsRequest req;
    PLINTH_ASSIGN_OR_RETURN(auto filter, m.String("filter"));
    req.filter = filter.value_or("");
    PLINTH_ASSIGN_OR_RETURN(req.order_by, m.StringList("order_by"));
    PLINTH_ASSIGN_OR_RETURN(req.view_type, ReadViewType(m, "view_type"));
    PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
    req.max_results = max_results.value_or(1000);
    PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
    req.page_token = token.value_or("");
    PLINTH_ASSIGN_OR_RETURN(Paged<store::Experiment> page, t->SearchExperiments(req));
    w.StartObject();
    if (!page.items.empty()) {
      w.Key("experiments");
      w.StartArray();
      for (const auto& e : page.items) WriteExperiment(w, e);
      w.EndArray();
    }
    if (!page.next_page_token.empty()) w.KeyString("next_page_token", page.next_page_token);
    w.EndObject();
    return Status::Ok();
  };
  AddJson(r, Method::kPost, "/experiments/search", search);
  AddJson(r, Method::kGet, "/experiments/search", search);
  AddJson(r, Method::kGet, "/experiments/list", search);
  AddJson(r, Method::kPost, "/experiments/update",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_ASSIGN_OR_RETURN(auto new_name, m.String("new_name"));
            if (new_name) {
              PLINTH_RETURN_IF_ERROR(t->RenameExperiment(id, *new_name));
            }
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/experiments/delete",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_RETURN_IF_ERROR(t->DeleteExperiment(id));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/experiments/restore",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_RETURN_IF_ERROR(t->RestoreExperiment(id));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/experiments/set-experiment-tag",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.String("value"));
            if (!value) return MissingParameter("value");
            PLINTH_RETURN_IF_ERROR(t->SetExperimentTag(id, {key, *value}));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/experiments/delete-experiment-tag",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, m.RequiredString("experiment_id"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_RETURN_IF_ERROR(t->DeleteExperimentTag(id, key));
            EmptyObject(w);
            return Status::Ok();
          });
}

// ------------------------------------------------------------------ runs

void RegisterRuns(Router& r, TrackingService* t) {
  AddJson(r, Method::kPost, "/runs/create",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            tracking::CreateRunRequest req;
            PLINTH_ASSIGN_OR_RETURN(auto exp, m.String("experiment_id"));
            req.experiment_id = exp.value_or("0");
            PLINTH_ASSIGN_OR_RETURN(auto user, m.String("user_id"));
            req.user_id = user.value_or("");
            PLINTH_ASSIGN_OR_RETURN(auto name, m.String("run_name"));
            req.run_name = name.value_or("");
            PLINTH_ASSIGN_OR_RETURN(req.start_time, m.Int64("start_time"));
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(req.tags, ReadKeyValues(array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(store::Run run, t->CreateRun(req));
            w.StartObject();
            w.Key("run");
            WriteRun(w, run);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/runs/get",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(store::Run run, t->GetRun(id));
            w.StartObject();
            w.Key("run");
            WriteRun(w, run);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/update",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            store::RunUpdate update;
            PLINTH_ASSIGN_OR_RETURN(auto status, m.String("status"));
            if (status) {
              update.status = store::ParseRunStatus(*status);
              if (!update.status) {
                return InvalidArgument("Invalid value '" + *status +
                                       "' for parameter 'status': expected one of RUNNING, "
                                       "SCHEDULED, FINISHED, FAILED, KILLED");
              }
            }
            PLINTH_ASSIGN_OR_RETURN(update.end_time, m.Int64("end_time"));
            PLINTH_ASSIGN_OR_RETURN(auto name, m.String("run_name"));
            if (name && !name->empty()) update.run_name = *name;
            PLINTH_ASSIGN_OR_RETURN(store::RunInfo info, t->UpdateRun(id, update));
            w.StartObject();
            w.Key("run_info");
            WriteRunInfo(w, info);
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/delete",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_RETURN_IF_ERROR(t->DeleteRun(id));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/restore",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_RETURN_IF_ERROR(t->RestoreRun(id));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/log-metric",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            store::Metric metric;
            PLINTH_ASSIGN_OR_RETURN(metric.key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.Double("value"));
            if (!value) return MissingParameter("value");
            metric.value = *value;
            PLINTH_ASSIGN_OR_RETURN(auto timestamp, m.Int64("timestamp"));
            if (!timestamp) return MissingParameter("timestamp");
            metric.timestamp = *timestamp;
            PLINTH_ASSIGN_OR_RETURN(auto step, m.Int64("step"));
            metric.step = step.value_or(0);
            PLINTH_ASSIGN_OR_RETURN(auto model_id, m.String("model_id"));
            PLINTH_ASSIGN_OR_RETURN(auto dataset_name, m.String("dataset_name"));
            PLINTH_ASSIGN_OR_RETURN(auto dataset_digest, m.String("dataset_digest"));
            metric.model_id = model_id.value_or("");
            metric.dataset_name = dataset_name.value_or("");
            metric.dataset_digest = dataset_digest.value_or("");
            PLINTH_RETURN_IF_ERROR(t->LogBatch(id, {std::move(metric)}, {}, {}));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/log-parameter",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.String("value"));
            if (!value) return MissingParameter("value");
            PLINTH_RETURN_IF_ERROR(t->LogBatch(id, {}, {{key, *value}}, {}));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/set-tag",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_ASSIGN_OR_RETURN(auto value, m.String("value"));
            if (!value) return MissingParameter("value");
            PLINTH_RETURN_IF_ERROR(t->LogBatch(id, {}, {}, {{key, *value}}));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/delete-tag",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("key"));
            PLINTH_RETURN_IF_ERROR(t->DeleteTag(id, key));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/log-batch",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(auto metrics_array, m.Array("metrics"));
            PLINTH_ASSIGN_OR_RETURN(auto params_array, m.Array("params"));
            PLINTH_ASSIGN_OR_RETURN(auto tags_array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(auto metrics, ReadMetrics(metrics_array));
            PLINTH_ASSIGN_OR_RETURN(auto params, ReadKeyValues(params_array, "params"));
            PLINTH_ASSIGN_OR_RETURN(auto tags, ReadKeyValues(tags_array, "tags"));
            PLINTH_RETURN_IF_ERROR(
                t->LogBatch(id, std::move(metrics), std::move(params), std::move(tags)));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/log-inputs",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(auto datasets_array, m.Array("datasets"));
            PLINTH_ASSIGN_OR_RETURN(auto models_array, m.Array("models"));
            PLINTH_ASSIGN_OR_RETURN(auto datasets, ReadDatasetInputs(datasets_array));
            PLINTH_ASSIGN_OR_RETURN(auto models, ReadModelIos(models_array));
            PLINTH_RETURN_IF_ERROR(t->LogInputs(id, datasets, models));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/outputs",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(auto models_array, m.Array("models"));
            PLINTH_ASSIGN_OR_RETURN(auto models, ReadModelIos(models_array));
            PLINTH_RETURN_IF_ERROR(t->LogOutputs(id, models));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/runs/log-model",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            // Legacy: MLflow appends the MLmodel JSON to the mlflow.log-model.history tag.
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(std::string model_json, m.RequiredString("model_json"));
            JsonDocument parsed;
            PLINTH_RETURN_IF_ERROR(ParseJson(model_json, &parsed));
            PLINTH_ASSIGN_OR_RETURN(store::Run run, t->GetRun(id));
            std::string history = "[]";
            for (const auto& tag : run.tags) {
              if (tag.key == "mlflow.log-model.history") history = tag.value;
            }
            JsonDocument list;
            if (!ParseJson(history, &list).ok() || !list.IsArray()) list.SetArray();
            list.PushBack(JsonValue(parsed, list.GetAllocator()), list.GetAllocator());
            rapidjson::StringBuffer buf;
            rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
            list.Accept(writer);
            PLINTH_RETURN_IF_ERROR(t->LogBatch(
                id, {}, {}, {{"mlflow.log-model.history", std::string(buf.GetString())}}));
            EmptyObject(w);
            return Status::Ok();
          });
  JsonHandler search = [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
    tracking::SearchRunsRequest req;
    PLINTH_ASSIGN_OR_RETURN(req.experiment_ids, m.StringList("experiment_ids"));
    PLINTH_ASSIGN_OR_RETURN(auto filter, m.String("filter"));
    req.filter = filter.value_or("");
    PLINTH_ASSIGN_OR_RETURN(req.order_by, m.StringList("order_by"));
    PLINTH_ASSIGN_OR_RETURN(req.view_type, ReadViewType(m, "run_view_type"));
    PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
    req.max_results = max_results.value_or(1000);
    PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
    req.page_token = token.value_or("");
    PLINTH_ASSIGN_OR_RETURN(Paged<store::Run> page, t->SearchRuns(req));
    w.StartObject();
    if (!page.items.empty()) {
      w.Key("runs");
      w.StartArray();
      for (const auto& run : page.items) WriteRun(w, run);
      w.EndArray();
    }
    if (!page.next_page_token.empty()) w.KeyString("next_page_token", page.next_page_token);
    w.EndObject();
    return Status::Ok();
  };
  AddJson(r, Method::kPost, "/runs/search", search);
  AddJson(r, Method::kGet, "/runs/search", search);
}

// ------------------------------------------------------------------ metrics

void RegisterMetrics(Router& r, TrackingService* t) {
  AddJson(r, Method::kGet, "/metrics/get-history",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("metric_key"));
            PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
            PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
            PLINTH_ASSIGN_OR_RETURN(Paged<store::Metric> page,
                                    t->GetMetricHistory(id, key, max_results, token.value_or("")));
            w.StartObject();
            if (!page.items.empty()) {
              w.Key("metrics");
              w.StartArray();
              for (const auto& metric : page.items) WriteMetric(w, metric, false);
              w.EndArray();
            }
            if (!page.next_page_token.empty()) {
              w.KeyString("next_page_token", page.next_page_token);
            }
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/metrics/get-history-bulk",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto run_ids, m.StringList("run_id"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("metric_key"));
            PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
            if (run_ids.empty()) return MissingParameter("run_id");
            if (run_ids.size() > 100) {
              return InvalidArgument(
                  "GetMetricHistoryBulk request cannot specify more than 100 "
                  "run_ids.");
            }
            int64_t cap = std::min<int64_t>(max_results.value_or(25000), 25000);
            w.StartObject();
            w.Key("metrics");
            w.StartArray();
            int64_t written = 0;
            for (const std::string& id : run_ids) {
              PLINTH_ASSIGN_OR_RETURN(Paged<store::Metric> page,
                                      t->GetMetricHistory(id, key, cap, ""));
              for (auto& metric : page.items) {
                if (written++ >= cap) break;
                metric.run_id = id;
                WriteMetric(w, metric, true);
              }
            }
            w.EndArray();
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/metrics/get-history-bulk-interval",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto run_ids, m.StringList("run_ids"));
            PLINTH_ASSIGN_OR_RETURN(std::string key, m.RequiredString("metric_key"));
            PLINTH_ASSIGN_OR_RETURN(auto start_step, m.Int64("start_step"));
            PLINTH_ASSIGN_OR_RETURN(auto end_step, m.Int64("end_step"));
            PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
            PLINTH_ASSIGN_OR_RETURN(
                auto metrics,
                t->GetMetricHistoryBulkInterval(run_ids, key, start_step, end_step, max_results));
            w.StartObject();
            if (!metrics.empty()) {
              w.Key("metrics");
              w.StartArray();
              for (const auto& metric : metrics) WriteMetric(w, metric, true);
              w.EndArray();
            }
            w.EndObject();
            return Status::Ok();
          });
}

// ------------------------------------------------------------------ logged models

void RegisterLoggedModels(Router& r, TrackingService* t, artifacts::ArtifactStore* store,
                          std::shared_ptr<artifacts::ArtifactStoreCache> stores) {
  auto write_model = [](JsonWriter& w, const store::LoggedModel& model) {
    w.StartObject();
    w.Key("model");
    WriteLoggedModel(w, model);
    w.EndObject();
  };
  AddJson(r, Method::kPost, "/logged-models",
          [t, write_model](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            store::LoggedModel model;
            PLINTH_ASSIGN_OR_RETURN(model.experiment_id, m.RequiredString("experiment_id"));
            PLINTH_ASSIGN_OR_RETURN(auto name, m.String("name"));
            PLINTH_ASSIGN_OR_RETURN(auto type, m.String("model_type"));
            PLINTH_ASSIGN_OR_RETURN(auto source_run, m.String("source_run_id"));
            model.name = name.value_or("");
            model.model_type = type.value_or("");
            model.source_run_id = source_run.value_or("");
            PLINTH_ASSIGN_OR_RETURN(auto params_array, m.Array("params"));
            PLINTH_ASSIGN_OR_RETURN(auto tags_array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(model.params, ReadKeyValues(params_array, "params"));
            PLINTH_ASSIGN_OR_RETURN(model.tags, ReadKeyValues(tags_array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(auto created, t->CreateLoggedModel(std::move(model)));
            write_model(w, created);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/logged-models/search",
          [t](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            tracking::SearchLoggedModelsRequest req;
            PLINTH_ASSIGN_OR_RETURN(req.experiment_ids, m.StringList("experiment_ids"));
            PLINTH_ASSIGN_OR_RETURN(auto filter, m.String("filter"));
            req.filter = filter.value_or("");
            PLINTH_ASSIGN_OR_RETURN(auto max_results, m.Int64("max_results"));
            req.max_results = max_results.value_or(50);
            PLINTH_ASSIGN_OR_RETURN(auto token, m.String("page_token"));
            req.page_token = token.value_or("");
            PLINTH_ASSIGN_OR_RETURN(auto order_array, m.Array("order_by"));
            if (order_array != nullptr) {
              for (const JsonValue& o : order_array->GetArray()) {
                PLINTH_ASSIGN_OR_RETURN(auto field, JsonGetString(o, "field_name"));
                PLINTH_ASSIGN_OR_RETURN(auto ascending, JsonGetBool(o, "ascending"));
                if (!field) return MissingParameter("order_by.field_name");
                store::OrderBy ob;
                std::string f = *field;
                if (f.rfind("metrics.", 0) == 0) {
                  ob.entity = store::EntityKind::kMetric;
                  ob.key = f.substr(8);
                } else {
                  ob.entity = store::EntityKind::kAttribute;
                  ob.key = f;
                }
                ob.ascending = ascending.value_or(true);
                req.order_by.push_back(std::move(ob));
              }
            }
            PLINTH_ASSIGN_OR_RETURN(auto page, t->SearchLoggedModels(req));
            w.StartObject();
            w.Key("models");
            w.StartArray();
            for (const auto& model : page.items) WriteLoggedModel(w, model);
            w.EndArray();
            if (!page.next_page_token.empty()) {
              w.KeyString("next_page_token", page.next_page_token);
            }
            w.EndObject();
            return Status::Ok();
          });
  AddJson(r, Method::kGet, "/logged-models/{model_id}",
          [t, write_model](const Request& req, const RequestMessage&, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto model, t->GetLoggedModel(req.path_params[0]));
            write_model(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kPatch, "/logged-models/{model_id}",
          [t, write_model](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto status_name, m.String("status"));
            auto status = store::ParseLoggedModelStatus(status_name.value_or(""));
            if (!status) {
              return InvalidArgument("Invalid value '" + status_name.value_or("") +
                                     "' for parameter 'status'");
            }
            PLINTH_ASSIGN_OR_RETURN(auto model,
                                    t->FinalizeLoggedModel(req.path_params[0], *status));
            write_model(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kDelete, "/logged-models/{model_id}",
          [t](const Request& req, const RequestMessage&, JsonWriter& w) -> Status {
            PLINTH_RETURN_IF_ERROR(t->DeleteLoggedModel(req.path_params[0]));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPatch, "/logged-models/{model_id}/tags",
          [t, write_model](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("tags"));
            PLINTH_ASSIGN_OR_RETURN(auto tags, ReadKeyValues(array, "tags"));
            PLINTH_ASSIGN_OR_RETURN(auto model, t->SetLoggedModelTags(req.path_params[0], tags));
            write_model(w, model);
            return Status::Ok();
          });
  AddJson(r, Method::kDelete, "/logged-models/{model_id}/tags/{tag_key}",
          [t](const Request& req, const RequestMessage&, JsonWriter& w) -> Status {
            PLINTH_RETURN_IF_ERROR(t->DeleteLoggedModelTag(req.path_params[0], req.path_params[1]));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(r, Method::kPost, "/logged-models/{model_id}/params",
          [t](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(auto array, m.Array("params"));
            PLINTH_ASSIGN_OR_RETURN(auto params, ReadKeyValues(array, "params"));
            PLINTH_RETURN_IF_ERROR(t->LogLoggedModelParams(req.path_params[0], params));
            EmptyObject(w);
            return Status::Ok();
          });
  AddJson(
      r, Method::kGet, "/logged-models/{model_id}/artifacts/directories",
      [t, store, stores](const Request& req, const RequestMessage& m, JsonWriter& w) -> Status {
        PLINTH_ASSIGN_OR_RETURN(auto model, t->GetLoggedModel(req.path_params[0]));
        PLINTH_ASSIGN_OR_RETURN(auto sub, m.String("artifact_directory_path"));
        PLINTH_ASSIGN_OR_RETURN(std::string rel,
                                artifacts::NormalizeArtifactPath(sub.value_or(""), true));
        w.StartObject();
        w.KeyString("root_uri", model.artifact_uri);
        PLINTH_RETURN_IF_ERROR(ListArtifactRoot(model.artifact_uri, rel, store, stores.get(), w));
        w.EndObject();
        return Status::Ok();
      });
}

// ------------------------------------------------------------------ artifacts

void RegisterArtifacts(Router& r, TrackingService* t, artifacts::ArtifactStore* store,
                       std::shared_ptr<artifacts::ArtifactStoreCache> stores) {
  // Run artifacts listed through the tracking API (MlflowClient.list_artifacts on some paths).
  AddJson(r, Method::kGet, "/artifacts/list",
          [t, store, stores](const Request&, const RequestMessage& m, JsonWriter& w) -> Status {
            PLINTH_ASSIGN_OR_RETURN(std::string id, ReadRunId(m));
            PLINTH_ASSIGN_OR_RETURN(auto sub, m.String("path"));
            PLINTH_ASSIGN_OR_RETURN(std::string rel,
                                    artifacts::NormalizeArtifactPath(sub.value_or(""), true));
            PLINTH_ASSIGN_OR_RETURN(store::Run run, t->GetRun(id));
            w.StartObject();
            w.KeyString("root_uri", run.info.artifact_uri);
            PLINTH_RETURN_IF_ERROR(
                ListArtifactRoot(run.info.artifact_uri, rel, store, stores.get(), w));
            w.EndObject();
            return Status::Ok();
          });

  const std::string file_route = std::string(kArtifactsPrefix) + "/*";
  if (store == nullptr) {
    const std::string file_rule = std::string(kArtifactsPrefix) + "/<path:artifact_path>";
    for (Method m : {Method::kPut, Method::kGet, Method::kDelete}) {
      r.Add(m, file_route, [file_rule](Request&, Response& res) { ProxyDisabled(file_rule, res); });
    }
    r.Add(Method::kGet, kArtifactsPrefix,
          [](Request&, Response& res) { ProxyDisabled(kArtifactsPrefix, res); });
    return;
  }

  // The artifact proxy. Bodies stream in and out in chunks.
  r.Add(
      Method::kPut, file_route,
      [store](Request& req, Response& res) {
        auto path = artifacts::NormalizeArtifactPath(req.path_params[0], false);
        if (!path.ok()) {
          http::WriteError(path.status(), res);
          return;
        }
        Status s = store->Put(*path, *req.body_stream);
        if (!s.ok()) {
          http::WriteError(s, res);
          return;
        }
        res.SetJson(200, "{}");
      },
      http::RouteOptions{.streaming_body = true});
  auto get_artifact = [store](Request& req, Response& res) {
    auto path = artifacts::NormalizeArtifactPath(req.path_params[0], false);
    if (!path.ok()) {
      http::WriteError(path.status(), res);
      return;
    }
    std::optional<ByteRange> range;
    if (auto header = req.Header("range")) range = ParseByteRange(*header);
    std::optional<uint64_t> length;
    if (range && range->last) length = *range->last - range->first + 1;
    auto opened = store->GetRange(*path, range ? range->first : 0, length);
    if (range && (!opened.ok() ? opened.status().code() == StatusCode::kInvalidArgument
                               : opened->offset >= opened->total_size)) {
      // Unsatisfiable: the range starts at or past the end.
      auto whole = store->GetRange(*path, 0, 0);
      res.status = 416;
      res.content_type = "text/plain";
      if (whole.ok()) {
        res.headers.emplace_back("Content-Range", "bytes */" + std::to_string(whole->total_size));
      }
      return;
    }
    if (!opened.ok()) {
      http::WriteError(opened.status(), res);
      return;
    }
    res.status = 200;
    if (range) {
      uint64_t size = opened->content->Size().value_or(0);
      res.status = 206;
      res.headers.emplace_back("Content-Range", "bytes " + std::to_string(opened->offset) + "-" +
                                                    std::to_string(opened->offset + size - 1) +
                                                    "/" + std::to_string(opened->total_size));
    }
    res.content_type = GuessContentType(*path);
    std::string name =
        path->substr(path->rfind('/') == std::string::npos ? 0 : path->rfind('/') + 1);
    res.headers.emplace_back("Content-Disposition", "attachment; filename=" + name);
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    res.headers.emplace_back("Accept-Ranges", "bytes");
    res.stream = std::move(opened->content);
  };
  r.Add(Method::kGet, file_route, get_artifact);
  r.Add(Method::kDelete, file_route, [store](Request& req, Response& res) {
    auto path = artifacts::NormalizeArtifactPath(req.path_params[0], false);
    Status s = path.ok() ? store->Delete(*path) : path.status();
    if (!s.ok()) {
      http::WriteError(s, res);
      return;
    }
    res.SetJson(200, "{}");
  });
  r.Add(Method::kGet, kArtifactsPrefix, [store](Request& req, Response& res) {
    auto path = artifacts::NormalizeArtifactPath(req.QueryParam("path").value_or(""), true);
    if (!path.ok()) {
      http::WriteError(path.status(), res);
      return;
    }
    auto files = store->List(*path);
    if (!files.ok()) {
      http::WriteError(files.status(), res);
      return;
    }
    JsonWriter w;
    w.StartObject();
    WriteFileInfos(w, "", *files);  // the proxy lists basenames; the client joins them
    w.EndObject();
    res.SetJson(200, w.Take());
  });
}

}  // namespace

void RegisterMlflowApi(Router& router, const ApiContext& context) {
  RegisterExperiments(router, context.tracking);
  RegisterRuns(router, context.tracking);
  RegisterMetrics(router, context.tracking);
  // Stores for s3:// artifact roots that runs carry (shared by the handlers, thread-safe).
  auto stores = std::make_shared<artifacts::ArtifactStoreCache>();
  RegisterLoggedModels(router, context.tracking, context.artifacts, stores);
  RegisterArtifacts(router, context.tracking, context.artifacts, stores);
  if (context.registry != nullptr) RegisterRegistryApi(router, context.registry);
  if (context.tune != nullptr) RegisterTuneApi(router, context.tune);
  if (context.datasets != nullptr) RegisterDatasetApi(router, context.datasets);

  router.Add(Method::kGet, "/health", [](Request&, Response& res) {
    res.status = 200;
    res.content_type = "text/plain";
    res.body = "OK";
  });
  const std::atomic<bool>* ready = context.ready;
  // Ready = not draining and the metadata store answers (a replica whose database connection
  // is down leaves the load balancer's rotation until it is back).
  tracking::TrackingService* tracking = context.tracking;
  router.Add(Method::kGet, "/ready", [ready, tracking](Request&, Response& res) {
    res.content_type = "text/plain";
    if (ready != nullptr && !ready->load()) {
      res.status = 503;
      res.body = "draining";
      return;
    }
    Status store = tracking != nullptr ? tracking->PingStore() : Status::Ok();
    res.status = store.ok() ? 200 : 503;
    res.body = store.ok() ? "OK" : "store unavailable: " + store.message();
  });
  router.Add(Method::kGet, "/version", [](Request&, Response& res) {
    res.status = 200;
    res.content_type = "text/plain";
    res.body = kMlflowCompatVersion;
  });
  std::string plinth_version = context.plinth_version;
  router.Add(Method::kGet, "/api/plinth/v1/version", [plinth_version](Request&, Response& res) {
    JsonWriter w;
    w.StartObject();
    w.KeyString("plinth_version", plinth_version);
    w.KeyString("mlflow_compat_version", kMlflowCompatVersion);
    w.EndObject();
    res.SetJson(200, w.Take());
  });
  // The 3.x client asks for the server's capabilities before artifact transfers.
  for (const char* path : {"/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"}) {
    router.Add(Method::kGet, path, [](Request&, Response& res) {
      res.SetJson(200,
                  "{\"store_type\":\"SqlStore\",\"workspaces_enabled\":false,"
                  "\"trace_archival_enabled\":false,\"multipart_uploads_enabled\":false,"
                  "\"multipart_downloads_enabled\":false,"
                  "\"presigned_upload_run_id_supported\":false,"
                  "\"presigned_upload_model_id_supported\":false,\"features_enabled\":{}}");
    });
  }
  for (const char* prefix : kMlflowPrefixes) {
    router.Add(Method::kGet, std::string(prefix) + "/server-features",
               [](Request&, Response& res) { res.SetJson(200, "{\"workspaces_enabled\":false}"); });
  }
}

}  // namespace plinth::api
