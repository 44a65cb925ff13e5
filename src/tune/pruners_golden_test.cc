// Golden tests: our pruners replay the event logs make_golden_pruners.py drove through Optuna 5
// (tests/golden/tune/optuna_pruners_golden.json) and must give Optuna's answer at every report,
// put every trial in Optuna's Hyperband bracket, and end with the same successive-halving rung
// records. Decisions are booleans and must be equal; rung values are copies of reported values
// and must be equal exactly.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include "tune/pruners.h"
#include "tune/random_sampler.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

using rapidjson::Value;

const rapidjson::Document& Golden() {
  static rapidjson::Document* doc = [] {
    std::ifstream in(std::string(PLINTH_TUNE_GOLDEN_DIR) + "/optuna_pruners_golden.json");
    std::stringstream text;
    text << in.rdbuf();
    auto* d = new rapidjson::Document;
    d->Parse<rapidjson::kParseFullPrecisionFlag>(text.str().c_str());
    return d;
  }();
  return *doc;
}

double Num(const Value& v) {
  if (v.IsString()) {
    return std::numeric_limits<double>::quiet_NaN();  // "nan"
  }
  return v.GetDouble();
}

std::unique_ptr<Pruner> MakePruner(const Value& spec, HyperbandPruner** hyperband) {
  const std::string type = spec["type"].GetString();
  const Value& args = spec["args"];
  auto i64 = [&](const char* key, int64_t fallback) {
    return args.HasMember(key) ? args[key].GetInt64() : fallback;
  };
  if (type == "median" || type == "percentile") {
    PercentilePrunerOptions o;
    if (args.HasMember("percentile")) o.percentile = args["percentile"].GetDouble();
    o.n_startup_trials = static_cast<int>(i64("n_startup_trials", o.n_startup_trials));
    o.n_warmup_steps = i64("n_warmup_steps", o.n_warmup_steps);
    o.interval_steps = i64("interval_steps", o.interval_steps);
    o.n_min_trials = static_cast<int>(i64("n_min_trials", o.n_min_trials));
    return type == "median" ? PercentilePruner::Median(o).value()
                            : PercentilePruner::Create(o).value();
  }
  if (type == "successive_halving") {
    SuccessiveHalvingOptions o;
    if (args.HasMember("min_resource")) o.min_resource = args["min_resource"].GetInt64();
    o.reduction_factor = i64("reduction_factor", o.reduction_factor);
    o.min_early_stopping_rate = i64("min_early_stopping_rate", o.min_early_stopping_rate);
    o.bootstrap_count = static_cast<int>(i64("bootstrap_count", o.bootstrap_count));
    return SuccessiveHalvingPruner::Create(o).value();
  }
  HyperbandOptions o;
  o.min_resource = i64("min_resource", o.min_resource);
  if (args.HasMember("max_resource")) o.max_resource = args["max_resource"].GetInt64();
  o.reduction_factor = i64("reduction_factor", o.reduction_factor);
  o.bootstrap_count = static_cast<int>(i64("bootstrap_count", o.bootstrap_count));
  auto p = HyperbandPruner::Create(o).value();
  *hyperband = p.get();
  return p;
}

TEST(PrunersGolden, GeneratedByPinnedOptuna) {
  EXPECT_STREQ(Golden()["optuna_version"].GetString(), "5.0.0");
}

TEST(PrunersGolden, EveryDecisionBracketAndRungMatchesOptuna) {
  int n_decisions = 0, n_pruned = 0, n_brackets = 0, n_rungs = 0;
  for (const Value& scenario : Golden()["scenarios"].GetArray()) {
    const std::string name = scenario["name"].GetString();
    SCOPED_TRACE(name);
    const StudyDirection direction = std::string(scenario["direction"].GetString()) == "maximize"
                                         ? StudyDirection::kMaximize
                                         : StudyDirection::kMinimize;
    Study study(std::make_unique<RandomSampler>(0), direction);
    study.set_name(scenario["study_name"].GetString());
    HyperbandPruner* hyperband = nullptr;
    study.SetPruner(MakePruner(scenario["pruner"], &hyperband));
    for (const Value& e : scenario["events"].GetArray()) {
      const std::string kind = e[0].GetString();
      const int number = e[1].GetInt();
      if (kind == "a") {
        ASSERT_EQ(study.Ask().number(), number);
      } else if (kind == "r") {
        Trial trial(&study, number);
        const int64_t step = e[2].GetInt64();
        ASSERT_TRUE(trial.Report(Num(e[3]), step).ok());
        const bool expected = e[4].GetInt() != 0;
        EXPECT_EQ(trial.ShouldPrune(), expected) << "trial " << number << " step " << step;
        ++n_decisions;
        n_pruned += expected;
        if (e.Size() > 5) {
          EXPECT_EQ(hyperband->BracketId(study, number), e[5].GetInt())
              << "trial " << number << " step " << step;
          ++n_brackets;
        }
      } else {
        const std::string state = e[2].GetString();
        if (state == "PRUNED") {
          ASSERT_TRUE(study.Tell(number, std::nullopt, TrialState::kPruned).ok());
        } else if (state == "FAIL") {
          ASSERT_TRUE(study.Tell(number, std::nullopt, TrialState::kFail).ok());
        } else {
          ASSERT_TRUE(study.Tell(number, e[3].GetDouble()).ok());
        }
      }
    }
    const Value& rungs = scenario["completed_rungs"];
    ASSERT_EQ(rungs.Size(), study.trials().size());
    for (size_t t = 0; t < rungs.Size(); ++t) {
      const auto& ours = study.trial(static_cast<int>(t)).completed_rungs;
      ASSERT_EQ(ours.size(), rungs[t].Size()) << "trial " << t;
      for (size_t k = 0; k < ours.size(); ++k) {
        EXPECT_EQ(ours[k], Num(rungs[t][k])) << "trial " << t << " rung " << k;
        ++n_rungs;
      }
    }
  }
  std::printf("pruner golden: %d decisions (%d prune), %d bracket ids, %d rung values checked\n",
              n_decisions, n_pruned, n_brackets, n_rungs);
  EXPECT_GT(n_decisions, 2500);
}

// Whole seeded TPE studies under a pruner: the same trials pruned at the same step and the same
// parameters (within 1e-9). Under Hyperband Optuna gives samplers a per-bracket study, but
// its TPE reads trials through Study._get_trials, which that view leaves unfiltered; so TPE
// sees every trial, here as there.
TEST(PrunersGolden, SeededTpeStudiesUnderPruners) {
  int n_trials = 0;
  double max_diff = 0;
  for (const Value& s : Golden()["sampler_studies"].GetArray()) {
    SCOPED_TRACE(s["name"].GetString());
    TpeOptions options;
    options.seed = static_cast<uint32_t>(s["seed"].GetInt());
    Study study(TpeSampler::Create(options).value());
    study.set_name(s["study_name"].GetString());
    HyperbandPruner* hyperband = nullptr;
    study.SetPruner(MakePruner(s["pruner"], &hyperband));
    const int n_steps = s["n_steps"].GetInt();
    for (const Value& e : s["trials"].GetArray()) {
      Trial trial = study.Ask();
      const double x = trial.SuggestFloat("x", -3.0, 3.0).value();
      const int64_t y = trial.SuggestInt("y", 0, 8).value();
      double v = 0;
      bool pruned = false;
      int reports = 0;
      for (int step = 0; step < n_steps; ++step) {
        v = (x - 1) * (x - 1) + static_cast<double>(std::abs(y - 5)) / 4 + 2.0 / (1 + step);
        ASSERT_TRUE(trial.Report(v, step).ok());
        ++reports;
        if (trial.ShouldPrune()) {
          pruned = true;
          break;
        }
      }
      ASSERT_TRUE((pruned ? study.Tell(trial.number(), std::nullopt, TrialState::kPruned)
                          : study.Tell(trial.number(), v))
                      .ok());
      const double want_x = e["params"][0].GetDouble();
      max_diff = std::max(max_diff, std::abs(x - want_x));
      EXPECT_NEAR(x, want_x, 1e-9) << "trial " << trial.number();
      EXPECT_EQ(y, e["params"][1].GetInt64()) << "trial " << trial.number();
      EXPECT_EQ(std::string(TrialStateName(study.trial(trial.number()).state)),
                e["state"].GetString())
          << "trial " << trial.number();
      EXPECT_EQ(reports, e["n_reports"].GetInt()) << "trial " << trial.number();
      ++n_trials;
    }
  }
  std::printf("pruner golden: %d seeded TPE trials under pruners, max |dx| %.3g\n", n_trials,
              max_diff);
}

}  // namespace
}  // namespace plinth::tune
