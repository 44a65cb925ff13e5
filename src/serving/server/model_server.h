// `plinth serve`: one model behind MLflow's scoring protocol, the Open Inference Protocol v2 and
// Prometheus metrics. A server started on `models:/NAME@ALIAS` polls the tracking server and,
// when the alias moves, loads the new version beside the old one, checks it with a smoke
// prediction, and swaps atomically; requests in flight finish on the model they started with.
// A version that fails to load or to predict is not switched to: the old one keeps serving and
// the failure shows in the log and in /metrics.
//
// Thread-safety: handlers run concurrently on the HTTP threads; the watcher thread swaps the
// model. Start/Stop are called by the owner.
#ifndef PLINTH_SERVING_SERVER_MODEL_SERVER_H_
#define PLINTH_SERVING_SERVER_MODEL_SERVER_H_

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "http/http_server.h"
#include "serving/model.h"
#include "serving/server/model_holder.h"
#include "serving/server/model_source.h"
#include "serving/server/prediction_log.h"
#include "serving/server/serving_metrics.h"

namespace plinth::serving {

struct ModelServerOptions {
  std::string model_uri;
  std::string tracking_uri;           // empty: MLFLOW_TRACKING_URI, else http://127.0.0.1:5000
  std::string served_name;            // the OIP model name; empty: the registered model's name
  std::filesystem::path model_cache;  // empty: $TMPDIR/plinth-models
  LoadOptions load;
  int poll_interval_ms = 2000;  // how often an alias is checked
  // Micro-batching: requests smaller than max_batch rows wait up to batch_timeout_us for others
  // and are predicted together. max_batch <= 1 turns it off.
  int max_batch = 1;
  int batch_timeout_us = 500;
  PredictionLogOptions prediction_log;

  Status Validate() const;
};

class MicroBatcher;

class ModelServer {
 public:
  explicit ModelServer(ModelServerOptions options);
  ~ModelServer();
  ModelServer(const ModelServer&) = delete;
  ModelServer& operator=(const ModelServer&) = delete;

  // Loads the model (failure: the load error; nothing is served) and starts the alias watcher
  // and the prediction log.
  Status Start();
  // Adds /invocations, /ping, /health, /version, /v2/…, /metrics.
  void AddRoutes(http::Router* router);
  // Stops the watcher and flushes the prediction log.
  void Stop();

  // Checks the alias once and swaps when it moved (the watcher calls this; tests too).
  // Returns the error of a failed load (the old model keeps serving).
  Status CheckAlias();

  std::shared_ptr<const ServedModel> current() const { return holder_.Get(); }
  ServingMetrics& metrics() { return metrics_; }

 private:
  Result<std::shared_ptr<const ServedModel>> LoadServed(const std::string& version);
  void WatchLoop();
  void HandleInvocations(http::Request& request, http::Response& response);
  void HandleInfer(http::Request& request, http::Response& response);
  void HandleModelMetadata(http::Request& request, http::Response& response);
  void HandleModelReady(http::Request& request, http::Response& response);
  // Finds the served model for an OIP route's {name}[/versions/{version}], or answers 404.
  std::shared_ptr<const ServedModel> FindOipModel(const http::Request& request,
                                                  http::Response& response);
  std::string NextRequestId(const http::Request& request);
  void Log(const ServedModel& served, const char* endpoint, const std::string& request_id,
           std::vector<float>&& inputs, size_t rows, const Predictions& outputs, double ms);

  ModelServerOptions options_;
  ModelUri uri_;
  std::unique_ptr<ModelSource> source_;
  ModelHolder holder_;
  ServingMetrics metrics_;
  std::unique_ptr<PredictionLog> prediction_log_;
  std::unique_ptr<MicroBatcher> batcher_;
  std::string request_id_prefix_;
  std::atomic<uint64_t> request_counter_{0};

  std::mutex watch_mu_;
  std::condition_variable watch_wake_;
  bool stopping_ = false;       // GUARDED_BY(watch_mu_)
  std::string failed_version_;  // the last version that failed to load (watcher thread)
  int64_t failed_retry_at_ms_ = 0;
  std::thread watcher_;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_MODEL_SERVER_H_
