#include "cli/serve_command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "core/log.h"
#include "http/http_server.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth {

ServeCli::ServeCli(CLI::App& app) {
  serve_ = app.add_subcommand(
      "serve",
      "Serve a model (an MLflow model folder, models:/NAME@ALIAS, models:/NAME/VERSION, "
      "models:/m-ID or runs:/RUN_ID/PATH) over MLflow's scoring protocol and the Open Inference "
      "Protocol v2. On models:/NAME@ALIAS the server follows the alias: when it moves, the new "
      "version is loaded, checked and swapped in with no dropped request.");
  serve_->set_help_flag("--help", "Print this help message and exit");
  ServeCommandOptions& o = options_;
  serve_->add_option("model_uri,-m,--model-uri", o.server.model_uri, "The model to serve")
      ->required();
  serve_->add_option("--host,-h", o.host, "Address to listen on")->capture_default_str();
  serve_->add_option("--port,-p", o.port, "Port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve_->add_option("--tracking-uri", o.server.tracking_uri,
                     "Tracking server for models:/ and runs:/ URIs (default: "
                     "MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)");
  serve_->add_option("--workers,-w", o.workers, "HTTP worker threads (0 = automatic)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  serve_
      ->add_option("--max-batch", o.server.max_batch,
                   "Micro-batching: predict up to N rows of concurrent requests together "
                   "(1 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  serve_
      ->add_option("--batch-timeout-us", o.server.batch_timeout_us,
                   "Micro-batching: how long a request waits for others to join its batch")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000000));
  serve_
      ->add_option("--runtime", o.server.load.runtime,
                   "auto (flattened trees when they apply, else the XGBoost C API), "
                   "flat-trees or xgboost")
      ->capture_default_str();
  serve_->add_option("--name", o.server.served_name,
                     "The model name in OIP v2 routes (default: the registered model's name, or "
                     "the folder's name)");
  serve_
      ->add_option("--poll-interval", o.poll_interval_seconds,
                   "Seconds between checks of a models:/NAME@ALIAS alias")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 86400.0));
  serve_->add_option("--model-cache", o.server.model_cache,
                     "Folder for downloaded models (default: $TMPDIR/plinth-models)");
  serve_->add_option("--prediction-log", o.prediction_log,
                     "Record requests, predictions and the model version as JSON lines in this "
                     "folder (off by default; format in docs/serving.md)");
  serve_
      ->add_option("--prediction-log-sample", o.prediction_log_sample,
                   "Fraction of requests recorded in the prediction log")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  serve_->add_option("--access-log", o.access_log,
                     "Write an access log: '-' for stderr or a file path (off by default)");
  serve_->add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  serve_
      ->add_option("--drain-timeout", o.drain_timeout_seconds,
                   "Seconds a graceful stop waits for in-flight requests")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
}

bool ServeCli::parsed() const { return serve_->parsed(); }

int ServeCli::Run() { return RunServe(options_); }

int RunServe(ServeCommandOptions options) {
  if (Status s = SetLogLevel(options.log_level); !s.ok()) {
    std::fprintf(stderr, "plinth serve: %s\n", s.message().c_str());
    return 2;
  }
  if (!options.access_log.empty()) {
    if (Status s = OpenAccessLog(options.access_log); !s.ok()) {
      std::fprintf(stderr, "plinth serve: %s\n", s.message().c_str());
      return 2;
    }
  }
  options.server.poll_interval_ms = static_cast<int>(options.poll_interval_seconds * 1000);
  options.server.prediction_log.directory = options.prediction_log;
  options.server.prediction_log.sample_rate = options.prediction_log_sample;
  if (Status s = options.server.Validate(); !s.ok()) {
    std::fprintf(stderr, "plinth serve: %s\n", s.message().c_str());
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  serving::ModelServer model_server(options.server);
  if (Status s = model_server.Start(); !s.ok()) {
    std::fprintf(stderr, "plinth serve: cannot serve %s: %s\n", options.server.model_uri.c_str(),
                 s.message().c_str());
    return s.code() == StatusCode::kInvalidArgument && options.server.model_uri.empty() ? 2 : 1;
  }
  http::Router router;
  model_server.AddRoutes(&router);
  http::ServerOptions http_options;
  http_options.host = options.host;
  http_options.port = static_cast<uint16_t>(options.port);
  http_options.threads = options.workers;
  http_options.drain_timeout_seconds = options.drain_timeout_seconds;
  if (Status s = http_options.Validate(); !s.ok()) {
    std::fprintf(stderr, "plinth serve: %s\n", s.message().c_str());
    return 2;
  }
  http::HttpServer server(http_options, &router);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "plinth serve: %s\n", s.message().c_str());
    return 1;
  }
  PLINTH_LOG_INFO("plinth {} serving {} on http://{}:{}", PLINTH_VERSION, options.server.model_uri,
                  options.host, server.port());
  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    PLINTH_LOG_INFO("received {}, draining in-flight requests",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop();
  });
  server.Wait();
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  model_server.Stop();
  PLINTH_LOG_INFO("plinth serve stopped");
  ShutdownLogging();
  return 0;
}

}  // namespace plinth
