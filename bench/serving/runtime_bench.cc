// Cost per row of the two model runtimes (flat-trees and the XGBoost C API) on one model, for
// single-row and 64-row predictions, on one thread. A figure for src/serving/README.md, not a
// test: the HTTP server benchmark against `mlflow models serve` is separate.
//
//   plinth_serving_runtime_bench MODEL_DIR [ITERATIONS]
//
// MODEL_DIR is an MLflow model directory, e.g. build/serving-golden/bench_200x6x30 written by
// tests/golden/serving/make_golden.py (200 trees of depth 6 on 30 features). Rows are random
// with 10% missing values, drawn with a fixed seed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "serving/model.h"

namespace {

using plinth::serving::FeatureMatrix;
using plinth::serving::LoadModel;
using plinth::serving::Model;
using plinth::serving::Predictions;

// Median of `repeats` timings of `iterations` predictions of `batch` rows, in ns per row.
double NanosPerRow(const Model& model, const std::vector<float>& pool, size_t pool_rows,
                   size_t batch, size_t iterations, int repeats) {
  const size_t cols = model.info().num_features;
  Predictions out;
  std::vector<double> samples;
  double checksum = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < iterations; ++i) {
      const size_t first = (i * batch) % (pool_rows - batch + 1);
      const FeatureMatrix x{pool.data() + first * cols, batch, cols};
      if (!model.runtime().Predict(x, {}, &out).ok()) {
        std::fprintf(stderr, "prediction failed\n");
        std::exit(1);
      }
      checksum += out.values[0];
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    samples.push_back(std::chrono::duration<double, std::nano>(elapsed).count() /
                      static_cast<double>(iterations * batch));
  }
  if (std::isnan(checksum)) {
    std::fprintf(stderr, "NaN prediction\n");
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  const size_t iterations = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20000;
  std::printf("| runtime | rows per call | µs per call | µs per row |\n|---|---|---|---|\n");
  for (const char* runtime : {"flat-trees", "xgboost"}) {
    auto model = LoadModel(argv[1], {.runtime = runtime});
    if (!model.ok()) {
      std::fprintf(stderr, "%s: %s\n", runtime, model.status().ToString().c_str());
      return 1;
    }
    const size_t cols = (*model)->info().num_features;
    constexpr size_t kPoolRows = 4096;
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> pool(kPoolRows * cols);
    for (float& v : pool) {
      v = uniform(rng) < 0.1f ? std::nanf("") : normal(rng);
    }
    for (size_t batch : {size_t{1}, size_t{64}}) {
      const size_t calls = batch == 1 ? iterations : std::max<size_t>(1, iterations / 16);
      NanosPerRow(**model, pool, kPoolRows, batch, calls / 10 + 1, 1);  // warm-up
      const double ns = NanosPerRow(**model, pool, kPoolRows, batch, calls, 5);
      std::printf("| %s | %zu | %.2f | %.3f |\n", runtime, batch, ns * batch / 1000.0, ns / 1000.0);
    }
  }
  return 0;
}
