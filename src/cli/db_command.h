// `plinth db migrate | version | export | import`: explicit schema upgrades, and moving a store
// between SQLite and PostgreSQL through a backend-neutral dump (store/dump.h). DbCli registers
// the subcommands with the command line; RunDbCommand runs one and is what the tests call.
#ifndef PLINTH_CLI_DB_COMMAND_H_
#define PLINTH_CLI_DB_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>

namespace CLI {
class App;
}

namespace plinth {

enum class DbAction { kMigrate, kVersion, kExport, kImport };

struct DbCommandOptions {
  DbAction action = DbAction::kVersion;
  std::string backend_store_uri = "sqlite:///plinth-data/plinth.db";
  std::string file = "-";  // export: where the dump goes; import: where it comes from; - = stdio
};

// Runs one `plinth db` action. `in`/`out` stand for stdin/stdout when file is "-"; messages go
// to `out`, or to `err` when `out` carries the dump. Returns the exit code: 0 done, 1 runtime
// failure (unreachable database, schema too new, store not empty, bad dump), 2 bad usage.
int RunDbCommand(const DbCommandOptions& options, std::istream& in, std::ostream& out,
                 std::ostream& err);

// `plinth db` and its subcommands on `app`. Keep it in place while `app` parses (the options
// are parsed into it).
class DbCli {
 public:
  explicit DbCli(CLI::App& app);
  DbCli(const DbCli&) = delete;
  DbCli& operator=(const DbCli&) = delete;

  bool parsed() const;
  int Run();

 private:
  CLI::App* db_;
  CLI::App* migrate_;
  CLI::App* version_;
  CLI::App* export_;
  CLI::App* import_;
  DbCommandOptions options_;
};

}  // namespace plinth

#endif  // PLINTH_CLI_DB_COMMAND_H_
