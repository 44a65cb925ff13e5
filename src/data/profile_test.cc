// Sketch error bounds (HyperLogLog, KLL, Misra–Gries), and profiles: parallel blocks equal the
// merge of two halves, exact fields are exact, sketched fields within their error, and the
// JSON round trip keeps everything needed to merge again.
#include "data/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "data/csv.h"

namespace plinth::data {
namespace {

TEST(HyperLogLogTest, ErrorWithinFourSigmaAcrossRanges) {
  for (uint64_t n : {0ull, 1ull, 10ull, 1000ull, 5000ull, 20000ull, 300000ull}) {
    HyperLogLog hll(12);
    for (uint64_t i = 0; i < n; ++i) {
      hll.Add(HashInt64(i * 7919 + 13));
      hll.Add(HashInt64(i * 7919 + 13));  // duplicates do not count
    }
    const double estimate = hll.Estimate();
    // Standard error 1.04/sqrt(4096) = 1.6%; small counts are near-exact.
    EXPECT_NEAR(estimate, static_cast<double>(n), std::max(1.0, 0.065 * n)) << n;
  }
}

TEST(HyperLogLogTest, MergeEqualsUnion) {
  HyperLogLog a, b, both;
  for (uint64_t i = 0; i < 50000; ++i) {
    (i < 30000 ? a : b).Add(HashBytes(std::to_string(i)));
    both.Add(HashBytes(std::to_string(i)));
  }
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.registers(), both.registers());
  EXPECT_NEAR(a.Estimate(), 50000, 50000 * 0.065);
  HyperLogLog other(10);
  EXPECT_FALSE(a.Merge(other).ok());
}

double TrueRank(const std::vector<double>& sorted, double x) {
  return static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), x) - sorted.begin()) /
         static_cast<double>(sorted.size());
}

TEST(KllSketchTest, RankErrorBoundedAlsoAfterMerges) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(0.0, 1.5);
  std::vector<double> values(400000);
  for (double& v : values) {
    v = dist(rng);
  }
  KllSketch whole;
  std::vector<KllSketch> parts(8);
  for (size_t i = 0; i < values.size(); ++i) {
    whole.Add(values[i]);
    parts[i % 8].Add(values[i]);
  }
  KllSketch merged = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    ASSERT_TRUE(merged.Merge(parts[i]).ok());
  }
  std::sort(values.begin(), values.end());
  EXPECT_EQ(merged.count(), values.size());
  for (const KllSketch* sketch : {&whole, &merged}) {
    size_t retained = 0;
    for (const auto& level : sketch->levels()) {
      retained += level.size();
    }
    EXPECT_LT(retained, 1000u);  // size independent of n
    for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}) {
      const double v = sketch->Quantile(q);
      // k = 200: ~1.7% rank error at 99% confidence; 2.5% leaves room without hiding bugs.
      EXPECT_NEAR(TrueRank(values, v), q, 0.025) << q;
      EXPECT_NEAR(sketch->Rank(values[static_cast<size_t>(q * values.size())]), q, 0.025);
    }
  }
}

TEST(FrequentItemsTest, HeavyHittersFoundWithBoundedUndercount) {
  FrequentItems a(16), b(16);
  std::map<std::string, uint64_t> truth;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100000; ++i) {
    std::string item;
    const uint64_t r = rng() % 100;
    if (r < 30) {
      item = "alpha";
    } else if (r < 50) {
      item = "beta";
    } else if (r < 60) {
      item = "gamma";
    } else {
      item = "rare" + std::to_string(rng() % 50000);
    }
    ++truth[item];
    (i % 3 == 0 ? a : b).Add(item);
  }
  a.Merge(b);
  auto top = a.Top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].first, "alpha");
  EXPECT_EQ(top[1].first, "beta");
  EXPECT_EQ(top[2].first, "gamma");
  EXPECT_LE(a.max_error(), 100000u / 17 * 2);
  for (const auto& [item, count] : a.Top(16)) {
    EXPECT_LE(count, truth[item]);
    EXPECT_GE(count + a.max_error(), truth[item]);
  }
  FrequentItems exact(8);
  exact.Add("x", 5);
  exact.Add("y");
  EXPECT_EQ(exact.max_error(), 0u);
  EXPECT_EQ(exact.Top(1)[0], (std::pair<std::string, uint64_t>{"x", 5}));
}

Table MakeTable(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(10.0, 3.0);
  std::string csv = "i,f,b,s,t\n";
  for (size_t r = 0; r < rows; ++r) {
    csv += (rng() % 20 == 0) ? "" : std::to_string(static_cast<int64_t>(rng() % 1000) - 500);
    csv += ",";
    csv += (rng() % 25 == 0) ? "NaN" : std::to_string(normal(rng));
    csv += (rng() % 3) ? ",true," : ",false,";
    csv += (rng() % 10 == 0) ? "" : "cat" + std::to_string(rng() % 7);
    csv += ",2024-01-0" + std::to_string(1 + rng() % 9) + "\n";
  }
  auto read = ReadCsvString(csv, {});
  EXPECT_TRUE(read.ok());
  return std::move(read->table);
}

TEST(ProfileTest, MergeOfHalvesMatchesWhole) {
  Table a = MakeTable(30000, 1);
  Table b = MakeTable(20000, 2);
  Table ab = MakeTable(30000, 1);
  for (size_t c = 0; c < ab.num_columns(); ++c) {
    ab.columns[c].AppendColumn(b.columns[c]);
  }
  ProfileOptions options;
  options.block_rows = 4096;  // many blocks: the parallel path merges too
  DatasetProfile whole = ProfileTable(ab, options);
  DatasetProfile merged = ProfileTable(a, options);
  ASSERT_TRUE(MergeProfiles(&merged, ProfileTable(b, options)).ok());
  ASSERT_EQ(merged.row_count, 50000u);
  for (size_t c = 0; c < whole.columns.size(); ++c) {
    const ColumnProfile& w = whole.columns[c];
    const ColumnProfile& m = merged.columns[c];
    SCOPED_TRACE(w.name);
    EXPECT_EQ(m.count, w.count);
    EXPECT_EQ(m.null_count, w.null_count);
    EXPECT_EQ(m.numeric_count, w.numeric_count);
    EXPECT_EQ(m.min, w.min);
    EXPECT_EQ(m.max, w.max);
    EXPECT_EQ(m.true_count, w.true_count);
    EXPECT_EQ(m.min_length, w.min_length);
    EXPECT_EQ(m.max_length, w.max_length);
    EXPECT_EQ(m.total_length, w.total_length);
    EXPECT_NEAR(m.mean, w.mean, 1e-12 * std::max(1.0, std::abs(w.mean)));
    if (w.numeric_count > 1) {
      EXPECT_NEAR(m.StdDev(), w.StdDev(), 1e-12 * w.StdDev());
    }
    EXPECT_EQ(m.distinct.registers(), w.distinct.registers());  // HLL merge is exact
    if (w.type == DataType::kFloat64) {  // continuous: rank is defined without ties
      for (double q : {0.1, 0.5, 0.9}) {
        // Both are within 2.5% rank of the truth, so within 5% of each other.
        const double mv = m.quantiles->Quantile(q);
        EXPECT_NEAR(w.quantiles->Rank(mv), q, 0.05);
      }
    }
    if (w.frequent && w.frequent->max_error() == 0) {
      EXPECT_EQ(m.frequent->max_error(), 0u);
      EXPECT_EQ(m.frequent->Top(3), w.frequent->Top(3));
    }
  }
  // Exact values against a direct computation.
  const Column& f = ab.columns[1];
  double sum = 0;
  size_t n = 0;
  for (size_t r = 0; r < f.size(); ++r) {
    if (f.IsValid(r)) {
      sum += f.Float(r), ++n;
    }
  }
  EXPECT_EQ(whole.columns[1].numeric_count, n);
  EXPECT_NEAR(whole.columns[1].mean, sum / n, 1e-12 * std::abs(sum / n));
  EXPECT_NEAR(whole.columns[3].DistinctEstimate(), 7.0, 0.5);
  EXPECT_EQ(whole.columns[3].frequent->max_error(), 0u);  // 7 values, capacity 64: exact
}

TEST(ProfileTest, JsonRoundTripKeepsSketchesAndSizeIsBounded) {
  Table small = MakeTable(1000, 4);
  Table large = MakeTable(100000, 4);
  DatasetProfile p = ProfileTable(large);
  const std::string json = ProfileToJson(p, false);
  auto back = ProfileFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ProfileToJson(*back, false), json);
  // A 100x larger table does not make a proportionally larger profile.
  EXPECT_LT(json.size(), 3 * ProfileToJson(ProfileTable(small), false).size());
  ASSERT_TRUE(MergeProfiles(&*back, p).ok());
  EXPECT_EQ(back->row_count, 200000u);
  EXPECT_FALSE(ProfileFromJson("{\"row_count\": 1}").ok());
}

TEST(ProfileTest, MergeRefusesTypeMismatchAndFillsMissingColumns) {
  auto a = ReadCsvString("x,y\n1,2\n", {});
  auto b = ReadCsvString("x,z\nfoo,3\n", {});
  auto c = ReadCsvString("y\n5\n6\n", {});
  DatasetProfile pa = ProfileTable(a->table);
  EXPECT_FALSE(MergeProfiles(&pa, ProfileTable(b->table)).ok());
  DatasetProfile pc = ProfileTable(a->table);
  auto d = ReadCsvString("x\n9\n", {});
  ASSERT_TRUE(MergeProfiles(&pc, ProfileTable(d->table)).ok());
  EXPECT_EQ(pc.Find("y")->count, 2u);
  EXPECT_EQ(pc.Find("y")->null_count, 1u);
  ASSERT_TRUE(MergeProfiles(&pc, ProfileTable(c->table)).ok());
  EXPECT_EQ(pc.Find("x")->null_count, 2u);
  EXPECT_EQ(pc.Find("y")->numeric_count, 3u);
}

}  // namespace
}  // namespace plinth::data
