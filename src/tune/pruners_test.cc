// Unit tests of the pruners: option validation, the percentile arithmetic, CRC-32, the
// default pruner of a Study, and small hand-checked decisions. Optuna's own decisions on long
// histories are checked in pruners_golden_test.cc.
#include "tune/pruners.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "tune/random_sampler.h"

namespace plinth::tune {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(PrunerOptions, ValidateRejectsOptunasInvalidRanges) {
  PercentilePrunerOptions p;
  EXPECT_TRUE(p.Validate().ok());
  p.percentile = 100.5;
  EXPECT_FALSE(p.Validate().ok());
  p = {};
  p.interval_steps = 0;
  EXPECT_FALSE(p.Validate().ok());
  p = {};
  p.n_min_trials = 0;
  EXPECT_FALSE(PercentilePruner::Create(p).ok());

  SuccessiveHalvingOptions s;
  EXPECT_TRUE(s.Validate().ok());
  s.bootstrap_count = 1;  // needs an explicit min_resource
  EXPECT_FALSE(s.Validate().ok());
  s.min_resource = 3;
  EXPECT_TRUE(s.Validate().ok());
  s.reduction_factor = 1;
  EXPECT_FALSE(s.Validate().ok());

  HyperbandOptions h;
  EXPECT_TRUE(h.Validate().ok());
  h.bootstrap_count = 2;
  EXPECT_FALSE(h.Validate().ok());
  h.max_resource = 81;
  EXPECT_TRUE(h.Validate().ok());
  h.min_resource = 100;
  EXPECT_FALSE(h.Validate().ok());
}

TEST(NanPercentile, MatchesNumpyLinearInterpolation) {
  std::vector<double> v = {3.0, kNaN, 1.0, 2.0, 10.0};
  // numpy.nanpercentile([3, nan, 1, 2, 10], 50) == 2.5; 25 -> 1.75; 100 -> 10; 0 -> 1.
  auto copy = v;
  EXPECT_DOUBLE_EQ(NanPercentile(&copy, 50.0), 2.5);
  copy = v;
  EXPECT_DOUBLE_EQ(NanPercentile(&copy, 25.0), 1.75);
  copy = v;
  EXPECT_DOUBLE_EQ(NanPercentile(&copy, 100.0), 10.0);
  copy = v;
  EXPECT_DOUBLE_EQ(NanPercentile(&copy, 0.0), 1.0);
  std::vector<double> all_nan = {kNaN, kNaN};
  EXPECT_TRUE(std::isnan(NanPercentile(&all_nan, 50.0)));
}

TEST(Crc32, MatchesZlib) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

// Completes `n` trials reporting `value + step` at steps 0..n_steps-1.
void AddCompleteTrials(Study& study, int n, int n_steps, double value) {
  for (int i = 0; i < n; ++i) {
    Trial t = study.Ask();
    for (int s = 0; s < n_steps; ++s) {
      ASSERT_TRUE(t.Report(value + s, s).ok());
    }
    ASSERT_TRUE(study.Tell(t.number(), value + n_steps - 1).ok());
  }
}

TEST(MedianPruner, IsTheStudyDefaultAndWaitsForStartupTrials) {
  Study study(std::make_unique<RandomSampler>(1));
  AddCompleteTrials(study, 4, 3, 0.0);
  Trial bad = study.Ask();
  ASSERT_TRUE(bad.Report(100.0, 0).ok());
  EXPECT_FALSE(bad.ShouldPrune());  // 4 < n_startup_trials = 5
  ASSERT_TRUE(study.Tell(bad.number(), 100.0).ok());
  Trial worse = study.Ask();
  ASSERT_TRUE(worse.Report(50.0, 0).ok());
  // Median of {0, 0, 0, 0, 100} at step 0 is 0: 50 is worse.
  EXPECT_TRUE(worse.ShouldPrune());
  Trial good = study.Ask();
  ASSERT_TRUE(good.Report(-1.0, 0).ok());
  EXPECT_FALSE(good.ShouldPrune());
}

TEST(MedianPruner, AllNaNPrunesAndNoReportNeverDoes) {
  Study study(std::make_unique<RandomSampler>(1));
  AddCompleteTrials(study, 5, 2, 0.0);
  Trial t = study.Ask();
  EXPECT_FALSE(t.ShouldPrune());
  ASSERT_TRUE(t.Report(kNaN, 0).ok());
  EXPECT_TRUE(t.ShouldPrune());
  EXPECT_FALSE(study.ShouldPrune(99).ok());
}

TEST(SuccessiveHalving, RecordsRungsAndKeepsTheBest) {
  Study study(std::make_unique<RandomSampler>(1));
  SuccessiveHalvingOptions o;
  o.min_resource = 1;
  o.reduction_factor = 2;
  study.SetPruner(SuccessiveHalvingPruner::Create(o).value());
  Trial a = study.Ask();
  ASSERT_TRUE(a.Report(1.0, 0).ok());
  EXPECT_FALSE(a.ShouldPrune());  // step 0 < rung 0 at step 1
  ASSERT_TRUE(a.Report(1.0, 1).ok());
  EXPECT_FALSE(a.ShouldPrune());  // alone at rung 0: the best
  EXPECT_EQ(study.trial(a.number()).completed_rungs, std::vector<double>({1.0}));
  Trial b = study.Ask();
  ASSERT_TRUE(b.Report(2.0, 1).ok());
  EXPECT_TRUE(b.ShouldPrune());  // {1, 2}: top 1/2 is 1
  EXPECT_EQ(study.trial(b.number()).completed_rungs, std::vector<double>({2.0}));
}

TEST(Hyperband, BracketsAppearWithTheFirstCompleteTrial) {
  Study study(std::make_unique<RandomSampler>(1));
  study.set_name("s");
  auto owned = HyperbandPruner::Create().value();
  HyperbandPruner* hb = owned.get();
  study.SetPruner(std::move(owned));
  Trial t = study.Ask();
  ASSERT_TRUE(t.Report(1.0, 0).ok());
  EXPECT_FALSE(t.ShouldPrune());
  EXPECT_EQ(hb->n_brackets(), 0);
  EXPECT_EQ(hb->BracketId(study, 0), 0);
  ASSERT_TRUE(t.Report(1.0, 80).ok());
  ASSERT_TRUE(study.Tell(t.number(), 1.0).ok());
  Trial u = study.Ask();
  ASSERT_TRUE(u.Report(1.0, 0).ok());
  (void)u.ShouldPrune();
  // max_resource = 81, η = 3: floor(log_3 81) + 1 = 5 brackets.
  EXPECT_EQ(hb->n_brackets(), 5);
}

}  // namespace
}  // namespace plinth::tune
