// Profiles: per-column summaries of a table whose size does not depend on its row count, and
// which merge. Profile(A + B) equals Merge(Profile(A), Profile(B)) exactly for counts, nulls,
// min, max, true counts and string lengths, up to rounding for mean and standard deviation
// (Chan et al.'s pairwise update), and within the sketches' error for distinct counts
// (HyperLogLog), quantiles and histograms (KLL) and frequent values (Misra–Gries).
//
// ProfileTable works on blocks of rows per column on several threads and merges the blocks,
// so the parallel result and the merge path are the same code. Profiles are values; the
// functions are thread-safe.
#ifndef PLINTH_DATA_PROFILE_H_
#define PLINTH_DATA_PROFILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/sketches.h"
#include "data/table.h"

namespace plinth::data {

struct ColumnProfile {
  std::string name;
  DataType type = DataType::kString;
  uint64_t count = 0;       // rows, nulls included
  uint64_t null_count = 0;  // nulls (and cells that did not parse as a forced type)
  // Numeric, bool and timestamp columns: over the finite non-null values (bools as 0/1,
  // timestamps as microseconds). ±infinity is counted in infinite_count and left out.
  uint64_t infinite_count = 0;
  uint64_t numeric_count = 0;  // values in min/max/moments
  double min = 0.0;
  double max = 0.0;
  double mean = 0.0;        // int, float, bool
  double m2 = 0.0;          // sum of squared deviations from the mean
  uint64_t true_count = 0;  // bool
  // String columns: byte lengths of the non-null values.
  uint64_t min_length = 0;
  uint64_t max_length = 0;
  uint64_t total_length = 0;

  HyperLogLog distinct;
  std::optional<KllSketch> quantiles;     // int, float, timestamp
  std::optional<FrequentItems> frequent;  // int, bool, string

  // Sample standard deviation (ddof = 1, as pandas' std and GE's stdev); NaN below 2 values.
  double StdDev() const;
  double DistinctEstimate() const { return distinct.Estimate(); }
  bool IsNumeric() const {
    return type == DataType::kInt64 || type == DataType::kFloat64 || type == DataType::kBool;
  }
};

struct DatasetProfile {
  uint64_t row_count = 0;
  std::vector<ColumnProfile> columns;

  // The profile of the column named `name`, or nullptr.
  const ColumnProfile* Find(std::string_view name) const;
};

struct ProfileOptions {
  int threads = 0;              // 0: all cores
  size_t block_rows = 1 << 18;  // rows per task
  int hll_precision = 12;
  int kll_k = 200;
  size_t frequent_capacity = 64;
};

// Profiles every column of `table`.
DatasetProfile ProfileTable(const Table& table, const ProfileOptions& options = {});

// Merges `other` into `into` column by column (by name; columns only one side has are kept
// with the other side's rows counted as nulls). Failure: kInvalidArgument when a column has
// different types on the two sides or the sketch parameters differ.
Status MergeProfiles(DatasetProfile* into, const DatasetProfile& other);

// JSON with every summary and the sketches themselves (HLL registers in base64, KLL levels,
// frequent-item counters), so a stored profile can be merged later. `summary` adds derived
// fields for people: distinct estimate, std, quantiles, a 20-bin histogram, top values.
std::string ProfileToJson(const DatasetProfile& profile, bool pretty = true);
// Failure: kInvalidArgument naming what is wrong.
Result<DatasetProfile> ProfileFromJson(std::string_view json);

}  // namespace plinth::data

#endif  // PLINTH_DATA_PROFILE_H_
