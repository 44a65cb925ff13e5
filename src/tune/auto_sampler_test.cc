// Unit tests of AutoSampler's rules with its default samplers (GP from gp_sampler.h); OptunaHub's
// own choices are checked in auto_sampler_golden_test.cc.
#include "tune/auto_sampler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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

// Plinth's handoff: GP below gp_trials COMPLETE trials, TPE from there, CMA-ES from
// max_budget_for_gp; gp_trials >= max_budget_for_gp is OptunaHub's GP-until-CMA-ES.
TEST(AutoSampler, GpHandsOverToTpeAtGpTrials) {
  auto run = [](int gp_trials) {
    AutoSamplerOptions o;
    o.seed = 3;
    o.gp_trials = gp_trials;
    o.max_budget_for_gp = 16;
    auto owned = AutoSampler::Create(o).value();
    AutoSampler* sampler = owned.get();
    Study study(std::move(owned));
    std::vector<AutoSamplerChoice> choices;
    for (int i = 0; i < 18; ++i) {
      Trial t = study.Ask();
      double x = t.SuggestFloat("x", -2, 2).value();
      double y = t.SuggestFloat("y", -2, 2).value();
      EXPECT_TRUE(study.Tell(t.number(), x * x + y * y).ok());
      choices.push_back(*sampler->ChoiceOf(i));
    }
    return choices;
  };
  using C = AutoSamplerChoice;
  const std::vector<C> handoff = run(12);
  EXPECT_EQ(handoff[0], C::kRandom);
  for (int i = 1; i < 12; ++i) EXPECT_EQ(handoff[i], C::kGp) << i;
  for (int i = 12; i < 16; ++i) EXPECT_EQ(handoff[i], C::kTpe) << i;
  EXPECT_EQ(handoff[16], C::kCmaEs);
  EXPECT_EQ(handoff[17], C::kCmaEs);
  for (int gp_trials : {16, 250}) {  // OptunaHub's rule: no TPE stage
    const std::vector<C> hub = run(gp_trials);
    for (int i = 1; i < 16; ++i) EXPECT_EQ(hub[i], C::kGp) << i;
    EXPECT_EQ(hub[16], C::kCmaEs);
  }
  // The handoff changes nothing before it: the same points up to trial 11 as without one.
  auto xs = [](int gp_trials) {
    AutoSamplerOptions o;
    o.seed = 3;
    o.gp_trials = gp_trials;
    Study study(AutoSampler::Create(o).value());
    std::vector<double> out;
    for (int i = 0; i < 14; ++i) {
      Trial t = study.Ask();
      out.push_back(t.SuggestFloat("x", -2, 2).value());
      EXPECT_TRUE(study.Tell(t.number(), out.back() * out.back()).ok());
    }
    return out;
  };
  const std::vector<double> a = xs(12), b = xs(250);
  EXPECT_EQ(std::vector<double>(a.begin(), a.begin() + 12),
            std::vector<double>(b.begin(), b.begin() + 12));
  EXPECT_NE(a, b);
  AutoSamplerOptions bad;
  bad.gp_trials = -1;
  EXPECT_FALSE(AutoSampler::Create(bad).ok());
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
