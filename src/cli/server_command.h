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
  std::string host = "127.0.0.1";
  int port = 5000;
  int workers = 0;         // HTTP threads; 0 = automatic
  std::string access_log;  // "" = off, "-" = stderr, else a file
  std::string log_level = "info";
  int drain_timeout_seconds = 30;
  int idle_timeout_seconds = 300;
};

// Resolves an MLflow-style store URI to a SQLite file path: "sqlite:///rel.db" is relative,
// "sqlite:////abs.db" absolute, a plain path is taken as is. Failure: kInvalidArgument naming
// the flag for any other scheme.
Result<std::string> SqlitePathFromUri(const std::string& uri);
// "file:///dir" or a plain folder path. Failure: kInvalidArgument for other schemes.
Result<std::string> LocalPathFromUri(const std::string& uri);

int RunServer(const ServerCommandOptions& options);

}  // namespace plinth

#endif  // PLINTH_CLI_SERVER_COMMAND_H_
