// Multi-objective studies: telling several values, arity and NaN rules, add_trial with values,
// best_trials, and samplers that do not model several objectives.
#include "tune/multi_objective.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "tune/gp_sampler.h"
#include "tune/random_sampler.h"
#include "tune/study.h"
#include "tune/tpe.h"

namespace plinth::tune {
namespace {

std::unique_ptr<Study> TwoObjectives() {
  return std::make_unique<Study>(
      std::make_unique<RandomSampler>(1),
      std::vector<StudyDirection>{StudyDirection::kMinimize, StudyDirection::kMaximize});
}

TEST(MultiObjectiveStudyTest, TellValuesChecksArityAndNan) {
  auto study = TwoObjectives();
  EXPECT_TRUE(study->is_multi_objective());
  ASSERT_EQ(study->directions().size(), 2u);
  Trial a = study->Ask();
  ASSERT_TRUE(study->TellValues(a.number(), {1.0, 2.0}).ok());
  EXPECT_EQ(study->trial(a.number()).state, TrialState::kComplete);
  EXPECT_EQ(study->trial(a.number()).values, (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(*study->trial(a.number()).value, 1.0);

  // Without a state, a wrong arity or a NaN fails the trial, as Optuna does.
  Trial b = study->Ask();
  ASSERT_TRUE(study->TellValues(b.number(), {1.0}).ok());
  EXPECT_EQ(study->trial(b.number()).state, TrialState::kFail);
  Trial c = study->Ask();
  ASSERT_TRUE(study->TellValues(c.number(), {1.0, std::nan("")}).ok());
  EXPECT_EQ(study->trial(c.number()).state, TrialState::kFail);
  Trial d = study->Ask();
  ASSERT_TRUE(study->Tell(d.number(), 3.0).ok());  // one value for two objectives
  EXPECT_EQ(study->trial(d.number()).state, TrialState::kFail);

  // An explicit COMPLETE with bad values is refused and leaves the trial running.
  Trial e = study->Ask();
  EXPECT_EQ(study->TellValues(e.number(), {1.0, 2.0, 3.0}, TrialState::kComplete).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(study->trial(e.number()).state, TrialState::kRunning);
  EXPECT_EQ(study->TellValues(e.number(), {1.0}, TrialState::kPruned).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(study->TellValues(e.number(), {}, TrialState::kPruned).ok());
  EXPECT_EQ(study->trial(e.number()).state, TrialState::kPruned);
  EXPECT_EQ(study->TellValues(99, {1.0, 2.0}).code(), StatusCode::kNotFound);
}

TEST(MultiObjectiveStudyTest, AddTrialWithValuesAndParetoFront) {
  auto study = TwoObjectives();
  // (min, max): (1, 1) and (2, 3) trade off; (2, 0) is dominated by (1, 1); a duplicate of a
  // front point is on the front too.
  for (std::vector<double> v : {std::vector<double>{1, 1}, {2, 3}, {2, 0}, {1, 1}}) {
    TrialSpec spec;
    spec.values = v;
    ASSERT_TRUE(study->AddTrial(spec).ok());
  }
  EXPECT_EQ(study->BestTrials(), (std::vector<int>{0, 1, 3}));
  TrialSpec bad;
  bad.values = {1.0};
  EXPECT_FALSE(study->AddTrial(bad).ok());
  TrialSpec single;
  single.value = 1.0;  // one value in a two-objective study
  EXPECT_FALSE(study->AddTrial(single).ok());
  TrialSpec nan;
  nan.values = {1.0, std::nan("")};
  EXPECT_FALSE(study->AddTrial(nan).ok());
}

TEST(MultiObjectiveStudyTest, SingleObjectiveBestTrialsAreTheTiedBest) {
  Study study(std::make_unique<RandomSampler>(1), StudyDirection::kMaximize);
  for (double v : {1.0, 3.0, 2.0, 3.0}) {
    Trial t = study.Ask();
    ASSERT_TRUE(study.Tell(t.number(), v).ok());
    EXPECT_EQ(study.trial(t.number()).values, std::vector<double>{v});
  }
  EXPECT_EQ(study.BestTrials(), (std::vector<int>{1, 3}));
  EXPECT_FALSE(study.is_multi_objective());
}

TEST(MultiObjectiveStudyTest, TpeAndGpRunOnMultiObjectiveStudies) {
  GpSamplerOptions gp;
  gp.seed = 3;
  gp.n_startup_trials = 3;
  TpeOptions tpe;
  tpe.seed = 3;
  std::vector<std::unique_ptr<Sampler>> samplers;
  samplers.push_back(GpSampler::Create(gp).value());  // samples independently
  samplers.push_back(TpeSampler::Create(tpe).value());
  for (auto& sampler : samplers) {
    Study study(std::move(sampler), {StudyDirection::kMinimize, StudyDirection::kMinimize});
    for (int i = 0; i < 30; ++i) {
      Trial t = study.Ask();
      double x = t.SuggestFloat("x", 0, 1).value();
      double y = t.SuggestFloat("y", 0, 1).value();
      ASSERT_TRUE(study.TellValues(t.number(), {x + y, (1 - x) + y}).ok());
    }
    EXPECT_FALSE(study.BestTrials().empty());
  }
}

TEST(MultiObjectiveTest, HypervolumeOfSimpleSets) {
  std::vector<double> two = {1, 3, 2, 2, 3, 1};
  EXPECT_DOUBLE_EQ(Hypervolume(two, 2, std::vector<double>{4, 4}), 3 + 2 + 1);
  std::vector<double> cube = {0, 0, 0};
  EXPECT_DOUBLE_EQ(Hypervolume(cube, 3, std::vector<double>{2, 3, 4}), 24);
  std::vector<double> two3 = {0, 0, 1, 1, 1, 0};
  // Two boxes [0,2]x[0,2]x[1,2] and [1,2]x[1,2]x[0,2], overlapping in [1,2]x[1,2]x[1,2].
  EXPECT_DOUBLE_EQ(Hypervolume(two3, 3, std::vector<double>{2, 2, 2}), 4 + 2 - 1);
}

}  // namespace
}  // namespace plinth::tune
