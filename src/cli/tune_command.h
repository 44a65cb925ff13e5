// `plinth tune`: runs a hyperparameter study whose objective is any command, on this machine
// or as one of many workers on many hosts, against a running plinth server (the study and its
// trials live in the server's store; every trial is a tracked run).
//
//   plinth tune --config study.yaml [--tracking-uri URL] -- COMMAND ARGS...
//   plinth tune --worker --study NAME --tracking-uri URL -- COMMAND ARGS...
//
// The first form creates the study from the YAML (or joins it if it exists) and runs trials;
// the second joins an existing study. Each trial runs COMMAND with the trial's params appended
// as `--name=value` and in the environment (PLINTH_PARAM_<NAME>, PLINTH_TRIAL_NUMBER,
// PLINTH_TRIAL_ID, PLINTH_STUDY, MLFLOW_RUN_ID, MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID), reads
// `plinth-metric NAME=VALUE step=N` and `plinth-objective value=V` lines from its stdout
// (intermediate values are reported, and a trial the pruner stops is killed), sends heartbeats
// while it runs, and tells the result: the objective line, else the last value of the study's
// metric; a non-zero exit is a FAIL. `parallelism` trials run at once. At the end the best
// trial is printed. The server is --tracking-uri, else MLFLOW_TRACKING_URI, else
// http://127.0.0.1:5000; no embedded server is started (a study shared by workers needs one
// server they all reach). docs/tuning.md describes the YAML.
#ifndef PLINTH_CLI_TUNE_COMMAND_H_
#define PLINTH_CLI_TUNE_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace plinth {

struct TuneCommandOptions {
  std::string config_path;     // the study YAML; optional with --worker
  std::string tracking_uri;    // empty: MLFLOW_TRACKING_URI, else http://127.0.0.1:5000
  std::string study;           // overrides the YAML's study name
  bool worker = false;         // join an existing study instead of creating it
  int n_trials = 0;            // overrides the YAML (0: keep)
  int parallelism = 0;         // overrides the YAML (0: keep; default 1)
  double timeout_seconds = 0;  // overrides the YAML (0: keep; default none)
  std::vector<std::string> command;
};

// Runs the study; returns the exit code: 0 done, 1 the server refused or could not be reached
// (the reason on `err`), 2 bad usage or a bad YAML.
int RunTune(const TuneCommandOptions& options, std::ostream& out, std::ostream& err);

class TuneCli {
 public:
  explicit TuneCli(CLI::App& app);
  TuneCli(const TuneCli&) = delete;
  TuneCli& operator=(const TuneCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* tune_;
  TuneCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_TUNE_COMMAND_H_
