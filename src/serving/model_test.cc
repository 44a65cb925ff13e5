#include "serving/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "serving/test_models.h"

namespace plinth::serving {
namespace {

using testing::ModelJson;
using testing::ModelJsonText;
using testing::Stump;
using testing::TestModel;
using testing::TestTree;
using testing::WriteModelDir;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TestModel BinaryModel() {
  TestModel m;
  m.objective = "binary:logistic";
  m.base_score = "[5E-1]";
  m.trees = {Stump(0, 0.0f, -1.0f, 1.0f, true), Stump(1, 0.0f, -0.5f, 0.5f, false)};
  return m;
}

TestModel ThreeClassModel() {
  TestModel m;
  m.objective = "multi:softprob";
  m.num_class = 3;
  m.base_score = "[1E-1,2E-1,-3E-1]";
  m.trees = {Stump(0, 0, 1, -1, true), Stump(0, 0, -1, 1, true), Stump(1, 0, 0.5f, 2, false)};
  m.tree_info = {0, 1, 2};
  return m;
}

std::shared_ptr<const Model> Load(const std::filesystem::path& dir, const std::string& runtime) {
  auto model = LoadModel(dir, {.runtime = runtime});
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? *model : nullptr;
}

Predictions Predict(const Model& model, const std::vector<float>& rows, PredictParams params = {}) {
  Predictions out;
  const size_t cols = model.info().num_features;
  Status s = model.Predict({rows.data(), rows.size() / cols, cols}, params, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

const std::vector<std::string> kRuntimes = {"flat-trees", "xgboost"};

TEST(LoadModelTest, FillsModelInfo) {
  TestModel m = BinaryModel();
  m.feature_names = {"age", "income"};
  auto dir = WriteModelDir("info", ModelJsonText(m), "json", "xgboost.sklearn.XGBClassifier");
  auto model = Load(dir, "auto");
  ASSERT_TRUE(model);
  const ModelInfo& info = model->info();
  EXPECT_EQ(info.flavor, "xgboost");
  EXPECT_EQ(info.model_class, "xgboost.sklearn.XGBClassifier");
  EXPECT_EQ(info.model_file, "model.json");
  EXPECT_EQ(info.runtime, "flat-trees");
  EXPECT_EQ(info.runtime_note, "");
  EXPECT_EQ(info.objective, "binary:logistic");
  EXPECT_EQ(info.feature_names, (std::vector<std::string>{"age", "income"}));
  EXPECT_EQ(info.num_features, 2u);
  EXPECT_EQ(info.num_outputs, 1u);
  EXPECT_EQ(info.num_classes, 2u);
  EXPECT_EQ(info.mlflow_version, "3.17.2");
  EXPECT_EQ(info.model_uuid, "6387534f56514ee3a6ce45e403732ca4");
  EXPECT_EQ(model->runtime().name(), "flat-trees");
}

TEST(LoadModelTest, FeatureOrderFromSignatureWhenTheModelHasNoNames) {
  const std::string signature =
      "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"x\"}, {\"type\": \"double\", "
      "\"name\": \"y\"}]'\n";
  auto dir = WriteModelDir("signature", ModelJsonText(BinaryModel()), "json",
                           "xgboost.core.Booster", signature);
  auto model = Load(dir, "auto");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->info().feature_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(model->info().signature.inputs.size(), 2u);
  EXPECT_EQ(model->info().num_classes, 0u);  // a Booster is not a classifier
}

TEST(LoadModelTest, UbjsonPayload) {
  const std::vector<uint8_t> ubj = nlohmann::json::to_ubjson(ModelJson(BinaryModel()), true, true);
  auto dir = WriteModelDir("ubj", std::string(ubj.begin(), ubj.end()), "ubj");
  for (const std::string& runtime : kRuntimes) {
    auto model = Load(dir, runtime);
    ASSERT_TRUE(model);
    EXPECT_EQ(model->info().model_file, "model.ubj");
    Predictions p = Predict(*model, {1.0f, 1.0f});
    EXPECT_EQ(p.values[0], 1.0f / (1.0f + std::exp(-1.5f))) << runtime;
  }
}

TEST(LoadModelTest, ClassifierAnswersLabelsOrProbabilities) {
  auto dir = WriteModelDir("classifier", ModelJsonText(BinaryModel()), "json",
                           "xgboost.sklearn.XGBClassifier");
  for (const std::string& runtime : kRuntimes) {
    SCOPED_TRACE(runtime);
    auto model = Load(dir, runtime);
    ASSERT_TRUE(model);
    // Margins: -1.5, 1.5, -0.5 (NaN in f0 goes left), 1.5 (NaN in f1 goes right).
    const std::vector<float> rows = {-1, -1, 1, 1, kNaN, 1, 1, kNaN};
    Predictions labels = Predict(*model, rows);
    EXPECT_TRUE(labels.integer);
    EXPECT_EQ(labels.width, 1u);
    EXPECT_EQ(labels.values, (std::vector<double>{0, 1, 0, 1}));

    Predictions margins = Predict(*model, rows, {.output_margin = true});
    EXPECT_FALSE(margins.integer);
    EXPECT_EQ(margins.values, (std::vector<double>{-1.5, 1.5, -0.5, 1.5}));

    Predictions proba = Predict(*model, rows, {.probabilities = true});
    EXPECT_EQ(proba.width, 2u);
    EXPECT_FALSE(proba.squeeze);
    const float p0 = 1.0f / (1.0f + std::exp(1.5f));
    EXPECT_EQ(proba.values[0], 1.0f - p0);
    EXPECT_EQ(proba.values[1], p0);
  }
}

TEST(LoadModelTest, MulticlassClassifierAndBooster) {
  for (const std::string& runtime : kRuntimes) {
    SCOPED_TRACE(runtime);
    auto classifier = Load(WriteModelDir("multi_sk", ModelJsonText(ThreeClassModel()), "json",
                                         "xgboost.sklearn.XGBClassifier"),
                           runtime);
    ASSERT_TRUE(classifier);
    EXPECT_EQ(classifier->info().num_classes, 3u);
    // Margins (group 0, 1, 2): row 1 → (1.1, -0.8, -0.3+0.5); row 2 → (-0.9, 1.2, 1.7).
    const std::vector<float> rows = {-1, -1, 1, 1};
    Predictions labels = Predict(*classifier, rows);
    EXPECT_TRUE(labels.integer);
    EXPECT_EQ(labels.values, (std::vector<double>{0, 2}));
    Predictions proba = Predict(*classifier, rows, {.probabilities = true});
    EXPECT_EQ(proba.width, 3u);
    EXPECT_NEAR(proba.values[0] + proba.values[1] + proba.values[2], 1.0, 1e-6);

    auto booster = Load(WriteModelDir("multi_booster", ModelJsonText(ThreeClassModel())), runtime);
    ASSERT_TRUE(booster);
    Predictions probs = Predict(*booster, rows);
    EXPECT_FALSE(probs.integer);
    EXPECT_EQ(probs.width, 3u);
    EXPECT_FALSE(probs.squeeze);
    EXPECT_EQ(probs.values, proba.values);
    Predictions margins = Predict(*booster, rows, {.output_margin = true});
    EXPECT_EQ(margins.values[0], static_cast<double>(0.1f + 1.0f));
    EXPECT_EQ(margins.values[5], static_cast<double>(-0.3f + 2.0f));
  }
}

TEST(LoadModelTest, SklearnModelsStopAtTheBestIteration) {
  TestModel m;
  m.base_score = "[0E0]";
  m.trees = {Stump(0, 0, 1, 1, true), Stump(0, 0, 10, 10, true), Stump(0, 0, 100, 100, true)};
  m.best_iteration = "1";  // rounds 0 and 1
  const std::string text = ModelJsonText(m);
  for (const std::string& runtime : kRuntimes) {
    auto sklearn =
        Load(WriteModelDir("best_sk", text, "json", "xgboost.sklearn.XGBRegressor"), runtime);
    ASSERT_TRUE(sklearn);
    EXPECT_EQ(Predict(*sklearn, {0, 0}).values, std::vector<double>{11.0}) << runtime;
    auto booster = Load(WriteModelDir("best_booster", text), runtime);
    ASSERT_TRUE(booster);
    EXPECT_EQ(Predict(*booster, {0, 0}).values, std::vector<double>{111.0}) << runtime;
  }
}

TEST(LoadModelTest, WrongWidthNamesExpectedAndGot) {
  auto model = Load(WriteModelDir("width", ModelJsonText(BinaryModel())), "auto");
  ASSERT_TRUE(model);
  std::vector<float> row = {1, 2, 3};
  Predictions out;
  Status s = model->Predict({row.data(), 1, 3}, {}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "the model expects 2 features per row, got 3");
}

TEST(LoadModelTest, RuntimeSelection) {
  // A categorical split: flat-trees does not apply, auto falls back to XGBoost and says why.
  TestTree categorical = Stump(0, 0, -1.0f, 1.0f, false);
  categorical.split_type = {1, 0, 0};
  categorical.categories_nodes = {0};
  categorical.categories = {2};
  TestModel m;
  m.base_score = "[0E0]";
  m.trees = {categorical};
  auto dir = WriteModelDir("categorical", ModelJsonText(m));
  auto model = Load(dir, "auto");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->info().runtime, "xgboost");
  EXPECT_NE(model->info().runtime_note.find("categorical"), std::string::npos);
  // Category 2 goes right (XGBoost: categories in the set take the right branch).
  EXPECT_EQ(Predict(*model, {2, 0, 1, 0}).values, (std::vector<double>{1.0, -1.0}));

  auto forced = LoadModel(dir, {.runtime = "flat-trees"});
  ASSERT_FALSE(forced.ok());
  EXPECT_EQ(forced.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(forced.status().message().find("categorical"), std::string::npos);

  auto unknown = LoadModel(dir, {.runtime = "onnx"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown model runtime `onnx`"), std::string::npos);
}

TEST(LoadModelTest, MissingFilesAreNotFound) {
  auto missing_dir = LoadModel("/nonexistent/plinth/model");
  EXPECT_EQ(missing_dir.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing_dir.status().message().find("no MLmodel file"), std::string::npos);

  auto dir = WriteModelDir("no_payload", ModelJsonText(BinaryModel()));
  std::filesystem::remove(dir / "model.json");
  auto no_payload = LoadModel(dir);
  EXPECT_EQ(no_payload.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_payload.status().message().find("model.json"), std::string::npos);
}

TEST(LoadModelTest, UnsupportedOrUnsafeMlmodelIsInvalidArgument) {
  auto dir = WriteModelDir("flavor", ModelJsonText(BinaryModel()));
  testing::WriteFile(dir / "MLmodel",
                     "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
                     "  sklearn:\n    pickled_model: model.pkl\n");
  auto flavor = LoadModel(dir);
  EXPECT_EQ(flavor.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(flavor.status().message().find("unsupported model flavor (python_function, sklearn)"),
            std::string::npos);

  testing::WriteFile(dir / "MLmodel", "flavors:\n  xgboost:\n    data: ../../etc/passwd\n");
  EXPECT_EQ(LoadModel(dir).status().code(), StatusCode::kInvalidArgument);
  testing::WriteFile(dir / "MLmodel", "flavors:\n  xgboost:\n    data: /etc/passwd\n");
  EXPECT_EQ(LoadModel(dir).status().code(), StatusCode::kInvalidArgument);

  testing::WriteFile(dir / "model.xgb", "binary");
  testing::WriteFile(dir / "MLmodel", "flavors:\n  xgboost:\n    data: model.xgb\n");
  auto legacy = LoadModel(dir);
  EXPECT_EQ(legacy.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(legacy.status().message().find("`xgb`"), std::string::npos);

  testing::WriteFile(dir / "MLmodel", "flavors: {xgboost: [1, 2\n");
  auto yaml = LoadModel(dir);
  EXPECT_EQ(yaml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(yaml.status().message().find("MLmodel"), std::string::npos);
}

// A truncated or garbled payload is refused with a message, for both runtimes, never a crash.
TEST(LoadModelTest, CorruptPayloadsAreInvalidArgument) {
  const std::vector<uint8_t> ubj =
      nlohmann::json::to_ubjson(ModelJson(ThreeClassModel()), true, true);
  const std::string ubj_bytes(ubj.begin(), ubj.end());
  const std::string json_bytes = ModelJsonText(ThreeClassModel());
  for (const auto& [bytes, format] :
       {std::pair{ubj_bytes, std::string("ubj")}, std::pair{json_bytes, std::string("json")}}) {
    auto dir = WriteModelDir("corrupt_" + format, bytes, format);
    for (const std::string& runtime : {std::string("auto"), std::string("xgboost")}) {
      for (size_t len :
           {size_t{0}, size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
        testing::WriteFile(dir / ("model." + format), bytes.substr(0, len));
        auto model = LoadModel(dir, {.runtime = runtime});
        ASSERT_FALSE(model.ok()) << format << " truncated to " << len;
        EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
        EXPECT_NE(model.status().message().find("model." + format), std::string::npos)
            << model.status().message();
      }
      std::string garbled = bytes;
      for (size_t i = 0; i < garbled.size(); i += 7) {
        garbled[i] = static_cast<char>(garbled[i] ^ 0xff);
      }
      testing::WriteFile(dir / ("model." + format), garbled);
      EXPECT_FALSE(LoadModel(dir, {.runtime = runtime}).ok()) << format;
    }
  }
}

// The server predicts on many threads with one Model: answers must not depend on that.
TEST(LoadModelTest, ConcurrentPredictionsAgree) {
  TestModel m = ThreeClassModel();
  for (int i = 0; i < 30; ++i) {
    m.trees.push_back(
        Stump(i % 2, 0.1f * static_cast<float>(i % 7 - 3), 0.01f * i, -0.01f * i, i % 3 == 0));
    m.tree_info.push_back(i % 3);
  }
  auto dir = WriteModelDir("threads", ModelJsonText(m));
  std::vector<float> rows;
  for (int r = 0; r < 50; ++r) {
    rows.push_back(r % 9 == 0 ? kNaN : 0.05f * static_cast<float>(r - 25));
    rows.push_back(r % 4 == 0 ? kNaN : -0.07f * static_cast<float>(r - 20));
  }
  for (const std::string& runtime : kRuntimes) {
    auto model = Load(dir, runtime);
    ASSERT_TRUE(model);
    const std::vector<double> want = Predict(*model, rows).values;
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          const size_t r = static_cast<size_t>(i + t) % 50;  // single rows and the whole batch
          Predictions out;
          if (i % 10 == 0) {
            Status s = model->Predict({rows.data(), 50, 2}, {}, &out);
            mismatches += !s.ok() || out.values != want;
          } else {
            Status s = model->Predict({rows.data() + 2 * r, 1, 2}, {}, &out);
            mismatches +=
                !s.ok() || !std::equal(out.values.begin(), out.values.end(), want.begin() + 3 * r);
          }
        }
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    EXPECT_EQ(mismatches.load(), 0) << runtime;
  }
}

}  // namespace
}  // namespace plinth::serving
