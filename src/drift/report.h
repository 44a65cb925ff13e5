// Dataset drift: one test per column, chosen by Evidently's DataDriftPreset rules unless the
// options name one, and the dataset-level verdict from the share of drifted columns.
//
// Columns are tested in parallel, one column per task on `DriftOptions::threads` threads;
// each column's samples are read only, so one reference profile can serve many reports at
// once. ComputeDrift itself is thread-safe.
#ifndef PLINTH_DRIFT_REPORT_H_
#define PLINTH_DRIFT_REPORT_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "drift/sample.h"
#include "drift/stattests.h"

namespace plinth::drift {

// A per-column choice that wins over every other option.
struct ColumnOverride {
  std::optional<Method> method;
  std::optional<double> threshold;
};

// Evidently's DataDriftOptions / DataDriftPreset arguments. Precedence for a column's method
// and, separately, its threshold: per_column > numerical_/categorical_ > all-columns >
// default (the method's rule above, its default threshold).
struct DriftOptions {
  std::optional<Method> method;
  std::optional<Method> numerical_method;
  std::optional<Method> categorical_method;
  std::optional<double> threshold;
  std::optional<double> numerical_threshold;
  std::optional<double> categorical_threshold;
  std::map<std::string, ColumnOverride, std::less<>> per_column;
  // The dataset drifts when at least this share of its columns drift.
  double drift_share = 0.5;
  // Worker threads; 0 uses std::thread::hardware_concurrency().
  int threads = 0;

  // Fails with kInvalidArgument for a share outside [0, 1], a negative or NaN threshold, or a
  // negative thread count.
  Status Validate() const;
};

// One column of a report: reference and current samples of the same kind. The samples are
// shared so that a stored reference profile is decoded once and reused.
struct DriftColumn {
  std::string name;
  ColumnKind kind = ColumnKind::kNumerical;
  std::shared_ptr<const NumericSample> numeric_reference;
  std::shared_ptr<const NumericSample> numeric_current;
  std::shared_ptr<const CategoricalSample> categorical_reference;
  std::shared_ptr<const CategoricalSample> categorical_current;
};

struct ColumnDrift {
  std::string name;
  ColumnKind kind = ColumnKind::kNumerical;
  // Whether the method came from the default rules rather than the options.
  bool default_method = true;
  TestResult result;
};

struct DatasetDrift {
  std::vector<ColumnDrift> columns;  // in input order
  uint64_t drifted_columns = 0;
  double drifted_share = 0.0;  // drifted_columns / columns
  bool dataset_drift = false;  // drifted_share >= drift_share
};

// The method and threshold a column gets under `options`; `union_distinct` and
// `reference_size` feed the default rule. Failure: kInvalidArgument when the chosen method is
// not allowed for the column's kind (a numeric-only test on a categorical column).
struct ResolvedTest {
  Method method;
  double threshold;
  bool default_method;
};
Result<ResolvedTest> ResolveTest(const DriftOptions& options, std::string_view column,
                                 ColumnKind kind, uint64_t reference_size, uint64_t union_distinct);

// Runs every column's test. Failure: the options' Validate() error, or the first failing
// column's error prefixed with its name (an empty sample, a missing sample, a refused test),
// as Evidently fails the whole report.
Result<DatasetDrift> ComputeDrift(std::span<const DriftColumn> columns,
                                  const DriftOptions& options);

// Builds numeric samples from raw columns on `threads` threads (0: all cores): the sort is
// the dominant cost of a report from raw data.
std::vector<std::shared_ptr<const NumericSample>> BuildNumericSamples(
    std::span<const std::span<const double>> columns, int threads = 0);

// Runs fn(i) for i in [0, n) on up to `threads` threads (0: all cores), each index once.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

}  // namespace plinth::drift

#endif  // PLINTH_DRIFT_REPORT_H_
