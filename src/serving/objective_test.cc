#include "serving/objective.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace plinth::serving {
namespace {

TEST(ObjectiveTest, KnownObjectivesAndTheirLinks) {
  EXPECT_EQ(FindObjective("binary:logistic")->link, MarginLink::kLogit);
  EXPECT_EQ(FindObjective("binary:logistic")->transform, OutputTransform::kSigmoid);
  EXPECT_EQ(FindObjective("reg:logistic")->transform, OutputTransform::kSigmoid);
  EXPECT_EQ(FindObjective("binary:logitraw")->link, MarginLink::kIdentity);
  EXPECT_EQ(FindObjective("binary:logitraw")->transform, OutputTransform::kIdentity);
  for (const char* name : {"count:poisson", "reg:gamma", "reg:tweedie", "survival:cox"}) {
    EXPECT_EQ(FindObjective(name)->link, MarginLink::kLog) << name;
    EXPECT_EQ(FindObjective(name)->transform, OutputTransform::kExp) << name;
  }
  for (const char* name : {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror",
                           "reg:squaredlogerror", "reg:quantileerror", "rank:ndcg"}) {
    EXPECT_EQ(FindObjective(name)->transform, OutputTransform::kIdentity) << name;
  }
  EXPECT_EQ(FindObjective("multi:softprob")->transform, OutputTransform::kSoftmax);
  EXPECT_EQ(FindObjective("multi:softmax")->transform, OutputTransform::kArgmax);
  EXPECT_EQ(FindObjective("binary:hinge")->transform, OutputTransform::kHinge);
  EXPECT_FALSE(FindObjective("survival:aft").has_value());
  EXPECT_FALSE(FindObjective("my:custom").has_value());
}

TEST(ObjectiveTest, ProbToMargin) {
  EXPECT_EQ(ProbToMargin(MarginLink::kIdentity, -3.5f), -3.5f);
  EXPECT_EQ(ProbToMargin(MarginLink::kLogit, 0.5f), 0.0f);
  EXPECT_FLOAT_EQ(ProbToMargin(MarginLink::kLogit, 0.75f), std::log(3.0f));
  // The intercept is clamped to [1e-6, 1 - 1e-6] before the logit, as in XGBoost.
  EXPECT_EQ(ProbToMargin(MarginLink::kLogit, 0.0f), ProbToMargin(MarginLink::kLogit, 1e-6f));
  EXPECT_TRUE(std::isfinite(ProbToMargin(MarginLink::kLogit, 1.0f)));
  EXPECT_EQ(ProbToMargin(MarginLink::kLog, 1.0f), 0.0f);
  EXPECT_FLOAT_EQ(ProbToMargin(MarginLink::kLog, 2.0f), std::log(2.0f));
}

TEST(ObjectiveTest, SigmoidMatchesXgboostFloatArithmetic) {
  std::vector<float> v = {0.0f, 2.0f, -2.0f, -100.0f, 100.0f};
  TransformRow(OutputTransform::kSigmoid, v.data(), v.size());
  EXPECT_EQ(v[0], 0.5f);
  EXPECT_EQ(v[1], 1.0f / (std::exp(-2.0f) + 1.0f));
  EXPECT_EQ(v[2], 1.0f / (std::exp(2.0f) + 1.0f));
  EXPECT_GT(v[3], 0.0f);  // the 88.7 clamp keeps expf finite
  EXPECT_EQ(v[4], 1.0f);
}

TEST(ObjectiveTest, SoftmaxArgmaxHingeExp) {
  std::vector<float> row = {1.0f, 2.0f, 3.0f};
  TransformRow(OutputTransform::kSoftmax, row.data(), row.size());
  EXPECT_NEAR(row[0] + row[1] + row[2], 1.0f, 1e-6);
  EXPECT_LT(row[0], row[1]);
  EXPECT_FLOAT_EQ(row[2] / row[1], std::exp(1.0f));

  std::vector<float> tie = {0.5f, 2.0f, 2.0f, -1.0f};
  TransformRow(OutputTransform::kArgmax, tie.data(), tie.size());
  EXPECT_EQ(tie[0], 1.0f);  // the first of equal maxima, like XGBoost's FindMaxIndex
  EXPECT_EQ(TransformedWidth(OutputTransform::kArgmax, 4), 1u);
  EXPECT_EQ(TransformedWidth(OutputTransform::kSoftmax, 4), 4u);

  std::vector<float> hinge = {-0.1f, 0.0f, 0.2f};
  TransformRow(OutputTransform::kHinge, hinge.data(), hinge.size());
  EXPECT_EQ(hinge, (std::vector<float>{0.0f, 0.0f, 1.0f}));

  std::vector<float> e = {0.0f, 1.0f};
  TransformRow(OutputTransform::kExp, e.data(), e.size());
  EXPECT_EQ(e[0], 1.0f);
  EXPECT_EQ(e[1], std::exp(1.0f));
}

}  // namespace
}  // namespace plinth::serving
