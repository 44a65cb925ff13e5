// Golden tests: our samplers against the numbers Optuna 5 itself produced on the same histories
// and seeds (tests/golden/tune/optuna_golden.json, written by make_golden.py beside it).
//
// Tolerance: every number within 1e-9, absolute for |x| <= 1 and relative above. Checked:
// numpy's random stream; distribution rules; per TPE case the relative search space, the
// below/above split, both estimators' weights, kernel centres and bandwidths (categorical rows),
// the candidates l(x) draws from a fixed seed, log l, log g and their difference on Optuna's own
// candidates, the argmax, and the value a seeded suggestion returns; and whole seeded studies
// (TPE, random, grid) trial by trial. The largest differences seen are printed at the end.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tune/grid_sampler.h"
#include "tune/parzen_estimator.h"
#include "tune/random_sampler.h"
#include "tune/random_state.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

using rapidjson::Value;

constexpr double kTolerance = 1e-9;

struct DiffStats {
  long compared = 0;
  double max_abs = 0;  // over values with |expected| <= 1
  double max_rel = 0;  // over values with |expected| > 1
};
DiffStats g_stats;

const rapidjson::Document& Golden() {
  static rapidjson::Document* doc = [] {
    std::ifstream in(std::string(PLINTH_TUNE_GOLDEN_DIR) + "/optuna_golden.json");
    std::stringstream text;
    text << in.rdbuf();
    auto* d = new rapidjson::Document;
    d->Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(
        text.str().c_str());
    return d;
  }();
  return *doc;
}

bool Near(double actual, double expected) {
  if (std::isnan(expected) || std::isinf(expected)) {
    return std::isnan(expected) ? std::isnan(actual) : actual == expected;
  }
  double diff = std::abs(actual - expected);
  ++g_stats.compared;
  if (std::abs(expected) <= 1) {
    g_stats.max_abs = std::max(g_stats.max_abs, diff);
    return diff <= kTolerance;
  }
  double rel = diff / std::abs(expected);
  g_stats.max_rel = std::max(g_stats.max_rel, rel);
  return rel <= kTolerance;
}

std::vector<double> Doubles(const Value& v) {
  std::vector<double> out;
  for (const Value& x : v.GetArray()) out.push_back(x.GetDouble());
  return out;
}

void ExpectNearAll(const std::vector<double>& actual, const std::vector<double>& expected,
                   const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_TRUE(Near(actual[i], expected[i]))
        << what << "[" << i << "]: " << actual[i] << " vs Optuna " << expected[i];
  }
}

void ExpectNearAll(const std::vector<double>& actual, const Value& expected,
                   const std::string& what) {
  ExpectNearAll(actual, Doubles(expected), what);
}

ParamValue ParamValueFromJson(const Value& v) {
  if (v.IsNull()) {
    return ParamValue{};
  }
  if (v.IsBool()) {
    return v.GetBool();
  }
  if (v.IsInt64()) {
    return v.GetInt64();
  }
  if (v.IsDouble()) {
    return v.GetDouble();
  }
  return std::string(v.GetString());
}

Distribution DistributionFromJson(const Value& v) {
  std::string type = v["type"].GetString();
  if (type == "categorical") {
    std::vector<ParamValue> choices;
    for (const Value& c : v["choices"].GetArray()) {
      choices.push_back(ParamValueFromJson(c));
    }
    return *Distribution::Categorical(std::move(choices));
  }
  if (type == "int") {
    return *Distribution::Int(v["low"].GetInt64(), v["high"].GetInt64(), v["log"].GetBool(),
                              v["step"].GetInt64());
  }
  std::optional<double> step;
  if (!v["step"].IsNull()) {
    step = v["step"].GetDouble();
  }
  return *Distribution::Float(v["low"].GetDouble(), v["high"].GetDouble(), v["log"].GetBool(),
                              step);
}

TrialState StateFromJson(const Value& v) {
  std::string s = v.GetString();
  if (s == "RUNNING") return TrialState::kRunning;
  if (s == "COMPLETE") return TrialState::kComplete;
  if (s == "PRUNED") return TrialState::kPruned;
  return TrialState::kFail;
}

SearchSpace SpaceFromJson(const Value& v) {
  SearchSpace space;
  for (const Value& e : v.GetArray()) {
    space.push_back({e[0].GetString(), DistributionFromJson(e[1])});
  }
  return space;
}

StudyDirection DirectionFromJson(const Value& v) {
  return std::string(v.GetString()) == "maximize" ? StudyDirection::kMaximize
                                                  : StudyDirection::kMinimize;
}

TpeOptions TpeOptionsFromJson(const Value& v) {
  TpeOptions o;
  o.seed = 0;
  if (v.HasMember("seed")) o.seed = v["seed"].GetUint();
  if (v.HasMember("multivariate")) o.multivariate = v["multivariate"].GetBool();
  if (v.HasMember("group")) o.group = v["group"].GetBool();
  if (v.HasMember("constant_liar")) o.constant_liar = v["constant_liar"].GetBool();
  return o;
}

// ---------------------------------------------------------------------------------------------

TEST(TuneGoldenTest, RandomStateMatchesNumpy) {
  const Value& g = Golden()["rng"];
  RandomState rs(g["seed"].GetUint());
  std::vector<double> samples;
  for (size_t i = 0; i < g["random_sample"].Size(); ++i) {
    samples.push_back(rs.RandomSample());
  }
  ExpectNearAll(samples, g["random_sample"], "random_sample");
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i], g["random_sample"][i].GetDouble());  // bit for bit
  }
  RandomState ri(g["randint_seed"].GetUint());
  for (size_t i = 0; i < g["randint"].Size(); ++i) {
    EXPECT_EQ(ri.RandInt(0, g["randint_high"][i].GetInt64()), g["randint"][i].GetInt64());
  }
  std::vector<int> items(10);
  for (int i = 0; i < 10; ++i) items[i] = i;
  RandomState(0).Shuffle(&items);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(items[i], g["shuffle10_seed0"][i].GetInt());
  }
  std::vector<double> p;
  for (const Value& x : g["choice_p"].GetArray()) p.push_back(x.GetDouble());
  RandomState rc(g["choice_seed"].GetUint());
  std::vector<size_t> choice;
  rc.ChoiceWithProbabilities(p, g["choice"].Size(), &choice);
  for (size_t i = 0; i < choice.size(); ++i) {
    EXPECT_EQ(choice[i], g["choice"][i].GetUint64());
  }
}

TEST(TuneGoldenTest, DistributionRules) {
  const Value& g = Golden()["distributions"];
  for (const Value& c : g["cases"].GetArray()) {
    Distribution d = DistributionFromJson(c["dist"]);
    EXPECT_EQ(d.Single(), c["single"].GetBool()) << d.ToString();
  }
  for (const Value& c : g["float_step_high"].GetArray()) {
    Distribution d =
        *Distribution::Float(c[0].GetDouble(), c[1].GetDouble(), false, c[2].GetDouble());
    EXPECT_EQ(d.high(), c[3].GetDouble()) << d.ToString();
  }
}

// Builds the case's history in a fresh study and starts the trial TPE samples for.
struct CaseStudy {
  std::unique_ptr<Study> study;
  TpeSampler* sampler = nullptr;
  int current = -1;
};

CaseStudy BuildCaseStudy(const Value& c) {
  CaseStudy cs;
  std::unique_ptr<TpeSampler> sampler =
      TpeSampler::Create(TpeOptionsFromJson(c["options"])).value();
  cs.sampler = sampler.get();
  cs.study = std::make_unique<Study>(std::move(sampler), DirectionFromJson(c["direction"]));
  for (const Value& t : c["trials"].GetArray()) {
    TrialSpec spec;
    spec.state = StateFromJson(t["state"]);
    if (!t["value"].IsNull()) spec.value = t["value"].GetDouble();
    for (const Value& p : t["params"].GetArray()) {
      spec.params.push_back(
          {p[0].GetString(), {DistributionFromJson(p[1]), ParamValueFromJson(p[2])}});
    }
    for (const Value& iv : t["intermediate"].GetArray()) {
      spec.intermediate_values.push_back({iv[0].GetInt64(), iv[1].GetDouble()});
    }
    for (const Value& p : t["relative"].GetArray()) {
      spec.relative_params.push_back(
          {p[0].GetString(), {DistributionFromJson(p[1]), p[2].GetDouble()}});
    }
    Result<int> added = cs.study->AddTrial(spec);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
  }
  cs.current = cs.study->Ask().number();
  return cs;
}

std::vector<int> IntsOf(const Value& v) {
  std::vector<int> out;
  for (const Value& x : v.GetArray()) out.push_back(x.GetInt());
  return out;
}

void CheckEstimator(const ParzenEstimator& pe, const Value& expected, const SearchSpace& space,
                    const std::string& what) {
  ExpectNearAll(pe.weights(), expected["weights"], what + ".weights");
  for (size_t d = 0; d < space.size(); ++d) {
    const Value& dim = expected["dims"][static_cast<rapidjson::SizeType>(d)];
    std::string w = what + "." + space[d].name;
    if (space[d].distribution.is_categorical()) {
      std::vector<double> flat;
      for (const Value& row : dim["cat_weights"].GetArray()) {
        for (const Value& x : row.GetArray()) flat.push_back(x.GetDouble());
      }
      ExpectNearAll(pe.categorical_weights(d), flat, w + ".cat_weights");
    } else {
      ExpectNearAll(pe.mus(d), dim["mus"], w + ".mus");
      ExpectNearAll(pe.sigmas(d), dim["sigmas"], w + ".sigmas");
    }
  }
}

TEST(TuneGoldenTest, TpeInternalsMatchOptuna) {
  const Value& cases = Golden()["tpe_cases"];
  const size_t n_ei = Golden()["n_ei_candidates"].GetUint();
  ASSERT_GT(cases.Size(), 0u);
  for (const Value& c : cases.GetArray()) {
    std::string name = c["name"].GetString();
    SCOPED_TRACE(name);
    CaseStudy cs = BuildCaseStudy(c);
    Study& study = *cs.study;
    const FrozenTrial& current = study.trial(cs.current);

    // The joint search space (intersection, or groups in order).
    SearchSpace relative = cs.sampler->InferRelativeSearchSpace(study, current);
    SearchSpace expected_relative = SpaceFromJson(c["relative_space"]);
    ASSERT_EQ(relative.size(), expected_relative.size());
    for (size_t i = 0; i < relative.size(); ++i) {
      EXPECT_EQ(relative[i].name, expected_relative[i].name);
      EXPECT_TRUE(relative[i].distribution == expected_relative[i].distribution);
    }

    for (const Value& s : c["spaces"].GetArray()) {
      SearchSpace space = SpaceFromJson(s["space"]);
      std::string what = name + "/" + space.front().name;
      SCOPED_TRACE(what);

      TpeSampler::Split split;
      cs.sampler->SplitTrials(study, cs.current, &split);
      EXPECT_EQ(split.n_below, s["n_below"].GetInt());
      EXPECT_EQ(split.below, IntsOf(s["below"]));
      EXPECT_EQ(split.above, IntsOf(s["above"]));

      ParzenEstimator below, above;
      Status built = cs.sampler->BuildEstimators(study, split, space, &below, &above);
      ASSERT_TRUE(built.ok()) << built.ToString();
      CheckEstimator(below, s["l"], space, what + ".l");
      CheckEstimator(above, s["g"], space, what + ".g");

      // Candidates drawn from l(x) with the same numpy seed.
      Candidates ours;
      RandomState rng(s["candidate_seed"].GetUint());
      below.Sample(&rng, n_ei, &ours);
      for (size_t d = 0; d < space.size(); ++d) {
        std::vector<double> column(ours.values.begin() + d * n_ei,
                                   ours.values.begin() + (d + 1) * n_ei);
        ExpectNearAll(column, s["candidates"][static_cast<rapidjson::SizeType>(d)],
                      what + ".candidates." + space[d].name);
      }

      // Scores on Optuna's own candidates, so the check does not depend on the draw.
      Candidates theirs;
      theirs.n = n_ei;
      for (size_t d = 0; d < space.size(); ++d) {
        for (const Value& x : s["candidates"][static_cast<rapidjson::SizeType>(d)].GetArray()) {
          theirs.values.push_back(x.GetDouble());
        }
      }
      std::vector<double> log_l(n_ei), log_g(n_ei), scores;
      below.LogPdf(theirs, log_l);
      above.LogPdf(theirs, log_g);
      ExpectNearAll(log_l, s["log_l"], what + ".log_l");
      ExpectNearAll(log_g, s["log_g"], what + ".log_g");
      size_t best = cs.sampler->ScoreCandidates(&below, &above, theirs, &scores);
      ExpectNearAll(scores, s["scores"], what + ".scores");
      EXPECT_EQ(best, s["best"].GetUint64());

      // A whole seeded suggestion.
      cs.sampler->ReseedRng(s["sample_seed"].GetUint());
      Result<ParamMap> sampled = cs.sampler->SampleSpace(study, current, space);
      ASSERT_TRUE(sampled.ok()) << sampled.status().ToString();
      std::vector<double> values;
      for (const auto& [pname, v] : *sampled) values.push_back(v);
      ExpectNearAll(values, s["sampled"], what + ".sampled");
    }

    if (!c["relative_sampled"].IsNull()) {
      cs.sampler->ReseedRng(c["relative_sample_seed"].GetUint());
      Result<ParamMap> sampled = cs.sampler->SampleRelative(study, current, relative);
      ASSERT_TRUE(sampled.ok()) << sampled.status().ToString();
      const Value& expected = c["relative_sampled"];
      ASSERT_EQ(sampled->size(), expected.Size());
      for (size_t i = 0; i < sampled->size(); ++i) {
        const Value& e = expected[static_cast<rapidjson::SizeType>(i)];
        EXPECT_EQ((*sampled)[i].first, e[0].GetString());
        EXPECT_TRUE(Near((*sampled)[i].second, e[1].GetDouble()))
            << (*sampled)[i].first << ": " << (*sampled)[i].second << " vs " << e[1].GetDouble();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Whole studies: the objectives of make_golden.py.

double MixedValue(double x, double lr, int64_t n, int64_t k, const std::string& act) {
  double act_cost = act == "relu" ? 0.0 : (act == "tanh" ? 0.5 : 0.2);
  return std::pow(x - 1.0, 2) + std::pow(std::log10(lr) + 2.0, 2) +
         std::pow(static_cast<double>(n - 35) / 50, 2) + std::pow(std::log2(k) - 3.0, 2) / 4 +
         act_cost;
}

// Runs one objective on `trial`; returns the value, or nullopt when the trial was pruned.
Result<std::optional<double>> RunObjective(const std::string& name, Trial trial) {
  double value;
  if (name == "quadratic1d") {
    PLINTH_ASSIGN_OR_RETURN(double x, trial.SuggestFloat("x", -5.0, 10.0));
    value = std::pow(x - 2.0, 2);
  } else if (name == "mixed5d") {
    PLINTH_ASSIGN_OR_RETURN(double x, trial.SuggestFloat("x", -3.0, 3.0));
    PLINTH_ASSIGN_OR_RETURN(double lr, trial.SuggestFloat("lr", 1e-4, 1.0, true));
    PLINTH_ASSIGN_OR_RETURN(int64_t n, trial.SuggestInt("n", 0, 100, 5));
    PLINTH_ASSIGN_OR_RETURN(int64_t k, trial.SuggestInt("k", 1, 64, 1, true));
    PLINTH_ASSIGN_OR_RETURN(
        ParamValue act, trial.SuggestCategorical("act", {std::string("relu"), std::string("tanh"),
                                                         std::string("gelu")}));
    value = MixedValue(x, lr, n, k, std::get<std::string>(act));
  } else if (name == "conditional") {
    PLINTH_ASSIGN_OR_RETURN(
        ParamValue model, trial.SuggestCategorical("model", {std::string("a"), std::string("b")}));
    if (std::get<std::string>(model) == "a") {
      PLINTH_ASSIGN_OR_RETURN(double x, trial.SuggestFloat("x", -5.0, 5.0));
      value = std::pow(x - 1.0, 2);
    } else {
      PLINTH_ASSIGN_OR_RETURN(int64_t y, trial.SuggestInt("y", 0, 20));
      PLINTH_ASSIGN_OR_RETURN(double z, trial.SuggestFloat("z", 0.01, 10.0, true));
      value = static_cast<double>((y - 7) * (y - 7)) / 10 + std::pow(std::log(z), 2) + 0.5;
    }
  } else if (name == "stepped") {
    PLINTH_ASSIGN_OR_RETURN(double a, trial.SuggestFloat("a", 0.0, 1.0, false, 0.1));
    PLINTH_ASSIGN_OR_RETURN(int64_t b, trial.SuggestInt("b", -10, 10, 2));
    value = std::pow(a - 0.3, 2) + static_cast<double>((b - 4) * (b - 4)) / 100;
  } else if (name == "grid") {
    PLINTH_ASSIGN_OR_RETURN(int64_t a, trial.SuggestInt("a", 1, 3));
    PLINTH_ASSIGN_OR_RETURN(ParamValue b,
                            trial.SuggestCategorical("b", {std::string("x"), std::string("y")}));
    PLINTH_ASSIGN_OR_RETURN(double c, trial.SuggestFloat("c", 0.0, 2.0));
    value = static_cast<double>(a) + (std::get<std::string>(b) == "y" ? 1.0 : 0.0) + c;
  } else {
    return InvalidArgument("unknown objective " + name);
  }
  if ((name == "mixed5d" || name == "stepped") && trial.number() % 7 == 3) {
    PLINTH_RETURN_IF_ERROR(trial.Report(value + 1.0, 0));
    PLINTH_RETURN_IF_ERROR(trial.Report(value + 0.5, 1));
    return std::optional<double>();
  }
  if (name == "mixed5d" && trial.number() % 11 == 5) {
    return std::optional<double>(std::nan(""));  // told as a failure
  }
  return std::optional<double>(value);
}

TEST(TuneGoldenTest, SeededStudiesReplayOptuna) {
  const Value& studies = Golden()["studies"];
  ASSERT_GT(studies.Size(), 0u);
  for (const Value& g : studies.GetArray()) {
    std::string name = g["name"].GetString();
    SCOPED_TRACE(name);
    std::string kind = g["sampler"].GetString();
    std::unique_ptr<Sampler> sampler;
    if (kind == "tpe") {
      sampler = TpeSampler::Create(TpeOptionsFromJson(g["options"])).value();
    } else if (kind == "random") {
      sampler = std::make_unique<RandomSampler>(g["options"]["seed"].GetUint());
    } else {
      GridSampler::Grid grid;
      for (const Value& e : g["grid"].GetArray()) {
        std::vector<ParamValue> values;
        for (const Value& v : e[1].GetArray()) values.push_back(ParamValueFromJson(v));
        grid.push_back({e[0].GetString(), std::move(values)});
      }
      sampler = GridSampler::Create(std::move(grid), g["options"]["seed"].GetUint()).value();
    }
    Study study(std::move(sampler), DirectionFromJson(g["direction"]));
    const int n_trials = static_cast<int>(g["trials"].Size());
    const int batch = g["batch"].GetInt();
    std::string objective = g["objective"].GetString();
    while (static_cast<int>(study.trials().size()) < n_trials) {
      std::vector<Trial> asked;
      for (int i = 0; i < batch && static_cast<int>(study.trials().size()) < n_trials; ++i) {
        asked.push_back(study.Ask());
      }
      std::vector<std::optional<double>> results;
      for (Trial& t : asked) {
        Result<std::optional<double>> r = RunObjective(objective, t);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        results.push_back(*r);
      }
      for (size_t i = 0; i < asked.size(); ++i) {
        Status told = results[i] ? study.Tell(asked[i].number(), *results[i])
                                 : study.Tell(asked[i].number(), std::nullopt, TrialState::kPruned);
        ASSERT_TRUE(told.ok()) << told.ToString();
      }
    }
    for (int n = 0; n < n_trials; ++n) {
      SCOPED_TRACE("trial " + std::to_string(n));
      const Value& e = g["trials"][n];
      const FrozenTrial& t = study.trial(n);
      EXPECT_EQ(t.state, StateFromJson(e["state"]));
      if (e["value"].IsNull()) {
        EXPECT_FALSE(t.value.has_value());
      } else {
        ASSERT_TRUE(t.value.has_value());
        EXPECT_TRUE(Near(*t.value, e["value"].GetDouble()))
            << *t.value << " vs " << e["value"].GetDouble();
      }
      ASSERT_EQ(t.params.size(), e["params"].Size());
      for (size_t i = 0; i < t.params.size(); ++i) {
        const Value& p = e["params"][static_cast<rapidjson::SizeType>(i)];
        EXPECT_EQ(study.ParamName(t.params[i].param_id), p[0].GetString());
        EXPECT_TRUE(Near(t.params[i].value, p[1].GetDouble()))
            << p[0].GetString() << ": " << t.params[i].value << " vs " << p[1].GetDouble();
      }
    }
  }
}

// Runs last (gtest keeps file order): the largest differences seen, for the record. ctest runs
// each test in a process of its own, where nothing was compared before this one: then it skips
// (run plinth_tune_test directly for the report).
TEST(TuneGoldenTest, ZzReportDifferences) {
  if (g_stats.compared == 0) {
    GTEST_SKIP() << "no golden comparison ran in this process (ctest runs tests one by one)";
  }
  std::printf("golden values compared: %ld; max abs diff (|x|<=1): %.3g; max rel diff: %.3g\n",
              g_stats.compared, g_stats.max_abs, g_stats.max_rel);
  EXPECT_GT(g_stats.compared, 0);
}

}  // namespace
}  // namespace plinth::tune
