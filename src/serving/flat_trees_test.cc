#include "serving/flat_trees.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "serving/test_models.h"

namespace plinth::serving {
namespace {

using testing::ModelJsonText;
using testing::Stump;
using testing::TestModel;
using testing::TestTree;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

XgbModel Parse(const TestModel& m) {
  auto model = ParseXgboostModel(ModelJsonText(m), XgbFileFormat::kJson);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return *model;
}

std::unique_ptr<FlatTreesRuntime> Compile(const TestModel& m) {
  XgbModel model = Parse(m);
  auto runtime = FlatTreesRuntime::Compile(model, model.trees.size());
  EXPECT_TRUE(runtime.ok()) << runtime.status().ToString();
  return std::move(*runtime);
}

std::vector<double> Predict(const ModelRuntime& runtime, const std::vector<float>& rows,
                            PredictParams params = {}) {
  Predictions out;
  Status s = runtime.Predict(
      {rows.data(), rows.size() / runtime.num_features(), runtime.num_features()}, params, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.values;
}

TEST(FlatTreesTest, SplitsAndMissingValuesFollowXgboost) {
  TestModel m;
  m.base_score = "[0E0]";
  m.trees = {Stump(0, 0.5f, 1.0f, 2.0f, /*default_left=*/true),
             Stump(1, 0.1f, 10.0f, 20.0f, /*default_left=*/false)};
  auto runtime = Compile(m);
  const float below = std::nextafter(0.1f, 0.0f);
  // Each row: {f0, f1}. f0 < 0.5 → 1 else 2 (NaN → 1); f1 < 0.1f → 10 else 20 (NaN → 20).
  EXPECT_EQ(Predict(*runtime, {0.0f, 0.0f, 0.5f, 0.1f, kNaN, kNaN, 0.49f, below, kInf, -kInf}),
            (std::vector<double>{11.0, 22.0, 21.0, 11.0, 12.0}));
}

TEST(FlatTreesTest, LeavesAddUpInFloatInTreeOrder) {
  // 2^24 + 1 + 1 is 2^24 in float (each +1 rounds away), 2^24 + 2 in double.
  TestModel m;
  m.base_score = "[1.6777216E7]";
  m.trees = {Stump(0, 0, 1.0f, 1.0f, true), Stump(0, 0, 1.0f, 1.0f, true)};
  auto runtime = Compile(m);
  EXPECT_EQ(Predict(*runtime, {0.0f, 0.0f}), std::vector<double>{16777216.0});
}

TEST(FlatTreesTest, DeepTreeInAnyNodeOrder) {
  // Node numbers deliberately not breadth-first: 0 → (3, 1); 3 → (2, 4); leaves 1, 2, 4.
  TestTree t;
  t.left = {3, -1, -1, 2, -1};
  t.right = {1, -1, -1, 4, -1};
  t.feature = {0, 0, 0, 1, 0};
  t.cond = {0.0f, 100.0f, 200.0f, 5.0f, 300.0f};
  t.default_left = {0, 0, 0, 1, 0};
  TestModel m;
  m.base_score = "[0E0]";
  m.trees = {t};
  auto runtime = Compile(m);
  EXPECT_EQ(runtime->num_nodes(), 5u);
  EXPECT_EQ(Predict(*runtime, {-1.0f, 4.0f, -1.0f, 6.0f, 1.0f, 0.0f, -1.0f, kNaN}),
            (std::vector<double>{200.0, 300.0, 100.0, 200.0}));
}

TEST(FlatTreesTest, BatchesEqualSingleRows) {
  TestModel m;
  m.objective = "binary:logistic";
  m.base_score = "[3E-1]";
  for (int i = 0; i < 20; ++i) {
    m.trees.push_back(Stump(i % 2, 0.05f * static_cast<float>(i - 10),
                            0.01f * static_cast<float>(i), -0.02f * static_cast<float>(i),
                            i % 3 == 0));
  }
  auto runtime = Compile(m);
  std::vector<float> rows;
  for (int r = 0; r < 37; ++r) {  // not a multiple of the block size
    rows.push_back(r % 5 == 0 ? kNaN : 0.03f * static_cast<float>(r - 18));
    rows.push_back(r % 7 == 0 ? kNaN : -0.02f * static_cast<float>(r - 10));
  }
  const std::vector<double> batch = Predict(*runtime, rows);
  ASSERT_EQ(batch.size(), 37u);
  for (size_t r = 0; r < 37; ++r) {
    EXPECT_EQ(Predict(*runtime, {rows[2 * r], rows[2 * r + 1]})[0], batch[r]) << r;
    EXPECT_GT(batch[r], 0.0);
    EXPECT_LT(batch[r], 1.0);
  }
}

TEST(FlatTreesTest, GroupsSoftmaxAndMargins) {
  TestModel m;
  m.objective = "multi:softprob";
  m.num_class = 3;
  m.base_score = "[0E0,1E0,0E0]";
  m.trees = {Stump(0, 0, 1, 0, true), Stump(0, 0, 0, 0, true), Stump(0, 0, 0, 2, true)};
  m.tree_info = {0, 1, 2};
  auto runtime = Compile(m);
  EXPECT_EQ(Predict(*runtime, {-1.0f, 0.0f}, {.output_margin = true}),
            (std::vector<double>{1.0, 1.0, 0.0}));
  const std::vector<double> p = Predict(*runtime, {1.0f, 0.0f});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
  EXPECT_LT(p[0], p[1]);
  EXPECT_LT(p[1], p[2]);

  m.objective = "multi:softmax";
  auto argmax = Compile(m);
  Predictions out;
  const std::vector<float> row = {1.0f, 0.0f};
  ASSERT_TRUE(argmax->Predict({row.data(), 1, 2}, {}, &out).ok());
  EXPECT_EQ(out.width, 1u);
  EXPECT_EQ(out.values, std::vector<double>{2.0});
}

TEST(FlatTreesTest, ObjectiveTransforms) {
  TestModel m;
  m.trees = {Stump(0, 0, 0.5f, -0.5f, true)};
  m.objective = "count:poisson";
  m.base_score = "[1E0]";  // margin log(1) = 0
  EXPECT_EQ(Predict(*Compile(m), {-1.0f, 0.0f})[0], static_cast<double>(std::exp(0.5f)));
  m.objective = "binary:logitraw";
  m.base_score = "[2.5E-1]";  // identity link: margin 0.25
  EXPECT_EQ(Predict(*Compile(m), {1.0f, 0.0f})[0], -0.25);
  m.objective = "binary:hinge";
  m.base_score = "[0E0]";
  EXPECT_EQ(Predict(*Compile(m), {-1.0f, 0.0f, 1.0f, 0.0f}), (std::vector<double>{1.0, 0.0}));
}

TEST(FlatTreesTest, WrongWidthIsInvalidArgument) {
  TestModel m;
  m.trees = {Stump(0, 0, 1, 2, true)};
  auto runtime = Compile(m);
  std::vector<float> row = {1, 2, 3};
  Predictions out;
  Status s = runtime->Predict({row.data(), 1, 3}, {}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expected 2 features, got 3"), std::string::npos);
}

TEST(FlatTreesTest, AppliesOnlyWhereExact) {
  TestModel m;
  m.trees = {Stump(0, 0, 1, 2, true)};
  XgbModel model = Parse(m);
  EXPECT_TRUE(CheckFlatTreesApply(model).ok());

  XgbModel categorical = model;
  categorical.trees[0].split_type = {1, 0, 0};
  EXPECT_NE(CheckFlatTreesApply(categorical).message().find("categorical"), std::string::npos);

  XgbModel linear = model;
  linear.booster = "gblinear";
  EXPECT_NE(CheckFlatTreesApply(linear).message().find("gblinear"), std::string::npos);

  XgbModel aft = model;
  aft.objective = "survival:aft";
  EXPECT_NE(CheckFlatTreesApply(aft).message().find("survival:aft"), std::string::npos);

  XgbModel vector_leaves = model;
  vector_leaves.trees[0].size_leaf_vector = 3;
  EXPECT_NE(CheckFlatTreesApply(vector_leaves).message().find("vector leaves"), std::string::npos);
  EXPECT_FALSE(FlatTreesRuntime::Compile(aft, 1).ok());
}

}  // namespace
}  // namespace plinth::serving
