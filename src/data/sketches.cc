#include "data/sketches.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace plinth::data {

uint64_t HashInt64(uint64_t v) {
  // splitmix64's finalizer: every input bit reaches every output bit.
  v += 0x9E3779B97F4A7C15ull;
  v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ull;
  v = (v ^ (v >> 27)) * 0x94D049BB133111EBull;
  return v ^ (v >> 31);
}

uint64_t HashDouble(double v) {
  if (v == 0.0) {
    v = 0.0;
  }
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return HashInt64(bits);
}

uint64_t HashBytes(std::string_view bytes) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = bytes.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ (w * 0xC2B2AE3D27D4EB4Full)) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  h = (h ^ (tail * 0x165667B19E3779F9ull)) * kMul;
  return HashInt64(h);
}

// ---------------------------------------------------------------------------------------------
HyperLogLog::HyperLogLog(int precision)
    : precision_(std::clamp(precision, 4, 18)), registers_(size_t{1} << precision_, 0) {}

namespace {

// Ertl's sigma and tau series (arXiv:1702.01284, Algorithm 6).
double Sigma(double x) {
  if (x == 1.0) {
    return std::numeric_limits<double>::infinity();
  }
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    const double previous = z;
    z += x * y;
    y += y;
    if (z == previous) {
      return z;
    }
  }
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) {
    return 0.0;
  }
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == previous) {
      return z / 3.0;
    }
  }
}

}  // namespace

double HyperLogLog::Estimate() const {
  const int q = 64 - precision_;
  std::vector<double> histogram(static_cast<size_t>(q) + 2, 0.0);
  for (uint8_t r : registers_) {
    histogram[r] += 1.0;
  }
  const double m = static_cast<double>(registers_.size());
  double z = m * Tau(1.0 - histogram[q + 1] / m);
  for (int k = q; k >= 1; --k) {
    z = 0.5 * (z + histogram[k]);
  }
  z += m * Sigma(histogram[0] / m);
  return (0.5 / std::log(2.0)) * m * m / z;
}

Status HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    return InvalidArgument("cannot merge HyperLogLog sketches of different precision");
  }
  for (size_t i = 0; i < registers_.size(); ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
  return Status::Ok();
}

Result<HyperLogLog> HyperLogLog::FromRegisters(int precision, std::vector<uint8_t> registers) {
  if (precision < 4 || precision > 18 || registers.size() != (size_t{1} << precision)) {
    return InvalidArgument("HyperLogLog registers do not match the precision");
  }
  HyperLogLog hll(precision);
  for (uint8_t r : registers) {
    if (r > 64 - precision + 1) {
      return InvalidArgument("HyperLogLog register out of range");
    }
  }
  hll.registers_ = std::move(registers);
  return hll;
}

// ---------------------------------------------------------------------------------------------
KllSketch::KllSketch(int k) : k_(std::max(k, 8)) { Grow(); }

void KllSketch::Grow() {
  constexpr size_t kMinWidth = 8;
  levels_.emplace_back();
  capacities_.resize(levels_.size());
  capacity_ = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    const size_t height = levels_.size() - h - 1;
    capacities_[h] =
        std::max(kMinWidth, static_cast<size_t>(std::ceil(std::pow(2.0 / 3.0, height) * k_)) + 1);
    capacity_ += capacities_[h];
  }
}

void KllSketch::Recount() {
  retained_ = 0;
  for (const auto& level : levels_) {
    retained_ += level.size();
  }
}

void KllSketch::Compress() {
  for (size_t h = 0; h < levels_.size(); ++h) {
    if (levels_[h].size() < LevelCapacity(h)) {
      continue;
    }
    if (h + 1 >= levels_.size()) {
      Grow();
    }
    std::vector<double>& level = levels_[h];
    std::sort(level.begin(), level.end());
    coin_state_ ^= coin_state_ << 13;
    coin_state_ ^= coin_state_ >> 7;
    coin_state_ ^= coin_state_ << 17;
    const size_t start = level.size() & 1;  // an odd item out stays at this level
    const size_t offset = coin_state_ & 1;
    std::vector<double>& up = levels_[h + 1];
    for (size_t i = start + offset; i < level.size(); i += 2) {
      up.push_back(level[i]);
    }
    level.resize(start);
    Recount();
    return;
  }
}

Status KllSketch::Merge(const KllSketch& other) {
  if (other.k_ != k_) {
    return InvalidArgument("cannot merge KLL sketches of different k");
  }
  while (levels_.size() < other.levels_.size()) {
    Grow();
  }
  for (size_t h = 0; h < other.levels_.size(); ++h) {
    levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
  }
  n_ += other.n_;
  Recount();
  while (retained_ >= capacity_) {
    Compress();
  }
  return Status::Ok();
}

std::vector<std::pair<double, uint64_t>> KllSketch::SortedWeighted() const {
  std::vector<std::pair<double, uint64_t>> items;
  items.reserve(retained_);
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) {
      items.emplace_back(v, uint64_t{1} << h);
    }
  }
  std::sort(items.begin(), items.end());
  return items;
}

double KllSketch::Quantile(double q) const {
  if (n_ == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto items = SortedWeighted();
  const double target = std::clamp(q, 0.0, 1.0) * static_cast<double>(n_);
  uint64_t cumulative = 0;
  for (const auto& [value, weight] : items) {
    cumulative += weight;
    if (static_cast<double>(cumulative) >= target) {
      return value;
    }
  }
  return items.back().first;
}

double KllSketch::Rank(double x) const {
  if (n_ == 0) {
    return 0.0;
  }
  uint64_t below = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) {
      if (v <= x) {
        below += uint64_t{1} << h;
      }
    }
  }
  return static_cast<double>(below) / static_cast<double>(n_);
}

Result<KllSketch> KllSketch::FromLevels(int k, uint64_t n,
                                        std::vector<std::vector<double>> levels) {
  if (k < 8 || levels.empty() || levels.size() > 64) {
    return InvalidArgument("KLL sketch: bad k or levels");
  }
  uint64_t weight = 0;
  for (size_t h = 0; h < levels.size(); ++h) {
    weight += levels[h].size() << h;
  }
  if (weight != n) {
    return InvalidArgument("KLL sketch: level weights do not add up to n");
  }
  KllSketch sketch(k);
  while (sketch.levels_.size() < levels.size()) {
    sketch.Grow();
  }
  sketch.levels_ = std::move(levels);
  sketch.n_ = n;
  sketch.Recount();
  while (sketch.retained_ >= sketch.capacity_) {
    sketch.Compress();
  }
  return sketch;
}

// ---------------------------------------------------------------------------------------------
FrequentItems::FrequentItems(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  counts_.reserve(capacity_ + 1);
}

void FrequentItems::Add(std::string_view item, uint64_t weight) {
  total_ += weight;
  auto it = counts_.find(item);
  if (it != counts_.end()) {
    it->second += weight;
    return;
  }
  counts_.emplace(std::string(item), weight);
  if (counts_.size() > capacity_) {
    Shrink();
  }
}

void FrequentItems::Shrink() {
  std::vector<uint64_t> values;
  values.reserve(counts_.size());
  for (const auto& [item, count] : counts_) {
    values.push_back(count);
  }
  // The (capacity+1)-th largest count: subtracting it leaves at most `capacity` counters.
  auto nth = values.begin() + static_cast<std::ptrdiff_t>(capacity_);
  std::nth_element(values.begin(), nth, values.end(), std::greater<>());
  const uint64_t cut = *nth;
  error_ += cut;
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second <= cut) {
      it = counts_.erase(it);
    } else {
      it->second -= cut;
      ++it;
    }
  }
}

void FrequentItems::Merge(const FrequentItems& other) {
  total_ += other.total_;
  error_ += other.error_;
  for (const auto& [item, count] : other.counts_) {
    counts_[item] += count;
  }
  if (counts_.size() > capacity_) {
    Shrink();
  }
}

std::vector<std::pair<std::string, uint64_t>> FrequentItems::Top(size_t limit) const {
  std::vector<std::pair<std::string, uint64_t>> items(counts_.begin(), counts_.end());
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (items.size() > limit) {
    items.resize(limit);
  }
  return items;
}

FrequentItems FrequentItems::FromCounts(
    size_t capacity, uint64_t total, uint64_t error,
    const std::vector<std::pair<std::string, uint64_t>>& counts) {
  FrequentItems items(capacity);
  for (const auto& [item, count] : counts) {
    items.counts_[item] += count;
  }
  items.total_ = total;
  items.error_ = error;
  if (items.counts_.size() > items.capacity_) {
    items.Shrink();
  }
  return items;
}

}  // namespace plinth::data
