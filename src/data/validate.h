// Validation: a suite (suite.h) run against a table read from a file, with results shaped as
// Great Expectations' (success, observed_value, element/missing/unexpected counts and
// percents, a partial list of unexpected values) plus what GE leaves out: every unexpected
// value comes with its ROW and LINE.
//
//   row  — 1-based data row of the table: the n-th record read, header excluded, malformed
//          records (skipped by the reader) excluded;
//   line — 1-based line of the file where that record starts (a quoted field may span
//          lines, so line is not row + 1 in general).
//
// Schema violations are reported beside the expectations: missing required columns, columns
// a strict schema does not list, cells that do not parse as their declared type, nulls in a
// non-nullable column (cells with a bad type are reported once, as bad types), duplicate
// primary keys (each repeat, naming the row it repeats), and malformed records from the CSV
// reader. Map expectations follow GE: nulls are not evaluated and not in the denominator of
// unexpected_percent; `mostly` is the share of non-null values that must pass.
// Expectations run in parallel; Validate is thread-safe.
#ifndef PLINTH_DATA_VALIDATE_H_
#define PLINTH_DATA_VALIDATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/csv.h"
#include "data/suite.h"

namespace plinth::data {

struct UnexpectedValue {
  uint64_t row = 0;   // 1-based data row; 0 when the record is not in the table (malformed)
  int64_t line = 0;   // 1-based file line where the record starts
  std::string value;  // as text; "null" for a null
  std::string note;   // e.g. "duplicate of row 3", the reader's reason for a malformed line
};

struct ExpectationResult {
  const Expectation* expectation = nullptr;
  bool success = false;
  bool is_map = false;        // a per-value expectation (counts and unexpected values apply)
  std::string observed_json;  // aggregates: the observed value as JSON; empty if none
  uint64_t element_count = 0;
  uint64_t missing_count = 0;
  uint64_t unexpected_count = 0;
  std::vector<UnexpectedValue> partial_unexpected;
  std::string error;  // the expectation could not run (unknown column, wrong type…)
};

struct SchemaViolation {
  std::string kind;    // missing_column, unexpected_column, type_mismatch, not_nullable,
                       // duplicate_key, malformed_row
  std::string column;  // empty for malformed rows and composite keys
  std::string detail;
  uint64_t count = 0;
  std::vector<UnexpectedValue> sample;
};

struct ValidationReport {
  std::string suite_name;
  std::string source;
  uint64_t row_count = 0;
  bool success = false;
  std::vector<SchemaViolation> schema;
  std::vector<ExpectationResult> results;
  // Kept so results can point at their expectation.
  std::shared_ptr<const Suite> suite;
};

struct ValidateOptions {
  size_t partial_unexpected_count = 20;  // GE's default
  int threads = 0;
};

// The reader options a suite implies: declared types forced, malformed records collected.
CsvOptions SuiteCsvOptions(const Suite& suite, CsvOptions base = {});

// Runs `suite` against `data` (read with SuiteCsvOptions). Never fails: an expectation that
// cannot run is a failed result with `error` set, as GE reports exception_info.
ValidationReport Validate(std::shared_ptr<const Suite> suite, const CsvReadResult& data,
                          const ValidateOptions& options = {});

// GE-shaped JSON: {success, statistics{evaluated_expectations, successful_expectations,
// unsuccessful_expectations, success_percent}, schema{success, violations[]}, results[],
// meta{expectation_suite_name, source, row_count, row_numbering}}.
std::string ValidationToJson(const ValidationReport& report);
// A self-contained HTML page (inline CSS, no scripts from anywhere).
std::string ValidationToHtml(const ValidationReport& report);

// Names of the columns of `table` that hold no duplicate non-null value (for InferSuite).
std::vector<std::string> UniqueColumns(const Table& table, int threads = 0);

// Escapes text for HTML.
std::string HtmlEscape(std::string_view text);

}  // namespace plinth::data

#endif  // PLINTH_DATA_VALIDATE_H_
