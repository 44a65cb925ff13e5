#include "core/pairwise_sum.h"

#include <algorithm>

namespace plinth {

double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) {
      res += a[i];
    }
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) {
      r[j] = a[j];
    }
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (size_t j = 0; j < 8; ++j) {
        r[j] += a[i + j];
      }
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) {
      res += a[i];
    }
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

double SparsePairwiseSum(const uint32_t* idx, const double* terms, size_t m, size_t base,
                         size_t n) {
  if (m == 0) {
    return 0.0;
  }
  if (n < 8) {
    double res = 0.0;
    for (size_t j = 0; j < m; ++j) {
      res += terms[j];
    }
    return res;
  }
  if (n <= 128) {
    // PairwiseSum's eight lanes over the first n − n % 8 values, then the rest in order.
    const size_t lanes_end = base + n - n % 8;
    double r[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    for (; j < m && idx[j] < lanes_end; ++j) {
      r[(idx[j] - base) % 8] += terms[j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; j < m; ++j) {
      res += terms[j];
    }
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  const size_t m2 = static_cast<size_t>(std::lower_bound(idx, idx + m, base + n2) - idx);
  return SparsePairwiseSum(idx, terms, m2, base, n2) +
         SparsePairwiseSum(idx + m2, terms + m2, m - m2, base + n2, n - n2);
}

}  // namespace plinth
