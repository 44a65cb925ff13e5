#include "drift/report.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>

namespace plinth::drift {
namespace {

Status CheckThreshold(const std::optional<double>& t, std::string_view what) {
  if (t && !(*t >= 0.0)) {
    return InvalidArgument(std::string(what) + " must be a non-negative number");
  }
  return Status::Ok();
}

Result<TestResult> RunColumn(const DriftColumn& column, const DriftOptions& options,
                             bool* default_method) {
  if (column.kind == ColumnKind::kNumerical) {
    if (!column.numeric_reference || !column.numeric_current) {
      return InvalidArgument("numerical column without numeric samples");
    }
    const NumericSample& ref = *column.numeric_reference;
    const NumericSample& cur = *column.numeric_current;
    // Evidently refuses empty columns before choosing a test.
    if (ref.size() == 0 || cur.size() == 0) {
      return InvalidArgument(ref.size() == 0 ? "empty reference column" : "empty current column");
    }
    // The default rule only asks whether the union holds more than 5 (or 2) values: a side
    // with more answers that without a merge walk over both.
    const uint64_t lower = std::max<uint64_t>(ref.distinct(), cur.distinct());
    const uint64_t distinct = lower > 5 ? lower : UnionDistinct(ref, cur);
    PLINTH_ASSIGN_OR_RETURN(ResolvedTest test,
                            ResolveTest(options, column.name, column.kind, ref.size(), distinct));
    *default_method = test.default_method;
    return RunNumericTest(test.method, ref, cur, test.threshold);
  }
  if (!column.categorical_reference || !column.categorical_current) {
    return InvalidArgument("categorical column without categorical samples");
  }
  const CategoricalSample& ref = *column.categorical_reference;
  const CategoricalSample& cur = *column.categorical_current;
  if (ref.size() == 0 || cur.size() == 0) {
    return InvalidArgument(ref.size() == 0 ? "empty reference column" : "empty current column");
  }
  PLINTH_ASSIGN_OR_RETURN(uint64_t distinct, UnionDistinct(ref, cur));
  PLINTH_ASSIGN_OR_RETURN(ResolvedTest test,
                          ResolveTest(options, column.name, column.kind, ref.size(), distinct));
  *default_method = test.default_method;
  return RunCategoricalTest(test.method, ref, cur, test.threshold);
}

}  // namespace

Status DriftOptions::Validate() const {
  if (!(drift_share >= 0.0 && drift_share <= 1.0)) {
    return InvalidArgument("drift_share must be between 0 and 1");
  }
  if (threads < 0) {
    return InvalidArgument("threads must not be negative");
  }
  PLINTH_RETURN_IF_ERROR(CheckThreshold(threshold, "threshold"));
  PLINTH_RETURN_IF_ERROR(CheckThreshold(numerical_threshold, "numerical_threshold"));
  PLINTH_RETURN_IF_ERROR(CheckThreshold(categorical_threshold, "categorical_threshold"));
  for (const auto& [name, o] : per_column) {
    PLINTH_RETURN_IF_ERROR(CheckThreshold(o.threshold, "threshold of column '" + name + "'"));
  }
  return Status::Ok();
}

Result<ResolvedTest> ResolveTest(const DriftOptions& options, std::string_view column,
                                 ColumnKind kind, uint64_t reference_size,
                                 uint64_t union_distinct) {
  const bool numerical = kind == ColumnKind::kNumerical;
  const auto it = options.per_column.find(column);
  const ColumnOverride* override_ = it == options.per_column.end() ? nullptr : &it->second;

  std::optional<Method> method = options.method;
  if (const auto& by_kind = numerical ? options.numerical_method : options.categorical_method) {
    method = by_kind;
  }
  if (override_ && override_->method) {
    method = override_->method;
  }
  ResolvedTest out{};
  out.default_method = !method.has_value();
  if (method) {
    if (!MethodAllows(*method, kind)) {
      return InvalidArgument("drift method '" + std::string(MethodId(*method)) +
                             "' does not apply to " + (numerical ? "numerical" : "categorical") +
                             " columns");
    }
    out.method = *method;
  } else {
    out.method = DefaultMethod(kind, reference_size, union_distinct);
  }

  std::optional<double> threshold = options.threshold;
  if (const auto& by_kind =
          numerical ? options.numerical_threshold : options.categorical_threshold) {
    threshold = by_kind;
  }
  if (override_ && override_->threshold) {
    threshold = override_->threshold;
  }
  out.threshold = threshold.value_or(DefaultThreshold(out.method));
  return out;
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) {
      fn(i);
    }
    return;
  }
  // Columns differ in cost (a sort, a cheap count), so workers take the next index as they
  // finish rather than a fixed slice.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      fn(i);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t w = 1; w < workers; ++w) {
    pool.emplace_back(work);
  }
  work();
  for (auto& t : pool) {
    t.join();
  }
}

Result<DatasetDrift> ComputeDrift(std::span<const DriftColumn> columns,
                                  const DriftOptions& options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  if (columns.empty()) {
    return InvalidArgument("no columns to compare");
  }
  std::vector<Result<TestResult>> results(columns.size(), Result<TestResult>(Internal("unset")));
  std::vector<char> defaults(columns.size(), 1);
  ParallelFor(columns.size(), options.threads, [&](size_t i) {
    bool default_method = true;
    results[i] = RunColumn(columns[i], options, &default_method);
    defaults[i] = default_method;
  });
  DatasetDrift out;
  out.columns.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!results[i].ok()) {
      return Status(results[i].status().code(),
                    "column '" + columns[i].name + "': " + results[i].status().message());
    }
    ColumnDrift c;
    c.name = columns[i].name;
    c.kind = columns[i].kind;
    c.default_method = defaults[i] != 0;
    c.result = *results[i];
    out.drifted_columns += c.result.drifted ? 1 : 0;
    out.columns.push_back(std::move(c));
  }
  out.drifted_share =
      static_cast<double>(out.drifted_columns) / static_cast<double>(out.columns.size());
  out.dataset_drift = out.drifted_share >= options.drift_share;
  return out;
}

std::vector<std::shared_ptr<const NumericSample>> BuildNumericSamples(
    std::span<const std::span<const double>> columns, int threads) {
  std::vector<std::shared_ptr<const NumericSample>> out(columns.size());
  ParallelFor(columns.size(), threads, [&](size_t i) {
    out[i] = std::make_shared<const NumericSample>(NumericSample::FromValues(columns[i]));
  });
  return out;
}

}  // namespace plinth::drift
