// Validation on a planted-fault file: every fault (nulls, out-of-range values, an unseen
// category, bad types, a duplicate key, a malformed line, a bad regex match) is found at its
// exact row and line, and no valid row is flagged. Also suite parsing errors, GE semantics
// (mostly, nulls outside the denominator, duplicates flagged in full), aggregates, the JSON and
// HTML reports, and infer-suite drafting a suite that its own data passes.
#include "data/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "data/profile.h"

namespace plinth::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Line numbers on the right; row = data row.
constexpr std::string_view kPlanted =
    "id,age,plan,score,signup,email,note\n"                       // line 1
    "1,34,basic,0.5,2024-01-02,a@x.com,ok\n"                      // 2  row 1 valid
    "2,,pro,0.7,2024-01-03,b@x.com,\"two\nlines\"\n"              // 3-4 row 2 null age
    "3,150,pro,0.2,2024-01-04,c@x.com,ok\n"                       // 5  row 3 age out of range
    "4,41,platinum,0.9,2024-01-05,d@x.com,ok\n"                   // 6  row 4 unseen plan
    "5,abc,basic,0.1,2024-01-06,e@x.com,ok\n"                     // 7  row 5 bad type (age)
    "3,29,basic,0.3,2024-01-07,f@x.com,ok\n"                      // 8  row 6 duplicate id
    "7,50,basic,0.4,2024-01-08,g@x.com,ok,extra\n"                // 9  malformed: 8 fields
    "8,22,pro,1.6,2024-01-09,h-at-x.com,ok\n"                     // 10 row 7 score, email
    "9,30,\"basic\",0.5,2024-01-10,i@x.com,\"say \"\"hi\"\"\"\n"  // 11 row 8 valid
    "10,45,pro,0.8,not-a-date,j@x.com,ok\n";                      // 12 row 9 bad type (signup)

constexpr std::string_view kPlantedSuite = R"(
name: planted
strict: true
primary_key: [id]
columns:
  - {name: id, type: int, nullable: false}
  - {name: age, type: int, nullable: false}
  - {name: plan, type: string}
  - {name: score, type: float}
  - {name: signup, type: timestamp}
  - {name: email, type: string}
  - {name: note, type: string}
expectations:
  - expect_column_values_to_not_be_null: {column: age}
  - expect_column_values_to_be_between: {column: age, min_value: 0, max_value: 120}
  - expect_column_values_to_be_in_set: {column: plan, value_set: [basic, pro]}
  - expect_column_values_to_be_between: {column: score, min_value: 0, max_value: 1}
  - expect_column_values_to_match_regex: {column: email, regex: "^[^@]+@[^@]+$"}
  - expect_column_values_to_be_unique: {column: id}
  - expect_column_value_lengths_to_be_between: {column: plan, min_value: 3, max_value: 5}
  - expect_table_row_count_to_be_between: {min_value: 1, max_value: 100}
  - expect_column_mean_to_be_between: {column: score, min_value: 0, max_value: 1}
  - expect_column_median_to_be_between: {column: age, min_value: 20, max_value: 60}
  - expect_column_pair_values_A_to_be_greater_than_B: {column_A: age, column_B: score}
  - expect_compound_columns_to_be_unique: {column_list: [id, plan]}
  - expectation_type: expect_column_values_to_be_between
    kwargs: {column: signup, min_value: "2024-01-01", max_value: "2024-12-31"}
)";

std::vector<uint64_t> Rows(const std::vector<UnexpectedValue>& values) {
  std::vector<uint64_t> rows;
  for (const UnexpectedValue& v : values) {
    rows.push_back(v.row);
  }
  return rows;
}

std::vector<int64_t> Lines(const std::vector<UnexpectedValue>& values) {
  std::vector<int64_t> lines;
  for (const UnexpectedValue& v : values) {
    lines.push_back(v.line);
  }
  return lines;
}

class PlantedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto suite = ParseSuite(kPlantedSuite);
    ASSERT_TRUE(suite.ok()) << suite.status().ToString();
    suite_ = std::make_shared<const Suite>(std::move(*suite));
    CsvOptions options = SuiteCsvOptions(*suite_);
    options.chunk_bytes = 64;  // several chunks, also in parallel
    auto data = ReadCsvString(kPlanted, options);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    data_ = std::move(*data);
    report_ = Validate(suite_, data_);
  }

  const SchemaViolation* Violation(std::string_view kind, std::string_view column) const {
    for (const SchemaViolation& v : report_.schema) {
      if (v.kind == kind && v.column == column) {
        return &v;
      }
    }
    return nullptr;
  }

  std::shared_ptr<const Suite> suite_;
  CsvReadResult data_;
  ValidationReport report_;
};

TEST_F(PlantedTest, SchemaViolationsAtExactRowsAndLines) {
  EXPECT_FALSE(report_.success);
  EXPECT_EQ(report_.row_count, 9u);
  ASSERT_EQ(report_.schema.size(), 5u);

  const SchemaViolation* age_type = Violation("type_mismatch", "age");
  ASSERT_NE(age_type, nullptr);
  EXPECT_THAT(Rows(age_type->sample), ElementsAre(5));
  EXPECT_THAT(Lines(age_type->sample), ElementsAre(7));
  EXPECT_EQ(age_type->sample[0].value, "abc");

  const SchemaViolation* signup_type = Violation("type_mismatch", "signup");
  ASSERT_NE(signup_type, nullptr);
  EXPECT_THAT(Rows(signup_type->sample), ElementsAre(9));
  EXPECT_THAT(Lines(signup_type->sample), ElementsAre(12));

  const SchemaViolation* nulls = Violation("not_nullable", "age");
  ASSERT_NE(nulls, nullptr);  // row 5 is a bad type, not a null
  EXPECT_THAT(Rows(nulls->sample), ElementsAre(2));
  EXPECT_THAT(Lines(nulls->sample), ElementsAre(3));

  const SchemaViolation* dup = Violation("duplicate_key", "id");
  ASSERT_NE(dup, nullptr);
  EXPECT_THAT(Rows(dup->sample), ElementsAre(6));
  EXPECT_THAT(Lines(dup->sample), ElementsAre(8));
  EXPECT_EQ(dup->sample[0].note, "duplicate of row 3");

  const SchemaViolation* malformed = Violation("malformed_row", "");
  ASSERT_NE(malformed, nullptr);
  ASSERT_EQ(malformed->count, 1u);
  EXPECT_EQ(malformed->sample[0].row, 0u);
  EXPECT_EQ(malformed->sample[0].line, 9);
  EXPECT_THAT(malformed->sample[0].note,
              HasSubstr("line 9, column 38: expected 7 fields, found 8"));
}

TEST_F(PlantedTest, ExpectationsFlagExactlyThePlantedRows) {
  ASSERT_EQ(report_.results.size(), 13u);
  std::map<size_t, std::vector<uint64_t>> expected_rows = {
      {0, {2}},     // not null (row 5's bad type is not a null)
      {1, {3}},     // age <= 120
      {2, {4}},     // plan in set
      {3, {7}},     // score <= 1
      {4, {7}},     // email regex
      {5, {3, 6}},  // id unique: GE flags every member of a duplicate group
      {6, {4}},     // "platinum" is 8 characters
  };
  std::set<uint64_t> flagged;
  for (size_t i = 0; i < report_.results.size(); ++i) {
    const ExpectationResult& r = report_.results[i];
    SCOPED_TRACE(r.expectation->type + " #" + std::to_string(i));
    EXPECT_TRUE(r.error.empty()) << r.error;
    auto it = expected_rows.find(i);
    if (it == expected_rows.end()) {
      EXPECT_TRUE(r.success);
      EXPECT_EQ(r.unexpected_count, 0u);
      continue;
    }
    EXPECT_FALSE(r.success);
    EXPECT_EQ(Rows(r.partial_unexpected), it->second);
    EXPECT_EQ(r.unexpected_count, it->second.size());
    for (uint64_t row : it->second) {
      flagged.insert(row);
    }
  }
  // Lines follow rows through the multi-line record: row 7 is line 10.
  EXPECT_THAT(Lines(report_.results[3].partial_unexpected), ElementsAre(10));
  EXPECT_EQ(report_.results[3].partial_unexpected[0].value, "1.6");
  // Nulls stay out of the denominator: age has 7 evaluated values, one unexpected.
  EXPECT_EQ(report_.results[1].missing_count, 2u);
  EXPECT_EQ(report_.results[10].missing_count, 2u);  // pair: rows with a null age
  // The valid rows 1 and 8 are never flagged.
  EXPECT_EQ(flagged.count(1), 0u);
  EXPECT_EQ(flagged.count(8), 0u);
  EXPECT_EQ(report_.results[9].observed_json, "34.0");  // median age
}

TEST_F(PlantedTest, JsonAndHtmlReports) {
  report_.source = "planted.csv";
  const auto json = nlohmann::json::parse(ValidationToJson(report_));
  EXPECT_FALSE(json["success"].get<bool>());
  EXPECT_EQ(json["statistics"]["evaluated_expectations"], 13);
  EXPECT_EQ(json["statistics"]["unsuccessful_expectations"], 7);
  const auto& in_set = json["results"][2];
  EXPECT_EQ(in_set["expectation_config"]["expectation_type"], "expect_column_values_to_be_in_set");
  EXPECT_EQ(in_set["result"]["unexpected_count"], 1);
  EXPECT_NEAR(in_set["result"]["unexpected_percent"].get<double>(), 100.0 / 9, 1e-9);
  EXPECT_EQ(in_set["result"]["partial_unexpected_list"][0], "platinum");
  EXPECT_EQ(in_set["result"]["partial_unexpected_rows"][0]["row"], 4);
  EXPECT_EQ(in_set["result"]["partial_unexpected_rows"][0]["line"], 6);
  EXPECT_EQ(json["schema"]["violations"].size(), 5u);
  const std::string html = ValidationToHtml(report_);
  EXPECT_THAT(html, HasSubstr("platinum"));
  EXPECT_THAT(html, HasSubstr("duplicate of row 3"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script")));
}

// A suite that names 2 of the 7 columns types only those two, yet table-level expectations and
// strict mode still see every column of the file, and a type error in a kept column is
// reported against that column (its index in the smaller table).
TEST(ValidateTest, OnlyTheSuitesColumnsAreTyped) {
  auto suite = ParseSuite(R"(
name: narrow
strict: true
columns:
  - {name: age, type: int}
  - {name: plan, type: string}
expectations:
  - expect_table_column_count_to_equal: {value: 7}
  - expect_table_columns_to_match_ordered_list:
      column_list: [id, age, plan, score, signup, email, note]
  - expect_column_values_to_be_in_set: {column: plan, value_set: [basic, pro]}
)");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  auto shared = std::make_shared<const Suite>(std::move(*suite));
  CsvOptions options = SuiteCsvOptions(*shared);
  EXPECT_THAT(options.only_columns, ElementsAre("age", "plan"));
  options.chunk_bytes = 64;
  auto data = ReadCsvString(kPlanted, options);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ASSERT_EQ(data->table.num_columns(), 2u);
  EXPECT_EQ(data->file_columns.size(), 7u);
  EXPECT_EQ(data->bad_rows.size(), 1u);  // the 8-field line: found though its columns are not typed
  const ValidationReport report = Validate(shared, *data);
  ASSERT_EQ(report.results.size(), 3u);
  EXPECT_TRUE(report.results[0].success);
  EXPECT_TRUE(report.results[1].success);
  EXPECT_FALSE(report.results[2].success);  // platinum
  size_t unexpected = 0;
  bool age_type_error = false;
  for (const SchemaViolation& v : report.schema) {
    unexpected += v.kind == "unexpected_column" ? 1 : 0;
    age_type_error = age_type_error || (v.kind == "type_mismatch" && v.column == "age");
  }
  EXPECT_EQ(unexpected, 5u);
  EXPECT_TRUE(age_type_error);
}

TEST(ValidateTest, MostlyAndAggregates) {
  auto suite = ParseSuite(R"(
expectations:
  - expect_column_values_to_be_in_set: {column: c, value_set: [a, b], mostly: 0.75}
  - expect_column_values_to_be_in_set: {column: c, value_set: [a, b], mostly: 0.9}
  - expect_column_stdev_to_be_between: {column: x, min_value: 1.29, max_value: 1.30}
  - expect_column_quantile_values_to_be_between:
      column: x
      quantile_ranges: {quantiles: [0.0, 0.5, 1.0], value_ranges: [[1, 1], [2, 3], [4, 4]]}
  - expect_column_values_to_be_in_set: {column: x, value_set: [1, 2, 3]}
  - expect_column_sum_to_be_between: {column: x, min_value: 10, max_value: 10}
  - expect_column_values_to_be_between: {column: missing, min_value: 0}
  - expect_column_mean_to_be_between: {column: c, min_value: 0}
  - expect_table_columns_to_match_set: {column_set: [x, c]}
  - expect_column_unique_value_count_to_be_between: {column: c, min_value: 3, max_value: 3}
)");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  auto data = ReadCsvString("x,c\n1,a\n2,b\n3,a\n4,z\n", {});
  ASSERT_TRUE(data.ok());
  auto report = Validate(std::make_shared<const Suite>(*suite), *data);
  const auto& r = report.results;
  EXPECT_TRUE(r[0].success);  // 3 of 4 in the set
  EXPECT_FALSE(r[1].success);
  EXPECT_TRUE(r[2].success);  // sample std (ddof 1) of 1..4: sqrt(5/3) = 1.291
  EXPECT_TRUE(r[3].success);
  EXPECT_THAT(Rows(r[4].partial_unexpected), ElementsAre(4));
  EXPECT_TRUE(r[5].success);
  EXPECT_FALSE(r[6].success);
  EXPECT_THAT(r[6].error, HasSubstr("not in the table"));
  EXPECT_THAT(r[7].error, HasSubstr("not numeric"));
  EXPECT_TRUE(r[8].success);
  EXPECT_TRUE(r[9].success);
}

// Uniqueness paths: ids in increasing order (nulls between them skipped), a duplicate after a
// long increasing run, enough distinct values to grow the first-row table several times,
// and compound keys with nulls in some columns (null equals null, all-null rows ignored).
TEST(ValidateTest, UniquenessAcrossKeyShapes) {
  auto suite = ParseSuite(R"(
expectations:
  - expect_column_values_to_be_unique: {column: up}
  - expect_column_values_to_be_unique: {column: late}
  - expect_column_values_to_be_unique: {column: s}
  - expect_compound_columns_to_be_unique: {column_list: [a, b]}
  - expect_column_values_to_be_unique: {column: f}
)");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  std::string csv = "up,late,s,a,b,f\n";
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    const std::string up = i % 7 == 3 ? "" : std::to_string(2 * i);
    const std::string late = std::to_string(i == n - 1 ? 17 : i);       // row n-1 repeats row 17
    const std::string str = "k" + std::to_string(i == 4000 ? 123 : i);  // 4000 repeats 123
    // (a, b): rows 10 and 20 share (x, null); rows 30 and 40 are all null (ignored).
    std::string a = "v" + std::to_string(i), b = std::to_string(i % 3);
    if (i == 10 || i == 20) {
      a = "x", b = "";
    } else if (i == 30 || i == 40) {
      a = "", b = "";
    }
    const std::string f = i == 2500 ? "-0.0" : i == 2501 ? "0.0" : std::to_string(i) + ".5";
    csv += up + "," + late + "," + str + "," + a + "," + b + "," + f + "\n";
  }
  auto data = ReadCsvString(csv, {});
  ASSERT_TRUE(data.ok());
  auto report = Validate(std::make_shared<const Suite>(*suite), *data);
  const auto& r = report.results;
  EXPECT_TRUE(r[0].success);
  EXPECT_EQ(r[0].unexpected_count, 0u);
  EXPECT_THAT(Rows(r[1].partial_unexpected), ElementsAre(18, n));  // rows count from 1
  EXPECT_THAT(Rows(r[2].partial_unexpected), ElementsAre(124, 4001));
  EXPECT_THAT(Rows(r[3].partial_unexpected), ElementsAre(11, 21));
  EXPECT_THAT(Rows(r[4].partial_unexpected), ElementsAre(2501, 2502));  // -0.0 == 0.0
}

TEST(SuiteTest, ParseErrorsNameTheEntry) {
  EXPECT_THAT(ParseSuite("expectations:\n  - expect_everything: {}\n").status().message(),
              HasSubstr("expectation 1: unknown expectation 'expect_everything'"));
  EXPECT_THAT(ParseSuite("expectations:\n  - expect_column_values_to_be_between: {column: a}\n")
                  .status()
                  .message(),
              HasSubstr("needs min_value or max_value"));
  EXPECT_THAT(ParseSuite("columns:\n  - {name: a, type: complex}\n").status().message(),
              HasSubstr("column 'a': unknown type"));
  EXPECT_THAT(ParseSuite("expectations: [\n").status().message(), HasSubstr("not valid YAML"));
  EXPECT_THAT(
      ParseSuite("expectations:\n  - expect_column_values_to_not_be_null: {column: a, mostly: 2}\n")
          .status()
          .message(),
      HasSubstr("mostly must be between 0 and 1"));
}

TEST(SuiteTest, InferredSuiteRoundTripsAndPassesOnItsOwnData) {
  auto data = ReadCsvString(
      "id,plan,score,when,flag\n"
      "1,basic,0.5,2024-01-01,true\n"
      "2,pro,,2024-02-01,false\n"
      "3,basic,2.5,2024-03-01,true\n",
      {});
  ASSERT_TRUE(data.ok());
  DatasetProfile profile = ProfileTable(data->table);
  InferSuiteOptions options;
  options.name = "drafted";
  options.unique_columns = UniqueColumns(data->table);
  EXPECT_THAT(options.unique_columns, ElementsAre("id", "when"));
  Suite suite = InferSuite(profile, options);
  const std::string yaml = SuiteToYaml(suite);
  EXPECT_THAT(yaml, HasSubstr("expect_column_values_to_be_in_set"));
  EXPECT_THAT(yaml, HasSubstr("expect_column_values_to_be_unique"));
  auto parsed = ParseSuite(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << yaml;
  EXPECT_EQ(SuiteToYaml(*parsed), yaml);
  EXPECT_TRUE(parsed->FindColumn("score")->nullable);
  EXPECT_FALSE(parsed->FindColumn("id")->nullable);
  auto again = ReadCsvString(
      "id,plan,score,when,flag\n"
      "1,basic,0.5,2024-01-01,true\n"
      "2,pro,,2024-02-01,false\n"
      "3,basic,2.5,2024-03-01,true\n",
      SuiteCsvOptions(*parsed));
  ASSERT_TRUE(again.ok());
  ValidationReport report = Validate(std::make_shared<const Suite>(*parsed), *again);
  EXPECT_TRUE(report.success) << ValidationToJson(report);
}

}  // namespace
}  // namespace plinth::data
