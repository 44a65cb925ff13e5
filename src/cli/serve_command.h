// `plinth serve MODEL_URI`: the model server (src/serving/server) on its own HTTP listener,
// with MLflow's `mlflow models serve` options where they overlap (-m, -h, -p, -w).
#ifndef PLINTH_CLI_SERVE_COMMAND_H_
#define PLINTH_CLI_SERVE_COMMAND_H_

#include <string>

#include "serving/server/model_server.h"

namespace CLI {
class App;
}

namespace plinth {

struct ServeCommandOptions {
  serving::ModelServerOptions server;
  std::string host = "127.0.0.1";
  int port = 8080;
  int workers = 0;  // HTTP threads; 0 = automatic
  double poll_interval_seconds = 2.0;
  std::string prediction_log;  // folder; empty = off
  double prediction_log_sample = 1.0;
  std::string access_log;
  std::string log_level = "info";
  int drain_timeout_seconds = 30;
};

// Blocks until SIGTERM/SIGINT. Returns the exit code: 0 stopped cleanly, 1 the model could not
// be loaded or the port bound, 2 bad usage.
int RunServe(ServeCommandOptions options);

class ServeCli {
 public:
  explicit ServeCli(CLI::App& app);
  ServeCli(const ServeCli&) = delete;
  ServeCli& operator=(const ServeCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* serve_;
  ServeCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_SERVE_COMMAND_H_
