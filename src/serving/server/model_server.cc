#include "serving/server/model_server.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <random>

#include "core/json.h"
#include "core/log.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth::serving {
namespace {

using Clock = std::chrono::steady_clock;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// MLflow pins the scoring protocol to the version of MLflow the model was saved with; we answer
// the version of the MLflow API we speak.
constexpr const char* kMlflowVersion = "3.17.2";

void WriteOipError(const Status& s, http::Response& response) {
  JsonWriter w;
  w.StartObject();
  w.KeyString("error", s.message());
  w.EndObject();
  response.SetJson(HttpStatusOf(s.code()), w.Take());
}

// OIP datatype of an MLflow column type.
const char* OipDatatype(DataType t) {
  switch (t) {
    case DataType::kBoolean:
      return "BOOL";
    case DataType::kInteger:
      return "INT32";
    case DataType::kLong:
      return "INT64";
    case DataType::kFloat:
      return "FP32";
    case DataType::kDouble:
      return "FP64";
    default:
      return "BYTES";
  }
}

}  // namespace

// Group commit for predictions: the first waiting request becomes the leader, waits up to the
// batch timeout for more rows (up to max_batch), predicts them in one call, and hands every
// waiter its slice. Only requests on the same model snapshot with the same params share a batch.
class MicroBatcher {
 public:
  MicroBatcher(size_t max_batch, std::chrono::microseconds timeout)
      : max_batch_(max_batch), timeout_(timeout) {}

  Status Predict(const std::shared_ptr<const ServedModel>& served, const float* data, size_t rows,
                 const PredictParams& params, Predictions* out) {
    const Model& model = *served->model;
    size_t width = served->layout->width();
    if (max_batch_ <= 1 || rows >= max_batch_) {
      return model.Predict({data, rows, width}, params, out);
    }
    Job job{served.get(), data, rows, params, out, Status(), false};
    std::unique_lock lock(mu_);
    pending_.push_back(&job);
    pending_rows_ += rows;
    more_.notify_one();
    while (!job.done) {
      if (leader_active_) {
        done_.wait(lock);
        continue;
      }
      leader_active_ = true;
      auto deadline = Clock::now() + timeout_;
      while (pending_rows_ < max_batch_ && Clock::now() < deadline) {
        more_.wait_until(lock, deadline);
      }
      // Take a run of compatible jobs from the front.
      std::vector<Job*> batch;
      size_t total = 0;
      const Job* first = pending_.front();
      while (!pending_.empty()) {
        Job* j = pending_.front();
        if (j->served != first->served || j->params.output_margin != first->params.output_margin ||
            j->params.probabilities != first->params.probabilities ||
            (total > 0 && total + j->rows > max_batch_)) {
          break;
        }
        batch.push_back(j);
        total += j->rows;
        pending_rows_ -= j->rows;
        pending_.pop_front();
      }
      lock.unlock();
      RunBatch(batch, total, width);
      lock.lock();
      for (Job* j : batch) j->done = true;
      leader_active_ = false;
      done_.notify_all();
    }
    return job.status;
  }

 private:
  struct Job {
    const ServedModel* served;
    const float* data;
    size_t rows;
    PredictParams params;
    Predictions* out;
    Status status;
    bool done = false;
  };

  static void RunBatch(const std::vector<Job*>& batch, size_t total, size_t width) {
    const Model& model = *batch.front()->served->model;
    if (batch.size() == 1) {
      Job* j = batch.front();
      j->status = model.Predict({j->data, j->rows, width}, j->params, j->out);
      return;
    }
    std::vector<float> joined;
    joined.reserve(total * width);
    for (Job* j : batch) joined.insert(joined.end(), j->data, j->data + j->rows * width);
    Predictions all;
    Status s = model.Predict({joined.data(), total, width}, batch.front()->params, &all);
    size_t offset = 0;
    for (Job* j : batch) {
      j->status = s;
      if (s.ok()) {
        Predictions& p = *j->out;
        p.rows = j->rows;
        p.width = all.width;
        p.integer = all.integer;
        p.squeeze = all.squeeze;
        p.values.assign(
            all.values.begin() + static_cast<ptrdiff_t>(offset * all.width),
            all.values.begin() + static_cast<ptrdiff_t>((offset + j->rows) * all.width));
      }
      offset += j->rows;
    }
  }

  const size_t max_batch_;
  const std::chrono::microseconds timeout_;
  std::mutex mu_;
  std::condition_variable more_;  // a job arrived (wakes the leader)
  std::condition_variable done_;  // a batch finished (wakes waiters; one becomes leader)
  std::deque<Job*> pending_;      // GUARDED_BY(mu_)
  size_t pending_rows_ = 0;       // GUARDED_BY(mu_)
  bool leader_active_ = false;    // GUARDED_BY(mu_)
};

Status ModelServerOptions::Validate() const {
  if (model_uri.empty()) return InvalidArgument("a model URI is required");
  if (load.runtime != "auto" && load.runtime != "flat-trees" && load.runtime != "xgboost") {
    return InvalidArgument("--runtime must be auto, flat-trees or xgboost");
  }
  if (poll_interval_ms < 10) return InvalidArgument("--poll-interval must be at least 0.01 s");
  if (max_batch < 0 || max_batch > 1000000) {
    return InvalidArgument("--max-batch must be between 0 and 1000000");
  }
  if (batch_timeout_us < 0 || batch_timeout_us > 10000000) {
    return InvalidArgument("--batch-timeout-us must be between 0 and 10000000");
  }
  if (!prediction_log.directory.empty()) PLINTH_RETURN_IF_ERROR(prediction_log.Validate());
  return Status();
}

ModelServer::ModelServer(ModelServerOptions options) : options_(std::move(options)) {
  std::random_device rd;
  char prefix[16];
  std::snprintf(prefix, sizeof(prefix), "%08x-", rd());
  request_id_prefix_ = prefix;
}

ModelServer::~ModelServer() { Stop(); }

Result<std::shared_ptr<const ServedModel>> ModelServer::LoadServed(const std::string& version) {
  PLINTH_ASSIGN_OR_RETURN(FetchedModel fetched, source_->Fetch(uri_, version));
  PLINTH_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model,
                          LoadModel(fetched.directory, options_.load));
  auto served = std::make_shared<ServedModel>();
  served->model = std::move(model);
  served->name = options_.served_name.empty() ? fetched.name : options_.served_name;
  served->version = fetched.version;
  served->uri = fetched.source;
  served->layout = std::make_shared<InputLayout>(served->model->info());
  served->columns = std::make_shared<std::vector<std::string>>(served->layout->names());
  // Smoke prediction: one row of zeros must answer before this version may serve.
  std::vector<float> zeros(served->layout->width(), 0.0f);
  Predictions smoke;
  Status s = served->model->Predict({zeros.data(), 1, zeros.size()}, {}, &smoke);
  if (!s.ok()) return FailedPrecondition("the smoke prediction failed: " + s.message());
  if (smoke.rows != 1 || smoke.values.size() != smoke.width) {
    return FailedPrecondition("the smoke prediction answered " +
                              std::to_string(smoke.values.size()) + " values for one row");
  }
  return std::shared_ptr<const ServedModel>(std::move(served));
}

Status ModelServer::Start() {
  PLINTH_RETURN_IF_ERROR(options_.Validate());
  PLINTH_ASSIGN_OR_RETURN(uri_, ParseModelUri(options_.model_uri));
  std::filesystem::path cache = options_.model_cache;
  if (cache.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    cache = std::filesystem::path(tmp != nullptr && *tmp ? tmp : "/tmp") / "plinth-models";
  }
  source_ = std::make_unique<ModelSource>(options_.tracking_uri, cache);
  PLINTH_ASSIGN_OR_RETURN(auto served, LoadServed(""));
  holder_.Swap(served);
  metrics_.SetServedModel(served->name, served->version, served->model->info().runtime);
  PLINTH_LOG_INFO("serving {} version {} from {} (runtime {}, {} features)", served->name,
                  served->version, served->uri, served->model->info().runtime,
                  served->layout->width());
  batcher_ = std::make_unique<MicroBatcher>(static_cast<size_t>(std::max(options_.max_batch, 1)),
                                            std::chrono::microseconds(options_.batch_timeout_us));
  if (!options_.prediction_log.directory.empty()) {
    prediction_log_ = std::make_unique<PredictionLog>(options_.prediction_log, &metrics_);
    PLINTH_RETURN_IF_ERROR(prediction_log_->Start());
  }
  if (uri_.kind == ModelUri::Kind::kRegisteredAlias) {
    watcher_ = std::thread([this] { WatchLoop(); });
  }
  return Status();
}

void ModelServer::Stop() {
  {
    std::lock_guard lock(watch_mu_);
    stopping_ = true;
  }
  watch_wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (prediction_log_) prediction_log_->Stop();
}

Status ModelServer::CheckAlias() {
  if (uri_.kind != ModelUri::Kind::kRegisteredAlias) return Status();
  PLINTH_ASSIGN_OR_RETURN(std::string version, source_->ResolveAlias(uri_.name, uri_.alias));
  auto current = holder_.Get();
  if (current && current->version == version) {
    failed_version_.clear();
    return Status();
  }
  // A version that failed is retried only after a while (or when the alias moves elsewhere
  // first), so a broken version is not downloaded every poll.
  if (version == failed_version_ && WallMs() < failed_retry_at_ms_) {
    return FailedPrecondition("version " + version + " failed to load earlier");
  }
  auto loaded = LoadServed(version);
  if (!loaded.ok()) {
    failed_version_ = version;
    failed_retry_at_ms_ = WallMs() + 60000;
    metrics_.CountLoadFailure(version, loaded.status().message());
    PLINTH_LOG_ERROR(
        "alias {}@{} moved to version {}, which failed to load; still serving version {}: {}",
        uri_.name, uri_.alias, version, current ? current->version : "none",
        loaded.status().message());
    return loaded.status();
  }
  failed_version_.clear();
  std::shared_ptr<const ServedModel> next = *loaded;
  holder_.Swap(next);
  metrics_.CountSwap();
  metrics_.SetServedModel(next->name, next->version, next->model->info().runtime);
  PLINTH_LOG_INFO("alias {}@{} moved: now serving version {} (was {}), runtime {}", uri_.name,
                  uri_.alias, next->version, current ? current->version : "none",
                  next->model->info().runtime);
  return Status();
}

void ModelServer::WatchLoop() {
  std::unique_lock lock(watch_mu_);
  while (!stopping_) {
    watch_wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                         [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    Status s = CheckAlias();
    if (!s.ok() && s.code() != StatusCode::kFailedPrecondition) {
      PLINTH_LOG_WARN("checking alias {}@{}: {}", uri_.name, uri_.alias, s.message());
    }
    lock.lock();
  }
}

std::string ModelServer::NextRequestId(const http::Request& request) {
  if (auto id = request.Header("x-request-id"); id && !id->empty() && id->size() <= 200) {
    return std::string(*id);
  }
  return request_id_prefix_ +
         std::to_string(request_counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void ModelServer::Log(const ServedModel& served, const char* endpoint,
                      const std::string& request_id, std::vector<float>&& inputs, size_t rows,
                      const Predictions& outputs, double ms) {
  if (!prediction_log_ || !prediction_log_->Sample()) return;
  PredictionRecord r;
  r.timestamp_ms = WallMs();
  r.request_id = request_id;
  r.endpoint = endpoint;
  r.model_name = served.name;
  r.model_version = served.version;
  r.columns = served.columns;
  r.inputs = std::move(inputs);
  r.rows = rows;
  r.width = served.layout->width();
  r.outputs = outputs;
  r.latency_ms = ms;
  prediction_log_->Append(std::move(r));
}

void ModelServer::HandleInvocations(http::Request& request, http::Response& response) {
  Clock::time_point start = Clock::now();
  std::shared_ptr<const ServedModel> served = holder_.Get();
  std::string request_id = NextRequestId(request);
  response.headers.emplace_back("X-Request-Id", request_id);
  response.headers.emplace_back("X-Plinth-Model-Version", served->version);
  ParsedInput input;
  Predictions predictions;
  Status s = ParseInvocation(request.Header("content-type").value_or(""), request.body,
                             *served->layout, &input);
  if (s.ok()) {
    s = batcher_->Predict(served, input.values.data(), input.rows, input.params, &predictions);
  }
  if (!s.ok()) {
    if (s.code() == StatusCode::kUnimplemented) {
      response.status = 415;
      response.content_type = "text/plain";
      response.body = s.message();
    } else {
      http::WriteError(s, response);
    }
    metrics_.Observe(Endpoint::kInvocations, response.status, SecondsSince(start), 0);
    return;
  }
  response.SetJson(200, WriteMlflowPredictions(predictions));
  double seconds = SecondsSince(start);
  metrics_.Observe(Endpoint::kInvocations, 200, seconds, input.rows);
  Log(*served, "invocations", request_id, std::move(input.values), input.rows, predictions,
      seconds * 1e3);
}

std::shared_ptr<const ServedModel> ModelServer::FindOipModel(const http::Request& request,
                                                             http::Response& response) {
  std::shared_ptr<const ServedModel> served = holder_.Get();
  const std::string& name = request.path_params.at(0);
  if (name != served->name) {
    WriteOipError(NotFound("Model " + name + " not found; this server serves " + served->name),
                  response);
    return nullptr;
  }
  if (request.path_params.size() > 1 && request.path_params[1] != served->version) {
    WriteOipError(NotFound("Version " + request.path_params[1] + " of model " + name +
                           " is not being served (serving version " + served->version + ")"),
                  response);
    return nullptr;
  }
  return served;
}

void ModelServer::HandleInfer(http::Request& request, http::Response& response) {
  Clock::time_point start = Clock::now();
  std::shared_ptr<const ServedModel> served = FindOipModel(request, response);
  if (served == nullptr) {
    metrics_.Observe(Endpoint::kInfer, response.status, SecondsSince(start), 0);
    return;
  }
  std::string request_id = NextRequestId(request);
  response.headers.emplace_back("X-Request-Id", request_id);
  response.headers.emplace_back("X-Plinth-Model-Version", served->version);
  ParsedInput input;
  Predictions predictions;
  Status s = ParseOipInfer(request.body, *served->layout, &input);
  if (s.ok()) {
    s = batcher_->Predict(served, input.values.data(), input.rows, input.params, &predictions);
  }
  if (!s.ok()) {
    WriteOipError(s, response);
    metrics_.Observe(Endpoint::kInfer, response.status, SecondsSince(start), 0);
    return;
  }
  response.SetJson(200, WriteOipResponse(predictions, served->name, served->version,
                                         input.oip_id.empty() ? request_id : input.oip_id));
  double seconds = SecondsSince(start);
  metrics_.Observe(Endpoint::kInfer, 200, seconds, input.rows);
  Log(*served, "infer", request_id, std::move(input.values), input.rows, predictions,
      seconds * 1e3);
}

void ModelServer::HandleModelMetadata(http::Request& request, http::Response& response) {
  std::shared_ptr<const ServedModel> served = FindOipModel(request, response);
  if (served == nullptr) return;
  const InputLayout& layout = *served->layout;
  const ModelInfo& info = served->model->info();
  JsonWriter w;
  w.StartObject();
  w.KeyString("name", served->name);
  w.Key("versions");
  w.StartArray();
  w.String(served->version);
  w.EndArray();
  w.KeyString("platform", info.flavor + "_" + info.runtime);
  w.Key("inputs");
  w.StartArray();
  if (layout.named()) {
    for (size_t i = 0; i < layout.width(); ++i) {
      w.StartObject();
      w.KeyString("name", layout.names()[i]);
      w.KeyString("datatype", OipDatatype(layout.types()[i]));
      w.Key("shape");
      w.StartArray();
      w.Int64(-1);
      w.EndArray();
      w.EndObject();
    }
  } else {
    w.StartObject();
    w.KeyString("name", "input-0");
    w.KeyString("datatype", "FP32");
    w.Key("shape");
    w.StartArray();
    w.Int64(-1);
    w.Int64(static_cast<int64_t>(layout.width()));
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("outputs");
  w.StartArray();
  w.StartObject();
  w.KeyString("name", "predict");
  bool classifier = info.model_class.find("Classifier") != std::string::npos;
  w.KeyString("datatype", classifier ? "INT64" : "FP32");
  w.Key("shape");
  w.StartArray();
  w.Int64(-1);
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  response.SetJson(200, w.Take());
}

void ModelServer::HandleModelReady(http::Request& request, http::Response& response) {
  std::shared_ptr<const ServedModel> served = FindOipModel(request, response);
  if (served == nullptr) return;
  JsonWriter w;
  w.StartObject();
  w.KeyString("name", served->name);
  w.KeyBool("ready", true);
  w.EndObject();
  response.SetJson(200, w.Take());
}

void ModelServer::AddRoutes(http::Router* router) {
  using http::Method;
  auto ping = [](http::Request&, http::Response& response) { response.SetJson(200, "\n"); };
  router->Add(Method::kGet, "/ping", ping);
  router->Add(Method::kGet, "/health", ping);
  router->Add(Method::kGet, "/version", [](http::Request&, http::Response& response) {
    response.SetJson(200, kMlflowVersion);
  });
  router->Add(Method::kPost, "/invocations",
              [this](http::Request& q, http::Response& r) { HandleInvocations(q, r); });
  router->Add(Method::kGet, "/metrics", [this](http::Request&, http::Response& response) {
    response.status = 200;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_.Render();
  });
  // Open Inference Protocol v2.
  router->Add(Method::kGet, "/v2", [](http::Request&, http::Response& response) {
    response.SetJson(200, std::string("{\"name\":\"plinth\",\"version\":\"") + PLINTH_VERSION +
                              "\",\"extensions\":[]}");
  });
  router->Add(Method::kGet, "/v2/health/live", [](http::Request&, http::Response& response) {
    response.SetJson(200, "{\"live\":true}");
  });
  router->Add(Method::kGet, "/v2/health/ready", [this](http::Request&, http::Response& response) {
    bool ready = holder_.Get() != nullptr;
    response.SetJson(ready ? 200 : 503, ready ? "{\"ready\":true}" : "{\"ready\":false}");
  });
  auto metadata = [this](http::Request& q, http::Response& r) { HandleModelMetadata(q, r); };
  auto ready = [this](http::Request& q, http::Response& r) { HandleModelReady(q, r); };
  auto infer = [this](http::Request& q, http::Response& r) { HandleInfer(q, r); };
  router->Add(Method::kGet, "/v2/models/{name}", metadata);
  router->Add(Method::kGet, "/v2/models/{name}/versions/{version}", metadata);
  router->Add(Method::kGet, "/v2/models/{name}/ready", ready);
  router->Add(Method::kGet, "/v2/models/{name}/versions/{version}/ready", ready);
  router->Add(Method::kPost, "/v2/models/{name}/infer", infer);
  router->Add(Method::kPost, "/v2/models/{name}/versions/{version}/infer", infer);
}

}  // namespace plinth::serving
