// Golden tests for multi-objective studies against Optuna 5.0.0
// (tests/golden/tune/optuna_mo_golden.json, written by make_golden_mo.py). Checked, every
// number within 1e-9 (absolute for |x| <= 1, relative above), indices and sets exactly:
// * seeded RandomSampler studies with 2 and 3 objectives: every parameter, every value and
//   the Pareto front (best_trials);
// * Optuna's helpers on fixed loss arrays (2-4 objectives, duplicates): Pareto front,
//   non-domination ranks with n_below, hypervolume, greedy HSSP;
// * MOTPE on fixed histories (running trials, multivariate on and off, 2 and 3 objectives,
//   150 trials so g's weights ramp): the below/above split, both estimators' mixture weights,
//   and the parameters sampled from a seed;
// * seeded MOTPE studies: every parameter of every trial.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tune/multi_objective.h"
#include "tune/random_sampler.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

using rapidjson::Value;

constexpr double kTolerance = 1e-9;

const rapidjson::Document& Golden() {
  static rapidjson::Document* doc = [] {
    std::ifstream in(std::string(PLINTH_TUNE_GOLDEN_DIR) + "/optuna_mo_golden.json");
    std::stringstream text;
    text << in.rdbuf();
    auto* d = new rapidjson::Document;
    d->Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(
        text.str().c_str());
    return d;
  }();
  return *doc;
}

struct DiffStats {
  long compared = 0;
  double max_abs = 0, max_rel = 0;
} g_stats;

void ExpectNear(double actual, double expected, const std::string& what) {
  ++g_stats.compared;
  const double diff = std::abs(actual - expected);
  if (std::abs(expected) <= 1) {
    g_stats.max_abs = std::max(g_stats.max_abs, diff);
    EXPECT_LE(diff, kTolerance) << what << ": " << actual << " vs " << expected;
  } else {
    g_stats.max_rel = std::max(g_stats.max_rel, diff / std::abs(expected));
    EXPECT_LE(diff, kTolerance * std::abs(expected))
        << what << ": " << actual << " vs " << expected;
  }
}

std::vector<double> Doubles(const Value& v) {
  std::vector<double> out;
  for (const Value& x : v.GetArray()) out.push_back(x.GetDouble());
  return out;
}

std::vector<int> Ints(const Value& v) {
  std::vector<int> out;
  for (const Value& x : v.GetArray()) out.push_back(x.GetInt());
  return out;
}

std::vector<StudyDirection> Directions(const Value& v) {
  std::vector<StudyDirection> out;
  for (const Value& d : v.GetArray()) {
    out.push_back(std::string(d.GetString()) == "maximize" ? StudyDirection::kMaximize
                                                           : StudyDirection::kMinimize);
  }
  return out;
}

const std::vector<ParamValue> kChoices = {std::string("a"), std::string("b"), std::string("c")};

Distribution X() { return Distribution::Float(-3.0, 3.0).value(); }
Distribution Lr() { return Distribution::Float(1e-4, 1.0, true).value(); }
Distribution K() { return Distribution::Int(1, 10).value(); }
Distribution C() { return Distribution::Categorical(kChoices).value(); }

// make_golden_mo.py's objectives.
std::vector<double> Objectives(double x, double lr, int64_t k, int c, size_t n_obj) {
  // Python's round(v, 1): to nearest, ties to even, on the decimal value; these values are
  // never exact ties, so rounding the scaled double is enough.
  double f1 = std::nearbyint((x * x + 0.1 * k) * 10) / 10;
  double f2 = (x - 1.5) * (x - 1.5) + std::abs(std::log10(lr) + 2) + 0.5 * c;
  double f3 = std::abs(x + 1) + 0.2 * (10 - k);
  std::vector<double> all = {f1, f2, f3};
  all.resize(n_obj);
  return all;
}

// Runs a study the way make_golden_mo.py's objective does and checks each trial.
void ReplayStudy(Study* study, const Value& trials, size_t n_obj, const std::string& what) {
  int i = 0;
  for (const Value& want : trials.GetArray()) {
    Trial t = study->Ask();
    double x = t.SuggestFloat("x", -3.0, 3.0).value();
    double lr = t.SuggestFloat("lr", 1e-4, 1.0, true).value();
    int64_t k = t.SuggestInt("k", 1, 10).value();
    ParamValue cv = t.SuggestCategorical("c", kChoices).value();
    int c = std::get<std::string>(cv)[0] - 'a';
    std::vector<double> p = Doubles(want["params"]);
    const std::string at = what + " trial " + std::to_string(i++);
    ExpectNear(x, p[0], at + " x");
    ExpectNear(lr, p[1], at + " lr");
    EXPECT_EQ(k, static_cast<int64_t>(p[2])) << at;
    EXPECT_EQ(c, static_cast<int>(p[3])) << at;
    // Tell Optuna's values so that one early difference does not cascade.
    std::vector<double> values = Doubles(want["values"]);
    std::vector<double> mine = Objectives(x, lr, k, c, n_obj);
    for (size_t j = 0; j < n_obj; ++j) ExpectNear(mine[j], values[j], at + " value");
    ASSERT_TRUE(study->TellValues(t.number(), values).ok());
  }
}

TEST(MultiObjectiveGoldenTest, GoldenFileLoads) {
  ASSERT_TRUE(Golden().IsObject());
  EXPECT_STREQ(Golden()["optuna"].GetString(), "5.0.0");
}

TEST(MultiObjectiveGoldenTest, SeededRandomStudiesAndParetoFronts) {
  for (const Value& s : Golden()["random_studies"].GetArray()) {
    std::vector<StudyDirection> directions = Directions(s["directions"]);
    Study study(std::make_unique<RandomSampler>(s["seed"].GetUint()), directions);
    ReplayStudy(&study, s["trials"], directions.size(),
                "random seed " + std::to_string(s["seed"].GetUint()));
    EXPECT_EQ(study.BestTrials(), Ints(s["best_trials"]));
  }
}

TEST(MultiObjectiveGoldenTest, HelpersOnFixedLosses) {
  for (const Value& c : Golden()["loss_cases"].GetArray()) {
    const size_t m = c["m"].GetUint();
    const std::string what = std::to_string(m) + " objectives";
    std::vector<double> loss = Doubles(c["loss"]);
    std::vector<bool> front = ParetoFront(loss, m);
    std::vector<bool> want_front;
    for (const Value& b : c["pareto"].GetArray()) want_front.push_back(b.GetBool());
    EXPECT_EQ(front, want_front) << what;
    for (auto it = c["ranks"].MemberBegin(); it != c["ranks"].MemberEnd(); ++it) {
      int n_below = std::stoi(it->name.GetString());
      EXPECT_EQ(NondominationRanks(loss, m, n_below), Ints(it->value))
          << what << " n_below " << n_below;
    }
    std::vector<double> ref = Doubles(c["reference"]);
    ExpectNear(Hypervolume(loss, m, ref), c["hypervolume"].GetDouble(), what + " hypervolume");
    std::vector<double> front_loss;
    for (size_t i = 0; i < front.size(); ++i) {
      if (front[i]) front_loss.insert(front_loss.end(), &loss[i * m], &loss[i * m] + m);
    }
    ExpectNear(Hypervolume(front_loss, m, ref), c["hypervolume_front"].GetDouble(),
               what + " front hypervolume");
    std::vector<int> idx;
    for (size_t i = 0; i < front_loss.size() / m; ++i) idx.push_back(static_cast<int>(i) + 100);
    for (auto it = c["hssp"].MemberBegin(); it != c["hssp"].MemberEnd(); ++it) {
      size_t k = std::stoul(it->name.GetString());
      EXPECT_EQ(SolveHssp(front_loss, m, idx, k, ref), Ints(it->value)) << what << " HSSP " << k;
    }
    for (auto it = c["split"].MemberBegin(); it != c["split"].MemberEnd(); ++it) {
      int n_below = std::stoi(it->name.GetString());
      std::vector<bool> below = SplitMultiObjective(loss, m, n_below);
      std::vector<int> got;
      for (size_t i = 0; i < below.size(); ++i) {
        if (below[i]) got.push_back(static_cast<int>(i));
      }
      EXPECT_EQ(got, Ints(it->value)) << what << " split " << n_below;
    }
    std::vector<double> dup = Doubles(c["hssp_dup"]["loss"]);
    std::vector<int> dup_idx;
    for (size_t i = 0; i < dup.size() / m; ++i) dup_idx.push_back(static_cast<int>(i));
    EXPECT_EQ(SolveHssp(dup, m, dup_idx, 5, ref), Ints(c["hssp_dup"]["selected"])) << what;
  }
}

TEST(MultiObjectiveGoldenTest, TpeSplitWeightsAndSamplesOnFixedHistories) {
  int case_index = 0;
  for (const Value& h : Golden()["tpe_histories"].GetArray()) {
    const std::string what = "history " + std::to_string(case_index++);
    TpeOptions options;
    options.seed = h["seed"].GetUint();
    options.multivariate = h["multivariate"].GetBool();
    auto owned = TpeSampler::Create(options).value();
    TpeSampler* sampler = owned.get();
    Study study(std::move(owned), Directions(h["directions"]));
    for (const Value& spec : h["trials"].GetArray()) {
      std::vector<double> p = Doubles(spec["params"]);
      TrialSpec ts;
      ts.state = std::string(spec["state"].GetString()) == "COMPLETE" ? TrialState::kComplete
                                                                      : TrialState::kRunning;
      ts.params = {{"x", {X(), p[0]}},
                   {"lr", {Lr(), p[1]}},
                   {"k", {K(), static_cast<int64_t>(p[2])}},
                   {"c", {C(), kChoices[static_cast<size_t>(p[3])]}}};
      if (spec.HasMember("values")) ts.values = Doubles(spec["values"]);
      ASSERT_TRUE(study.AddTrial(ts).ok()) << what;
    }
    Trial current = study.Ask();
    TpeSampler::Split split;
    sampler->SplitTrials(study, current.number(), &split);
    EXPECT_EQ(split.below, Ints(h["below"])) << what;
    EXPECT_EQ(split.above, Ints(h["above"])) << what;
    SearchSpace space;
    for (const Value& name : h["space"].GetArray()) {
      std::string n = name.GetString();
      Distribution d = n == "x" ? X() : n == "lr" ? Lr() : n == "k" ? K() : C();
      space.push_back({n, d});
    }
    ParzenEstimator below, above;
    ASSERT_TRUE(sampler->BuildEstimators(study, split, space, &below, &above).ok());
    std::vector<double> wb = Doubles(h["weights_below"]), wa = Doubles(h["weights_above"]);
    ASSERT_EQ(below.weights().size(), wb.size()) << what;
    ASSERT_EQ(above.weights().size(), wa.size()) << what;
    for (size_t i = 0; i < wb.size(); ++i)
      ExpectNear(below.weights()[i], wb[i], what + " l weight");
    for (size_t i = 0; i < wa.size(); ++i)
      ExpectNear(above.weights()[i], wa[i], what + " g weight");
    auto sampled = sampler->SampleSpace(study, study.trial(current.number()), space);
    ASSERT_TRUE(sampled.ok()) << what;
    for (const auto& [name, value] : *sampled) {
      ExpectNear(value, h["sampled"][name.c_str()].GetDouble(), what + " sampled " + name);
    }
  }
}

TEST(MultiObjectiveGoldenTest, SeededTpeStudies) {
  for (const Value& s : Golden()["tpe_studies"].GetArray()) {
    TpeOptions options;
    options.seed = s["seed"].GetUint();
    if (!s["multivariate"].IsNull()) options.multivariate = s["multivariate"].GetBool();
    Study study(TpeSampler::Create(options).value(),
                {StudyDirection::kMinimize, StudyDirection::kMaximize});
    ReplayStudy(&study, s["trials"], 2, "MOTPE seed " + std::to_string(*options.seed));
    EXPECT_EQ(study.BestTrials(), Ints(s["best_trials"]));
  }
}

// Runs last (tests run in definition order): what the tests above compared.
TEST(MultiObjectiveGoldenTest, Summary) {
  if (g_stats.compared == 0) {
    GTEST_SKIP() << "no golden comparison ran in this process (ctest runs tests one by one)";
  }
  std::printf("MO golden: %ld numbers, max abs diff %.2e (|x| <= 1), max rel diff %.2e\n",
              g_stats.compared, g_stats.max_abs, g_stats.max_rel);
}

}  // namespace
}  // namespace plinth::tune
