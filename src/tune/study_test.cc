#include "tune/study.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tune/grid_sampler.h"
#include "tune/random_sampler.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

std::unique_ptr<Study> RandomStudy(StudyDirection direction = StudyDirection::kMinimize) {
  return std::make_unique<Study>(std::make_unique<RandomSampler>(1), direction);
}

TEST(StudyTest, AskTellLifecycle) {
  auto study = RandomStudy();
  Trial t = study->Ask();
  EXPECT_EQ(t.number(), 0);
  EXPECT_EQ(study->trial(0).state, TrialState::kRunning);
  Result<double> x = t.SuggestFloat("x", -1.0, 1.0);
  ASSERT_TRUE(x.ok());
  EXPECT_GE(*x, -1.0);
  EXPECT_LT(*x, 1.0);
  // Suggesting again returns the first value.
  EXPECT_EQ(*t.SuggestFloat("x", -1.0, 1.0), *x);
  ASSERT_TRUE(study->Tell(0, 0.5).ok());
  EXPECT_EQ(study->trial(0).state, TrialState::kComplete);
  EXPECT_EQ(*study->trial(0).value, 0.5);
  // A finished trial can neither be told again nor suggest.
  EXPECT_EQ(study->Tell(0, 1.0).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.SuggestFloat("y", 0.0, 1.0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(study->Tell(7, 1.0).code(), StatusCode::kNotFound);
}

TEST(StudyTest, TellStates) {
  auto study = RandomStudy();
  for (int i = 0; i < 5; ++i) {
    study->Ask();
  }
  EXPECT_TRUE(study->Tell(0, std::nan("")).ok());  // NaN: a failure, as in Optuna
  EXPECT_EQ(study->trial(0).state, TrialState::kFail);
  EXPECT_TRUE(study->Tell(1, std::nullopt).ok());
  EXPECT_EQ(study->trial(1).state, TrialState::kFail);
  Trial t2(study.get(), 2);
  ASSERT_TRUE(t2.Report(3.0, 0).ok());
  ASSERT_TRUE(t2.Report(2.0, 4).ok());
  ASSERT_TRUE(t2.Report(9.0, 4).ok());  // the same step again keeps the first value
  EXPECT_EQ(t2.Report(1.0, -1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(study->Tell(2, std::nullopt, TrialState::kPruned).ok());
  EXPECT_EQ(study->trial(2).state, TrialState::kPruned);
  EXPECT_EQ(*study->trial(2).value, 2.0);  // the last reported value
  EXPECT_EQ(study->Tell(3, std::nullopt, TrialState::kComplete).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(study->Tell(3, 1.0, TrialState::kFail).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(study->Tell(3, 1.0, TrialState::kRunning).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(study->Tell(3, 1.0, TrialState::kComplete).ok());
  EXPECT_TRUE(study->Tell(4, -1.0).ok());
  EXPECT_EQ(*study->BestTrial(), 4);
  EXPECT_EQ(study->CountInState(TrialState::kComplete), 2);
  EXPECT_EQ(study->CountInState(TrialState::kFail), 2);
  EXPECT_EQ(study->CountInState(TrialState::kPruned), 1);
  EXPECT_EQ(study->FinishOrder(), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(StudyTest, CompleteTrialsSortedStablyByValueAndDirection) {
  for (StudyDirection dir : {StudyDirection::kMinimize, StudyDirection::kMaximize}) {
    auto study = RandomStudy(dir);
    const double values[] = {3.0, 1.0, 3.0, 2.0, 1.0};
    for (size_t i = 0; i < std::size(values); ++i) {
      study->Ask();
    }
    // Told out of order: ties still end in trial-number order.
    for (int n : {4, 2, 0, 3, 1}) {
      ASSERT_TRUE(study->Tell(n, values[n]).ok());
    }
    std::vector<int> expected = dir == StudyDirection::kMinimize ? std::vector<int>{1, 4, 3, 0, 2}
                                                                 : std::vector<int>{0, 2, 3, 1, 4};
    EXPECT_EQ(study->CompleteTrialsByValue(), expected);
  }
}

TEST(StudyTest, ConditionalParametersAndColumns) {
  auto study = RandomStudy();
  for (int i = 0; i < 20; ++i) {
    Trial t = study->Ask();
    ParamValue model = *t.SuggestCategorical("model", {std::string("linear"), std::string("tree")});
    if (std::get<std::string>(model) == "tree") {
      ASSERT_TRUE(t.SuggestInt("depth", 1, 8).ok());
    } else {
      ASSERT_TRUE(t.SuggestFloat("alpha", 1e-3, 1.0, true).ok());
    }
    ASSERT_TRUE(study->Tell(t.number(), 1.0).ok());
  }
  int model = study->ParamId("model"), depth = study->ParamId("depth");
  ASSERT_GE(model, 0);
  ASSERT_GE(depth, 0);
  for (int n = 0; n < 20; ++n) {
    bool tree = std::get<std::string>(*study->ParamValueOf(n, "model")) == "tree";
    EXPECT_EQ(study->ParamColumn(model)[n], tree ? 1.0 : 0.0);
    EXPECT_EQ(std::isnan(study->ParamColumn(depth)[n]), !tree);
    EXPECT_EQ(study->ParamValueOf(n, "alpha").has_value(), !tree);
  }
}

TEST(StudyTest, IncompatibleRedefinitionIsRefused) {
  auto study = RandomStudy();
  Trial t = study->Ask();
  ASSERT_TRUE(t.SuggestFloat("x", 0.0, 1.0).ok());
  EXPECT_EQ(t.SuggestFloat("x", 0.0, 1.0, true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.SuggestInt("x", 0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.SuggestFloat("bad", 2.0, 1.0).status().code(), StatusCode::kInvalidArgument);
}

TEST(StudyTest, SingleValueDistributionsNeedNoSampler) {
  auto study = RandomStudy();
  Trial t = study->Ask();
  EXPECT_EQ(*t.SuggestFloat("x", 2.5, 2.5), 2.5);
  EXPECT_EQ(*t.SuggestInt("n", 4, 5, 3), 4);
  EXPECT_TRUE(ParamValueEqual(*t.SuggestCategorical("c", {int64_t{7}}), int64_t{7}));
}

TEST(StudyTest, EnqueuedTrialsComeFirstWithFixedValues) {
  auto study = RandomStudy();
  study->EnqueueTrial({{"x", 0.25}, {"act", std::string("tanh")}});
  Trial t = study->Ask();
  EXPECT_EQ(t.number(), 0);
  EXPECT_EQ(*t.SuggestFloat("x", 0.0, 1.0), 0.25);
  EXPECT_TRUE(
      ParamValueEqual(*t.SuggestCategorical("act", {std::string("relu"), std::string("tanh")}),
                      std::string("tanh")));
  EXPECT_EQ(study->Ask().number(), 1);
}

TEST(StudyTest, AddTrialValidates) {
  auto study = RandomStudy();
  Distribution d = *Distribution::Float(0.0, 1.0);
  TrialSpec ok_spec;
  ok_spec.value = 0.3;
  ok_spec.params = {{"x", {d, 0.5}}};
  EXPECT_EQ(*study->AddTrial(ok_spec), 0);
  TrialSpec out_of_range = ok_spec;
  out_of_range.params = {{"x", {d, 1.5}}};
  EXPECT_EQ(study->AddTrial(out_of_range).status().code(), StatusCode::kInvalidArgument);
  TrialSpec no_value = ok_spec;
  no_value.value.reset();
  EXPECT_EQ(study->AddTrial(no_value).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(study->trials().size(), 1u);
}

TEST(RandomSamplerTest, SeededRunsRepeatAndStayInRange) {
  auto run = [](uint32_t seed) {
    Study study(std::make_unique<RandomSampler>(seed));
    std::vector<double> values;
    for (int i = 0; i < 50; ++i) {
      Trial t = study.Ask();
      values.push_back(*t.SuggestFloat("x", 1e-3, 10.0, true));
      int64_t n = *t.SuggestInt("n", -10, 10, 5);
      EXPECT_EQ((n + 10) % 5, 0);
      EXPECT_GE(n, -10);
      EXPECT_LE(n, 10);
      values.push_back(static_cast<double>(n));
      double s = *t.SuggestFloat("s", 0.0, 1.0, false, 0.25);
      EXPECT_EQ(std::fmod(s, 0.25), 0.0);
      values.push_back(s);
      EXPECT_TRUE(study.Tell(t.number(), 0.0).ok());
    }
    return values;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(GridSamplerTest, VisitsEveryCombinationOnce) {
  GridSampler::Grid grid = {{"b", {std::string("x"), std::string("y")}},
                            {"a", {int64_t{1}, int64_t{2}, int64_t{3}}}};
  auto sampler = GridSampler::Create(grid, 11).value();
  GridSampler* g = sampler.get();
  Study study(std::move(sampler));
  std::set<std::pair<int64_t, std::string>> seen;
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(g->IsExhausted(study));
    Trial t = study.Ask();
    int64_t a = *t.SuggestInt("a", 1, 3);
    std::string b =
        std::get<std::string>(*t.SuggestCategorical("b", {std::string("x"), std::string("y")}));
    seen.insert({a, b});
    ASSERT_TRUE(study.Tell(t.number(), 0.0).ok());
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_TRUE(g->IsExhausted(study));
  Trial extra = study.Ask();  // past the grid: any combination again
  EXPECT_GE(g->GridIdOf(extra.number()), 0);
  EXPECT_EQ(extra.SuggestFloat("missing", 0.0, 1.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(GridSampler::Create({{"a", {}}}).ok());
}

TEST(TpeSamplerTest, OptionsAreValidated) {
  TpeOptions o;
  o.group = true;
  o.multivariate = false;
  EXPECT_EQ(TpeSampler::Create(o).status().code(), StatusCode::kInvalidArgument);
  o = TpeOptions();
  o.n_ei_candidates = 0;
  EXPECT_FALSE(TpeSampler::Create(o).ok());
  o = TpeOptions();
  o.prior_weight = -1;
  EXPECT_FALSE(TpeSampler::Create(o).ok());
}

TEST(TpeSamplerTest, GammaAndWeightsFollowOptuna) {
  EXPECT_EQ(DefaultGamma(0), 0);
  EXPECT_EQ(DefaultGamma(10), 1);
  EXPECT_EQ(DefaultGamma(30), 3);
  EXPECT_EQ(DefaultGamma(31), 4);
  EXPECT_EQ(DefaultGamma(1000), 25);
  EXPECT_EQ(HyperoptDefaultGamma(100), 3);
  std::vector<double> w;
  DefaultWeights(3, &w);
  EXPECT_EQ(w, (std::vector<double>{1, 1, 1}));
  DefaultWeights(26, &w);
  ASSERT_EQ(w.size(), 26u);
  EXPECT_EQ(w[0], 1.0 / 26);
  DefaultWeights(50, &w);
  EXPECT_EQ(w[0], 1.0 / 50);
  EXPECT_EQ(w[24], 1.0);
  EXPECT_LT(w[10], w[11]);
}

TEST(TpeSamplerTest, ImprovesOnRandomSearch) {
  // A smoke check that the model steers: TPE's best after 60 trials on a bowl beats the median
  // of random search's (both seeded, so the test is deterministic).
  auto best_of = [](std::unique_ptr<Sampler> sampler) {
    Study study(std::move(sampler));
    for (int i = 0; i < 60; ++i) {
      Trial t = study.Ask();
      double x = *t.SuggestFloat("x", -10.0, 10.0);
      double y = *t.SuggestFloat("y", -10.0, 10.0);
      EXPECT_TRUE(study.Tell(t.number(), (x - 3) * (x - 3) + (y + 1) * (y + 1)).ok());
    }
    return *study.trial(*study.BestTrial()).value;
  };
  TpeOptions o;
  o.seed = 42;
  double tpe = best_of(TpeSampler::Create(o).value());
  std::vector<double> random;
  for (uint32_t seed = 0; seed < 9; ++seed) {
    random.push_back(best_of(std::make_unique<RandomSampler>(seed)));
  }
  std::sort(random.begin(), random.end());
  EXPECT_LT(tpe, random[4]);
}

}  // namespace
}  // namespace plinth::tune
