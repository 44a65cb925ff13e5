// `plinth server`: the tracking server. ServerCommandOptions is filled by the CLI and validated
// here; RunServer blocks until SIGTERM/SIGINT and then drains in-flight requests.
#ifndef PLINTH_CLI_SERVER_COMMAND_H_
#define PLINTH_CLI_SERVER_COMMAND_H_

#include <cstdint>
#include <string>

#include "core/result.h"

namespace plinth {

struct ServerCommandOptions {
  std::string backend_store_uri = "sqlite:///plinth-data/plinth.db";
  std::string artifacts_destination = "./plinth-data/artifacts";
  // Root of new experiments' artifact locations. Empty: "mlflow-artifacts:" (the proxy) when
  // serve_artifacts, else artifacts_destination (clients then write there directly).
  std::string default_artifact_root;
  bool serve_artifacts = true;  // the /api/2.0/mlflow-artifacts proxy routes
  int db_pool_size = 16;        // PostgreSQL connections per process
  std::string host = "127.0.0.1";
  int port = 5000;
  int workers = 0;         // HTTP threads; 0 = automatic
  std::string access_log;  // "" = off, "-" = stderr, else a file
  std::string log_level = "info";
  int drain_timeout_seconds = 30;
  int idle_timeout_seconds = 300;
};

int RunServer(const ServerCommandOptions& options);

}  // namespace plinth

#endif  // PLINTH_CLI_SERVER_COMMAND_H_
