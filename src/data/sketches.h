// Mergeable sketches behind column profiles: HyperLogLog (distinct count), a KLL quantile
// sketch and Misra–Gries frequent items. Each has a size fixed by its parameters, not by the
// rows it has seen, and Merge(a, b) equals (within the sketch's error) the sketch of a's rows
// followed by b's, so profiles of chunks combine into the profile of the whole.
//
// Our own small implementations: Debian bookworm packages no sketch library (Apache
// DataSketches' C++ headers are not packaged), and each of these is under 150 lines. Value
// types; not thread-safe (one sketch per thread, merge afterwards).
#ifndef PLINTH_DATA_SKETCHES_H_
#define PLINTH_DATA_SKETCHES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"

namespace plinth::data {

// 64-bit hashes for sketches (not for anything adversarial).
uint64_t HashInt64(uint64_t v);
uint64_t HashDouble(double v);  // -0.0 hashes as 0.0
uint64_t HashBytes(std::string_view bytes);

// HyperLogLog with 2^precision one-byte registers (precision 12: 4 KiB, ~1.6% standard error),
// estimated with Ertl's improved estimator (arXiv:1702.01284), which needs neither the
// linear-counting switch nor bias tables and is accurate from 0 to billions.
class HyperLogLog {
 public:
  explicit HyperLogLog(int precision = 12);

  void Add(uint64_t hash) {
    const uint64_t index = hash >> (64 - precision_);
    const uint64_t rest = (hash << precision_) | (uint64_t{1} << (precision_ - 1));
    const uint8_t rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    if (rank > registers_[index]) {
      registers_[index] = rank;
    }
  }
  double Estimate() const;
  // Failure: kInvalidArgument when the precisions differ.
  Status Merge(const HyperLogLog& other);

  int precision() const { return precision_; }
  const std::vector<uint8_t>& registers() const { return registers_; }
  // From stored registers. Failure: kInvalidArgument when the size is not 2^precision.
  static Result<HyperLogLog> FromRegisters(int precision, std::vector<uint8_t> registers);

 private:
  int precision_;
  std::vector<uint8_t> registers_;
};

// KLL quantile sketch (Karnin, Lang, Liberty 2016) with lazy compaction as in the authors'
// reference code: level h holds up to ~k·(2/3)^(H-h-1) items of weight 2^h, and at least 8
// (DataSketches' minimum width, which keeps the lowest levels from compacting every few
// values; it costs a few dozen more retained values). With k = 200 the
// rank error is about 1.7% at 99% confidence; ~3k values are retained. Compaction coins come
// from a fixed-seed generator, so the same input gives the same sketch.
class KllSketch {
 public:
  explicit KllSketch(int k = 200);

  void Add(double value) {
    levels_[0].push_back(value);
    ++n_;
    if (++retained_ >= capacity_) {
      Compress();
    }
  }
  // Failure: kInvalidArgument when the k differ.
  Status Merge(const KllSketch& other);

  uint64_t count() const { return n_; }
  int k() const { return k_; }
  // The value at rank q·n (q in [0, 1]); NaN for an empty sketch.
  double Quantile(double q) const;
  // The approximate fraction of values <= x.
  double Rank(double x) const;
  // Retained values and weights sorted by value (for histograms and reports).
  std::vector<std::pair<double, uint64_t>> SortedWeighted() const;

  const std::vector<std::vector<double>>& levels() const { return levels_; }
  // From stored levels. Failure: kInvalidArgument when k < 8 or the weights do not add to n.
  static Result<KllSketch> FromLevels(int k, uint64_t n, std::vector<std::vector<double>> levels);

 private:
  size_t LevelCapacity(size_t h) const { return capacities_[h]; }
  void Grow();
  void Compress();
  void Recount();

  int k_;
  uint64_t n_ = 0;
  size_t retained_ = 0;
  size_t capacity_ = 0;
  uint64_t coin_state_ = 0x9E3779B97F4A7C15ull;
  std::vector<std::vector<double>> levels_;
  std::vector<size_t> capacities_;  // per level, recomputed when a level is added
};

// Misra–Gries frequent items over strings (integers and booleans are keyed by their text):
// at most `capacity` counters; every count is a lower bound of the true count and at most
// max_error() below it, and every item more frequent than n/(capacity+1) is present. Merging
// follows Agarwal et al. (mergeable summaries): add the counters, subtract the
// (capacity+1)-th largest count, drop what falls to zero.
class FrequentItems {
 public:
  explicit FrequentItems(size_t capacity = 64);

  void Add(std::string_view item, uint64_t weight = 1);
  void Merge(const FrequentItems& other);

  uint64_t total() const { return total_; }
  // How far any count may be below the truth; 0 means every count is exact.
  uint64_t max_error() const { return error_; }
  size_t capacity() const { return capacity_; }
  // (item, count) by count descending, then item ascending.
  std::vector<std::pair<std::string, uint64_t>> Top(size_t limit) const;
  // Restores a stored summary.
  static FrequentItems FromCounts(size_t capacity, uint64_t total, uint64_t error,
                                  const std::vector<std::pair<std::string, uint64_t>>& counts);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return HashBytes(s); }
  };
  void Shrink();

  size_t capacity_;
  uint64_t total_ = 0;
  uint64_t error_ = 0;
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> counts_;
};

}  // namespace plinth::data

#endif  // PLINTH_DATA_SKETCHES_H_
