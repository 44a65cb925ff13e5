// Tests of `plinth gc` at the command level: a SQLite store with real artifact folders (the
// proxy's --artifacts-destination and a run that writes straight to a local folder), checking
// which folders and rows go, dry runs, a misconfigured destination, and usage errors.
#include "cli/gc_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "core/log.h"
#include "store/dump.h"
#include "store/metadata_store.h"

namespace plinth {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDay = 86400000;
constexpr int64_t kNow = 1700000000000;

class GcCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    std::string pattern = ::testing::TempDir() + "plinth_gc_cli_XXXXXX";
    char* made = mkdtemp(pattern.data());
    ASSERT_NE(made, nullptr);
    dir_ = made;
    uri_ = "sqlite:///" + dir_ + "/plinth.db";
    destination_ = dir_ + "/artifacts";
    fs::create_directories(destination_);
    auto opened = store::OpenStoreFromUri(uri_, store::StoreOpenOptions{}, kNow);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    experiment_ = CreateExperiment("proxied", "");
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string CreateExperiment(const std::string& name, const std::string& location) {
    store::Experiment e;
    e.name = name;
    e.artifact_location = location;
    auto id = store_->CreateExperiment(e, "mlflow-artifacts:");
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }

  // A run under `location` (the experiment's) with one artifact file, deleted
  // `deleted_days_ago` days ago (active when negative). Returns its id.
  std::string CreateRun(const std::string& experiment_id, const std::string& location,
                        int deleted_days_ago) {
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.experiment_id = experiment_id;
    run.info.artifact_uri = location + "/" + run.info.run_id + "/artifacts";
    EXPECT_TRUE(store_->CreateRun(run).ok());
    store::Metric m;
    m.key = "loss";
    m.value = 0.5;
    m.timestamp = kNow;
    EXPECT_TRUE(store_->LogBatch(run.info.run_id, {m}, {{"p", "1"}}, {{"t", "x"}}).ok());
    WriteArtifact(run.info.artifact_uri);
    if (deleted_days_ago >= 0) {
      EXPECT_TRUE(store_
                      ->SetRunLifecycle(run.info.run_id, store::LifecycleStage::kDeleted,
                                        kNow - deleted_days_ago * kDay)
                      .ok());
    }
    return run.info.run_id;
  }

  // The local folder an artifact URI stands for.
  std::string Folder(const std::string& uri) {
    const std::string proxy = "mlflow-artifacts:/";
    if (uri.rfind(proxy, 0) == 0) return destination_ + "/" + uri.substr(proxy.size());
    return uri;
  }
  void WriteArtifact(const std::string& uri) {
    fs::create_directories(Folder(uri));
    std::ofstream(Folder(uri) + "/model.txt") << "weights";
  }
  // The run's own folder (".../<run_id>") exists.
  bool HasFolder(const std::string& experiment_location, const std::string& owner) {
    return fs::exists(Folder(experiment_location + "/" + owner));
  }

  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };
  Outcome Gc(GcCommandOptions options) {
    if (options.backend_store_uri == GcCommandOptions{}.backend_store_uri) {
      options.backend_store_uri = uri_;
    }
    if (options.artifacts_destination == GcCommandOptions{}.artifacts_destination) {
      options.artifacts_destination = destination_;
    }
    std::ostringstream out;
    std::ostringstream err;
    int code = RunGcCommand(options, out, err, kNow);
    return {code, out.str(), err.str()};
  }

  // Rows per table, read from a dump of the store.
  int64_t Rows(const std::string& table) {
    std::ostringstream sink;
    auto summary = store::ExportStore(uri_, sink, "test");
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    if (!summary.ok()) return -1;
    for (const auto& [name, rows] : summary->rows) {
      if (name == table) return rows;
    }
    return -1;
  }

  std::string dir_;
  std::string uri_;
  std::string destination_;
  std::unique_ptr<store::MetadataStore> store_;
  std::string experiment_;
};

TEST_F(GcCommandTest, RemovesOldDeletedRunsWithTheirArtifacts) {
  const std::string location = "mlflow-artifacts:/" + experiment_;
  std::string active = CreateRun(experiment_, location, -1);
  std::string old_run = CreateRun(experiment_, location, 40);
  std::string young = CreateRun(experiment_, location, 2);
  // A run whose client wrote straight to a local folder (--no-serve-artifacts).
  std::string direct_location = dir_ + "/direct/7";
  std::string direct = CreateRun(experiment_, direct_location, 40);

  GcCommandOptions dry;
  dry.older_than = "30d";
  dry.dry_run = true;
  Outcome preview = Gc(dry);
  EXPECT_EQ(preview.code, 0) << preview.err;
  EXPECT_THAT(preview.out, HasSubstr("Would permanently delete run " + old_run));
  EXPECT_THAT(preview.out, HasSubstr("Would permanently delete run " + direct));
  EXPECT_THAT(preview.out, Not(HasSubstr(young)));
  EXPECT_TRUE(HasFolder(location, old_run));
  EXPECT_TRUE(store_->GetRun(old_run).ok());

  GcCommandOptions options;
  options.older_than = "30d";
  Outcome done = Gc(options);
  EXPECT_EQ(done.code, 0) << done.err;
  EXPECT_THAT(done.out, HasSubstr("Run with ID " + old_run + " has been permanently deleted."));
  EXPECT_THAT(done.out, HasSubstr("gc: 2 runs, 0 experiments, 0 logged models permanently "
                                  "deleted"));
  EXPECT_FALSE(HasFolder(location, old_run));
  EXPECT_FALSE(HasFolder(direct_location, direct));
  EXPECT_TRUE(fs::exists(direct_location)) << "only the run's own folder goes";
  EXPECT_TRUE(HasFolder(location, young));
  EXPECT_TRUE(HasFolder(location, active));
  EXPECT_EQ(store_->GetRun(old_run).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetRun(young).ok());

  // Everything deleted, whatever its age; the active run and its rows stay, and no row of a
  // purged run is left behind in any table.
  Outcome rest = Gc(GcCommandOptions{});
  EXPECT_EQ(rest.code, 0) << rest.err;
  EXPECT_FALSE(HasFolder(location, young));
  EXPECT_TRUE(HasFolder(location, active));
  EXPECT_EQ(Rows("runs"), 1);
  EXPECT_EQ(Rows("params"), 1);
  EXPECT_EQ(Rows("tags"), 1);
  EXPECT_EQ(Rows("metrics"), 1);
  EXPECT_EQ(Rows("latest_metrics"), 1);
  EXPECT_EQ(Rows("metrics_staging"), 0);
}

TEST_F(GcCommandTest, DeletedExperimentsGoWithEverythingInThem) {
  std::string doomed = CreateExperiment("doomed", "");
  const std::string location = "mlflow-artifacts:/" + doomed;
  std::string r1 = CreateRun(doomed, location, -1);
  store::LoggedModel model;
  model.model_id = NewLoggedModelId();
  model.experiment_id = doomed;
  model.name = "m";
  model.artifact_uri = location + "/models/" + model.model_id + "/artifacts";
  ASSERT_TRUE(store_->CreateLoggedModel(model).ok());
  WriteArtifact(model.artifact_uri);
  std::string keeper = CreateRun(experiment_, "mlflow-artifacts:/" + experiment_, -1);
  ASSERT_TRUE(
      store_->SetExperimentLifecycle(doomed, store::LifecycleStage::kDeleted, kNow - kDay).ok());

  Outcome done = Gc(GcCommandOptions{});
  EXPECT_EQ(done.code, 0) << done.err;
  EXPECT_THAT(done.out, HasSubstr("Experiment with ID " + doomed + " has been permanently"));
  EXPECT_THAT(done.out, HasSubstr("Logged model with ID " + model.model_id));
  EXPECT_FALSE(HasFolder(location, r1));
  EXPECT_FALSE(HasFolder(location + "/models", model.model_id));
  EXPECT_EQ(store_->GetExperiment(doomed).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetRun(keeper).ok());
  EXPECT_EQ(Rows("logged_models"), 0);
  EXPECT_EQ(Rows("experiments"), 2);  // Default and the one that was not deleted
}

// A destination that is not the server's: deleting "nothing" there would orphan the real
// artifacts, so the runs are kept and gc fails.
TEST_F(GcCommandTest, WrongDestinationKeepsTheRuns) {
  const std::string location = "mlflow-artifacts:/" + experiment_;
  std::string old_run = CreateRun(experiment_, location, 40);
  GcCommandOptions options;
  options.artifacts_destination = dir_ + "/not-the-destination";
  Outcome failed = Gc(options);
  EXPECT_EQ(failed.code, 1);
  EXPECT_THAT(failed.err, HasSubstr("plinth gc: kept run " + old_run));
  EXPECT_THAT(failed.err, HasSubstr("--artifacts-destination"));
  EXPECT_THAT(failed.out, HasSubstr("1 kept"));
  EXPECT_TRUE(store_->GetRun(old_run).ok());
  EXPECT_TRUE(HasFolder(location, old_run));
  EXPECT_FALSE(fs::exists(dir_ + "/not-the-destination"));
}

// An artifact location that is not the run's own folder could be shared: left alone.
TEST_F(GcCommandTest, OddArtifactLocationIsNotDeleted) {
  store::Run run;
  run.info.run_id = NewRunId();
  run.info.experiment_id = experiment_;
  run.info.artifact_uri = "mlflow-artifacts:/" + experiment_;  // the whole experiment's folder
  ASSERT_TRUE(store_->CreateRun(run).ok());
  WriteArtifact(run.info.artifact_uri);
  ASSERT_TRUE(store_->SetRunLifecycle(run.info.run_id, store::LifecycleStage::kDeleted, kNow).ok());
  Outcome failed = Gc(GcCommandOptions{});
  EXPECT_EQ(failed.code, 1);
  EXPECT_THAT(failed.err, HasSubstr("does not end in its run's or model's own folder"));
  EXPECT_TRUE(fs::exists(destination_ + "/" + experiment_ + "/model.txt"));
  EXPECT_TRUE(store_->GetRun(run.info.run_id).ok());
}

TEST_F(GcCommandTest, UsageErrorsNameTheFlag) {
  GcCommandOptions age;
  age.older_than = "30 days";
  Outcome bad_age = Gc(age);
  EXPECT_EQ(bad_age.code, 2);
  EXPECT_THAT(bad_age.err, HasSubstr("plinth gc: --older-than: cannot read the age '30 days'"));
  GcCommandOptions uri;
  uri.backend_store_uri = "mysql://x/y";
  Outcome bad_uri = Gc(uri);
  EXPECT_EQ(bad_uri.code, 2);
  EXPECT_THAT(bad_uri.err, HasSubstr("plinth gc: --backend-store-uri:"));
  GcCommandOptions named;
  named.run_ids = "no-such-run";
  Outcome missing = Gc(named);
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no-such-run"));
}

}  // namespace
}  // namespace plinth
