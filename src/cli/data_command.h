// `plinth data validate|infer-suite|profile|drift|reference`: the data engine (src/data) on CSV
// files. validate runs a suite and exits 1 when an expectation or the schema fails; infer-suite
// drafts a suite from a file's profile; profile prints a mergeable profile as JSON; drift compares
// a reference and a current file column by column (src/drift's tests, Evidently's default choice)
// as JSON or a self-contained HTML report, against a reference CSV or a stored drift reference
// (`reference` writes one: exact samples, so the report is the same). Usage and I/O errors exit 2.
#ifndef PLINTH_CLI_DATA_COMMAND_H_
#define PLINTH_CLI_DATA_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace plinth {

struct DataCommandOptions {
  std::string file;
  std::string suite;   // validate
  std::string format;  // json | html (validate, drift); json (profile)
  std::string output;  // -o: a file instead of stdout
  std::string name;    // infer-suite: the suite's name (default: the file's stem)
  std::string delimiter = ",";
  int threads = 0;
  size_t max_unexpected = 20;  // validate: unexpected values listed per expectation
  // drift
  std::string reference;     // a CSV, a drift reference file, or NAME[@VERSION] on a server
  std::string tracking_uri;  // drift: the server for NAME[@VERSION]
  std::string current;
  std::string method;
  std::string numerical_method;
  std::string categorical_method;
  double threshold = -1;  // < 0: the method's default
  double drift_share = 0.5;
  std::vector<std::string> column_methods;     // NAME=METHOD
  std::vector<std::string> column_thresholds;  // NAME=VALUE
  bool fail_on_drift = false;
};

// Each returns the exit code: 0 success, 1 validation failed (or drift found with
// fail_on_drift), 2 bad usage or an unreadable input (the reason on `err`).
int RunDataValidate(const DataCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataInferSuite(const DataCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataProfile(const DataCommandOptions& options, std::ostream& out, std::ostream& err);
int RunDataDrift(const DataCommandOptions& options, std::ostream& out, std::ostream& err);
// Writes a drift reference of options.file to options.output; prints a one-line JSON summary.
int RunDataReference(const DataCommandOptions& options, std::ostream& out, std::ostream& err);

class DataCli {
 public:
  explicit DataCli(CLI::App& app);
  DataCli(const DataCli&) = delete;
  DataCli& operator=(const DataCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* data_;
  CLI::App* validate_;
  CLI::App* infer_;
  CLI::App* profile_;
  CLI::App* drift_;
  CLI::App* reference_;
  DataCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_DATA_COMMAND_H_
