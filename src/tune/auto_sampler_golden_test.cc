// Golden tests: our AutoSampler against OptunaHub's on the seeded studies make_golden_auto.py
// recorded (tests/golden/tune/optuna_auto_golden.json). GP is a seeded RandomSampler on both
// sides (see that script), so what is checked is AutoSampler's own logic and the samplers it
// hands over to: for every trial, the sampler chosen (equal) and every parameter (within 1e-9,
// absolute for |x| <= 1, relative above).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "tune/auto_sampler.h"
#include "tune/random_sampler.h"
#include "tune/study.h"

namespace plinth::tune {
namespace {

using rapidjson::Value;

const rapidjson::Document& Golden() {
  static rapidjson::Document* doc = [] {
    std::ifstream in(std::string(PLINTH_TUNE_GOLDEN_DIR) + "/optuna_auto_golden.json");
    std::stringstream text;
    text << in.rdbuf();
    auto* d = new rapidjson::Document;
    d->Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(
        text.str().c_str());
    return d;
  }();
  return *doc;
}

double g_max_abs = 0, g_max_rel = 0;

bool Near(double actual, double expected) {
  const double diff = std::abs(actual - expected);
  if (std::abs(expected) <= 1) {
    g_max_abs = std::max(g_max_abs, diff);
    return diff <= 1e-9;
  }
  g_max_rel = std::max(g_max_rel, diff / std::abs(expected));
  return diff / std::abs(expected) <= 1e-9;
}

// The objectives of make_golden_auto.py. Returns NaN for a failed trial; sets *prune.
double Objective(const std::string& formula, Trial& trial, bool* prune) {
  *prune = false;
  if (formula == "rosen") {
    const double x = trial.SuggestFloat("x", -3.0, 3.0).value();
    const double y = trial.SuggestFloat("y", -2.0, 4.0).value();
    return std::pow(1 - x, 2) + 100 * std::pow(y - x * x, 2);
  }
  if (formula == "categorical") {
    const double x = trial.SuggestFloat("x", -3.0, 3.0).value();
    const std::string c = std::get<std::string>(
        trial.SuggestCategorical("c", {std::string("a"), std::string("b"), std::string("c")})
            .value());
    return std::pow(x - 1, 2) + (c == "a" ? 0.0 : c == "b" ? 0.5 : 1.0);
  }
  if (formula == "conditional") {
    const double x = trial.SuggestFloat("x", -3.0, 3.0).value();
    if (x < 0) {
      const double y = trial.SuggestFloat("y", 0.0, 5.0).value();
      return x * x + y;
    }
    const int64_t z = trial.SuggestInt("z", 1, 10).value();
    return std::pow(x - 1, 2) + static_cast<double>(z) / 10;
  }
  const int64_t n = trial.SuggestInt("n", 1, 64).value();
  const double lr = trial.SuggestFloat("lr", 1e-4, 1.0, /*log=*/true).value();
  const double v =
      std::pow(static_cast<double>(n - 20) / 10, 2) + std::pow(std::log10(lr) + 2.5, 2);
  if (v > 8) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (v > 5) {
    (void)trial.Report(v, 0);
    *prune = true;
  }
  return v;
}

TEST(AutoSamplerGolden, GeneratedByPinnedOptuna) {
  EXPECT_STREQ(Golden()["optuna_version"].GetString(), "5.0.0");
}

TEST(AutoSamplerGolden, SameSamplerAndParametersForEveryTrial) {
  int n_trials = 0, n_params = 0;
  for (const Value& s : Golden()["studies"].GetArray()) {
    const std::string name = s["name"].GetString();
    SCOPED_TRACE(name);
    AutoSamplerOptions options;
    options.seed = static_cast<uint32_t>(s["seed"].GetInt());
    options.max_budget_for_gp = s["max_budget_for_gp"].GetInt();
    options.max_dimension_for_gp = std::numeric_limits<int>::max();  // OptunaHub's rule
    options.gp_trials = options.max_budget_for_gp;                   // OptunaHub: no TPE stage
    // The golden script's GP stand-in: a RandomSampler with the seed AutoSampler draws.
    options.gp_factory = [](uint32_t seed) -> Result<std::unique_ptr<Sampler>> {
      return std::unique_ptr<Sampler>(std::make_unique<RandomSampler>(seed));
    };
    auto owned = AutoSampler::Create(options).value();
    AutoSampler* auto_sampler = owned.get();
    Study study(std::move(owned));
    const std::string formula = s["formula"].GetString();
    for (const Value& e : s["trials"].GetArray()) {
      Trial trial = study.Ask();
      bool prune = false;
      const double v = Objective(formula, trial, &prune);
      if (prune) {
        ASSERT_TRUE(study.Tell(trial.number(), std::nullopt, TrialState::kPruned).ok());
      } else {
        ASSERT_TRUE(study.Tell(trial.number(), v).ok());
      }
      const int number = trial.number();
      EXPECT_EQ(AutoSamplerChoiceName(*auto_sampler->ChoiceOf(number)),
                std::string(e["sampler"].GetString()))
          << "trial " << number;
      EXPECT_EQ(std::string(TrialStateName(study.trial(number).state)), e["state"].GetString())
          << "trial " << number;
      const Value& params = e["params"];
      ASSERT_EQ(study.trial(number).params.size(), params.MemberCount()) << "trial " << number;
      for (const auto& m : params.GetObject()) {
        const int pid = study.ParamId(m.name.GetString());
        ASSERT_GE(pid, 0);
        const double ours = study.ParamColumn(pid)[number];
        EXPECT_TRUE(Near(ours, m.value.GetDouble()))
            << "trial " << number << " " << m.name.GetString() << ": " << ours << " vs Optuna "
            << m.value.GetDouble();
        ++n_params;
      }
      ++n_trials;
    }
  }
  std::printf("auto sampler golden: %d trials, %d parameters, max abs %.3g, max rel %.3g\n",
              n_trials, n_params, g_max_abs, g_max_rel);
}

}  // namespace
}  // namespace plinth::tune
