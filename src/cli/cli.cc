#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "cli/data_command.h"
#include "cli/dataset_command.h"
#include "cli/db_command.h"
#include "cli/deploy_command.h"
#include "cli/gc_command.h"
#include "cli/models_command.h"
#include "cli/serve_command.h"
#include "cli/server_command.h"
#include "cli/tune_command.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth {

int RunCli(int argc, char** argv) {
  CLI::App app{
      "Plinth: one fast, self-hosted platform for the machine-learning lifecycle.\n"
      "Speaks MLflow's tracking protocol: point MLFLOW_TRACKING_URI at `plinth server`."};
  app.set_version_flag("--version", std::string("plinth ") + PLINTH_VERSION);
  app.require_subcommand(1);

  ServerCommandOptions server;
  CLI::App* server_cmd = app.add_subcommand(
      "server", "Run the MLflow-compatible tracking server (embedded SQLite + local artifacts).");
  // -h means --host, as in `mlflow server`; help stays on --help.
  server_cmd->set_help_flag("--help", "Print this help message and exit");
  server_cmd
      ->add_option("--backend-store-uri", server.backend_store_uri,
                   "Metadata store: sqlite:///PATH (relative), sqlite:////PATH (absolute) or "
                   "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?options]")
      ->capture_default_str();
  server_cmd
      ->add_option("--db-pool-size", server.db_pool_size,
                   "PostgreSQL connections this process may open (each replica has its own)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  server_cmd
      ->add_option("--artifacts-destination", server.artifacts_destination,
                   "Where the artifact proxy stores artifacts: a folder, file:///PATH or "
                   "s3://BUCKET/PREFIX")
      ->capture_default_str();
  server_cmd->add_option(
      "--default-artifact-root", server.default_artifact_root,
      "Artifact location of new experiments (default: mlflow-artifacts: with the proxy, else "
      "--artifacts-destination, which clients then reach directly)");
  server_cmd->add_flag("--serve-artifacts,!--no-serve-artifacts", server.serve_artifacts,
                       "Proxy artifact uploads and downloads through this server (default on)");
  server_cmd->add_option("--host,-h", server.host, "Address to listen on")->capture_default_str();
  server_cmd->add_option("--port,-p", server.port, "Port to listen on")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  server_cmd
      ->add_option("--workers,-w", server.workers,
                   "HTTP worker threads (0 = 4 per core, at least 8)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  server_cmd->add_option("--access-log", server.access_log,
                         "Write an access log: '-' for stderr or a file path (off by default)");
  server_cmd->add_option("--log-level", server.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  server_cmd
      ->add_option("--idle-timeout", server.idle_timeout_seconds,
                   "Seconds a connection may wait for a request before it is closed (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  server_cmd
      ->add_option("--drain-timeout", server.drain_timeout_seconds,
                   "Seconds a graceful stop waits for in-flight requests")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));

  DataCli data(app);
  DatasetCli datasets(app);  // add/list/show/get under `data`
  DbCli db(app);
  GcCli gc(app);
  ModelsCli models(app);
  ServeCli serve(app);
  DeployCli deploy(app);
  TuneCli tune(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (server_cmd->parsed()) {
    return RunServer(server);
  }
  if (datasets.parsed()) {
    return datasets.Run();
  }
  if (data.parsed()) {
    return data.Run();
  }
  if (db.parsed()) {
    return db.Run();
  }
  if (gc.parsed()) {
    return gc.Run();
  }
  if (models.parsed()) {
    return models.Run();
  }
  if (serve.parsed()) {
    return serve.Run();
  }
  if (deploy.parsed()) {
    return deploy.Run();
  }
  if (tune.parsed()) {
    return tune.Run();
  }
  return 2;
}

}  // namespace plinth
