// TuneService on a real SQLite store and tracking engine with a fake clock: studies and their
// experiments, ask/tell with runs mirrored, define-by-run suggestions, budgets, the heartbeat
// sweep and retries, seeded reproducibility, grid coverage, best trials and Pareto fronts, and
// the errors users can cause.
#include "tune/service/tune_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/log.h"
#include "tune/random_sampler.h"

namespace plinth::tune {
namespace {

using store::StoredTrialState;
using store::TrialRecord;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

std::vector<double> CompletedRungsOf(const TrialRecord& t) {
  std::vector<double> out;
  for (const auto& a : t.system_attrs) {
    if (a.key != "completed_rungs") continue;
    JsonDocument doc;
    if (!ParseJson(a.value, &doc).ok()) break;
    for (const JsonValue& v : doc.GetArray()) out.push_back(v.GetDouble());
  }
  return out;
}

class TuneServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("off");
    std::string pattern = ::testing::TempDir() + "plinth_tune_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store::SqliteStoreOptions options;
    options.path = dir_ + "/plinth.db";
    auto opened = store::OpenSqliteStore(options, kNow);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    tracking_ = std::make_unique<tracking::TrackingService>(store_.get(), &clock_,
                                                            tracking::TrackingOptions{});
    service_ = std::make_unique<TuneService>(store_.get(), tracking_.get(), &clock_);
  }
  void TearDown() override {
    service_.reset();
    tracking_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Result<StudyView> Create(const std::string& json) {
    JsonDocument doc;
    Status parsed = ParseJson(json, &doc);
    if (!parsed.ok()) return parsed;
    PLINTH_ASSIGN_OR_RETURN(StudyConfig config, StudyConfigFromRequest(doc));
    return service_->CreateStudy(config, {}, false);
  }

  TrialRecord Ask(int64_t study_id) {
    auto r = service_->Ask({study_id, ""});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && r->trial);
    return r.ok() && r->trial ? *r->trial : TrialRecord{};
  }

  double Param(const TrialRecord& t, const std::string& name) {
    for (const auto& p : t.params) {
      if (p.name == name) return p.internal;
    }
    ADD_FAILURE() << "no param " << name;
    return NAN;
  }

  Status Tell(int64_t trial_id, std::vector<double> values,
              std::optional<StoredTrialState> state = std::nullopt) {
    TellRequest r;
    r.trial_id = trial_id;
    r.values = std::move(values);
    r.state = state;
    return service_->Tell(r).status();
  }

  std::string dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<TuneService> service_;
};

constexpr const char* kSpace =
    R"("search_space": {"x": {"type": "float", "low": -5, "high": 5},
                        "n": {"type": "int", "low": 1, "high": 9, "step": 2},
                        "c": {"type": "categorical", "choices": ["a", "b", 3]}})";

TEST_F(TuneServiceTest, AskSamplesTheSpaceAndMirrorsTheTrialAsARun) {
  auto study = Create(std::string(R"({"name": "s", "direction": "minimize", )") + kSpace +
                      R"(, "sampler": {"type": "tpe", "seed": 1}, "metric_name": "loss"})");
  ASSERT_TRUE(study.ok()) << study.status().ToString();
  EXPECT_EQ(study->record.experiment_id, tracking_->GetExperimentByName("s")->experiment_id);
  TrialRecord t = Ask(study->record.study_id);
  EXPECT_EQ(t.number, 0);
  ASSERT_EQ(t.params.size(), 3u);
  EXPECT_GE(Param(t, "x"), -5);
  EXPECT_LE(Param(t, "x"), 5);
  EXPECT_EQ(std::fmod(Param(t, "n"), 2), 1);
  auto run = tracking_->GetRun(t.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.run_name, "trial-0");
  EXPECT_EQ(run->info.experiment_id, study->record.experiment_id);
  EXPECT_EQ(run->params.size(), 3u);

  auto prune = service_->Report(t.trial_id, 1, 0.5);
  ASSERT_TRUE(prune.ok());
  EXPECT_FALSE(*prune);
  clock_.Advance(1000);
  ASSERT_TRUE(Tell(t.trial_id, {0.25}).ok());
  run = tracking_->GetRun(t.run_id);
  EXPECT_EQ(run->info.status, store::RunStatus::kFinished);
  ASSERT_EQ(run->metrics.size(), 1u);
  EXPECT_EQ(run->metrics[0].key, "loss");
  EXPECT_EQ(run->metrics[0].value, 0.25);
  auto history = tracking_->GetMetricHistory(t.run_id, "loss", std::nullopt, "");
  EXPECT_EQ(history->items.size(), 2u);  // the intermediate value and the final one

  Status twice = Tell(t.trial_id, {0.1});
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  auto best = service_->BestTrials({study->record.study_id, ""});
  ASSERT_TRUE(best.ok());
  ASSERT_EQ(best->size(), 1u);
  EXPECT_EQ((*best)[0].number, 0);
}

TEST_F(TuneServiceTest, BadSettingsAreRefusedNamingTheField) {
  auto expect = [&](const std::string& json, const std::string& text) {
    auto r = Create(json);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(text));
  };
  expect(R"({"direction": "minimize"})", "'name' is required");
  expect(R"({"name": "s", "direction": "up"})", "'direction'");
  expect(R"({"name": "s", "search_space": {"x": {"type": "float", "low": 2, "high": 1}}})",
         "search_space.x");
  expect(R"({"name": "s", "search_space": {"x": {"type": "gauss"}}})", "search_space.x.type");
  expect(R"({"name": "s", "search_space": {"x": {"type": "float", "high": 1}}})",
         "search_space.x.low");
  expect(R"({"name": "s", "sampler": {"type": "bogus"}})", "sampler.type");
  expect(R"({"name": "s", "sampler": {"type": "grid"},
             "search_space": {"x": {"type": "float", "low": 0, "high": 1}}})",
         "needs a step");
  expect(R"({"name": "s", "directions": ["minimize", "maximize"], "sampler": {"type": "gp"}})",
         "one objective");
  expect(R"({"name": "s", "sampler": {"type": "gp", "lengthscale_prior": "botorch"}})",
         "sampler.lengthscale_prior");
  expect(R"({"name": "s", "pruner": {"type": "bogus"}})", "pruner.type");
  expect(R"({"name": "s", "n_trials": 0})", "n_trials");
  expect(R"({"name": "s", "heartbeat_grace_seconds": -1})", "heartbeat_grace_seconds");
  ASSERT_TRUE(Create(R"({"name": "s"})").ok());
  EXPECT_EQ(Create(R"({"name": "s"})").status().code(), StatusCode::kAlreadyExists);
}

TEST_F(TuneServiceTest, DefineByRunSuggestionsBuildConditionalSpaces) {
  auto study = Create(R"({"name": "s", "sampler": {"type": "random", "seed": 3}})");
  ASSERT_TRUE(study.ok());
  auto model = Distribution::Categorical({std::string("svm"), std::string("tree")}).value();
  auto c = Distribution::Float(1e-3, 1e3, true).value();
  auto depth = Distribution::Int(1, 8).value();
  std::set<std::string> models;
  for (int i = 0; i < 12; ++i) {
    TrialRecord t = Ask(study->record.study_id);
    EXPECT_TRUE(t.params.empty());
    auto m = service_->Suggest(t.trial_id, "model", model);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    models.insert(m->external_json);
    // Asked again, the same value comes back.
    EXPECT_EQ(service_->Suggest(t.trial_id, "model", model)->internal, m->internal);
    auto other = service_->Suggest(t.trial_id, m->external_json == "\"svm\"" ? "C" : "depth",
                                   m->external_json == "\"svm\"" ? c : depth);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    ASSERT_TRUE(Tell(t.trial_id, {static_cast<double>(i)}).ok());
    auto stored = service_->GetTrial(t.trial_id);
    EXPECT_EQ(stored->params.size(), 2u);
    EXPECT_EQ(tracking_->GetRun(t.run_id)->params.size(), 2u);
  }
  EXPECT_EQ(models.size(), 2u);
  TrialRecord t = Ask(study->record.study_id);
  ASSERT_TRUE(service_->Suggest(t.trial_id, "model", model).ok());
  auto clash = service_->Suggest(t.trial_id, "model", c);
  EXPECT_EQ(clash.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TuneServiceTest, BudgetStopsAsksAndSilentTrialsFailAndAreRetried) {
  auto study = Create(std::string(R"({"name": "s", )") + kSpace +
                      R"(, "n_trials": 2, "heartbeat_grace_seconds": 2, "retry_failed": true})");
  ASSERT_TRUE(study.ok());
  const int64_t id = study->record.study_id;
  TrialRecord a = Ask(id);
  TrialRecord b = Ask(id);
  auto full = service_->Ask({id, ""});
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->trial);
  EXPECT_FALSE(full->study_done);
  // b keeps beating, a falls silent.
  clock_.Advance(1500);
  ASSERT_TRUE(service_->Heartbeat(b.trial_id).ok());
  clock_.Advance(1500);
  TrialRecord retried = Ask(id);
  EXPECT_EQ(retried.number, 2);
  EXPECT_EQ(retried.retry_of, a.number);
  EXPECT_EQ(retried.params.size(), 3u);
  for (const auto& p : a.params) EXPECT_EQ(Param(retried, p.name), p.internal) << p.name;
  EXPECT_EQ(service_->GetTrial(a.trial_id)->state, StoredTrialState::kFail);
  EXPECT_EQ(tracking_->GetRun(a.run_id)->info.status, store::RunStatus::kFailed);
  EXPECT_EQ(Tell(a.trial_id, {1}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->Heartbeat(a.trial_id).code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Tell(b.trial_id, {}, StoredTrialState::kPruned).ok());
  EXPECT_EQ(tracking_->GetRun(b.run_id)->info.status, store::RunStatus::kKilled);
  ASSERT_TRUE(Tell(retried.trial_id, {3.0}).ok());
  auto done = service_->Ask({id, ""});
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->trial);
  EXPECT_TRUE(done->study_done);
}

TEST_F(TuneServiceTest, SeededStudiesRepeatThemselves) {
  std::vector<std::vector<double>> runs;
  for (const char* name : {"one", "two"}) {
    auto study = Create(std::string(R"({"name": ")") + name + R"(", )" + kSpace +
                        R"(, "sampler": {"type": "tpe", "seed": 7, "n_startup_trials": 4}})");
    ASSERT_TRUE(study.ok());
    std::vector<double> xs;
    for (int i = 0; i < 10; ++i) {
      TrialRecord t = Ask(study->record.study_id);
      xs.push_back(Param(t, "x"));
      ASSERT_TRUE(Tell(t.trial_id, {std::pow(Param(t, "x") - 1, 2)}).ok());
    }
    runs.push_back(xs);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(std::set<double>(runs[0].begin(), runs[0].end()).size(), runs[0].size());
}

TEST_F(TuneServiceTest, GridCoversEveryCombinationOnce) {
  auto study = Create(R"({"name": "g", "sampler": {"type": "grid", "seed": 5},
      "search_space": {"a": {"type": "int", "low": 0, "high": 2},
                       "b": {"type": "categorical", "choices": ["x", "y"]}}})");
  ASSERT_TRUE(study.ok()) << study.status().ToString();
  std::set<std::pair<double, double>> seen;
  for (int i = 0; i < 6; ++i) {
    TrialRecord t = Ask(study->record.study_id);
    seen.insert({Param(t, "a"), Param(t, "b")});
    ASSERT_TRUE(Tell(t.trial_id, {1.0}).ok());
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST_F(TuneServiceTest, EnqueuedParamsAreUsedAndTellValidatesValues) {
  auto study = Create(std::string(R"({"name": "s", )") + kSpace + "}");
  ASSERT_TRUE(study.ok());
  const int64_t id = study->record.study_id;
  auto queued = service_->Enqueue({std::nullopt, "s"}, {{"x", 1.5}, {"c", std::string("b")}});
  ASSERT_TRUE(queued.ok());
  TrialRecord t = Ask(id);
  EXPECT_EQ(t.trial_id, queued->trial_id);
  EXPECT_EQ(Param(t, "x"), 1.5);
  EXPECT_EQ(Param(t, "c"), 1);
  EXPECT_EQ(Tell(t.trial_id, {1, 2}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(t.trial_id, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(t.trial_id, {NAN}, StoredTrialState::kComplete).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Tell(t.trial_id, {1}, StoredTrialState::kFail).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Report(t.trial_id, -1, 0).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Tell(t.trial_id, {NAN}).ok());  // NaN without a state: FAIL, as Optuna
  EXPECT_EQ(service_->GetTrial(t.trial_id)->state, StoredTrialState::kFail);
  EXPECT_EQ(service_->GetTrial(424242).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Ask({std::nullopt, "nope"}).status().code(), StatusCode::kNotFound);
}

TEST_F(TuneServiceTest, TheMedianPrunerStopsTrialsWorseThanTheMedian) {
  auto study = Create(std::string(R"({"name": "p", )") + kSpace +
                      R"(, "pruner": {"type": "median", "n_startup_trials": 2}})");
  ASSERT_TRUE(study.ok()) << study.status().ToString();
  const int64_t id = study->record.study_id;
  for (int i = 0; i < 3; ++i) {
    TrialRecord t = Ask(id);
    // Each better than the ones before: none is pruned.
    EXPECT_FALSE(*service_->Report(t.trial_id, 0, 3.0 - i));
    ASSERT_TRUE(Tell(t.trial_id, {3.0 - i}).ok());
  }
  TrialRecord bad = Ask(id);
  auto prune = service_->Report(bad.trial_id, 0, 9.0);
  ASSERT_TRUE(prune.ok()) << prune.status().ToString();
  EXPECT_TRUE(*prune);  // 9 is worse than the median 2 of the complete trials at step 0
  TrialRecord good = Ask(id);
  EXPECT_FALSE(*service_->Report(good.trial_id, 0, 0.5));
  EXPECT_THAT(Create(R"({"name": "q", "pruner": {"type": "hyperband", "max_resource": "x"}})")
                  .status()
                  .message(),
              HasSubstr("pruner.max_resource"));
  EXPECT_THAT(Create(R"({"name": "q", "pruner": {"type": "percentile"}})").status().message(),
              HasSubstr("pruner.percentile"));
}

// Successive halving and Hyperband keep rung records between requests (the trials'
// completed_rungs system attribute): driven through the service, one report per request, they
// decide exactly as the same pruner on one in-memory Study fed the same reports.
TEST_F(TuneServiceTest, RungPrunersDecideAsInOneInMemoryStudy) {
  for (const std::string type : {"successive_halving", "hyperband"}) {
    SCOPED_TRACE(type);
    auto study = Create(R"({"name": ")" + type + R"(", "sampler": {"type": "random", "seed": 3},
        "search_space": {"x": {"type": "float", "low": 0, "high": 1}},
        "pruner": {"type": ")" +
                        type + R"(", "min_resource": 1, "reduction_factor": 2}})");
    ASSERT_TRUE(study.ok()) << study.status().ToString();
    Study memory(std::make_unique<RandomSampler>(3));
    memory.set_name(type);
    if (type == "successive_halving") {
      SuccessiveHalvingOptions o;
      o.min_resource = 1;
      o.reduction_factor = 2;
      memory.SetPruner(SuccessiveHalvingPruner::Create(o).value());
    } else {
      HyperbandOptions o;
      o.min_resource = 1;
      o.reduction_factor = 2;
      memory.SetPruner(HyperbandPruner::Create(o).value());
    }
    int pruned = 0;
    for (int i = 0; i < 16; ++i) {
      TrialRecord t = Ask(study->record.study_id);
      Trial m = memory.Ask();
      ASSERT_EQ(t.number, m.number());
      double value = 0;
      bool stopped = false;
      for (int step = 0; step < 8 && !stopped; ++step) {
        value = ((i * 7) % 5 + 1.0) / (step + 1.0);
        auto decision = service_->Report(t.trial_id, step, value);
        ASSERT_TRUE(decision.ok()) << decision.status().ToString();
        ASSERT_TRUE(m.Report(value, step).ok());
        ASSERT_EQ(*decision, m.ShouldPrune()) << "trial " << i << " step " << step;
        stopped = *decision;
      }
      EXPECT_EQ(CompletedRungsOf(*service_->GetTrial(t.trial_id)),
                memory.trial(m.number()).completed_rungs);
      if (stopped) {
        ++pruned;
        ASSERT_TRUE(Tell(t.trial_id, {}, StoredTrialState::kPruned).ok());
        ASSERT_TRUE(memory.Tell(m.number(), std::nullopt, TrialState::kPruned).ok());
      } else {
        ASSERT_TRUE(Tell(t.trial_id, {value}).ok());
        ASSERT_TRUE(memory.Tell(m.number(), value).ok());
      }
    }
    EXPECT_GT(pruned, 0);
  }
}

// CMA-ES keeps its optimizer between requests (the trials' cma:generation and snapshot system
// attributes): with popsize 4 the generations advance every 4 trials, which a sampler rebuilt
// from scratch per request would never do; and two services on one store (two replicas) take
// turns. GP samples the space after its start-up trials.
TEST_F(TuneServiceTest, CmaEsAndGpRunOverTheStore) {
  auto cma = Create(R"({"name": "cma", "sampler": {"type": "cmaes", "seed": 5, "popsize": 4},
      "search_space": {"x": {"type": "float", "low": -3, "high": 3},
                       "y": {"type": "float", "low": -3, "high": 3}}})");
  ASSERT_TRUE(cma.ok()) << cma.status().ToString();
  EXPECT_EQ(cma->config.sampler.type, "cmaes");
  TuneService replica(store_.get(), tracking_.get(), &clock_);
  std::vector<int> generations;
  for (int i = 0; i < 14; ++i) {
    TuneService& service = i % 2 == 0 ? *service_ : replica;
    auto asked = service.Ask({cma->record.study_id, ""});
    ASSERT_TRUE(asked.ok() && asked->trial) << asked.status().ToString();
    const TrialRecord& t = *asked->trial;
    const double x = Param(t, "x"), y = Param(t, "y");
    EXPECT_LE(std::abs(x), 3);
    TellRequest tell;
    tell.trial_id = t.trial_id;
    tell.values = {(x - 1) * (x - 1) + (y + 1) * (y + 1)};
    ASSERT_TRUE(service.Tell(tell).ok());
    auto stored = service_->GetTrial(t.trial_id);
    for (const auto& a : stored->system_attrs) {
      if (a.key == "cma:generation") generations.push_back(std::stoi(a.value));
    }
  }
  ASSERT_GE(generations.size(), 12u);  // every trial after the single start-up trial
  EXPECT_EQ(generations.front(), 0);
  EXPECT_GE(generations.back(), 2);
  EXPECT_TRUE(std::is_sorted(generations.begin(), generations.end()));

  auto gp = Create(R"({"name": "gp", "sampler": {"type": "gp", "seed": 2, "n_startup_trials": 3,
      "lengthscale_prior": "dim_scaled"},
      "search_space": {"x": {"type": "float", "low": -3, "high": 3}}})");
  ASSERT_TRUE(gp.ok()) << gp.status().ToString();
  EXPECT_EQ(gp->config.sampler.lengthscale_prior, GpLengthscalePrior::kDimensionScaled);
  for (int i = 0; i < 6; ++i) {
    TrialRecord t = Ask(gp->record.study_id);
    EXPECT_LE(std::abs(Param(t, "x")), 3);
    ASSERT_TRUE(Tell(t.trial_id, {std::pow(Param(t, "x") - 1, 2)}).ok());
  }
  EXPECT_THAT(Create(R"({"name": "m", "directions": ["minimize", "minimize"],
                         "sampler": {"type": "cmaes"}})")
                  .status()
                  .message(),
              HasSubstr("one objective"));
}

// The cache (tune_service.h): two services on one store (two replicas) that take turns at
// asking, telling and letting a trial fall silent sample exactly what a service that reads the
// whole study afresh for every trial samples on a second store fed the same story. Seeded TPE
// depends on every earlier trial, so a replica that missed a write (a tell, a heartbeat
// failure, the other's asks) would draw differently.
TEST_F(TuneServiceTest, ReplicasSharingAStoreSeeEachOthersWrites) {
  // The reference: its own store; a new service (an empty cache) for every call.
  store::SqliteStoreOptions options;
  options.path = dir_ + "/reference.db";
  auto opened = store::OpenSqliteStore(options, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::MetadataStore> reference_store = std::move(opened).value();
  tracking::TrackingService reference_tracking(reference_store.get(), &clock_,
                                               tracking::TrackingOptions{});
  auto fresh = [&] {
    return std::make_unique<TuneService>(reference_store.get(), &reference_tracking, &clock_);
  };
  const std::string settings = std::string(R"({"name": "shared", )") + kSpace +
                               R"(, "heartbeat_grace_seconds": 5,
      "sampler": {"type": "tpe", "seed": 11, "n_startup_trials": 3}})";
  auto study = Create(settings);
  ASSERT_TRUE(study.ok()) << study.status().ToString();
  JsonDocument doc;
  ASSERT_TRUE(ParseJson(settings, &doc).ok());
  auto reference_study = fresh()->CreateStudy(StudyConfigFromRequest(doc).value(), {}, false);
  ASSERT_TRUE(reference_study.ok());
  const int64_t id = study->record.study_id;
  const int64_t reference_id = reference_study->record.study_id;

  TuneService replica(store_.get(), tracking_.get(), &clock_);
  int silent = 0;
  for (int i = 0; i < 24; ++i) {
    SCOPED_TRACE(i);
    // An irregular turn order, so each service often finds the other's writes.
    TuneService& service = (i % 3 == 1 || i % 5 == 0) ? replica : *service_;
    auto asked = service.Ask({id, ""});
    ASSERT_TRUE(asked.ok() && asked->trial) << asked.status().ToString();
    auto reference = fresh()->Ask({reference_id, ""});
    ASSERT_TRUE(reference.ok() && reference->trial);
    const TrialRecord& t = *asked->trial;
    const TrialRecord& r = *reference->trial;
    ASSERT_EQ(t.number, r.number);
    ASSERT_EQ(t.params.size(), 3u);
    for (const auto& p : r.params) EXPECT_EQ(Param(t, p.name), p.internal) << p.name;
    if (i == 7 || i == 15) {
      // This worker vanishes: the trial stays RUNNING until the next ask after the grace
      // fails it, on whichever service asks.
      ++silent;
      clock_.Advance(6000);
      continue;
    }
    TellRequest tell;
    tell.trial_id = t.trial_id;
    tell.values = {std::pow(Param(t, "x") - 1, 2) + Param(t, "n")};
    ASSERT_TRUE((i % 2 == 0 ? replica : *service_).Tell(tell).ok());
    tell.trial_id = r.trial_id;
    ASSERT_TRUE(fresh()->Tell(tell).ok());
  }
  auto failed = service_->ListTrials({id, ""}, {StoredTrialState::kFail}, 100, 0);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->trials.size(), static_cast<size_t>(silent));
}

// Define-by-run across replicas: a parameter one replica suggested is the trial's on the
// other, and a value told on one reaches the other's next samples.
TEST_F(TuneServiceTest, DefineByRunSuggestionsMoveBetweenReplicas) {
  auto study = Create(R"({"name": "dbr", "sampler": {"type": "tpe", "seed": 4,
                                                     "n_startup_trials": 2}})");
  ASSERT_TRUE(study.ok());
  TuneService replica(store_.get(), tracking_.get(), &clock_);
  auto x = Distribution::Float(-5, 5).value();
  auto k = Distribution::Categorical({std::string("a"), std::string("b")}).value();
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    TrialRecord t = Ask(study->record.study_id);
    auto first = replica.Suggest(t.trial_id, "x", x);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    auto again = service_->Suggest(t.trial_id, "x", x);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->internal, first->internal);
    auto choice = service_->Suggest(t.trial_id, "k", k);
    ASSERT_TRUE(choice.ok()) << choice.status().ToString();
    EXPECT_EQ(replica.Suggest(t.trial_id, "k", k)->internal, choice->internal);
    TellRequest tell;
    tell.trial_id = t.trial_id;
    tell.values = {first->internal * first->internal + choice->internal};
    ASSERT_TRUE((i % 2 == 0 ? replica : *service_).Tell(tell).ok());
    EXPECT_EQ(replica.Suggest(t.trial_id, "y", x).status().code(), StatusCode::kFailedPrecondition);
  }
  auto stored = service_->ListTrials({study->record.study_id, ""}, {}, 100, 0);
  ASSERT_TRUE(stored.ok());
  for (const TrialRecord& t : stored->trials) {
    EXPECT_EQ(t.state, StoredTrialState::kComplete);
    EXPECT_EQ(t.params.size(), 2u);
  }
}

// AutoSampler (tune/auto_sampler.h) over the store: a categorical space goes to TPE, a numeric
// one to GP after its start-up trials; samples stay in the space and a seeded study repeats.
TEST_F(TuneServiceTest, AutoSamplerRunsOverTheStore) {
  std::vector<std::vector<double>> runs;
  for (const char* name : {"auto-1", "auto-2"}) {
    auto study = Create(std::string(R"({"name": ")") + name + R"(", )" + kSpace +
                        R"(, "sampler": {"type": "auto", "seed": 9}})");
    ASSERT_TRUE(study.ok()) << study.status().ToString();
    EXPECT_EQ(study->config.sampler.type, "auto");
    std::vector<double> xs;
    for (int i = 0; i < 14; ++i) {
      TrialRecord t = Ask(study->record.study_id);
      ASSERT_EQ(t.params.size(), 3u);
      EXPECT_LE(std::abs(Param(t, "x")), 5);
      xs.push_back(Param(t, "x"));
      ASSERT_TRUE(Tell(t.trial_id, {std::pow(Param(t, "x") - 1, 2) + Param(t, "c")}).ok());
    }
    runs.push_back(xs);
  }
  EXPECT_EQ(runs[0], runs[1]);
  auto numeric = Create(R"({"name": "auto-gp", "sampler": {"type": "auto", "seed": 2},
      "search_space": {"x": {"type": "float", "low": -3, "high": 3},
                       "y": {"type": "float", "low": -3, "high": 3}}})");
  ASSERT_TRUE(numeric.ok()) << numeric.status().ToString();
  double best = 1e9;
  for (int i = 0; i < 16; ++i) {
    TrialRecord t = Ask(numeric->record.study_id);
    const double v = std::pow(Param(t, "x") - 1, 2) + std::pow(Param(t, "y") + 1, 2);
    best = std::min(best, v);
    ASSERT_TRUE(Tell(t.trial_id, {v}).ok());
  }
  EXPECT_LT(best, 1.0);
  // gp_trials (GP below it, then TPE) is kept with the study and read back; < 0 is refused.
  auto handoff = Create(R"({"name": "auto-handoff", "sampler": {"type": "auto", "seed": 2,
      "gp_trials": 12}, "search_space": {"x": {"type": "float", "low": -3, "high": 3},
                                         "y": {"type": "float", "low": -3, "high": 3}}})");
  ASSERT_TRUE(handoff.ok()) << handoff.status().ToString();
  EXPECT_EQ(handoff->config.sampler.gp_trials, 12);
  auto reread = service_->GetStudy({handoff->record.study_id, ""});
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->config.sampler.gp_trials, 12);
  for (int i = 0; i < 16; ++i) {  // GP for trials 1-11, TPE from 12 on
    TrialRecord t = Ask(handoff->record.study_id);
    ASSERT_EQ(t.params.size(), 2u);
    EXPECT_LE(std::abs(Param(t, "x")), 3);
    ASSERT_TRUE(Tell(t.trial_id, {std::pow(Param(t, "x") - 1, 2) + Param(t, "y")}).ok());
  }
  EXPECT_THAT(Create(R"({"name": "auto-neg", "sampler": {"type": "auto", "gp_trials": -1}})")
                  .status()
                  .message(),
              HasSubstr("gp_trials"));
  EXPECT_THAT(Create(R"({"name": "auto-mo", "directions": ["minimize", "maximize"],
                         "sampler": {"type": "auto"}})")
                  .status()
                  .message(),
              HasSubstr("sampler.type"));
}

TEST_F(TuneServiceTest, SeveralObjectivesGiveAParetoFront) {
  auto study = Create(R"({"name": "mo", "directions": ["minimize", "maximize"],
      "search_space": {"x": {"type": "float", "low": 0, "high": 1}}})");
  ASSERT_TRUE(study.ok()) << study.status().ToString();
  EXPECT_EQ(study->config.sampler.type, "tpe");  // MOTPE
  const std::vector<std::vector<double>> values = {{1, 1}, {2, 3}, {0.5, 0.5}, {2, 2}, {3, 3}};
  for (const auto& v : values) {
    TrialRecord t = Ask(study->record.study_id);
    ASSERT_TRUE(Tell(t.trial_id, v).ok());
  }
  auto front = service_->BestTrials({study->record.study_id, ""});
  ASSERT_TRUE(front.ok());
  std::set<int64_t> numbers;
  for (const auto& t : *front) numbers.insert(t.number);
  EXPECT_EQ(numbers, (std::set<int64_t>{0, 1, 2}));
  // Past its start-up trials MOTPE samples from the history's non-dominated ranks.
  for (int i = 0; i < 8; ++i) {
    TrialRecord t = Ask(study->record.study_id);
    const double x = Param(t, "x");
    EXPECT_GE(x, 0);
    EXPECT_LE(x, 1);
    ASSERT_TRUE(Tell(t.trial_id, {x, x * x}).ok());
  }
}

}  // namespace
}  // namespace plinth::tune
