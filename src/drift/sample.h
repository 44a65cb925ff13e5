// Samples: one column of one dataset (reference or current), reduced to what every drift test
// needs, built once and shared by all the tests run on that column.
//
// NumericSample holds the non-missing values sorted and run-length encoded (distinct values
// ascending, each with its count), so each two-sample test is one merge walk over two sorted
// arrays and nothing is sorted twice. Missing means NaN or ±infinity, which Evidently drops
// before any test. CategoricalSample holds each category's count.
//
// Both are also the stored form of a reference profile: `Encode` gives bytes that `Decode`
// turns back into an identical sample, so a report against a stored reference needs neither
// the reference rows nor a second sort. Samples are immutable once built and safe to share
// between threads.
#ifndef PLINTH_DRIFT_SAMPLE_H_
#define PLINTH_DRIFT_SAMPLE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace plinth::drift {

class NumericSample {
 public:
  NumericSample() = default;

  // Drops NaN and ±infinity (counted in missing()), sorts the rest. -0.0 counts as 0.0.
  static NumericSample FromValues(std::span<const double> values);
  // The same, also dropping (as missing) every value whose bit in `validity` (one bit per
  // value, LSB first; empty: all valid) is 0.
  static NumericSample FromValues(std::span<const double> values,
                                  std::span<const uint64_t> validity);
  // From integers, missing where `validity` says so. A narrow range of values (most integer
  // columns: codes, counts, ids) is counted in one pass instead of sorted.
  static NumericSample FromInts(std::span<const int64_t> values,
                                std::span<const uint64_t> validity = {});
  // From distinct values (strictly ascending, finite) and their counts (each > 0).
  // Failure: kInvalidArgument naming what is wrong.
  static Result<NumericSample> FromDistinct(std::vector<double> values,
                                            std::vector<uint64_t> counts, uint64_t missing);
  // Profile bytes; Decode fails with kInvalidArgument on anything Encode did not write.
  std::string Encode() const;
  static Result<NumericSample> Decode(std::string_view bytes);

  // Non-missing values.
  uint64_t size() const { return size_; }
  uint64_t missing() const { return missing_; }
  size_t distinct() const { return values_.size(); }
  std::span<const double> values() const { return values_; }
  std::span<const uint64_t> counts() const { return counts_; }
  // Mean and population standard deviation (numpy's np.std, ddof=0) of the non-missing values.
  double Mean() const;
  double StdDev() const;

 private:
  void Finish();

  std::vector<double> values_;
  std::vector<uint64_t> counts_;
  uint64_t size_ = 0;
  uint64_t missing_ = 0;
};

class CategoricalSample {
 public:
  // How categories compare when a test needs their order (the Z-test's "first" category):
  // as integers for integer codes, as bytes for strings, as pandas sorts them.
  enum class KeyKind { kString, kInteger };

  CategoricalSample() = default;

  // One string per row; rows whose `missing` flag is set (when given) are dropped.
  static CategoricalSample FromStrings(std::span<const std::string_view> values,
                                       std::span<const uint8_t> missing = {});
  // One integer code per row; negative codes are missing (pandas' convention).
  static CategoricalSample FromCodes(std::span<const int64_t> codes);
  // From categories (unique) and their counts (each > 0). Failure: kInvalidArgument.
  static Result<CategoricalSample> FromCounts(std::vector<std::string> labels,
                                              std::vector<uint64_t> counts, uint64_t missing);
  static Result<CategoricalSample> FromCodeCounts(std::vector<int64_t> codes,
                                                  std::vector<uint64_t> counts, uint64_t missing);
  std::string Encode() const;
  static Result<CategoricalSample> Decode(std::string_view bytes);

  KeyKind key_kind() const { return kind_; }
  uint64_t size() const { return size_; }
  uint64_t missing() const { return missing_; }
  size_t distinct() const { return counts_.size(); }
  // Categories in ascending key order; labels() for kString, codes() for kInteger.
  std::span<const std::string> labels() const { return labels_; }
  std::span<const int64_t> codes() const { return codes_; }
  std::span<const uint64_t> counts() const { return counts_; }

 private:
  KeyKind kind_ = KeyKind::kString;
  std::vector<std::string> labels_;
  std::vector<int64_t> codes_;
  std::vector<uint64_t> counts_;
  uint64_t size_ = 0;
  uint64_t missing_ = 0;
};

// Sorts doubles ascending (no NaN) by an LSD radix sort on their order-preserving bit
// patterns: 3-5x faster than std::sort on a million rows. `scratch` is resized as needed.
void RadixSortDoubles(std::vector<double>& values, std::vector<double>& scratch);

}  // namespace plinth::drift

#endif  // PLINTH_DRIFT_SAMPLE_H_
