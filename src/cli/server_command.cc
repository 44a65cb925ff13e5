#include "cli/server_command.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "api/mlflow_api.h"
#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/http_server.h"
#include "store/metadata_store.h"
#include "tracking/tracking_service.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth {

Result<std::string> SqlitePathFromUri(const std::string& uri) {
  const std::string scheme = "sqlite:///";
  if (uri.rfind(scheme, 0) == 0) {
    std::string path = uri.substr(scheme.size());
    if (path.empty()) {
      return InvalidArgument("--backend-store-uri '" + uri + "' names no database file");
    }
    if (path == ":memory:") {
      return InvalidArgument(
          "--backend-store-uri: an in-memory SQLite database would lose "
          "everything at exit; name a file");
    }
    return path;
  }
  if (uri.find("://") != std::string::npos) {
    return InvalidArgument("--backend-store-uri '" + uri +
                           "': only sqlite:///PATH is supported in this build (PostgreSQL "
                           "arrives with the scale-out work)");
  }
  return uri;
}

Result<std::string> LocalPathFromUri(const std::string& uri) {
  const std::string scheme = "file://";
  if (uri.rfind(scheme, 0) == 0) {
    return uri.substr(scheme.size());
  }
  if (uri.find("://") != std::string::npos) {
    return InvalidArgument("--artifacts-destination '" + uri +
                           "': only a local folder or file:// URI is supported in this build");
  }
  return uri;
}

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
  auto db_path = SqlitePathFromUri(options.backend_store_uri);
  auto artifacts_path = LocalPathFromUri(options.artifacts_destination);
  for (const Status& s : {db_path.status(), artifacts_path.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "plinth server: %s\n", s.message().c_str());
      return 2;
    }
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

  auto artifact_store = artifacts::OpenLocalArtifactStore(*artifacts_path);
  if (!artifact_store.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", artifact_store.status().message().c_str());
    return 1;
  }
  store::SqliteStoreOptions store_options;
  store_options.path = *db_path;
  auto metadata = store::OpenSqliteStore(store_options, Clock::System()->NowMillis());
  if (!metadata.ok()) {
    std::fprintf(stderr, "plinth server: %s\n", metadata.status().message().c_str());
    return 1;
  }
  tracking::TrackingService tracking(metadata->get(), Clock::System(), {});
  std::atomic<bool> ready{true};
  http::Router router;
  api::ApiContext context;
  context.tracking = &tracking;
  context.artifacts = artifact_store->get();
  context.plinth_version = PLINTH_VERSION;
  context.ready = &ready;
  api::RegisterMlflowApi(router, context);

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
                  options.host, server.port(), *db_path, *artifacts_path);

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
