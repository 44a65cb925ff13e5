#include "cli/db_command.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/clock.h"
#include "store/dump.h"
#include "store/metadata_store.h"
#include "store/migrate.h"

#ifndef PLINTH_VERSION
#define PLINTH_VERSION "0.0.0"
#endif

namespace plinth {
namespace {

constexpr size_t kFileBuffer = 1 << 20;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "runs=1000 metrics=100000 …": the tables that have rows.
std::string RowCounts(const store::DumpSummary& summary) {
  std::string out;
  for (const auto& [table, rows] : summary.rows) {
    if (rows == 0) continue;
    out += (out.empty() ? "" : " ") + table + "=" + std::to_string(rows);
  }
  return out;
}

int Migrate(const DbCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto outcome = store::MigrateStore(options.backend_store_uri, Clock::System()->NowMillis());
  if (!outcome.ok()) {
    err << "plinth db migrate: " << outcome.status().message() << "\n";
    return 1;
  }
  std::string where = store::RedactStoreUri(options.backend_store_uri);
  if (outcome->from == outcome->to) {
    out << where << ": schema version " << outcome->to << " is current; nothing to migrate\n";
  } else {
    out << where << ": migrated from schema version " << outcome->from << " to " << outcome->to
        << "\n";
  }
  return 0;
}

int Version(const DbCommandOptions& options, std::ostream& out, std::ostream& err) {
  auto versions = store::ReadSchemaVersion(options.backend_store_uri);
  if (!versions.ok()) {
    err << "plinth db version: " << versions.status().message() << "\n";
    return 1;
  }
  out << "database schema version: " << versions->current << "\n"
      << "this plinth's latest:    " << versions->latest << "\n";
  if (versions->current == 0) {
    out << "no schema yet: `plinth db migrate` or `plinth server` creates it\n";
  } else if (versions->current < versions->latest) {
    out << "pending migrations: stop the servers and run `plinth db migrate`\n";
  } else if (versions->current > versions->latest) {
    out << "the database is newer than this plinth: upgrade plinth\n";
  } else {
    out << "up to date\n";
  }
  return 0;
}

// Writes to FILE.partial and renames it on success, so a failed export never leaves a file
// that looks complete (an import would refuse it anyway: it has no end line).
int Export(const DbCommandOptions& options, std::ostream& out, std::ostream& err) {
  const bool to_stdout = options.file == "-";
  std::ostream& messages = to_stdout ? err : out;
  std::unique_ptr<char[]> buffer;
  std::ofstream file;
  const std::string partial = options.file + ".partial";
  if (!to_stdout) {
    buffer = std::make_unique<char[]>(kFileBuffer);
    file.rdbuf()->pubsetbuf(buffer.get(), kFileBuffer);
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      err << "plinth db export: --output: cannot write '" << partial
          << "': " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto summary =
      store::ExportStore(options.backend_store_uri, to_stdout ? out : file, PLINTH_VERSION);
  if (!to_stdout) {
    file.close();
    if (summary.ok() && !file) {
      summary = Internal("writing '" + partial + "' failed: " + std::strerror(errno));
    }
    if (summary.ok() && std::rename(partial.c_str(), options.file.c_str()) != 0) {
      summary = Internal("cannot rename '" + partial + "' to '" + options.file +
                         "': " + std::strerror(errno));
    }
    if (!summary.ok()) std::remove(partial.c_str());
  }
  if (!summary.ok()) {
    err << "plinth db export: " << summary.status().message() << "\n";
    return 1;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", SecondsSince(start));
  messages << "exported " << summary->total_rows << " rows (" << RowCounts(*summary) << ") from "
           << store::RedactStoreUri(options.backend_store_uri) << " to "
           << (to_stdout ? "stdout" : options.file) << ": schema version "
           << summary->schema_version << ", " << summary->bytes << " bytes, sha256 "
           << summary->sha256 << ", " << seconds << " s\n";
  return 0;
}

int Import(const DbCommandOptions& options, std::istream& in, std::ostream& out,
           std::ostream& err) {
  const bool from_stdin = options.file == "-";
  std::unique_ptr<char[]> buffer;
  std::ifstream file;
  if (!from_stdin) {
    buffer = std::make_unique<char[]>(kFileBuffer);
    file.rdbuf()->pubsetbuf(buffer.get(), kFileBuffer);
    file.open(options.file, std::ios::binary);
    if (!file) {
      err << "plinth db import: --input: cannot read '" << options.file
          << "': " << std::strerror(errno) << "\n";
      return 1;
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto summary = store::ImportStore(options.backend_store_uri, from_stdin ? in : file,
                                    Clock::System()->NowMillis());
  if (!summary.ok()) {
    err << "plinth db import: " << summary.status().message() << "\n";
    return 1;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", SecondsSince(start));
  out << "imported " << summary->total_rows << " rows (" << RowCounts(*summary) << ") into "
      << store::RedactStoreUri(options.backend_store_uri) << ": schema version "
      << summary->schema_version << ", " << summary->bytes << " bytes, " << seconds << " s\n";
  return 0;
}

const char* ActionName(DbAction action) {
  switch (action) {
    case DbAction::kMigrate:
      return "migrate";
    case DbAction::kVersion:
      return "version";
    case DbAction::kExport:
      return "export";
    case DbAction::kImport:
      return "import";
  }
  return "?";
}

}  // namespace

int RunDbCommand(const DbCommandOptions& options, std::istream& in, std::ostream& out,
                 std::ostream& err) {
  if (Status s = store::CheckStoreUri(options.backend_store_uri); !s.ok()) {
    err << "plinth db " << ActionName(options.action) << ": --backend-store-uri: " << s.message()
        << "\n";
    return 2;
  }
  if (options.file.empty()) {
    err << "plinth db " << ActionName(options.action) << ": "
        << (options.action == DbAction::kImport ? "--input" : "--output")
        << " is empty: name a file, or - for standard "
        << (options.action == DbAction::kImport ? "input" : "output") << "\n";
    return 2;
  }
  switch (options.action) {
    case DbAction::kMigrate:
      return Migrate(options, out, err);
    case DbAction::kVersion:
      return Version(options, out, err);
    case DbAction::kExport:
      return Export(options, out, err);
    case DbAction::kImport:
      return Import(options, in, out, err);
  }
  return 2;
}

DbCli::DbCli(CLI::App& app) {
  db_ = app.add_subcommand("db",
                           "Manage the metadata database: schema migrations, export and import.");
  db_->require_subcommand(1);
  auto add_store_uri = [this](CLI::App* command) {
    command
        ->add_option(
            "--backend-store-uri", options_.backend_store_uri,
            "Metadata store: sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB")
        ->capture_default_str();
  };
  migrate_ = db_->add_subcommand(
      "migrate",
      "Apply pending schema migrations. Idempotent; safe while other replicas start (an advisory "
      "lock serialises them); refuses a database newer than this binary.");
  add_store_uri(migrate_);
  version_ =
      db_->add_subcommand("version", "Print the database's schema version and this binary's.");
  add_store_uri(version_);
  export_ = db_->add_subcommand(
      "export",
      "Write every row of the store to a backend-neutral dump (JSON Lines) from one consistent "
      "snapshot. Only reads.");
  add_store_uri(export_);
  export_->add_option("-o,--output", options_.file, "Dump file, or - for standard output")
      ->capture_default_str();
  import_ = db_->add_subcommand(
      "import",
      "Load a dump into an empty store (creating its schema), in one transaction. Use it to move "
      "a store between SQLite and PostgreSQL.");
  add_store_uri(import_);
  import_->add_option("-i,--input", options_.file, "Dump file, or - for standard input")
      ->capture_default_str();
}

bool DbCli::parsed() const { return db_->parsed(); }

int DbCli::Run() {
  if (migrate_->parsed()) {
    options_.action = DbAction::kMigrate;
  } else if (version_->parsed()) {
    options_.action = DbAction::kVersion;
  } else if (export_->parsed()) {
    options_.action = DbAction::kExport;
  } else if (import_->parsed()) {
    options_.action = DbAction::kImport;
  } else {
    return 2;
  }
  // Dumps stream through cin/cout: unsynchronised streams are several times faster.
  std::ios_base::sync_with_stdio(false);
  return RunDbCommand(options_, std::cin, std::cout, std::cerr);
}

}  // namespace plinth
