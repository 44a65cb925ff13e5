// `plinth data add|list|show|get`: dataset versions on a plinth server, over its REST API
// (api/dataset_api.h). `add` hashes the file (SHA-256, streamed), profiles a CSV chunk by chunk,
// optionally validates it with a suite, uploads the bytes only when the server does not hold
// them yet, records the version, and with --run-id logs it as the run's input (MLflow's
// log-inputs) for lineage. Memory stays bounded by the chunk size, whatever the file size.
#ifndef PLINTH_CLI_DATASET_COMMAND_H_
#define PLINTH_CLI_DATASET_COMMAND_H_

#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace plinth {

struct DatasetCommandOptions {
  std::string tracking_uri;
  std::string file;  // add: the file; show/get: NAME[@VERSION]; list: an optional name
  std::string name;
  std::string suite;
  std::string description;
  std::string format;
  std::string run_id;
  std::string context = "training";
  std::string output;
};

// Exit codes: 0 done, 1 refused / unreachable / the suite failed (the version is still stored),
// 2 bad usage.
int RunDataAdd(const DatasetCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataList(const DatasetCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataShow(const DatasetCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataGet(const DatasetCommandOptions& options, std::ostream& out, std::ostream& err);

// Adds add/list/show/get under the existing `data` subcommand (DataCli must come first).
class DatasetCli {
 public:
  explicit DatasetCli(CLI::App& app);
  DatasetCli(const DatasetCli&) = delete;
  DatasetCli& operator=(const DatasetCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* add_;
  CLI::App* list_;
  CLI::App* show_;
  CLI::App* get_;
  DatasetCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_DATASET_COMMAND_H_
