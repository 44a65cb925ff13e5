// Golden tests: our CMA-ES against Optuna 5's CmaEsSampler with the pinned cmaes package
// (tests/golden/tune/optuna_cmaes_golden.json, written by make_golden_cmaes.py).
//
// Checked, each number within 1e-9 (absolute for |x| <= 1, relative above):
// * numpy's randn stream (cmaes' z ~ N(0, I));
// * the deterministic updates: starting from the same initial distribution (or the same
//   WS-CMA-ES warm start), telling our optimizer the solutions Optuna told its own — the
//   first popsize finished trials of each generation, by number — gives the mean, step size,
//   covariance and both evolution paths Optuna pickled after every tell;
// * whole seeded studies (1 to 10 dimensions): every trial's parameters and state, replayed
//   with our sampler and the same objective. This holds because numpy's random stream and
//   LAPACK's eigenvector signs (symmetric_eigen.h) are both reproduced.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "tune/cmaes_sampler.h"
#include "tune/study.h"

namespace plinth::tune {
namespace {

using rapidjson::Value;

constexpr double kTolerance = 1e-9;

struct DiffStats {
  long compared = 0;
  double max_abs = 0;
  double max_rel = 0;
};

const rapidjson::Document& Golden() {
  static rapidjson::Document* doc = [] {
    std::ifstream in(std::string(PLINTH_TUNE_GOLDEN_DIR) + "/optuna_cmaes_golden.json");
    std::stringstream text;
    text << in.rdbuf();
    auto* d = new rapidjson::Document;
    d->Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(
        text.str().c_str());
    return d;
  }();
  return *doc;
}

bool Near(double actual, double expected, DiffStats* stats) {
  const double diff = std::abs(actual - expected);
  ++stats->compared;
  if (std::abs(expected) <= 1) {
    stats->max_abs = std::max(stats->max_abs, diff);
    return diff <= kTolerance;
  }
  const double rel = diff / std::abs(expected);
  stats->max_rel = std::max(stats->max_rel, rel);
  return rel <= kTolerance;
}

std::vector<double> Doubles(const Value& v) {
  std::vector<double> out;
  for (const Value& x : v.GetArray()) out.push_back(x.GetDouble());
  return out;
}

void ExpectNearAll(const std::vector<double>& actual, const Value& expected,
                   const std::string& what, DiffStats* stats) {
  std::vector<double> e = Doubles(expected);
  ASSERT_EQ(actual.size(), e.size()) << what;
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_TRUE(Near(actual[i], e[i], stats))
        << what << "[" << i << "]: " << actual[i] << " vs Optuna " << e[i];
  }
}

Distribution DistributionOf(const Value& j) {
  const std::string type = j["type"].GetString();
  if (type == "float") {
    std::optional<double> step;
    if (!j["step"].IsNull()) step = j["step"].GetDouble();
    return Distribution::Float(j["low"].GetDouble(), j["high"].GetDouble(), j["log"].GetBool(),
                               step)
        .value();
  }
  if (type == "int") {
    return Distribution::Int(j["low"].GetInt64(), j["high"].GetInt64(), j["log"].GetBool(),
                             j["step"].GetInt64())
        .value();
  }
  std::vector<ParamValue> choices;
  for (const Value& c : j["choices"].GetArray()) choices.emplace_back(std::string(c.GetString()));
  return Distribution::Categorical(choices).value();
}

// The objectives of make_golden_cmaes.py, in the same order of operations.
double Objective(const std::string& formula, const std::map<std::string, ParamValue>& p) {
  auto num = [&](const std::string& name) {
    const ParamValue& v = p.at(name);
    if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
    return std::get<double>(v);
  };
  if (formula == "sphere") {
    double sum = 0;
    for (const auto& [name, v] : p) {
      if (!std::holds_alternative<std::string>(v)) sum += std::pow(num(name) - 0.3, 2);
    }
    return sum;
  }
  if (formula == "rosen") {
    const double x = num("x"), y = num("y");
    return std::pow(1 - x, 2) + 100 * std::pow(y - x * x, 2);
  }
  if (formula == "hp") {
    return std::pow(std::log10(num("lr")) + 2.5, 2) + std::pow((num("n") - 20) / 10, 2) +
           std::pow(std::log(num("depth")) - 3, 2);
  }
  if (formula == "steps") {
    const int64_t a = std::get<int64_t>(p.at("a"));
    return static_cast<double>((a - 7) * (a - 7)) / 10 + std::pow(num("b") - 0.3, 2) +
           std::abs(num("c") - 4.2);
  }
  const std::string opt = std::get<std::string>(p.at("opt"));
  const double bonus = opt == "sgd" ? 0.5 : opt == "adam" ? 0.0 : 0.2;
  const int64_t k = std::get<int64_t>(p.at("k"));
  return std::pow(num("x") - 1, 2) + static_cast<double>(std::abs(k + 2)) / 3 +
         std::pow(std::log10(num("w")) - 1, 2) + bonus;
}

const Value* StudyNamed(const std::string& name) {
  for (const Value& s : Golden()["studies"].GetArray()) {
    if (name == s["name"].GetString()) return &s;
  }
  return nullptr;
}

CmaEsOptions OptionsOf(const Value& study) {
  CmaEsOptions o;
  const Value& a = study["sampler"];
  o.seed = static_cast<uint32_t>(a["seed"].GetInt());
  if (a.HasMember("n_startup_trials")) o.n_startup_trials = a["n_startup_trials"].GetInt();
  if (a.HasMember("popsize")) o.popsize = a["popsize"].GetInt();
  if (a.HasMember("consider_pruned_trials")) {
    o.consider_pruned_trials = a["consider_pruned_trials"].GetBool();
  }
  if (study.HasMember("source_study")) {
    std::vector<CmaSourceTrial> source;
    for (const Value& t : (*StudyNamed(study["source_study"].GetString()))["trials"].GetArray()) {
      CmaSourceTrial s;
      const std::string state = t["state"].GetString();
      s.state = state == "COMPLETE" ? TrialState::kComplete
                : state == "PRUNED" ? TrialState::kPruned
                                    : TrialState::kFail;
      if (!t["value"].IsNull()) s.value = t["value"].GetDouble();
      for (const auto& m : t["params"].GetObject()) {
        s.params.emplace_back(m.name.GetString(), m.value.GetDouble());
      }
      source.push_back(std::move(s));
    }
    o.source_trials = std::move(source);
  }
  return o;
}

// The relative space as Optuna's CmaEsSampler sees it: numeric parameters sorted by name.
std::vector<std::pair<std::string, Distribution>> NumericSpace(const Value& study) {
  std::vector<std::pair<std::string, Distribution>> out;
  for (const auto& m : study["space"].GetObject()) {
    Distribution d = DistributionOf(m.value);
    if (!d.is_categorical()) out.emplace_back(m.name.GetString(), d);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

TEST(CmaEsGolden, GeneratedByPinnedVersions) {
  EXPECT_STREQ(Golden()["optuna_version"].GetString(), "5.0.0");
  EXPECT_STREQ(Golden()["cmaes_version"].GetString(), "0.13.1");
}

TEST(CmaEsGolden, LegacyGaussMatchesNumpyRandn) {
  DiffStats stats;
  for (const auto& m : Golden()["randn"].GetObject()) {
    LegacyGauss g(static_cast<uint32_t>(std::stoul(m.name.GetString())));
    std::vector<double> ours;
    for (size_t i = 0; i < m.value.Size(); ++i) ours.push_back(g.Next());
    ExpectNearAll(ours, m.value, std::string("randn seed ") + m.name.GetString(), &stats);
  }
  EXPECT_LT(stats.max_abs, 1e-15);
}

// Tells our optimizer what Optuna told its own and compares every pickled state.
TEST(CmaEsGolden, DeterministicUpdatesMatchOptunaAfterEveryGeneration) {
  DiffStats stats;
  int n_states = 0;
  for (const Value& study : Golden()["studies"].GetArray()) {
    const std::string name = study["name"].GetString();
    SCOPED_TRACE(name);
    const Value& trials = study["trials"];
    const CmaEsOptions options = OptionsOf(study);
    const auto space = NumericSpace(study);
    const size_t n = space.size();
    std::vector<UnitTransform> trans;
    for (const auto& [pname, d] : space) trans.emplace_back(d);
    const bool maximize = std::string(study["direction"].GetString()) == "maximize";
    auto encode = [&](const Value& t) {
      std::vector<double> x;
      for (size_t i = 0; i < n; ++i)
        x.push_back(trans[i].Encode(t["params"][space[i].first.c_str()].GetDouble()));
      return x;
    };
    std::vector<double> mean(n, 0.5), cov;
    double sigma = 1.0 / 6;
    if (options.source_trials) {
      std::vector<CmaSolution> source;
      for (const Value& t : (*StudyNamed(study["source_study"].GetString()))["trials"].GetArray()) {
        if (std::string(t["state"].GetString()) == "COMPLETE") {
          source.push_back({encode(t), t["value"].GetDouble()});
        }
      }
      WarmStart ws = GetWarmStartMgd(source).value();
      mean = ws.mean;
      sigma = ws.sigma;
      cov = ws.cov;
    }
    // Optuna restores the optimizer from the newest finished trial that stored one (a trial
    // that told but then failed or was pruned is skipped, and the tell is redone), else
    // starts afresh.
    auto counts = [&](const Value& t) {
      const std::string state = t["state"].GetString();
      return state == "COMPLETE" || (state == "PRUNED" && options.consider_pruned_trials);
    };
    std::map<int, Cma> ours;
    for (const Value& teller : trials.GetArray()) {
      if (teller["snapshot"].IsNull()) continue;
      std::optional<Cma> cma;
      for (auto it = ours.rbegin(); it != ours.rend(); ++it) {
        if (it->first < teller["number"].GetInt() && counts(trials[it->first])) {
          cma = it->second;
          break;
        }
      }
      if (!cma) {
        cma = Cma::Create(mean, sigma, std::vector<std::pair<double, double>>(n, {0.0, 1.0}),
                          static_cast<int>(10 * n), 1, options.popsize.value_or(0), cov)
                  .value();
      }
      std::vector<CmaSolution> solutions;
      for (const Value& t : trials.GetArray()) {
        if (t["number"].GetInt() >= teller["number"].GetInt() ||
            static_cast<int>(solutions.size()) == cma->popsize()) {
          break;
        }
        if (!counts(t) || t["generation"].GetInt() != cma->generation()) continue;
        const double v = t["value"].GetDouble();
        solutions.push_back({encode(t), maximize ? -v : v});
      }
      ASSERT_TRUE(cma->Tell(solutions).ok()) << "trial " << teller["number"].GetInt();
      const Value& snap = teller["snapshot"];
      const std::string what = "after trial " + std::to_string(teller["number"].GetInt());
      EXPECT_EQ(cma->generation(), snap["generation"].GetInt()) << what;
      EXPECT_EQ(cma->popsize(), snap["popsize"].GetInt()) << what;
      ExpectNearAll(cma->mean(), snap["mean"], what + " mean", &stats);
      EXPECT_TRUE(Near(cma->sigma(), snap["sigma"].GetDouble(), &stats))
          << what << " sigma " << cma->sigma() << " vs " << snap["sigma"].GetDouble();
      ExpectNearAll(cma->cov(), snap["cov"], what + " C", &stats);
      ExpectNearAll(cma->p_sigma(), snap["p_sigma"], what + " p_sigma", &stats);
      ExpectNearAll(cma->p_c(), snap["p_c"], what + " p_c", &stats);
      ++n_states;
      ours.insert_or_assign(teller["number"].GetInt(), *cma);
    }
  }
  std::printf(
      "cma-es deterministic: %d optimizer states, %ld numbers, max abs %.3g, max rel %.3g\n",
      n_states, stats.compared, stats.max_abs, stats.max_rel);
  EXPECT_GE(n_states, 60);
}

// Replays each seeded study with our sampler and the same objective.
TEST(CmaEsGolden, SeededStudies) {
  DiffStats stats;
  int n_trials_matched = 0, n_trials_total = 0;
  for (const Value& study_json : Golden()["studies"].GetArray()) {
    const std::string name = study_json["name"].GetString();
    SCOPED_TRACE(name);
    const bool maximize = std::string(study_json["direction"].GetString()) == "maximize";
    Study study(CmaEsSampler::Create(OptionsOf(study_json)).value(),
                maximize ? StudyDirection::kMaximize : StudyDirection::kMinimize);
    const std::string formula = study_json["formula"].GetString();
    std::vector<std::pair<std::string, Distribution>> space;
    for (const auto& m : study_json["space"].GetObject()) {
      space.emplace_back(m.name.GetString(), DistributionOf(m.value));
    }
    const Value& expected = study_json["trials"];
    int matched = 0;
    bool diverged = false;
    for (const Value& e : expected.GetArray()) {
      Trial trial = study.Ask();
      std::map<std::string, ParamValue> params;
      bool same = true;
      for (const auto& [pname, d] : space) {
        double internal = trial.Suggest(pname, d).value();
        params[pname] = d.ToExternal(internal);
        const double want = e["params"][pname.c_str()].GetDouble();
        DiffStats local;
        if (!Near(internal, want, &local)) {
          EXPECT_TRUE(diverged) << "trial " << trial.number() << " " << pname << ": ours "
                                << internal << " vs Optuna " << want;
          same = false;
        }
        if (!diverged) {
          stats.compared += local.compared;
          stats.max_abs = std::max(stats.max_abs, local.max_abs);
          stats.max_rel = std::max(stats.max_rel, local.max_rel);
        }
      }
      double v = Objective(formula, params);
      const Value& fail_above = study_json["fail_above"];
      const Value& prune_above = study_json["prune_above"];
      if (!fail_above.IsNull() && v > fail_above.GetDouble()) {
        ASSERT_TRUE(study.Tell(trial.number(), std::numeric_limits<double>::quiet_NaN()).ok());
      } else if (!prune_above.IsNull() && v > prune_above.GetDouble()) {
        ASSERT_TRUE(trial.Report(v, 0).ok());
        ASSERT_TRUE(study.Tell(trial.number(), std::nullopt, TrialState::kPruned).ok());
      } else {
        ASSERT_TRUE(study.Tell(trial.number(), maximize ? -v : v).ok());
      }
      const std::string state(TrialStateName(study.trial(trial.number()).state));
      if (state != e["state"].GetString()) same = false;
      if (same && !diverged) {
        ++matched;
      } else {
        diverged = true;
      }
    }
    std::printf("cma-es seeded %-40s %2d/%2zu trials equal\n", name.c_str(), matched,
                static_cast<size_t>(expected.Size()));
    EXPECT_EQ(matched, static_cast<int>(expected.Size()));
    n_trials_matched += matched;
    n_trials_total += static_cast<int>(expected.Size());
  }
  std::printf("cma-es seeded: %d/%d trials equal, %ld numbers, max abs %.3g, max rel %.3g\n",
              n_trials_matched, n_trials_total, stats.compared, stats.max_abs, stats.max_rel);
}

}  // namespace
}  // namespace plinth::tune
