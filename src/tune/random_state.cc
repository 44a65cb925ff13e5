#include "tune/random_state.h"

#include <algorithm>

namespace plinth::tune {
namespace {

uint64_t SmallestMaskCovering(uint64_t max) {
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  return mask;
}

}  // namespace

RandomState RandomState::FromEntropy() {
  std::random_device device;
  return RandomState(device());
}

uint64_t RandomState::Interval(uint64_t max) {
  if (max == 0) {
    return 0;
  }
  uint64_t mask = SmallestMaskCovering(max);
  uint64_t value;
  if (max <= 0xffffffffULL) {
    while ((value = (NextUint32() & mask)) > max) {
    }
  } else {
    // numpy's next_uint64 for MT19937: high word first.
    while ((value = (((static_cast<uint64_t>(NextUint32()) << 32) | NextUint32()) & mask)) > max) {
    }
  }
  return value;
}

int64_t RandomState::RandInt(int64_t low, int64_t high) {
  uint64_t range = static_cast<uint64_t>(high - low - 1);
  return low + static_cast<int64_t>(Interval(range));
}

void RandomState::ChoiceWithProbabilities(std::span<const double> p, size_t n,
                                          std::vector<size_t>* out) {
  cdf_.resize(p.size());
  double sum = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    sum += p[i];
    cdf_[i] = sum;
  }
  double last = cdf_.back();
  for (double& c : cdf_) {
    c /= last;
  }
  for (size_t k = 0; k < n; ++k) {
    double u = RandomSample();
    out->push_back(
        static_cast<size_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin()));
  }
}

}  // namespace plinth::tune
