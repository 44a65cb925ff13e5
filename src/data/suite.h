// Validation suites: a schema (columns, types, required, nullable, a primary key) and a list of
// expectations named and parameterised as Great Expectations' core set (GX 1.x), read from
// YAML (or JSON, which is YAML), and drafted from a profile by InferSuite.
//
//   name: churn
//   strict: false                 # true: columns the schema does not list are violations
//   primary_key: [customer_id]    # duplicate keys are violations
//   columns:
//     - {name: customer_id, type: int, nullable: false}
//     - {name: plan, type: string}
//   expectations:
//     - expect_column_values_to_be_between: {column: age, min_value: 0, max_value: 120}
//     - expectation_type: expect_column_values_to_be_in_set      # GE's JSON form works too
//       kwargs: {column: plan, value_set: [basic, pro], mostly: 0.99}
//
// Suites are plain values; parsing is thread-safe.
#ifndef PLINTH_DATA_SUITE_H_
#define PLINTH_DATA_SUITE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/profile.h"
#include "data/table.h"

namespace plinth::data {

struct ColumnSchema {
  std::string name;
  std::optional<DataType> type;  // unset: any type
  bool required = true;          // the column must exist
  bool nullable = true;          // nulls allowed
};

// A bound of a between-style expectation: a number, or text (a timestamp or string bound).
struct Bound {
  double number = 0.0;
  std::string text;
  bool is_number = false;
};

struct Expectation {
  std::string type;         // e.g. "expect_column_values_to_be_between"
  std::string kwargs_json;  // the arguments as written, echoed in results
  std::string column;
  std::vector<std::string> column_list;  // compound / multicolumn expectations
  std::string column_a, column_b;        // column-pair expectations
  std::optional<Bound> min_value, max_value;
  bool strict_min = false, strict_max = false;
  std::optional<double> value;         // *_to_equal
  std::vector<std::string> value_set;  // as text; parsed per column type
  std::string regex;
  std::string type_name;          // expect_column_values_to_be_of_type
  std::vector<double> quantiles;  // expect_column_quantile_values_to_be_between
  std::vector<std::pair<std::optional<double>, std::optional<double>>> value_ranges;
  bool or_equal = false;  // column pair A > B
  double mostly = 1.0;
};

struct Suite {
  std::string name = "suite";
  bool strict = false;
  std::vector<std::string> primary_key;
  std::vector<ColumnSchema> columns;
  std::vector<Expectation> expectations;

  const ColumnSchema* FindColumn(std::string_view name) const;
};

// The expectation types this engine evaluates.
const std::vector<std::string_view>& SupportedExpectations();

// Parses a suite. Failure: kInvalidArgument naming the entry (an unknown expectation, a
// missing or mistyped argument, an unknown type name, bad YAML with its line).
Result<Suite> ParseSuite(std::string_view yaml);
// Reads and parses a file. Failure: kNotFound/kInternal for I/O, else as ParseSuite.
Result<Suite> LoadSuiteFile(const std::string& path);
// YAML for a suite, in the form ParseSuite reads.
std::string SuiteToYaml(const Suite& suite);

// Drafts a suite from a profile: every column with its type (nullable only if it had nulls),
// not-null for columns without nulls, value ranges from min/max, value sets for columns with
// at most `max_set_size` distinct values (when the frequent-item counts are exact), string
// length ranges, uniqueness where `unique_columns` says the column has no duplicates, and a row
// count between half and twice the profiled count. A draft to review, not a verdict.
struct InferSuiteOptions {
  std::string name = "suite";
  size_t max_set_size = 20;
  std::vector<std::string> unique_columns;
};
Suite InferSuite(const DatasetProfile& profile, const InferSuiteOptions& options = {});

}  // namespace plinth::data

#endif  // PLINTH_DATA_SUITE_H_
