// Test-only helpers: small hand-written XGBoost models (in XGBoost 3.x's JSON layout) and MLflow
// model directories, so the unit tests state every threshold and leaf they rely on.
#ifndef PLINTH_SERVING_TEST_MODELS_H_
#define PLINTH_SERVING_TEST_MODELS_H_

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace plinth::serving::testing {

// One tree in XGBoost's numbering; leaves have left = right = -1 and their value in `cond`.
struct TestTree {
  std::vector<int32_t> left;
  std::vector<int32_t> right;
  std::vector<int32_t> feature;
  std::vector<float> cond;
  std::vector<int32_t> default_left;
  std::vector<int32_t> split_type = {};  // empty: all numerical
  std::vector<int32_t> categories_nodes = {};
  std::vector<int32_t> categories = {};
};

// A stump: feature `f` < `threshold` → `left_leaf`, else `right_leaf`; NaN → left if
// `default_left`.
inline TestTree Stump(int32_t f, float threshold, float left_leaf, float right_leaf,
                      bool default_left) {
  return {{1, -1, -1},
          {2, -1, -1},
          {f, 0, 0},
          {threshold, left_leaf, right_leaf},
          {default_left ? 1 : 0, 0, 0}};
}

inline nlohmann::json TreeJson(const TestTree& t, size_t id) {
  const size_t n = t.left.size();
  std::vector<int32_t> parents(n, 2147483647);
  for (size_t i = 0; i < n; ++i) {
    if (t.left[i] >= 0) {
      parents[t.left[i]] = static_cast<int32_t>(i);
      parents[t.right[i]] = static_cast<int32_t>(i);
    }
  }
  std::vector<int32_t> split_type =
      t.split_type.empty() ? std::vector<int32_t>(n, 0) : t.split_type;
  std::vector<int64_t> segments, sizes;
  for (size_t i = 0; i < t.categories_nodes.size(); ++i) {
    segments.push_back(static_cast<int64_t>(i));
    sizes.push_back(1);
  }
  return {{"base_weights", t.cond},
          {"categories", t.categories},
          {"categories_nodes", t.categories_nodes},
          {"categories_segments", segments},
          {"categories_sizes", sizes},
          {"default_left", t.default_left},
          {"id", id},
          {"left_children", t.left},
          {"loss_changes", std::vector<float>(n, 0.0f)},
          {"parents", parents},
          {"right_children", t.right},
          {"split_conditions", t.cond},
          {"split_indices", t.feature},
          {"split_type", split_type},
          {"sum_hessian", std::vector<float>(n, 1.0f)},
          {"tree_param",
           {{"num_deleted", "0"},
            {"num_feature", "2"},
            {"num_nodes", std::to_string(n)},
            {"size_leaf_vector", "1"}}}};
}

struct TestModel {
  std::string objective = "reg:squarederror";
  int num_feature = 2;
  int num_class = 0;
  std::string base_score = "[5E-1]";
  std::vector<TestTree> trees;
  std::vector<int32_t> tree_info;  // default: all group 0
  std::vector<std::string> feature_names;
  std::string best_iteration;  // attribute, empty for none
};

inline nlohmann::json ModelJson(const TestModel& m) {
  nlohmann::json trees = nlohmann::json::array();
  for (size_t i = 0; i < m.trees.size(); ++i) {
    trees.push_back(TreeJson(m.trees[i], i));
  }
  std::vector<int32_t> tree_info = m.tree_info;
  if (tree_info.empty()) {
    tree_info.assign(m.trees.size(), 0);
  }
  const size_t per_round = m.num_class > 1 ? static_cast<size_t>(m.num_class) : 1;
  std::vector<int64_t> indptr;
  for (size_t i = 0; i <= m.trees.size(); i += per_round) {
    indptr.push_back(static_cast<int64_t>(i));
  }
  nlohmann::json attributes = nlohmann::json::object();
  if (!m.best_iteration.empty()) {
    attributes["best_iteration"] = m.best_iteration;
  }
  // The objective's own parameters, as XGBoost writes them (1.7 requires them to load).
  nlohmann::json objective = {{"name", m.objective}};
  if (m.objective.rfind("multi:", 0) == 0) {
    objective["softmax_multiclass_param"] = {{"num_class", std::to_string(m.num_class)}};
  } else if (m.objective == "count:poisson") {
    objective["poisson_regression_param"] = {{"max_delta_step", "0.7"}};
  } else {
    objective["reg_loss_param"] = {{"scale_pos_weight", "1"}};
  }
  nlohmann::json learner = {
      {"attributes", attributes},
      {"feature_names", m.feature_names},
      {"feature_types", std::vector<std::string>(m.feature_names.size(), "float")},
      {"gradient_booster",
       {{"name", "gbtree"},
        {"model",
         {{"gbtree_model_param",
           {{"num_parallel_tree", "1"}, {"num_trees", std::to_string(m.trees.size())}}},
          {"iteration_indptr", indptr},
          {"tree_info", tree_info},
          {"trees", trees}}}}},
      {"learner_model_param",
       {{"base_score", m.base_score},
        {"boost_from_average", "1"},
        {"num_class", std::to_string(m.num_class)},
        {"num_feature", std::to_string(m.num_feature)},
        {"num_target", "1"}}},
      {"objective", objective}};
  return {{"learner", learner}, {"version", {3, 2, 0}}};
}

inline std::string ModelJsonText(const TestModel& m) { return ModelJson(m).dump(); }

// What mlflow.xgboost.save_model writes, trimmed to the fields we read.
inline std::string MlModelText(const std::string& data, const std::string& model_class,
                               const std::string& format, const std::string& signature = "") {
  std::string text =
      "artifact_path: model\n"
      "flavors:\n"
      "  python_function:\n"
      "    data: " +
      data +
      "\n"
      "    env:\n"
      "      conda: conda.yaml\n"
      "      virtualenv: python_env.yaml\n"
      "    loader_module: mlflow.xgboost\n"
      "    python_version: 3.11.7\n"
      "  xgboost:\n"
      "    code: null\n"
      "    data: " +
      data +
      "\n"
      "    model_class: " +
      model_class +
      "\n"
      "    model_format: " +
      format +
      "\n"
      "    xgb_version: 3.2.0\n"
      "mlflow_version: 3.17.2\n"
      "model_uuid: 6387534f56514ee3a6ce45e403732ca4\n";
  return text + signature;
}

inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Model directories written by this test process, removed when it exits.
struct TempModelDirs {
  std::vector<std::filesystem::path> dirs;
  ~TempModelDirs() {
    std::error_code ec;
    for (const auto& dir : dirs) {
      std::filesystem::remove_all(dir, ec);
    }
  }
};
inline TempModelDirs temp_model_dirs;

// A fresh model directory under the test temp dir with MLmodel + payload.
inline std::filesystem::path WriteModelDir(const std::string& name, const std::string& payload,
                                           const std::string& format = "json",
                                           const std::string& model_class = "xgboost.core.Booster",
                                           const std::string& signature = "") {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("plinth_serving_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  temp_model_dirs.dirs.push_back(dir);
  const std::string data = "model." + format;
  WriteFile(dir / "MLmodel", MlModelText(data, model_class, format, signature));
  WriteFile(dir / data, payload);
  return dir;
}

}  // namespace plinth::serving::testing

#endif  // PLINTH_SERVING_TEST_MODELS_H_
