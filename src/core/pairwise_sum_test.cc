// SparsePairwiseSum must give PairwiseSum's bits over the dense array it stands for (zeros
// everywhere but the listed indices), at every size class: under 8, up to 128, and the
// halving above, with the terms anywhere in the range.
#include "core/pairwise_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace plinth {
namespace {

TEST(PairwiseSumTest, SparseGivesTheDenseSumsBits) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> value(0.0, 1.0);
  for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{127}, size_t{128},
                   size_t{129}, size_t{1000}, size_t{3001}}) {
    for (double density : {0.0, 0.01, 0.1, 0.5, 1.0}) {
      const size_t base = rng() % 5;
      std::vector<double> dense(base + n, 0.0);
      std::vector<uint32_t> idx;
      std::vector<double> terms;
      for (size_t i = base; i < base + n; ++i) {
        if (value(rng) < density) {
          // Magnitudes over many orders, so grouping changes the rounding.
          dense[i] = value(rng) * std::ldexp(1.0, static_cast<int>(rng() % 60) - 30);
          idx.push_back(static_cast<uint32_t>(i));
          terms.push_back(dense[i]);
        }
      }
      const double want = PairwiseSum(dense.data() + base, n);
      const double got = SparsePairwiseSum(idx.data(), terms.data(), idx.size(), base, n);
      EXPECT_EQ(got, want) << "n " << n << " density " << density;
    }
  }
}

}  // namespace
}  // namespace plinth
