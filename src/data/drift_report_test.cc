// Drift between two tables: column pairing and typing, Evidently's default tests chosen by
// src/drift, the JSON shape the CLI prints, and a self-contained HTML page.
#include "data/drift_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

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

// The same report from a stored reference as from the reference rows, through encoding, for
// every plan: numbers, strings, bools, a null-bearing int column, and columns whose type
// changed between the sides (compared as text).
TEST(DriftReferenceTest, StoredReferenceGivesTheSameReport) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::string ref_csv = "x,n,plan,flag,was_num,was_bool,was_text,when\n";
  std::string cur_csv = ref_csv;
  for (int r = 0; r < 2500; ++r) {
    ref_csv += std::to_string(normal(rng)) + "," + (r % 11 == 0 ? "" : std::to_string(r % 40)) +
               "," + (rng() % 3 == 0 ? "pro" : "basic") + "," + (rng() % 2 ? "true" : "false") +
               "," + std::to_string(r % 9) + "," + (r % 3 ? "true" : "false") + "," +
               std::to_string(r % 4) + ",2024-01-01\n";
    cur_csv += std::to_string(normal(rng) + 0.1) + "," + std::to_string(r % 37) + "," +
               (rng() % 2 == 0 ? "pro" : "basic") + "," + (rng() % 3 ? "true" : "false") + "," +
               (r % 5 ? "a" : std::to_string(r % 9)) + "," + (r % 4 ? "yes" : "no") + "," +
               std::to_string(r % 5) + ",2024-01-02\n";
  }
  auto ref = ReadCsvString(ref_csv, {});
  auto cur = ReadCsvString(cur_csv, {});
  ASSERT_TRUE(ref.ok() && cur.ok());
  auto direct = ComputeTableDrift(ref->table, cur->table, {});
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();

  const std::string bytes = EncodeDriftReference(BuildDriftReference(ref->table, 2));
  EXPECT_TRUE(IsDriftReference(bytes));
  auto stored = DecodeDriftReference(bytes);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->rows, 2500u);
  EXPECT_EQ(stored->columns.size(), 7u);  // the timestamp column is left out
  auto via = ComputeTableDrift(*stored, cur->table, {});
  ASSERT_TRUE(via.ok()) << via.status().ToString();
  EXPECT_EQ(DriftToJson(*via), DriftToJson(*direct));
  EXPECT_EQ(DriftToHtml(*via, "r", "c"), DriftToHtml(*direct, "r", "c"));
  EXPECT_EQ(via->result.columns[4].kind, drift::ColumnKind::kCategorical);  // was_num

  // Without distributions the tests are the same and nothing is drawn.
  auto bare = ComputeTableDrift(*stored, cur->table, {}, false);
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->distributions.empty());
  auto direct_bare = ComputeTableDrift(ref->table, cur->table, {}, false);
  ASSERT_TRUE(direct_bare.ok());
  EXPECT_EQ(DriftToJson(*bare), DriftToJson(*direct_bare));
  // With distributions the JSON carries them: shares per bin or category, summing to 1.
  const auto with = nlohmann::json::parse(DriftToJson(*via));
  const auto& x = with["columns"]["x"]["distribution"];
  EXPECT_EQ(x["kind"], "histogram");
  EXPECT_EQ(x["edges"].size(), x["reference"].size() + 1);
  double total = 0;
  for (const auto& v : x["current"]) total += v.get<double>();
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_EQ(with["columns"]["plan"]["distribution"]["kind"], "categories");
  EXPECT_FALSE(nlohmann::json::parse(DriftToJson(*bare))["columns"]["x"].contains("distribution"));
}

TEST(DriftReferenceTest, DamagedReferenceIsRefused) {
  auto ref = ReadCsvString("x,s\n1.5,a\n2.5,b\n", {});
  ASSERT_TRUE(ref.ok());
  const std::string bytes = EncodeDriftReference(BuildDriftReference(ref->table));
  EXPECT_FALSE(DecodeDriftReference("x,s\n1,2\n").ok());
  for (size_t cut : {bytes.size() - 1, bytes.size() / 2, size_t{30}}) {
    EXPECT_FALSE(DecodeDriftReference(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeDriftReference(bytes + "x").ok());
  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x55;
  auto damaged = DecodeDriftReference(flipped);  // refused or decoded: never a crash
  (void)damaged;
}

TEST(ColumnBorrowTest, ReadsInPlaceWithValidity) {
  const std::vector<double> values = {1.5, std::nan(""), 3.0};
  Column col = Column::Borrow("x", DataType::kFloat64, values.data(), values.size(),
                              std::vector<uint64_t>{0b101});
  EXPECT_EQ(col.size(), 3u);
  EXPECT_EQ(col.null_count(), 1u);
  EXPECT_EQ(col.floats().data(), values.data());
  EXPECT_FALSE(col.IsValid(1));
  EXPECT_EQ(col.Float(2), 3.0);
  const std::vector<int64_t> ints = {4, 5};
  Column all = Column::Borrow("n", DataType::kInt64, ints.data(), ints.size());
  EXPECT_EQ(all.null_count(), 0u);
  EXPECT_EQ(all.ToText(1), "5");
  Column copy("n", DataType::kInt64);
  copy.AppendColumn(all);
  EXPECT_EQ(copy.Int(0), 4);
}

}  // namespace
}  // namespace plinth::data
