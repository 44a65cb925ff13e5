// Tests of the garbage collector (garbage_collector.h) on an embedded SQLite store, with a
// recording ArtifactDeleter that can be told to fail: what is selected (deleted and old
// enough, named ones checked first), the order (artifacts before rows), a failed artifact
// deletion keeping its rows for the next collection, dry runs, and ParseAge.
#include "tracking/garbage_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "core/ids.h"
#include "core/log.h"

namespace plinth::tracking {
namespace {

using store::LifecycleStage;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kDay = 86400000;
constexpr int64_t kNow = 1700000000000;

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

TEST(ParseAgeTest, AcceptsMlflowsFormat) {
  struct Case {
    const char* text;
    int64_t ms;
  };
  const Case cases[] = {
      {"30d", 30 * kDay}, {"8h", 8 * 3600000},
      {"2m4s", 124000},   {"1d2h3m4s", kDay + 2 * 3600000 + 3 * 60000 + 4000},
      {"1.5h", 5400000},  {"1.2d3h4m5s", 103680000 + 3 * 3600000 + 4 * 60000 + 5000},
      {"0s", 0},          {".5s", 500},
  };
  for (const Case& c : cases) {
    auto age = ParseAge(c.text);
    ASSERT_TRUE(IsOk(age)) << c.text;
    EXPECT_EQ(*age, c.ms) << c.text;
  }
  for (const char* bad :
       {"", "30", "d", "1x", "3h2d", "1d1d", "-1d", "1..5h", "1 d", "99999999999999d"}) {
    auto age = ParseAge(bad);
    EXPECT_EQ(age.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ParseAge("1x").status().message(), HasSubstr("30d"));
}

class GarbageCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    std::string pattern = ::testing::TempDir() + "plinth_gc_XXXXXX";
    char* made = mkdtemp(pattern.data());
    ASSERT_NE(made, nullptr);
    dir_ = made;
    store::SqliteStoreOptions options;
    options.path = dir_ + "/plinth.db";
    options.reader_connections = 2;
    auto opened = store::OpenSqliteStore(options, kNow);
    ASSERT_TRUE(IsOk(opened));
    store_ = std::move(*opened);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string CreateExperiment(const std::string& name) {
    store::Experiment e;
    e.name = name;
    e.creation_time = kNow;
    auto id = store_->CreateExperiment(e, "mlflow-artifacts:");
    EXPECT_TRUE(IsOk(id));
    return id.ok() ? *id : "";
  }

  // A run, deleted `deleted_days_ago` days before kNow (or active when negative).
  std::string CreateRun(const std::string& experiment_id, int deleted_days_ago) {
    store::Run run;
    run.info.run_id = NewRunId();
    run.info.experiment_id = experiment_id;
    run.info.start_time = kNow - 100 * kDay;
    run.info.artifact_uri =
        "mlflow-artifacts:/" + experiment_id + "/" + run.info.run_id + "/artifacts";
    EXPECT_TRUE(IsOk(store_->CreateRun(run)));
    store::Metric metric;
    metric.key = "m";
    metric.value = 1;
    metric.timestamp = kNow;
    EXPECT_TRUE(IsOk(store_->LogBatch(run.info.run_id, {metric}, {{"p", "1"}}, {})));
    if (deleted_days_ago >= 0) {
      EXPECT_TRUE(IsOk(store_->SetRunLifecycle(run.info.run_id, LifecycleStage::kDeleted,
                                               kNow - deleted_days_ago * kDay)));
    }
    return run.info.run_id;
  }

  bool Exists(const std::string& run_id) { return store_->GetRun(run_id).ok(); }

  // Records every deletion; fails for owners in `failing_`.
  ArtifactDeleter Deleter() {
    return [this](const std::string& uri, const std::string& owner) -> Status {
      // Artifacts go first: the owner's rows must still be there.
      bool rows_present = store_->GetRun(owner).ok() || store_->GetLoggedModel(owner).ok();
      EXPECT_TRUE(rows_present) << owner << " was purged before its artifacts";
      if (failing_.count(owner) > 0) return Internal("S3 said no");
      deleted_.push_back(uri);
      return Status::Ok();
    };
  }

  Result<GcReport> Collect(GcOptions options) {
    return CollectGarbage(*store_, options, Deleter(), kNow);
  }

  std::string dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::set<std::string> failing_;
  std::vector<std::string> deleted_;
};

TEST_F(GarbageCollectorTest, RemovesDeletedRunsOlderThanTheThresholdOnly) {
  std::string exp = CreateExperiment("e");
  std::string active = CreateRun(exp, -1);
  std::string old_run = CreateRun(exp, 40);
  std::string young = CreateRun(exp, 2);

  GcOptions options;
  options.older_than_ms = 30 * kDay;
  auto report = Collect(options);
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, ElementsAre(old_run));
  EXPECT_THAT(report->failures, IsEmpty());
  EXPECT_THAT(deleted_, ElementsAre("mlflow-artifacts:/" + exp + "/" + old_run + "/artifacts"));
  EXPECT_FALSE(Exists(old_run));
  EXPECT_TRUE(Exists(active));
  EXPECT_TRUE(Exists(young));

  // Without a threshold every deleted run goes, active ones never.
  report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, ElementsAre(young));
  EXPECT_TRUE(Exists(active));
}

TEST_F(GarbageCollectorTest, DryRunRemovesNothing) {
  std::string exp = CreateExperiment("e");
  std::string old_run = CreateRun(exp, 40);
  std::string gone_exp = CreateExperiment("gone");
  std::string inside = CreateRun(gone_exp, -1);
  ASSERT_TRUE(IsOk(store_->SetExperimentLifecycle(gone_exp, LifecycleStage::kDeleted, kNow)));
  GcOptions options;
  options.dry_run = true;
  auto report = Collect(options);
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, UnorderedElementsAre(old_run, inside));
  EXPECT_THAT(report->experiments, ElementsAre(gone_exp));
  EXPECT_THAT(deleted_, IsEmpty());
  EXPECT_TRUE(Exists(old_run));
  EXPECT_TRUE(Exists(inside));
  EXPECT_TRUE(store_->GetExperiment(gone_exp).ok());
}

// The rule the collector exists for: rows go only after their artifacts are gone, so a failed
// artifact deletion is retried by the next collection instead of leaving orphaned files.
TEST_F(GarbageCollectorTest, FailedArtifactDeletionKeepsTheRowsForTheNextRun) {
  std::string exp = CreateExperiment("e");
  std::string stuck = CreateRun(exp, 40);
  std::string fine = CreateRun(exp, 40);
  failing_.insert(stuck);
  auto report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, ElementsAre(fine));
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_EQ(report->failures[0].what, "run " + stuck);
  EXPECT_THAT(report->failures[0].status.message(), HasSubstr("S3 said no"));
  auto kept = store_->GetRun(stuck);
  ASSERT_TRUE(IsOk(kept));
  EXPECT_EQ(kept->info.lifecycle_stage, LifecycleStage::kDeleted);

  failing_.clear();
  report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, ElementsAre(stuck));
  EXPECT_FALSE(Exists(stuck));
}

TEST_F(GarbageCollectorTest, DeletedExperimentsGoWithTheirRunsAndModels) {
  std::string exp = CreateExperiment("doomed");
  std::string r1 = CreateRun(exp, -1);
  std::string r2 = CreateRun(exp, -1);
  store::LoggedModel model;
  model.model_id = NewLoggedModelId();
  model.experiment_id = exp;
  model.name = "model";
  model.artifact_uri = "mlflow-artifacts:/" + exp + "/models/" + model.model_id + "/artifacts";
  ASSERT_TRUE(IsOk(store_->CreateLoggedModel(model)));
  std::string keep = CreateExperiment("kept");
  std::string keep_run = CreateRun(keep, -1);
  ASSERT_TRUE(IsOk(store_->SetExperimentLifecycle(exp, LifecycleStage::kDeleted, kNow - kDay)));

  // Not old enough yet.
  GcOptions options;
  options.older_than_ms = 2 * kDay;
  auto report = Collect(options);
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->experiments, IsEmpty());
  EXPECT_THAT(report->runs, IsEmpty());

  report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->experiments, ElementsAre(exp));
  EXPECT_THAT(report->runs, UnorderedElementsAre(r1, r2));
  EXPECT_THAT(report->logged_models, ElementsAre(model.model_id));
  EXPECT_THAT(deleted_, ::testing::Contains(model.artifact_uri));
  EXPECT_EQ(store_->GetExperiment(exp).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Exists(r1));
  EXPECT_TRUE(Exists(keep_run));
}

TEST_F(GarbageCollectorTest, AnExperimentWaitsForItsRunsArtifacts) {
  std::string exp = CreateExperiment("doomed");
  std::string stuck = CreateRun(exp, -1);
  ASSERT_TRUE(IsOk(store_->SetExperimentLifecycle(exp, LifecycleStage::kDeleted, kNow)));
  failing_.insert(stuck);
  auto report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->experiments, IsEmpty());
  EXPECT_EQ(report->failures.size(), 2u);  // the run, and the experiment held back by it
  EXPECT_TRUE(store_->GetExperiment(exp).ok());
  EXPECT_TRUE(Exists(stuck));
}

// A run restored inside a deleted experiment is live data: the experiment is kept (and
// reported) when collecting everything, and refused when named.
TEST_F(GarbageCollectorTest, ExperimentWithAnActiveRunIsKept) {
  std::string exp = CreateExperiment("half");
  std::string restored = CreateRun(exp, -1);
  ASSERT_TRUE(IsOk(store_->SetExperimentLifecycle(exp, LifecycleStage::kDeleted, kNow)));
  ASSERT_TRUE(IsOk(store_->SetRunLifecycle(restored, LifecycleStage::kActive, kNow)));
  auto report = Collect(GcOptions{});
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->experiments, IsEmpty());
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_THAT(report->failures[0].status.message(), HasSubstr(restored));
  EXPECT_THAT(deleted_, IsEmpty());

  GcOptions named;
  named.experiment_ids = {exp};
  EXPECT_EQ(Collect(named).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Exists(restored));
}

// Named runs and experiments are checked before anything is deleted.
TEST_F(GarbageCollectorTest, NamedSelectionIsCheckedWhole) {
  std::string exp = CreateExperiment("e");
  std::string old_run = CreateRun(exp, 40);
  std::string young = CreateRun(exp, 2);
  std::string active = CreateRun(exp, -1);
  std::string other_old = CreateRun(exp, 50);

  GcOptions options;
  options.older_than_ms = 30 * kDay;
  options.run_ids = {old_run, active};
  auto refused = Collect(options);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("not in the deleted lifecycle stage"));
  options.run_ids = {old_run, young};
  refused = Collect(options);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("--older-than"));
  options.run_ids = {old_run, "no-such-run"};
  EXPECT_EQ(Collect(options).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(deleted_, IsEmpty());
  EXPECT_TRUE(Exists(old_run));

  // Named runs only: other garbage stays for another time.
  options.run_ids = {old_run, old_run};
  auto report = Collect(options);
  ASSERT_TRUE(IsOk(report));
  EXPECT_THAT(report->runs, ElementsAre(old_run));
  EXPECT_TRUE(Exists(other_old));

  GcOptions experiments;
  experiments.experiment_ids = {exp};
  EXPECT_EQ(Collect(experiments).status().code(), StatusCode::kFailedPrecondition);  // active
  experiments.experiment_ids = {"0"};
  EXPECT_EQ(Collect(experiments).status().code(), StatusCode::kFailedPrecondition);
  experiments.experiment_ids = {"424242"};
  EXPECT_EQ(Collect(experiments).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace plinth::tracking
