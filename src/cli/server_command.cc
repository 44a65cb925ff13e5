#include "cli/server_command.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "api/mlflow_api.h"
#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/log.h"
#include "data/dataset_service.h"
#include "http/http_server.h"
#include "registry/registry_service.h"
#include "store/metadata_store.h"
#include "tracking/tracking_service.h"
#include "tune/service/tune_service.h"
#include "ui/ui_routes.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth {

int RunServer(const ServerCommandOptions& options) {
  Status level = SetLogLevel(options.log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", level.message().c_str());
    return 2;
  }
  if (options.port < 0 || options.port > 65535) {
    std::fprintf(stderr, "plinth server: --port must be between 0 and 65535, got %d\n",
                 options.port);
    return 2;
  }
  if (Status s = store::CheckStoreUri(options.backend_store_uri); !s.ok()) {
    std::fprintf(stderr, "plinth server: --backend-store-uri: %s\n", s.message().c_str());
    return 2;
  }
  std::string default_root = options.default_artifact_root;
  if (default_root.empty()) {
    default_root = options.serve_artifacts ? "mlflow-artifacts:" : options.artifacts_destination;
  }
  if (!options.access_log.empty()) {
    Status s = OpenAccessLog(options.access_log);
    if (!s.ok()) {
      std::fprintf(stderr, "plinth server: %s\n", s.message().c_str());
      return 2;
    }
  }

  // Block the stop signals in every thread; one thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<artifacts::ArtifactStore> artifact_store;
  if (options.serve_artifacts) {
    auto opened = artifacts::OpenArtifactStoreFromUri(options.artifacts_destination);
    if (!opened.ok()) {
      std::fprintf(stderr, "plinth server: --artifacts-destination: %s\n",
                   opened.status().message().c_str());
      return opened.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    artifact_store = std::move(*opened);
  }
  store::StoreOpenOptions store_options;
  store_options.pool_size = options.db_pool_size;
  auto metadata = store::OpenStoreFromUri(options.backend_store_uri, store_options,
                                          Clock::System()->NowMillis());
  if (!metadata.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", metadata.status().message().c_str());
    return 1;
  }
  tracking::TrackingOptions tracking_options;
  tracking_options.default_artifact_root = default_root;
  tracking::TrackingService tracking(metadata->get(), Clock::System(), tracking_options);
  registry::RegistryService registry(metadata->get(), Clock::System());
  tune::TuneService tune(metadata->get(), &tracking, Clock::System());
  // Dataset bytes live in the artifact proxy's store (none with --no-serve-artifacts).
  data::DatasetService datasets(&(*metadata)->datasets(), artifact_store.get());
  std::atomic<bool> ready{true};
  http::Router router;
  api::ApiContext context;
  context.tracking = &tracking;
  context.registry = &registry;
  context.tune = &tune;
  context.datasets = &datasets;
  context.artifacts = artifact_store.get();  // null: no proxy (--no-serve-artifacts)
  context.plinth_version = PLINTH_VERSION;
  context.ready = &ready;
  api::RegisterMlflowApi(router, context);
  ui::RegisterWebUi(router);  // GET / and /static/*: the web UI embedded in the binary

  http::ServerOptions http_options;
  http_options.host = options.host;
  http_options.port = static_cast<uint16_t>(options.port);
  http_options.threads = options.workers;
  http_options.drain_timeout_seconds = options.drain_timeout_seconds;
  http_options.idle_timeout_seconds = options.idle_timeout_seconds;
  if (Status s = http_options.Validate(); !s.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", s.message().c_str());
    return 2;
  }
  http::HttpServer server(http_options, &router);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", s.message().c_str());
    return 1;
  }
  PLINTH_LOG_INFO("plinth {} serving on http://{}:{} (store: {}, artifacts: {})", PLINTH_VERSION,
                  options.host, server.port(), store::RedactStoreUri(options.backend_store_uri),
                  options.serve_artifacts ? options.artifacts_destination : default_root);

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig == SIGTERM || sig == SIGINT) {
      PLINTH_LOG_INFO("received {}, draining in-flight requests",
                      sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    ready = false;
    server.Stop();
  });
  server.Wait();
  // Wake the waiter if the server stopped for another reason.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  PLINTH_LOG_INFO("plinth stopped");
  metadata->reset();
  ShutdownLogging();
  return 0;
}

}  // namespace plinth
