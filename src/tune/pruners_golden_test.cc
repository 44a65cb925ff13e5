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

}  // namespace
}  // namespace plinth::tune
