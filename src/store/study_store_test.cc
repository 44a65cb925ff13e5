// Conformance suite for StudyStore (study_store.h), run on SQLite and, when PLINTH_TEST_PG_DSN
// names a server (make test starts one), on PostgreSQL: studies, trial numbering, the trial
// budget, WAITING trials, exact values, states, heartbeats and the stale-trial sweep, and trial
// numbers under concurrent asks from several store instances (replicas).
#include "store/study_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "store/metadata_store.h"
#include "store/test_databases.h"

namespace plinth {

inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }

namespace store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr int64_t kNow = 1700000000000;

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

class StudyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    (void)SetLogLevel("warn");
    db_ = testing::MakeTestDatabase(GetParam());
    if (!db_) GTEST_SKIP() << testing::kNoPostgres;
    store_ = Open();
    ASSERT_NE(store_, nullptr);
    Experiment e;
    e.name = "tuning";
    e.creation_time = kNow;
    e.last_update_time = kNow;
    auto id = store_->CreateExperiment(e, "mlflow-artifacts:");
    ASSERT_TRUE(IsOk(id));
    experiment_id_ = *id;
  }

  std::unique_ptr<MetadataStore> Open() {
    StoreOpenOptions options;
    options.pool_size = 8;
    auto opened = OpenStoreFromUri(db_->uri(), options, kNow);
    EXPECT_TRUE(IsOk(opened));
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  StudyStore& st() { return store_->studies(); }

  int64_t CreateStudy(const std::string& name, std::vector<std::string> directions = {"minimize"}) {
    StudyRecord s;
    s.name = name;
    s.experiment_id = experiment_id_;
    s.directions = std::move(directions);
    s.search_space_json = R"({"x":{"type":"float","low":0,"high":1}})";
    s.sampler_json = R"({"type":"tpe","seed":3})";
    s.options_json = R"({"n_trials":5})";
    s.user_attrs = {{"owner", "\"ana\""}};
    s.creation_time = kNow;
    auto id = st().CreateStudy(s);
    EXPECT_TRUE(IsOk(id));
    return id.ok() ? *id : -1;
  }

  TrialRecord Ask(int64_t study_id, std::optional<int64_t> max_trials = std::nullopt,
                  int64_t now = kNow) {
    auto r = st().AskTrial(study_id, max_trials, now);
    EXPECT_TRUE(IsOk(r));
    EXPECT_TRUE(r.ok() && r->trial.has_value());
    return r.ok() && r->trial ? *r->trial : TrialRecord{};
  }

  TrialParamRecord Param(const std::string& name, double internal, const std::string& external) {
    return {name, internal, external, R"({"type":"float","low":0,"high":1})"};
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<MetadataStore> store_;
  std::string experiment_id_;
};

TEST_P(StudyStoreTest, CreateGetListStudies) {
  int64_t a = CreateStudy("a", {"minimize", "maximize"});
  int64_t b = CreateStudy("b");
  EXPECT_NE(a, b);
  auto got = st().GetStudy(a);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->name, "a");
  EXPECT_EQ(got->experiment_id, experiment_id_);
  EXPECT_THAT(got->directions, ElementsAre("minimize", "maximize"));
  EXPECT_EQ(got->sampler_json, R"({"type":"tpe","seed":3})");
  EXPECT_EQ(got->options_json, R"({"n_trials":5})");
  EXPECT_EQ(got->creation_time, kNow);
  ASSERT_EQ(got->user_attrs.size(), 1u);
  EXPECT_EQ(got->user_attrs[0].value, "\"ana\"");
  EXPECT_EQ(st().GetStudyByName("b")->study_id, b);

  StudyRecord dup;
  dup.name = "a";
  dup.experiment_id = experiment_id_;
  dup.directions = {"minimize"};
  auto again = st().CreateStudy(dup);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("'a' already exists"));
  EXPECT_EQ(st().GetStudy(999999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(st().GetStudyByName("zzz").status().code(), StatusCode::kNotFound);

  bool more = false;
  auto page = st().ListStudies(1, 0, &more);
  ASSERT_TRUE(IsOk(page));
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "a");
  EXPECT_TRUE(more);
  page = st().ListStudies(1, 1, &more);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].name, "b");
  EXPECT_FALSE(more);

  ASSERT_TRUE(IsOk(st().SetStudyUserAttr(b, {"k", "[1,2]"})));
  ASSERT_TRUE(IsOk(st().SetStudyUserAttr(b, {"k", "3"})));
  EXPECT_EQ(st().GetStudy(b)->user_attrs.front().value, "3");  // "k" sorts before "owner"
  EXPECT_EQ(st().SetStudyUserAttr(424242, {"k", "1"}).code(), StatusCode::kNotFound);
}

TEST_P(StudyStoreTest, AskNumbersTrialsAndPopsWaitingOnesFirst) {
  int64_t id = CreateStudy("s");
  EXPECT_EQ(Ask(id).number, 0);
  auto queued = st().EnqueueTrial(id, R"({"x":0.25})", std::nullopt, kNow);
  ASSERT_TRUE(IsOk(queued));
  EXPECT_EQ(queued->number, 1);
  EXPECT_EQ(queued->state, StoredTrialState::kWaiting);
  EXPECT_FALSE(queued->start_time.has_value());
  TrialRecord popped = Ask(id, std::nullopt, kNow + 5);
  EXPECT_EQ(popped.number, 1);
  EXPECT_EQ(popped.trial_id, queued->trial_id);
  EXPECT_EQ(popped.state, StoredTrialState::kRunning);
  EXPECT_EQ(popped.fixed_params_json, R"({"x":0.25})");
  EXPECT_EQ(popped.start_time, kNow + 5);
  EXPECT_EQ(popped.heartbeat_time, kNow + 5);
  EXPECT_EQ(Ask(id).number, 2);
  // Another study numbers from 0 again.
  EXPECT_EQ(Ask(CreateStudy("t")).number, 0);
  EXPECT_EQ(st().AskTrial(777777, std::nullopt, kNow).status().code(), StatusCode::kNotFound);
}

TEST_P(StudyStoreTest, BudgetCountsRunningTrialsAndTellsWhenDone) {
  int64_t id = CreateStudy("s");
  TrialRecord t0 = Ask(id, 2);
  TrialRecord t1 = Ask(id, 2);
  auto full = st().AskTrial(id, 2, kNow);
  ASSERT_TRUE(IsOk(full));
  EXPECT_FALSE(full->trial.has_value());
  EXPECT_FALSE(full->study_done);  // two are running: one of them may still fail
  ASSERT_TRUE(IsOk(st().FinishTrial(t0.trial_id, {StoredTrialState::kFail, {}, kNow})));
  TrialRecord t2 = Ask(id, 2);
  EXPECT_EQ(t2.number, 2);
  ASSERT_TRUE(IsOk(st().FinishTrial(t1.trial_id, {StoredTrialState::kComplete, {1.0}, kNow})));
  ASSERT_TRUE(IsOk(st().FinishTrial(t2.trial_id, {StoredTrialState::kPruned, {}, kNow})));
  auto done = st().AskTrial(id, 2, kNow);
  ASSERT_TRUE(IsOk(done));
  EXPECT_FALSE(done->trial.has_value());
  EXPECT_TRUE(done->study_done);
  auto counts = st().CountTrials(id);
  ASSERT_TRUE(IsOk(counts));
  EXPECT_THAT(*counts, ElementsAre(0, 1, 1, 1, 0));
}

TEST_P(StudyStoreTest, ParamsValuesAndIntermediateValuesReadBackExactly) {
  int64_t id = CreateStudy("s", {"minimize", "maximize"});
  TrialRecord t = Ask(id);
  const double third = 1.0 / 3.0;
  const double tiny = 1.2345678901234567e-300;
  ASSERT_TRUE(IsOk(st().SetTrialParams(
      t.trial_id, {Param("x", third, "0.3333333333333333"), Param("c", 2, "\"relu\"")}, "run-1",
      kNow + 1)));
  // A parameter set again keeps its first value.
  ASSERT_TRUE(IsOk(st().SetTrialParams(
      t.trial_id, {Param("x", 0.5, "0.5"), Param("y", tiny, "1e-300")}, "", kNow + 2)));
  ASSERT_TRUE(IsOk(st().ReportIntermediate(t.trial_id, 3, 0.125, kNow + 3)));
  ASSERT_TRUE(IsOk(st().ReportIntermediate(t.trial_id, 1, std::nan(""), kNow + 3)));
  ASSERT_TRUE(IsOk(st().ReportIntermediate(t.trial_id, 3, 99.0, kNow + 4)));  // ignored
  const double inf = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(
      IsOk(st().FinishTrial(t.trial_id, {StoredTrialState::kComplete, {third, -inf}, kNow + 9})));
  ASSERT_TRUE(IsOk(st().SetTrialUserAttr(t.trial_id, {"note", "\"ok\""})));

  auto got = st().GetTrial(t.trial_id);
  ASSERT_TRUE(IsOk(got));
  EXPECT_EQ(got->state, StoredTrialState::kComplete);
  EXPECT_EQ(got->run_id, "run-1");
  ASSERT_EQ(got->params.size(), 3u);
  EXPECT_EQ(got->params[0].name, "x");  // in the order they were set
  EXPECT_EQ(got->params[0].internal, third);
  EXPECT_EQ(got->params[0].external_json, "0.3333333333333333");
  EXPECT_EQ(got->params[1].name, "c");
  EXPECT_EQ(got->params[1].external_json, "\"relu\"");
  EXPECT_EQ(got->params[2].name, "y");
  EXPECT_EQ(got->params[2].internal, tiny);
  EXPECT_THAT(got->values, ElementsAre(third, -inf));
  ASSERT_EQ(got->intermediate_values.size(), 2u);
  EXPECT_EQ(got->intermediate_values[0].first, 1);
  EXPECT_TRUE(std::isnan(got->intermediate_values[0].second));
  EXPECT_THAT(got->intermediate_values[1], Pair(3, 0.125));
  EXPECT_EQ(got->complete_time, kNow + 9);
  ASSERT_EQ(got->user_attrs.size(), 1u);
  EXPECT_EQ(got->user_attrs[0].key, "note");
  EXPECT_EQ(st().GetTrialByNumber(id, 0)->trial_id, t.trial_id);

  // System attributes (pruner bookkeeping) come back with every trial load.
  ASSERT_TRUE(IsOk(st().SetTrialSystemAttr(t.trial_id, {"completed_rungs", "[0.5]"})));
  ASSERT_TRUE(IsOk(st().SetTrialSystemAttr(t.trial_id, {"completed_rungs", "[0.5,0.25]"})));
  EXPECT_EQ(st().SetTrialSystemAttr(565656, {"k", "1"}).code(), StatusCode::kNotFound);
  auto all = st().LoadTrials(id);
  ASSERT_TRUE(IsOk(all));
  ASSERT_EQ(all->size(), 1u);
  ASSERT_EQ((*all)[0].system_attrs.size(), 1u);
  EXPECT_EQ((*all)[0].system_attrs[0].value, "[0.5,0.25]");
  EXPECT_TRUE((*all)[0].user_attrs.empty());  // not loaded for samplers
  EXPECT_EQ(st().GetTrial(t.trial_id)->system_attrs.size(), 1u);
  EXPECT_EQ((*all)[0].params.size(), 3u);
  EXPECT_THAT((*all)[0].values, ElementsAre(third, -inf));
}

TEST_P(StudyStoreTest, FinishedTrialsRefuseChanges) {
  int64_t id = CreateStudy("s");
  TrialRecord t = Ask(id);
  ASSERT_TRUE(IsOk(st().FinishTrial(t.trial_id, {StoredTrialState::kComplete, {2.0}, kNow})));
  Status again = st().FinishTrial(t.trial_id, {StoredTrialState::kFail, {}, kNow});
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("is COMPLETE, not RUNNING"));
  EXPECT_EQ(st().Heartbeat(t.trial_id, kNow).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st().ReportIntermediate(t.trial_id, 0, 1, kNow).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(st().SetTrialParams(t.trial_id, {Param("x", 0.5, "0.5")}, "", kNow).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(st().Heartbeat(555555, kNow).code(), StatusCode::kNotFound);
  EXPECT_EQ(st().GetTrial(555555).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(st().FinishTrial(555555, {}).code(), StatusCode::kNotFound);
}

TEST_P(StudyStoreTest, StaleTrialsFailOnceAndAreRetriedWithTheirParams) {
  int64_t id = CreateStudy("s");
  TrialRecord a = Ask(id, std::nullopt, kNow);
  TrialRecord b = Ask(id, std::nullopt, kNow);
  ASSERT_TRUE(IsOk(st().SetTrialParams(a.trial_id, {Param("x", 0.5, "0.5")}, "run-a", kNow)));
  ASSERT_TRUE(IsOk(st().Heartbeat(b.trial_id, kNow + 10'000)));
  // a's heartbeat (kNow) is older than kNow + 5 s; b's is not.
  auto failed = st().FailStaleTrials(id, kNow + 5'000, kNow + 11'000, /*retry=*/true);
  ASSERT_TRUE(IsOk(failed));
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].number, a.number);
  EXPECT_EQ((*failed)[0].state, StoredTrialState::kFail);
  EXPECT_EQ((*failed)[0].run_id, "run-a");
  EXPECT_EQ((*failed)[0].complete_time, kNow + 11'000);
  auto second = st().FailStaleTrials(id, kNow + 5'000, kNow + 12'000, true);
  ASSERT_TRUE(IsOk(second));
  EXPECT_TRUE(second->empty());
  EXPECT_EQ(st().FinishTrial(a.trial_id, {StoredTrialState::kComplete, {1}, kNow}).code(),
            StatusCode::kFailedPrecondition);

  TrialRecord retry = Ask(id, std::nullopt, kNow + 13'000);
  EXPECT_EQ(retry.number, 2);
  EXPECT_EQ(retry.retry_of, a.number);
  EXPECT_EQ(retry.fixed_params_json, R"({"x":0.5})");

  TrialListRequest list;
  list.study_id = id;
  list.states = {StoredTrialState::kFail};
  auto fails = st().ListTrials(list);
  ASSERT_TRUE(IsOk(fails));
  ASSERT_EQ(fails->trials.size(), 1u);
  EXPECT_EQ(fails->trials[0].params.size(), 1u);
  list.states = {};
  list.max_results = 2;
  auto page = st().ListTrials(list);
  ASSERT_TRUE(IsOk(page));
  EXPECT_EQ(page->trials.size(), 2u);
  EXPECT_TRUE(page->has_more);
  list.offset = 2;
  page = st().ListTrials(list);
  ASSERT_EQ(page->trials.size(), 1u);
  EXPECT_EQ(page->trials[0].number, 2);
  EXPECT_FALSE(page->has_more);
}

// The change counter moves with every write a sampler reads and not with heartbeats or user
// attributes; LoadTrialsSince returns exactly the trials written after a version.
TEST_P(StudyStoreTest, TheVersionMovesWithTrialWritesAndLoadsOnlyChangedTrials) {
  int64_t id = CreateStudy("s");
  int64_t other = CreateStudy("other");
  auto v0 = st().StudyVersion(id);
  ASSERT_TRUE(IsOk(v0));
  EXPECT_EQ(st().StudyVersion(999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(st().LoadTrialsSince(999, -1).status().code(), StatusCode::kNotFound);
  TrialRecord a = Ask(id);
  TrialRecord b = Ask(id);
  Ask(other);
  auto all = st().LoadTrialsSince(id, -1);
  ASSERT_TRUE(IsOk(all));
  ASSERT_EQ(all->trials.size(), 2u);
  EXPECT_GT(all->version, *v0);
  const int64_t v1 = all->version;

  // Nothing moved: nothing to load.
  ASSERT_TRUE(IsOk(st().Heartbeat(a.trial_id, kNow + 1)));
  ASSERT_TRUE(IsOk(st().SetTrialUserAttr(a.trial_id, {"k", "1"})));
  EXPECT_EQ(*st().StudyVersion(id), v1);
  auto none = st().LoadTrialsSince(id, v1);
  ASSERT_TRUE(IsOk(none));
  EXPECT_TRUE(none->trials.empty());
  EXPECT_EQ(none->version, v1);

  // Each kind of write moves it, and only the written trial comes back.
  auto expect_changed = [&](int64_t since, const TrialRecord& t) -> int64_t {
    auto changed = st().LoadTrialsSince(id, since);
    EXPECT_TRUE(IsOk(changed));
    if (!changed.ok()) return since;
    EXPECT_GT(changed->version, since);
    EXPECT_EQ(changed->trials.size(), 1u);
    if (changed->trials.size() == 1) {
      EXPECT_EQ(changed->trials[0].trial_id, t.trial_id);
    }
    return changed->version;
  };
  ASSERT_TRUE(IsOk(st().SetTrialParams(b.trial_id, {Param("x", 0.25, "0.25")}, "", kNow)));
  int64_t v = expect_changed(v1, b);
  ASSERT_TRUE(IsOk(st().ReportIntermediate(a.trial_id, 0, 1.5, kNow)));
  v = expect_changed(v, a);
  ASSERT_TRUE(IsOk(st().SetTrialSystemAttr(a.trial_id, {"completed_rungs", "[1.5]"})));
  v = expect_changed(v, a);
  ASSERT_TRUE(IsOk(st().FinishTrial(b.trial_id, {StoredTrialState::kComplete, {0.5}, kNow})));
  auto changed = st().LoadTrialsSince(id, v);
  ASSERT_TRUE(IsOk(changed));
  ASSERT_EQ(changed->trials.size(), 1u);
  EXPECT_EQ(changed->trials[0].state, StoredTrialState::kComplete);
  EXPECT_THAT(changed->trials[0].values, ElementsAre(0.5));
  EXPECT_EQ(changed->trials[0].params.size(), 1u);
  v = changed->version;
  // The sweep's failure and its retry (a new WAITING trial) both show.
  ASSERT_TRUE(IsOk(st().FailStaleTrials(id, kNow + 10, kNow + 20, /*retry=*/true)));
  changed = st().LoadTrialsSince(id, v);
  ASSERT_TRUE(IsOk(changed));
  ASSERT_EQ(changed->trials.size(), 2u);
  EXPECT_EQ(changed->trials[0].state, StoredTrialState::kFail);
  EXPECT_EQ(changed->trials[1].state, StoredTrialState::kWaiting);
  EXPECT_EQ(*st().StudyVersion(id), changed->version);
  // Another store instance (a replica) sees the same counter.
  auto replica = Open();
  ASSERT_NE(replica, nullptr);
  EXPECT_EQ(*replica->studies().StudyVersion(id), changed->version);
}

// Several store instances (replicas on PostgreSQL; threads sharing the one writer on SQLite)
// ask at once: every number is handed out exactly once and the budget is never overshot.
TEST_P(StudyStoreTest, ConcurrentAsksNeverShareANumber) {
  int64_t id = CreateStudy("s");
  std::vector<std::unique_ptr<MetadataStore>> replicas;
  const bool postgres = GetParam() == "postgres";
  for (int i = 0; i < (postgres ? 3 : 1); ++i) replicas.push_back(postgres ? Open() : nullptr);
  constexpr int kThreads = 6;
  constexpr int kBudget = 60;
  std::vector<std::vector<int64_t>> numbers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MetadataStore* store = postgres ? replicas[t % replicas.size()].get() : store_.get();
      for (;;) {
        auto r = store->studies().AskTrial(id, kBudget, kNow);
        if (!r.ok() || !r->trial) break;
        numbers[t].push_back(r->trial->number);
        (void)store->studies().FinishTrial(r->trial->trial_id,
                                           {StoredTrialState::kComplete, {1.0}, kNow});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> seen;
  size_t total = 0;
  for (const auto& ns : numbers) {
    total += ns.size();
    seen.insert(ns.begin(), ns.end());
  }
  EXPECT_EQ(total, static_cast<size_t>(kBudget));
  EXPECT_EQ(seen.size(), static_cast<size_t>(kBudget));
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), kBudget - 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StudyStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace store
}  // namespace plinth
