// `plinth gc`: permanently removes deleted runs and experiments with their artifacts, as
// `mlflow gc` does (tracking/garbage_collector.h has the rules). Artifact URIs are mapped to
// stores here: `mlflow-artifacts:/…` to the proxy's --artifacts-destination, any other URI
// (a folder, file://, s3://) to the store it names.
#ifndef PLINTH_CLI_GC_COMMAND_H_
#define PLINTH_CLI_GC_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace plinth {

struct GcCommandOptions {
  std::string backend_store_uri = "sqlite:///plinth-data/plinth.db";
  // What `plinth server --artifacts-destination` serves under mlflow-artifacts:/.
  std::string artifacts_destination = "./plinth-data/artifacts";
  std::string older_than;      // mlflow's #d#h#m#s; empty: any age
  std::string run_ids;         // comma-separated
  std::string experiment_ids;  // comma-separated
  bool dry_run = false;
};

// Runs one collection at time `now` (ms). Returns the exit code: 0 everything selected was
// removed, 1 something failed or was kept for the next run (listed on `err`), 2 bad usage.
int RunGcCommand(const GcCommandOptions& options, std::ostream& out, std::ostream& err,
                 int64_t now);

class GcCli {
 public:
  explicit GcCli(CLI::App& app);
  GcCli(const GcCli&) = delete;
  GcCli& operator=(const GcCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* gc_;
  GcCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_GC_COMMAND_H_
