// Drift between two tables: column pairing and typing, Evidently's default tests chosen by
// src/drift, the JSON shape the CLI prints, and a self-contained HTML page.
#include "data/drift_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "data/csv.h"

namespace plinth::data {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Table Make(size_t rows, double shift, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(shift, 1.0);
  std::string csv = "x,plan,flag,when,only_here\n";
  for (size_t r = 0; r < rows; ++r) {
    csv += std::to_string(normal(rng)) + "," + (rng() % 3 == 0 ? "pro" : "basic") + "," +
           (rng() % 2 ? "true" : "false") + ",2024-01-01," + (r % 7 == 0 ? "" : "1") + "\n";
  }
  auto read = ReadCsvString(csv, {});
  EXPECT_TRUE(read.ok());
  return std::move(read->table);
}

TEST(DriftReportTest, ShiftedColumnDriftsOthersDoNot) {
  Table ref = Make(800, 0.0, 1);
  Table cur = Make(800, 1.0, 2);
  cur.columns.pop_back();  // only_here: reference only
  auto drift = ComputeTableDrift(ref, cur, {});
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  const auto json = nlohmann::json::parse(DriftToJson(*drift));
  EXPECT_EQ(json["columns"].size(), 3u);
  EXPECT_EQ(json["columns"]["x"]["test"], "ks");  // <= 1000 reference rows
  EXPECT_TRUE(json["columns"]["x"]["drifted"].get<bool>());
  EXPECT_LT(json["columns"]["x"]["p_value"].get<double>(), 1e-10);
  EXPECT_EQ(json["columns"]["plan"]["test"], "z");  // two categories
  EXPECT_FALSE(json["columns"]["plan"]["drifted"].get<bool>());
  EXPECT_EQ(json["columns"]["flag"]["column_type"], "cat");
  EXPECT_NEAR(json["drift_share"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_FALSE(json["dataset_drift"].get<bool>());
  EXPECT_EQ(json["skipped"].size(), 2u);  // when (timestamp), only_here
  const std::string html = DriftToHtml(*drift, "ref.csv", "cur.csv");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://cdn")));
}

TEST(DriftReportTest, LargeReferenceUsesWassersteinWithNullPValue) {
  Table ref = Make(3000, 0.0, 3);
  Table cur = Make(3000, 0.0, 4);
  drift::DriftOptions options;
  options.per_column["plan"].method = drift::Method::kPsi;
  auto drift = ComputeTableDrift(ref, cur, options);
  ASSERT_TRUE(drift.ok());
  const auto json = nlohmann::json::parse(DriftToJson(*drift));
  EXPECT_EQ(json["columns"]["x"]["test"], "wasserstein");
  EXPECT_TRUE(json["columns"]["x"]["p_value"].is_null());
  EXPECT_FALSE(json["columns"]["x"]["drifted"].get<bool>());
  EXPECT_EQ(json["columns"]["plan"]["test"], "psi");
  EXPECT_FALSE(json["columns"]["plan"]["default_test"].get<bool>());
}

TEST(DriftReportTest, MixedTypesCompareAsTextAndEmptyFails) {
  auto a = ReadCsvString("v\n1\n2\n3\n", {});
  auto b = ReadCsvString("v\nx\n2\ny\n", {});
  auto drift = ComputeTableDrift(a->table, b->table, {});
  ASSERT_TRUE(drift.ok()) << drift.status().ToString();
  EXPECT_EQ(drift->result.columns[0].kind, drift::ColumnKind::kCategorical);
  auto c = ReadCsvString("w\n1\n", {});
  EXPECT_FALSE(ComputeTableDrift(a->table, c->table, {}).ok());
}

}  // namespace
}  // namespace plinth::data
