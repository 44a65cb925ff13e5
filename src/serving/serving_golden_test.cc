// Both runtimes against XGBoost 3.2 and mlflow's pyfunc on the models and 10,000-row inputs
// that tests/golden/serving/make_golden.py writes into the build tree (scripts/test.sh runs it
// before ctest). Tolerance: max abs difference ≤ 1e-6 on every real-valued output; class
// labels must be identical. Skips, saying how to generate them, when the files are absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "serving/model.h"

namespace plinth::serving {
namespace {

constexpr double kTolerance = 1e-6;
constexpr size_t kMinRows = 10000;

std::filesystem::path GoldenDir() {
  if (const char* env = std::getenv("PLINTH_SERVING_GOLDEN_DIR"); env != nullptr && *env) {
    return env;
  }
  return PLINTH_SERVING_GOLDEN_DIR;
}

template <typename T>
std::vector<T> ReadRaw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

struct Expected {
  std::vector<double> values;
  std::vector<size_t> shape;
};

// Compares `got` with `want` (shape and values); returns the max abs difference.
double Compare(const Predictions& got, const Expected& want, bool labels, const std::string& what) {
  const size_t rows = want.shape[0];
  const size_t width = want.shape.size() > 1 ? want.shape[1] : 1;
  EXPECT_EQ(got.rows, rows) << what;
  EXPECT_EQ(got.width, width) << what;
  // A 1-d answer must be written flat, a 2-d one nested (mlflow's shapes).
  EXPECT_EQ(got.squeeze, want.shape.size() == 1) << what;
  EXPECT_EQ(got.integer, labels) << what;
  if (got.values.size() != want.values.size()) {
    ADD_FAILURE() << what << ": " << got.values.size() << " values, want " << want.values.size();
    return INFINITY;
  }
  double max_diff = 0;
  size_t mismatched_labels = 0;
  for (size_t i = 0; i < want.values.size(); ++i) {
    const double diff = std::fabs(got.values[i] - want.values[i]);
    if (std::isnan(diff)) {
      ADD_FAILURE() << what << ": NaN at " << i;
      return INFINITY;
    }
    max_diff = std::max(max_diff, diff);
    mismatched_labels += labels && diff != 0;
  }
  EXPECT_EQ(mismatched_labels, 0u) << what << ": labels differ";
  EXPECT_LE(max_diff, kTolerance) << what;
  return max_diff;
}

void CheckRuntime(const std::string& runtime) {
  const std::filesystem::path dir = GoldenDir();
  const std::filesystem::path manifest_path = dir / "manifest.json";
  if (!std::filesystem::exists(manifest_path)) {
    GTEST_SKIP() << "no serving golden files in " << dir
                 << "; generate them with: scripts/setup-peers.sh && .venv-peers/bin/python "
                    "tests/golden/serving/make_golden.py "
                 << dir << " (scripts/test.sh does this)";
  }
  std::ifstream manifest_in(manifest_path);
  const nlohmann::json manifest = nlohmann::json::parse(manifest_in);
  ASSERT_GE(manifest["models"].size(), 6u);
  std::printf("%-20s %-10s %12s %12s %12s %12s\n", "model", "runtime", "pyfunc", "margin", "value",
              "proba");
  for (const nlohmann::json& entry : manifest["models"]) {
    const std::string name = entry["name"];
    SCOPED_TRACE(name + " on " + runtime);
    // flat-trees serves gbtree and dart models (the golden set has no categorical splits).
    const bool flat_trees_applies = entry["booster"] != "gblinear";
    auto model = LoadModel(dir / entry["dir"].get<std::string>(), {.runtime = runtime});
    if (runtime == "flat-trees" && !flat_trees_applies) {
      EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
      std::printf("%-20s %-10s (does not apply: %s)\n", name.c_str(), runtime.c_str(),
                  model.status().message().c_str());
      continue;
    }
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ((*model)->info().runtime, runtime);
    EXPECT_EQ((*model)->info().objective, entry["objective"].get<std::string>());

    const size_t rows = entry["rows"], cols = entry["cols"];
    ASSERT_GE(rows, kMinRows);
    const std::vector<float> x = ReadRaw<float>(dir / entry["x"].get<std::string>());
    ASSERT_EQ(x.size(), rows * cols);
    const FeatureMatrix matrix{x.data(), rows, cols};

    auto expected = [&](const std::string& output) {
      const nlohmann::json& spec = entry["outputs"][output];
      return Expected{ReadRaw<double>(dir / spec["file"].get<std::string>()),
                      spec["shape"].get<std::vector<size_t>>()};
    };
    const bool classifier = (*model)->info().num_classes > 0;
    std::string row = name;
    row.resize(20, ' ');
    char cells[128];

    Predictions pyfunc, margin, value, proba;
    ASSERT_TRUE((*model)->Predict(matrix, {}, &pyfunc).ok());
    const double d_pyfunc = Compare(pyfunc, expected("pyfunc"), classifier, name + " pyfunc");
    ASSERT_TRUE((*model)->Predict(matrix, {.output_margin = true}, &margin).ok());
    double d_margin = Compare(margin, expected("margin"), false, name + " margin");
    ASSERT_TRUE((*model)->runtime().Predict(matrix, {}, &value).ok());
    const double d_value = Compare(value, expected("value"), false, name + " value");
    double d_proba = NAN;
    if (entry["outputs"].contains("proba")) {
      ASSERT_TRUE((*model)->Predict(matrix, {.probabilities = true}, &proba).ok());
      d_proba = Compare(proba, expected("proba"), false, name + " proba");
    }
    // The same margins one row at a time and in 7-row calls (runtimes take other paths for
    // single rows and partial blocks than for the 10,000-row call above).
    const Expected want_margin = expected("margin");
    const size_t width = margin.width;
    double d_small_calls = 0;
    for (size_t first = 0; first < 2000; first += 8) {
      Predictions one, seven;
      ASSERT_TRUE((*model)
                      ->Predict({x.data() + first * cols, 1, cols}, {.output_margin = true}, &one)
                      .ok());
      ASSERT_TRUE(
          (*model)
              ->Predict({x.data() + (first + 1) * cols, 7, cols}, {.output_margin = true}, &seven)
              .ok());
      ASSERT_EQ(one.values.size(), width);
      ASSERT_EQ(seven.values.size(), 7 * width);
      for (size_t k = 0; k < width; ++k) {
        d_small_calls = std::max(d_small_calls,
                                 std::fabs(one.values[k] - want_margin.values[first * width + k]));
      }
      for (size_t k = 0; k < 7 * width; ++k) {
        d_small_calls =
            std::max(d_small_calls,
                     std::fabs(seven.values[k] - want_margin.values[(first + 1) * width + k]));
      }
    }
    EXPECT_LE(d_small_calls, kTolerance) << name << " margins in 1- and 7-row calls";
    d_margin = std::max(d_margin, d_small_calls);
    std::snprintf(cells, sizeof(cells), " %-10s %12.3g %12.3g %12.3g %12.3g", runtime.c_str(),
                  d_pyfunc, d_margin, d_value, d_proba);
    std::printf("%s%s\n", row.c_str(), cells);
  }
}

TEST(ServingGoldenTest, FlatTreesMatchXgboostAndPyfunc) { CheckRuntime("flat-trees"); }

TEST(ServingGoldenTest, XgboostRuntimeMatchesXgboostAndPyfunc) { CheckRuntime("xgboost"); }

TEST(ServingGoldenTest, AutoPicksFlatTreesWhereItApplies) {
  const std::filesystem::path dir = GoldenDir();
  if (!std::filesystem::exists(dir / "manifest.json")) {
    GTEST_SKIP() << "no serving golden files in " << dir;
  }
  std::ifstream manifest_in(dir / "manifest.json");
  const nlohmann::json manifest = nlohmann::json::parse(manifest_in);
  for (const nlohmann::json& entry : manifest["models"]) {
    auto model = LoadModel(dir / entry["dir"].get<std::string>());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    if (entry["booster"] != "gblinear") {
      EXPECT_EQ((*model)->info().runtime, "flat-trees") << entry["name"];
      EXPECT_EQ((*model)->info().runtime_note, "");
    } else {
      EXPECT_EQ((*model)->info().runtime, "xgboost") << entry["name"];
      EXPECT_NE((*model)->info().runtime_note, "");
    }
  }
}

}  // namespace
}  // namespace plinth::serving
