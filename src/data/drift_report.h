// Drift between two tables: each column both tables share becomes a pair of drift samples
// (src/drift: numeric for int and float columns, categorical for string and bool columns),
// src/drift's ComputeDrift picks and runs the tests (Evidently's DataDriftPreset rules unless
// the options say otherwise), and the result renders as JSON or as a self-contained HTML page
// with one distribution plot (inline SVG) per column.
//
// A column whose type differs between the tables is compared as categorical on its text when
// either side is a string, as numeric otherwise. Timestamp columns are skipped (Evidently
// does not test datetime columns for drift), as are columns only one table has; both are
// listed in `skipped`. Samples are built on several threads, one column per task, so memory
// beyond the tables stays at a few columns. Thread-safe.
#ifndef PLINTH_DATA_DRIFT_REPORT_H_
#define PLINTH_DATA_DRIFT_REPORT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/table.h"
#include "drift/report.h"
#include "drift/sample.h"

namespace plinth::data {

// What the HTML draws for one column: shares of reference and current rows per bin (numeric:
// equal-width bins over both samples' range) or per category (the most frequent ones).
struct ColumnDistribution {
  bool numeric = true;
  std::vector<double> edges;        // numeric: bins + 1 edges
  std::vector<std::string> labels;  // categorical
  std::vector<double> reference;    // shares, one per bin or label
  std::vector<double> current;
};

struct TableDrift {
  drift::DatasetDrift result;
  double drift_share_threshold = 0.5;
  std::vector<ColumnDistribution> distributions;  // one per result column
  std::vector<std::string> skipped;               // "name: reason"
  uint64_t reference_rows = 0;
  uint64_t current_rows = 0;
};

// Failure: the options' Validate() error, no column to compare, or ComputeDrift's error
// (an empty column, a refused test) naming the column. `distributions` false leaves
// TableDrift::distributions empty (what the JSON does not show is not computed).
Result<TableDrift> ComputeTableDrift(const Table& reference, const Table& current,
                                     const drift::DriftOptions& options, bool distributions = true);

// A stored reference: what a report needs of the reference data and nothing more, so drift
// against training data never reads that data again. Per column its name, type and drift
// sample (numeric: the sorted distinct values with counts, exact, so every test gives what it
// gives on the raw rows; categorical: the count per category). Timestamp columns are left out
// (listed in `skipped`).
struct DriftReferenceColumn {
  std::string name;
  DataType type = DataType::kFloat64;
  std::shared_ptr<const drift::NumericSample> numeric;          // int and float columns
  std::shared_ptr<const drift::CategoricalSample> categorical;  // string and bool columns
};
struct DriftReference {
  uint64_t rows = 0;
  std::vector<DriftReferenceColumn> columns;
  std::vector<std::string> skipped;
};

DriftReference BuildDriftReference(const Table& table, int threads = 0);
// Bytes: a text header line ("PLINTH-DRIFT-REFERENCE 1"), then little-endian fields and each
// column's sample encoding. About 6 bytes per distinct numeric value; a few bytes per category.
std::string EncodeDriftReference(const DriftReference& reference);
// Whether `head` (the first bytes of a file) starts like EncodeDriftReference's output.
bool IsDriftReference(std::string_view head);
// Failure: kInvalidArgument for anything EncodeDriftReference did not write.
Result<DriftReference> DecodeDriftReference(std::string_view bytes);
// The drift reference stored in the file at `path`, or nullopt when the file is something else
// (a CSV file). Failure: kNotFound / kInternal when it cannot be read, kInvalidArgument (naming
// the file) for a damaged reference.
Result<std::optional<DriftReference>> ReadDriftReferenceFile(const std::string& path);
// Drift of `current` against a stored reference: the same report ComputeTableDrift gives on
// the reference's rows (same tests, statistics and p-values).
Result<TableDrift> ComputeTableDrift(const DriftReference& reference, const Table& current,
                                     const drift::DriftOptions& options, bool distributions = true);

// {"dataset_drift", "drift_share" (share of drifted columns), "drift_share_threshold",
//  "number_of_columns", "number_of_drifted_columns", "columns": {name: {"test", "statistic",
//  "p_value" (null for distances), "score", "threshold", "drifted", "column_type",
//  "default_test", "distribution"?}}, "skipped": [...]}; "distribution" ({"kind": "histogram"
//  with "edges" | "categories" with "labels", "reference", "current": shares}) when the drift
//  was computed with distributions.
std::string DriftToJson(const TableDrift& drift);
// A self-contained page: summary, then one row per column with its test and an inline SVG of
// the reference and current distributions. No scripts, no external resources.
std::string DriftToHtml(const TableDrift& drift, std::string_view reference_name,
                        std::string_view current_name);

}  // namespace plinth::data

#endif  // PLINTH_DATA_DRIFT_REPORT_H_
