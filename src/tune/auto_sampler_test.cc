// Unit tests of AutoSampler's rules with its default samplers (GP from gp_sampler.h); OptunaHub's
// own choices are checked in auto_sampler_golden_test.cc.
#include "tune/auto_sampler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace plinth::tune {
namespace {

TEST(AutoSampler, OptionsValidate) {
  AutoSamplerOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.max_budget_for_gp = 0;
  EXPECT_FALSE(AutoSampler::Create(o).ok());
}

// Plinth's rule: a numeric space wider than max_dimension_for_gp gets TPE in the GP's slot,
// then CMA-ES as usual; one at the limit keeps GP.
TEST(AutoSampler, WideNumericSpacesGetTpeInTheGpSlot) {
  for (int dims : {8, 9, 10}) {
    SCOPED_TRACE(dims);
    AutoSamplerOptions o;
    o.seed = 2;
    o.max_budget_for_gp = 14;
    auto owned = AutoSampler::Create(o).value();
    AutoSampler* sampler = owned.get();
    Study study(std::move(owned));
    for (int i = 0; i < 16; ++i) {
      Trial t = study.Ask();
      double s = 0;
      for (int k = 0; k < dims; ++k) {
        double x = t.SuggestFloat("x" + std::to_string(k), -5, 5).value();
        s += x * x;
      }
      ASSERT_TRUE(study.Tell(t.number(), s).ok());
    }
    const AutoSamplerChoice slot = dims > 8 ? AutoSamplerChoice::kTpe : AutoSamplerChoice::kGp;
    EXPECT_EQ(*sampler->ChoiceOf(0), AutoSamplerChoice::kRandom);
    EXPECT_EQ(*sampler->ChoiceOf(1), slot);
    EXPECT_EQ(*sampler->ChoiceOf(13), slot);
    EXPECT_EQ(*sampler->ChoiceOf(14), AutoSamplerChoice::kCmaEs);
  }
  AutoSamplerOptions bad;
  bad.max_dimension_for_gp = -1;
  EXPECT_FALSE(AutoSampler::Create(bad).ok());
}

TEST(AutoSampler, RandomFirstThenGpSlotThenCmaEsOnNumericSpaces) {
  AutoSamplerOptions o;
  o.seed = 5;
  o.max_budget_for_gp = 12;
  auto owned = AutoSampler::Create(o).value();
  AutoSampler* sampler = owned.get();
  Study study(std::move(owned));
  for (int i = 0; i < 20; ++i) {
    Trial t = study.Ask();
    double x = t.SuggestFloat("x", -2, 2).value();
    int64_t n = t.SuggestInt("n", 1, 9).value();
    ASSERT_TRUE(study.Tell(t.number(), x * x + static_cast<double>(n)).ok());
  }
  EXPECT_EQ(*sampler->ChoiceOf(0), AutoSamplerChoice::kRandom);
  EXPECT_EQ(*sampler->ChoiceOf(1), AutoSamplerChoice::kGp);
  EXPECT_EQ(*sampler->ChoiceOf(11), AutoSamplerChoice::kGp);
  EXPECT_EQ(*sampler->ChoiceOf(12), AutoSamplerChoice::kCmaEs);
  EXPECT_EQ(sampler->choice(), AutoSamplerChoice::kCmaEs);
  EXPECT_FALSE(sampler->ChoiceOf(99).has_value());
}

TEST(AutoSampler, CategoricalOrConditionalSpacesGoToTpeForGood) {
  AutoSamplerOptions o;
  o.seed = 6;
  auto owned = AutoSampler::Create(o).value();
  AutoSampler* sampler = owned.get();
  Study study(std::move(owned));
  for (int i = 0; i < 6; ++i) {
    Trial t = study.Ask();
    double x = t.SuggestFloat("x", -2, 2).value();
    if (i == 2) {
      (void)t.SuggestFloat("extra", 0, 1).value();  // a conditional parameter
    }
    ASSERT_TRUE(study.Tell(t.number(), x * x).ok());
  }
  EXPECT_EQ(*sampler->ChoiceOf(2), AutoSamplerChoice::kGp);
  EXPECT_EQ(*sampler->ChoiceOf(3), AutoSamplerChoice::kTpe);
  EXPECT_EQ(*sampler->ChoiceOf(5), AutoSamplerChoice::kTpe);
  EXPECT_EQ(AutoSamplerChoiceName(AutoSamplerChoice::kTpe), "TPESampler");
}

TEST(AutoSampler, SeededRunsRepeat) {
  auto run = [] {
    AutoSamplerOptions o;
    o.seed = 9;
    Study study(AutoSampler::Create(o).value());
    std::vector<double> xs;
    for (int i = 0; i < 30; ++i) {
      Trial t = study.Ask();
      double x = t.SuggestFloat("x", -2, 2).value();
      xs.push_back(x);
      EXPECT_TRUE(study.Tell(t.number(), x * x).ok());
    }
    return xs;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace plinth::tune
