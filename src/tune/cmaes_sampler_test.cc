// Unit tests of CMA-ES: options, the [0, 1] coding, the LAPACK-order eigensolver, and the
// sampler's behaviour in a study (joint sampling, categorical fallback, seeds, warm start).
// Optuna's own numbers are checked in cmaes_golden_test.cc.
#include "tune/cmaes_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "tune/symmetric_eigen.h"

namespace plinth::tune {
namespace {

TEST(CmaEsOptions, ValidateRejectsInvalidCombinations) {
  EXPECT_TRUE(CmaEsOptions().Validate().ok());
  CmaEsOptions popsize;
  popsize.popsize = 0;
  EXPECT_FALSE(popsize.Validate().ok());
  CmaEsOptions sigma;
  sigma.sigma0 = -1.0;
  EXPECT_FALSE(sigma.Validate().ok());
  CmaEsOptions warm;
  warm.source_trials.emplace();
  warm.sigma0 = 0.1;
  EXPECT_FALSE(CmaEsSampler::Create(warm).ok());
}

TEST(UnitTransform, RoundTripsEveryKindOfNumber) {
  Distribution f = Distribution::Float(-2.0, 6.0).value();
  EXPECT_DOUBLE_EQ(UnitTransform(f).Encode(2.0), 0.5);
  EXPECT_DOUBLE_EQ(UnitTransform(f).Decode(0.25), 0.0);
  EXPECT_LT(UnitTransform(f).Decode(1.0), 6.0);  // Optuna keeps floats below high
  Distribution lg = Distribution::Float(1e-3, 10.0, /*log=*/true).value();
  EXPECT_NEAR(UnitTransform(lg).Decode(UnitTransform(lg).Encode(0.1)), 0.1, 1e-12);
  Distribution i = Distribution::Int(0, 10, false, 2).value();
  UnitTransform ti(i);
  EXPECT_DOUBLE_EQ(ti.low, -1.0);
  EXPECT_DOUBLE_EQ(ti.high, 11.0);
  EXPECT_DOUBLE_EQ(ti.Decode(ti.Encode(6.0)), 6.0);
  EXPECT_DOUBLE_EQ(ti.Decode(0.0), 0.0);
  EXPECT_DOUBLE_EQ(ti.Decode(1.0), 10.0);
  Distribution il = Distribution::Int(1, 1000, true).value();
  EXPECT_DOUBLE_EQ(UnitTransform(il).Decode(UnitTransform(il).Encode(37.0)), 37.0);
}

TEST(SymmetricEigen, DecomposesLikeAnyEigensolverUpToSign) {
  const int n = 5;
  std::vector<double> a(n * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      a[i * n + j] = a[j * n + i] = std::sin(1.0 + i * 7 + j * 3) + (i == j ? 3.0 : 0.0);
    }
  }
  std::vector<double> w, v;
  ASSERT_TRUE(SymmetricEigenLapack(n, a, &w, &v));
  for (int k = 0; k < n; ++k) {
    if (k > 0) {
      EXPECT_LE(w[k - 1], w[k]);
    }
    for (int i = 0; i < n; ++i) {
      double av = 0;
      for (int j = 0; j < n; ++j) av += a[i * n + j] * v[j * n + k];
      EXPECT_NEAR(av, w[k] * v[i * n + k], 1e-12);
    }
    double norm = 0;
    for (int i = 0; i < n; ++i) norm += v[i * n + k] * v[i * n + k];
    EXPECT_NEAR(norm, 1.0, 1e-12);
  }
}

TEST(Cma, DefaultsFollowCmaes) {
  Cma cma = Cma::Create({0.5, 0.5, 0.5}, 1.0 / 6, {{0, 1}, {0, 1}, {0, 1}}, 30, 7, 0).value();
  EXPECT_EQ(cma.popsize(), 7);  // 4 + floor(3 ln 3)
  EXPECT_EQ(cma.generation(), 0);
  double positive = 0;
  for (double w : cma.weights()) positive += w > 0 ? w : 0;
  EXPECT_NEAR(positive, 1.0, 1e-12);
  std::vector<CmaSolution> solutions;
  for (int k = 0; k < cma.popsize(); ++k) {
    std::vector<double> x = cma.Ask();
    for (double v : x) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 1.0);
    }
    solutions.push_back({x, x[0]});
  }
  ASSERT_TRUE(cma.Tell(solutions).ok());
  EXPECT_EQ(cma.generation(), 1);
  solutions.pop_back();
  EXPECT_FALSE(cma.Tell(solutions).ok());
}

double Sphere(Trial& trial) {
  double x = trial.SuggestFloat("x", -3, 3).value();
  double y = trial.SuggestFloat("y", -3, 3).value();
  return (x - 1) * (x - 1) + (y + 0.5) * (y + 0.5);
}

TEST(CmaEsSampler, SeededRunsRepeatAndConverge) {
  auto run = [](uint32_t seed) {
    CmaEsOptions o;
    o.seed = seed;
    Study study(CmaEsSampler::Create(o).value());
    std::vector<double> values;
    for (int i = 0; i < 150; ++i) {
      Trial t = study.Ask();
      double v = Sphere(t);
      values.push_back(v);
      EXPECT_TRUE(study.Tell(t.number(), v).ok());
    }
    return std::make_pair(values, *study.trial(*study.BestTrial()).value);
  };
  auto [a, best_a] = run(3);
  auto [b, best_b] = run(3);
  EXPECT_EQ(a, b);
  EXPECT_LT(best_a, 1e-3);
}

TEST(CmaEsSampler, CategoricalParametersAreSampledIndependently) {
  CmaEsOptions o;
  o.seed = 1;
  o.warn_independent_sampling = false;
  auto owned = CmaEsSampler::Create(o).value();
  CmaEsSampler* sampler = owned.get();
  Study study(std::move(owned));
  for (int i = 0; i < 20; ++i) {
    Trial t = study.Ask();
    double x = t.SuggestFloat("x", 0, 1).value();
    ParamValue c = t.SuggestCategorical("c", {std::string("a"), std::string("b")}).value();
    ASSERT_TRUE(study.Tell(t.number(), x + (std::get<std::string>(c) == "a" ? 0 : 1)).ok());
  }
  // Trial 0 is the start-up trial; afterwards x is joint (it has a generation), c is not.
  EXPECT_EQ(sampler->GenerationOf(0), -1);
  EXPECT_EQ(sampler->GenerationOf(1), 0);
  EXPECT_EQ(study.trial(5).relative_params.size(), 1u);
}

TEST(CmaEsSampler, WarmStartUsesCompatibleSourceTrials) {
  CmaEsOptions o;
  o.seed = 2;
  std::vector<CmaSourceTrial> source;
  for (int i = 0; i < 20; ++i) {
    double x = -3 + 0.3 * i, y = 3 - 0.25 * i;
    source.push_back({TrialState::kComplete, (x - 1) * (x - 1) + y * y, {{"x", x}, {"y", y}}});
  }
  source.push_back({TrialState::kComplete, 0.0, {{"z", 1.0}}});  // another space: ignored
  o.source_trials = source;
  Study study(CmaEsSampler::Create(o).value());
  for (int i = 0; i < 10; ++i) {
    Trial t = study.Ask();
    ASSERT_TRUE(study.Tell(t.number(), Sphere(t)).ok());
  }
  EXPECT_EQ(study.trials().size(), 10u);
}

// A store that builds a new sampler per request restores each trial's generation and snapshot
// and must then continue the same run: the same generation, the same optimizer state.
TEST(CmaEsSampler, RestoredTrialStateContinuesTheRun) {
  CmaEsOptions o;
  o.seed = 4;
  auto owned = CmaEsSampler::Create(o).value();
  CmaEsSampler* original = owned.get();
  Study study(std::move(owned));
  for (int i = 0; i < 25; ++i) {
    Trial t = study.Ask();
    ASSERT_TRUE(study.Tell(t.number(), Sphere(t)).ok());
  }
  auto restored = CmaEsSampler::Create(o).value();
  int n_snapshots = 0;
  for (int i = 0; i < 25; ++i) {
    const Cma* snap = original->SnapshotOf(i);
    std::vector<double> state = snap ? snap->Serialize() : std::vector<double>{};
    n_snapshots += snap != nullptr;
    ASSERT_TRUE(restored->RestoreTrialState(i, original->GenerationOf(i), state).ok());
    EXPECT_EQ(restored->GenerationOf(i), original->GenerationOf(i));
    if (snap) {
      const Cma& back = *restored->SnapshotOf(i);
      EXPECT_EQ(back.Serialize(), state);
      EXPECT_EQ(back.weights(), snap->weights());
    }
  }
  EXPECT_GE(n_snapshots, 3);
  EXPECT_FALSE(restored->RestoreTrialState(0, 0, {1.0, 2.0}).ok());
  EXPECT_FALSE(Cma::Deserialize({2, 6, 0, 0.1, 0.5}).ok());
}

}  // namespace
}  // namespace plinth::tune
