#include "serving/xgboost_model.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "serving/test_models.h"

namespace plinth::serving {
namespace {

using testing::ModelJson;
using testing::ModelJsonText;
using testing::Stump;
using testing::TestModel;

TEST(BaseScoreTest, ScalarAndVectorForms) {
  // XGBoost < 3.1 writes a scalar, 3.1+ a bracketed vector (one value per output).
  auto old_form = ParseBaseScore("5E-1");
  ASSERT_TRUE(old_form.ok());
  EXPECT_EQ(*old_form, std::vector<float>{0.5f});
  auto new_form = ParseBaseScore("[-1.264809E-1]");
  ASSERT_TRUE(new_form.ok());
  EXPECT_EQ(*new_form, std::vector<float>{-1.264809E-1f});
  auto classes = ParseBaseScore("[6.503332E-2,7.626939E-2,-1.4130247E-1]");
  ASSERT_TRUE(classes.ok());
  EXPECT_EQ(*classes, (std::vector<float>{6.503332E-2f, 7.626939E-2f, -1.4130247E-1f}));
  auto plain = ParseBaseScore("0.25");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, std::vector<float>{0.25f});
}

TEST(BaseScoreTest, RejectsMalformed) {
  for (const char* bad : {"", "[]", "[1,]", "[1", "abc", "1.0x", "[nan]", "inf"}) {
    EXPECT_FALSE(ParseBaseScore(bad).ok()) << bad;
  }
}

TEST(XgboostModelTest, ParsesLearnerAndTrees) {
  TestModel m;
  m.objective = "binary:logistic";
  m.base_score = "[2.5E-1]";
  m.feature_names = {"age", "income"};
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true), Stump(1, 2.0f, 0.25f, 0.5f, false)};
  auto model = ParseXgboostModel(ModelJsonText(m), XgbFileFormat::kJson);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->version, (std::vector<int32_t>{3, 2, 0}));
  EXPECT_EQ(model->booster, "gbtree");
  EXPECT_EQ(model->objective, "binary:logistic");
  EXPECT_EQ(model->num_feature, 2);
  EXPECT_EQ(model->num_groups(), 1u);
  EXPECT_EQ(model->base_score, std::vector<float>{0.25f});
  EXPECT_EQ(model->feature_names, (std::vector<std::string>{"age", "income"}));
  ASSERT_EQ(model->trees.size(), 2u);
  const XgbTree& t = model->trees[1];
  EXPECT_EQ(t.left_children, (std::vector<int32_t>{1, -1, -1}));
  EXPECT_EQ(t.split_indices[0], 1u);
  EXPECT_EQ(t.split_conditions, (std::vector<float>{2.0f, 0.25f, 0.5f}));
  EXPECT_EQ(model->trees[0].default_left[0], 1);
  EXPECT_FALSE(t.has_categorical_split());
  EXPECT_EQ(model->tree_info, (std::vector<int32_t>{0, 0}));
  EXPECT_FALSE(model->best_iteration.has_value());
}

TEST(XgboostModelTest, UbjsonReadsLikeJson) {
  TestModel m;
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true)};
  const std::vector<uint8_t> ubj = nlohmann::json::to_ubjson(ModelJson(m), true, true);
  auto model =
      ParseXgboostModel(std::string_view(reinterpret_cast<const char*>(ubj.data()), ubj.size()),
                        XgbFileFormat::kUbjson);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->trees[0].split_conditions, (std::vector<float>{0.5f, 1.0f, -1.0f}));
}

TEST(XgboostModelTest, ScalarInterceptRepeatsPerClass) {
  TestModel m;
  m.objective = "multi:softprob";
  m.num_class = 3;
  m.base_score = "5E-1";  // pre-3.1 file
  m.trees = {Stump(0, 0, 1, 2, true), Stump(0, 0, 1, 2, true), Stump(0, 0, 1, 2, true)};
  m.tree_info = {0, 1, 2};
  auto model = ParseXgboostModel(ModelJsonText(m), XgbFileFormat::kJson);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->num_groups(), 3u);
  EXPECT_EQ(model->base_score, (std::vector<float>{0.5f, 0.5f, 0.5f}));

  m.base_score = "[1E-1,2E-1]";  // neither 1 nor num_class values
  auto bad = ParseXgboostModel(ModelJsonText(m), XgbFileFormat::kJson);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("base_score has 2 values for 3 outputs"),
            std::string::npos);
}

TEST(XgboostModelTest, TreeEndFollowsIterationIndptr) {
  TestModel m;
  m.objective = "multi:softprob";
  m.num_class = 2;
  m.base_score = "[0,0]";
  for (int i = 0; i < 6; ++i) {
    m.trees.push_back(Stump(0, 0, 1, 2, true));
    m.tree_info.push_back(i % 2);
  }
  m.best_iteration = "1";
  auto model = ParseXgboostModel(ModelJsonText(m), XgbFileFormat::kJson);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->best_iteration, 1);
  EXPECT_EQ(model->TreeEnd(0), 6u);
  EXPECT_EQ(model->TreeEnd(1), 2u);
  EXPECT_EQ(model->TreeEnd(2), 4u);
  EXPECT_EQ(model->TreeEnd(99), 6u);
  model->iteration_indptr.clear();  // files before XGBoost 2
  EXPECT_EQ(model->TreeEnd(2), 4u);
}

// Damaged models must come back as kInvalidArgument naming the problem, never crash.
TEST(XgboostModelTest, RejectsInconsistentTrees) {
  struct Case {
    std::string what;
    std::function<void(nlohmann::json&)> damage;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"child out of range", [](nlohmann::json& j) { j["left_children"][0] = 7; },
       "child out of range"},
      {"cycle", [](nlohmann::json& j) { j["left_children"][0] = 0; }, "not a tree"},
      {"feature beyond num_feature", [](nlohmann::json& j) { j["split_indices"][0] = 5; },
       "splits on feature 5"},
      {"short array", [](nlohmann::json& j) { j["default_left"].erase(0); }, "different lengths"},
      {"wrong node count", [](nlohmann::json& j) { j["tree_param"]["num_nodes"] = "4"; },
       "declares 4 nodes"},
      {"non-number", [](nlohmann::json& j) { j["split_conditions"][1] = "x"; }, "non-number"},
      {"missing array", [](nlohmann::json& j) { j.erase("right_children"); },
       "missing `right_children`"},
      {"negative feature", [](nlohmann::json& j) { j["split_indices"][0] = -1; }, "out-of-range"},
  };
  TestModel m;
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true)};
  for (const Case& c : cases) {
    nlohmann::json doc = ModelJson(m);
    c.damage(doc["learner"]["gradient_booster"]["model"]["trees"][0]);
    auto model = ParseXgboostModel(doc.dump(), XgbFileFormat::kJson);
    ASSERT_FALSE(model.ok()) << c.what;
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(model.status().message().find(c.message_part), std::string::npos)
        << c.what << " -> " << model.status().message();
  }
}

TEST(XgboostModelTest, RejectsInconsistentLearner) {
  TestModel m;
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true)};
  auto damaged = [&](std::function<void(nlohmann::json&)> damage) {
    nlohmann::json doc = ModelJson(m);
    damage(doc);
    return ParseXgboostModel(doc.dump(), XgbFileFormat::kJson);
  };
  EXPECT_FALSE(damaged([](auto& d) { d.erase("learner"); }).ok());
  EXPECT_FALSE(damaged([](auto& d) { d["learner"]["objective"] = 3; }).ok());
  EXPECT_FALSE(
      damaged([](auto& d) { d["learner"]["learner_model_param"]["num_feature"] = "many"; }).ok());
  EXPECT_FALSE(
      damaged([](auto& d) { d["learner"]["gradient_booster"]["model"]["tree_info"] = {4}; }).ok());
  EXPECT_FALSE(damaged([](auto& d) {
                 d["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "2";
               }).ok());
  EXPECT_FALSE(
      damaged([](auto& d) { d["learner"]["gradient_booster"]["name"] = "gbforest"; }).ok());
  EXPECT_FALSE(damaged([](auto& d) { d["learner"]["feature_names"] = {"only_one"}; }).ok());
  EXPECT_FALSE(damaged([](auto& d) { d = nlohmann::json::array(); }).ok());
}

TEST(XgboostModelTest, DartKeepsItsTreeWeights) {
  TestModel m;
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true), Stump(1, 0.5f, 1.0f, -1.0f, true)};
  nlohmann::json doc = ModelJson(m);
  nlohmann::json gbtree = doc["learner"]["gradient_booster"];
  doc["learner"]["gradient_booster"] = {
      {"name", "dart"}, {"gbtree", gbtree}, {"weight_drop", {0.5, 0.25}}};
  auto model = ParseXgboostModel(doc.dump(), XgbFileFormat::kJson);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->booster, "dart");
  EXPECT_EQ(model->trees.size(), 2u);
  EXPECT_EQ(model->weight_drop, (std::vector<float>{0.5f, 0.25f}));

  doc["learner"]["gradient_booster"]["weight_drop"] = {0.5};
  auto short_weights = ParseXgboostModel(doc.dump(), XgbFileFormat::kJson);
  ASSERT_FALSE(short_weights.ok());
  EXPECT_NE(short_weights.status().message().find("`weight_drop` has 1 weights for 2 trees"),
            std::string::npos);
}

TEST(XgboostModelTest, TruncatedOrGarbledFilesAreErrors) {
  TestModel m;
  m.trees = {Stump(0, 0.5f, 1.0f, -1.0f, true), Stump(1, -2.0f, 3.0f, 4.0f, false)};
  const std::string json_text = ModelJsonText(m);
  const std::vector<uint8_t> ubj = nlohmann::json::to_ubjson(ModelJson(m), true, true);
  const std::string ubj_text(ubj.begin(), ubj.end());
  for (const auto& [bytes, format] :
       {std::pair{json_text, XgbFileFormat::kJson}, std::pair{ubj_text, XgbFileFormat::kUbjson}}) {
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_FALSE(ParseXgboostModel(bytes.substr(0, len), format).ok()) << len;
    }
    // Flip bytes one at a time: each result is an error or a model that passed validation.
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::string garbled = bytes;
      garbled[i] = static_cast<char>(garbled[i] ^ 0x5a);
      auto model = ParseXgboostModel(garbled, format);
      if (model.ok()) {
        EXPECT_EQ(model->trees.size(), 2u);
      }
    }
  }
  EXPECT_FALSE(ParseXgboostModel(json_text, XgbFileFormat::kUbjson).ok());
}

TEST(XgboostModelTest, LegacyJsonTurnsPerClassInterceptsIntoStumps) {
  TestModel m;
  m.objective = "multi:softprob";
  m.num_class = 2;
  m.base_score = "[2.5E-1,-5E-1]";
  m.trees = {Stump(0, 0, 1, 2, true), Stump(0, 0, 3, 4, true), Stump(0, 0, 5, 6, true),
             Stump(0, 0, 7, 8, true)};
  m.tree_info = {0, 1, 0, 1};
  const std::string text = ModelJsonText(m);
  auto model = ParseXgboostModel(text, XgbFileFormat::kJson);
  ASSERT_TRUE(model.ok());
  auto legacy = LegacyXgboostJson(text, XgbFileFormat::kJson, *model, 2);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  const nlohmann::json doc = nlohmann::json::parse(*legacy);
  EXPECT_EQ(doc["learner"]["learner_model_param"]["base_score"], "0");
  const nlohmann::json& gbtree = doc["learner"]["gradient_booster"]["model"];
  EXPECT_EQ(gbtree["gbtree_model_param"]["num_trees"], "4");  // 2 stumps + 2 kept trees
  EXPECT_EQ(gbtree["tree_info"], (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(gbtree["trees"][0]["split_conditions"][0], 0.25);
  EXPECT_EQ(gbtree["trees"][1]["split_conditions"][0], -0.5);
  EXPECT_EQ(gbtree["trees"][3]["split_conditions"][1], 3.0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(gbtree["trees"][i]["id"], i);
  }

  // A uniform intercept stays a scalar, written so that it reads back to the same float.
  m.base_score = "[1.1E-1,1.1E-1]";
  const std::string uniform_text = ModelJsonText(m);
  auto uniform = ParseXgboostModel(uniform_text, XgbFileFormat::kJson);
  ASSERT_TRUE(uniform.ok());
  auto legacy_uniform = LegacyXgboostJson(uniform_text, XgbFileFormat::kJson, *uniform, 4);
  ASSERT_TRUE(legacy_uniform.ok());
  const nlohmann::json udoc = nlohmann::json::parse(*legacy_uniform);
  EXPECT_EQ(std::stof(udoc["learner"]["learner_model_param"]["base_score"].get<std::string>()),
            1.1E-1f);
  EXPECT_EQ(udoc["learner"]["gradient_booster"]["model"]["trees"].size(), 4u);
}

}  // namespace
}  // namespace plinth::serving
