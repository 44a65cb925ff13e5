// `plinth models promote|rollback|history`: move a registered model's alias on a running server
// (plinth) over HTTP, through /api/plinth/v1/registry/…, so every replica sees the move and the
// server records it in the alias history. The server is --tracking-uri, else
// MLFLOW_TRACKING_URI, else http://127.0.0.1:5000; MLFLOW_TRACKING_TOKEN (bearer) or
// MLFLOW_TRACKING_USERNAME/PASSWORD (basic) authenticate as for the MLflow client.
#ifndef PLINTH_CLI_MODELS_COMMAND_H_
#define PLINTH_CLI_MODELS_COMMAND_H_

#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace plinth {

struct ModelsCommandOptions {
  std::string tracking_uri;  // empty: MLFLOW_TRACKING_URI, else http://127.0.0.1:5000
  std::string name;
  std::string version;  // promote only
  std::string alias;    // history: empty lists every alias
  std::string user;     // recorded with the move; empty: $USER
};

// Each returns the exit code: 0 done, 1 the server refused or could not be reached (the reason
// on `err`), 2 bad usage.
int RunModelsPromote(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err);
int RunModelsRollback(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err);
int RunModelsHistory(const ModelsCommandOptions& options, std::ostream& out, std::ostream& err);

class ModelsCli {
 public:
  explicit ModelsCli(CLI::App& app);
  ModelsCli(const ModelsCli&) = delete;
  ModelsCli& operator=(const ModelsCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* models_;
  CLI::App* promote_;
  CLI::App* rollback_;
  CLI::App* history_;
  ModelsCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_MODELS_COMMAND_H_
