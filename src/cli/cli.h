// The `plinth` command line: subcommands parse argv (CLI11) into option structs and call the
// engines. Only this folder knows about argv and exit codes.
#ifndef PLINTH_CLI_CLI_H_
#define PLINTH_CLI_CLI_H_

namespace plinth {

// Runs the command line; returns the process exit code (0 ok, 1 runtime failure, 2 bad usage).
int RunCli(int argc, char** argv);

}  // namespace plinth

#endif  // PLINTH_CLI_CLI_H_
