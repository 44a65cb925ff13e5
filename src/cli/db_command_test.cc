// Tests of `plinth db` at the command level (RunDbCommand and RunCli): exit codes, messages that
// name the flag, and a SQLite store moved through dump files. The backends themselves are
// tested in src/store (dump_test.cc, migrate_test.cc), PostgreSQL included.
#include "cli/db_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "cli/cli.h"
#include "core/ids.h"
#include "core/log.h"
#include "store/direct_db.h"
#include "store/metadata_store.h"
#include "store/schema.h"

namespace plinth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

class DbCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    std::string pattern = ::testing::TempDir() + "plinth_db_cli_XXXXXX";
    char* made = mkdtemp(pattern.data());
    ASSERT_NE(made, nullptr);
    dir_ = made;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Uri(const std::string& name) { return "sqlite:///" + dir_ + "/" + name; }

  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };
  Outcome Run(DbAction action, const std::string& uri, const std::string& file = "-",
              const std::string& input = "") {
    DbCommandOptions options;
    options.action = action;
    options.backend_store_uri = uri;
    options.file = file;
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    int code = RunDbCommand(options, in, out, err);
    return {code, out.str(), err.str()};
  }

  // A store with an experiment and a run with a metric.
  void Fill(const std::string& uri) {
    store::StoreOpenOptions options;
    auto opened = store::OpenStoreFromUri(uri, options, kNow);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store::Experiment e;
    e.name = "exported";
    auto id = (*opened)->CreateExperiment(e, "mlflow-artifacts:");
    ASSERT_TRUE(id.ok());
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.experiment_id = *id;
    run.info.artifact_uri = "mlflow-artifacts:/" + *id + "/" + run.info.run_id + "/artifacts";
    ASSERT_TRUE((*opened)->CreateRun(run).ok());
    store::Metric m;
    m.key = "loss";
    m.value = 0.25;
    m.timestamp = kNow;
    ASSERT_TRUE((*opened)->LogBatch(run.info.run_id, {m}, {{"lr", "0.1"}}, {}).ok());
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  std::string dir_;
};

TEST_F(DbCommandTest, MigrateIsIdempotentAndVersionReports) {
  std::string uri = Uri("m.db");
  Outcome version = Run(DbAction::kVersion, uri);
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, HasSubstr("database schema version: 0"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.db")) << "version must not create the file";

  Outcome first = Run(DbAction::kMigrate, uri);
  EXPECT_EQ(first.code, 0) << first.err;
  const std::string latest = std::to_string(store::LatestSchemaVersion());
  EXPECT_THAT(first.out, HasSubstr("migrated from schema version 0 to " + latest));
  Outcome second = Run(DbAction::kMigrate, uri);
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.out,
              HasSubstr("schema version " + latest + " is current; nothing to migrate"));
  version = Run(DbAction::kVersion, uri);
  EXPECT_THAT(version.out, HasSubstr("database schema version: " + latest));
  EXPECT_THAT(version.out, HasSubstr("up to date"));
}

TEST_F(DbCommandTest, MigrateRefusesANewerSchema) {
  std::string uri = Uri("newer.db");
  ASSERT_EQ(Run(DbAction::kMigrate, uri).code, 0);
  {
    auto db = store::DirectDb::Open(uri, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Execute("INSERT INTO schema_version (version) VALUES (999)").ok());
  }
  Outcome refused = Run(DbAction::kMigrate, uri);
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("plinth db migrate: database schema version 999 is newer "
                                     "than this plinth binary knows (" +
                                     std::to_string(store::LatestSchemaVersion()) + ")"));
  Outcome version = Run(DbAction::kVersion, uri);
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, HasSubstr("upgrade plinth"));
}

TEST_F(DbCommandTest, ExportImportThroughFilesIsIdentical) {
  std::string source = Uri("source.db");
  std::string target = Uri("target.db");
  Fill(source);
  std::string first = dir_ + "/first.jsonl";
  Outcome exported = Run(DbAction::kExport, source, first);
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("exported 6 rows (experiments=2 runs=1 params=1 "
                                      "metrics=1 latest_metrics=1)"));
  EXPECT_FALSE(std::filesystem::exists(first + ".partial"));

  Outcome imported = Run(DbAction::kImport, target, first);
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("imported 6 rows"));

  // To stdout this time: the dump on `out`, the summary on `err`.
  Outcome again = Run(DbAction::kExport, target, "-");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, ReadFile(first));
  EXPECT_THAT(again.err, HasSubstr("to stdout"));

  // From stdin into a third store.
  std::string third = Uri("third.db");
  Outcome piped = Run(DbAction::kImport, third, "-", again.out);
  EXPECT_EQ(piped.code, 0) << piped.err;

  // A second import into a store that has data is refused and changes nothing.
  Outcome refused = Run(DbAction::kImport, target, first);
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("plinth db import: the target store is not empty"));
  EXPECT_EQ(Run(DbAction::kExport, target, "-").out, ReadFile(first));
}

TEST_F(DbCommandTest, ErrorsNameTheFlag) {
  Outcome bad_uri = Run(DbAction::kExport, "mysql://db/x");
  EXPECT_EQ(bad_uri.code, 2);
  EXPECT_THAT(bad_uri.err, HasSubstr("plinth db export: --backend-store-uri:"));
  Outcome empty_file = Run(DbAction::kImport, Uri("x.db"), "");
  EXPECT_EQ(empty_file.code, 2);
  EXPECT_THAT(empty_file.err, HasSubstr("--input is empty"));
  Outcome missing_input = Run(DbAction::kImport, Uri("x.db"), dir_ + "/nope.jsonl");
  EXPECT_EQ(missing_input.code, 1);
  EXPECT_THAT(missing_input.err, HasSubstr("--input: cannot read"));
  Outcome unwritable = Run(DbAction::kExport, Uri("x.db"), dir_ + "/no/such/dir/out.jsonl");
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_THAT(unwritable.err, HasSubstr("--output: cannot write"));
  Outcome missing_db = Run(DbAction::kExport, Uri("absent.db"), dir_ + "/out.jsonl");
  EXPECT_EQ(missing_db.code, 1);
  EXPECT_THAT(missing_db.err, HasSubstr("there is no SQLite database"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/out.jsonl.partial"));
  Outcome garbage = Run(DbAction::kImport, Uri("x.db"), "-", "not a dump\n");
  EXPECT_EQ(garbage.code, 1);
  EXPECT_THAT(garbage.err, HasSubstr("not a plinth dump"));
}

int Cli(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return RunCli(static_cast<int>(argv.size()), argv.data());
}

TEST_F(DbCommandTest, CommandLineUsageErrorsExitTwo) {
  EXPECT_EQ(Cli({"plinth", "db"}), 2);  // a subcommand is required
  EXPECT_EQ(Cli({"plinth", "db", "frobnicate"}), 2);
  EXPECT_EQ(Cli({"plinth", "db", "export", "--no-such-flag"}), 2);
  EXPECT_EQ(Cli({"plinth", "db", "version", "--backend-store-uri", "mysql://x"}), 2);
  EXPECT_EQ(Cli({"plinth", "db", "migrate", "--backend-store-uri", Uri("cli.db")}), 0);
}

}  // namespace
}  // namespace plinth
