#include "tune/distribution.h"

#include <gtest/gtest.h>

#include <cmath>

namespace plinth::tune {
namespace {

TEST(DistributionTest, FloatStepSnapsHighInDecimal) {
  // 1.0 - 0.0 is a multiple of 0.1 in decimal though not in binary: high stays.
  Result<Distribution> d = Distribution::Float(0.0, 1.0, false, 0.1);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->high(), 1.0);
  // (1.0 - 0.1) // 0.25 = 3 steps: high = 0.85.
  d = Distribution::Float(0.1, 1.0, false, 0.25);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->high(), 0.85);
}

TEST(DistributionTest, IntStepSnapsHigh) {
  Result<Distribution> d = Distribution::Int(0, 10, false, 3);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->high(), 9.0);
  EXPECT_TRUE(d->Contains(6.0));
  EXPECT_FALSE(d->Contains(7.0));
}

TEST(DistributionTest, RejectsOptunasInvalidRanges) {
  EXPECT_FALSE(Distribution::Float(1.0, 0.0).ok());
  EXPECT_FALSE(Distribution::Float(0.0, 1.0, true).ok());
  EXPECT_FALSE(Distribution::Float(0.1, 1.0, true, 0.1).ok());
  EXPECT_FALSE(Distribution::Float(0.0, 1.0, false, 0.0).ok());
  EXPECT_FALSE(Distribution::Int(0, 10, true).ok());
  EXPECT_FALSE(Distribution::Int(1, 10, true, 2).ok());
  EXPECT_FALSE(Distribution::Int(0, 10, false, 0).ok());
  EXPECT_FALSE(Distribution::Categorical({}).ok());
}

TEST(DistributionTest, Single) {
  EXPECT_TRUE(Distribution::Float(1.0, 1.0)->Single());
  EXPECT_TRUE(Distribution::Float(0.0, 0.05, false, 0.1)->Single());
  EXPECT_FALSE(Distribution::Float(0.0, 0.1, false, 0.1)->Single());
  EXPECT_TRUE(Distribution::Int(0, 2, false, 3)->Single());
  EXPECT_TRUE(Distribution::Categorical({std::string("a")})->Single());
}

TEST(DistributionTest, CategoricalIndexFollowsPythonEquality) {
  Distribution d = *Distribution::Categorical(
      {ParamValue{}, true, int64_t{2}, 0.5, std::string("relu"), std::nan("")});
  EXPECT_EQ(*d.ToInternal(ParamValue{}), 0.0);
  EXPECT_EQ(*d.ToInternal(int64_t{1}), 1.0);  // 1 == True
  EXPECT_EQ(*d.ToInternal(2.0), 2.0);         // 2.0 == 2
  EXPECT_EQ(*d.ToInternal(std::string("relu")), 4.0);
  EXPECT_EQ(*d.ToInternal(std::nan("")), 5.0);  // NaN matches NaN
  EXPECT_FALSE(d.ToInternal(std::string("2")).ok());
  EXPECT_TRUE(ParamValueEqual(d.ToExternal(4.0), ParamValue(std::string("relu"))));
}

TEST(DistributionTest, InternalRepresentation) {
  Distribution f = *Distribution::Float(1e-5, 1.0, true);
  EXPECT_FALSE(f.ToInternal(0.0).ok());
  EXPECT_FALSE(f.ToInternal(std::nan("")).ok());
  EXPECT_EQ(*f.ToInternal(int64_t{1}), 1.0);
  Distribution i = *Distribution::Int(0, 10);
  EXPECT_TRUE(ParamValueEqual(i.ToExternal(3.0), ParamValue(int64_t{3})));
}

TEST(DistributionTest, ToStringMatchesOptunasRepr) {
  EXPECT_EQ(Distribution::Float(0.0, 1.0)->ToString(),
            "FloatDistribution(high=1.0, log=False, low=0.0, step=None)");
  EXPECT_EQ(Distribution::Int(1, 64, true)->ToString(),
            "IntDistribution(high=64, log=True, low=1, step=1)");
  EXPECT_EQ(Distribution::Categorical({std::string("a"), int64_t{1}})->ToString(),
            "CategoricalDistribution(choices=('a', 1))");
}

}  // namespace
}  // namespace plinth::tune
