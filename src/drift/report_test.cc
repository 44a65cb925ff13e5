#include "drift/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "drift/stattests.h"

namespace plinth::drift {
namespace {

std::shared_ptr<const NumericSample> Numeric(std::vector<double> v) {
  return std::make_shared<const NumericSample>(NumericSample::FromValues(v));
}

std::shared_ptr<const CategoricalSample> Categorical(std::vector<std::string_view> v) {
  return std::make_shared<const CategoricalSample>(CategoricalSample::FromStrings(v));
}

// n values 0, 1, ..., n-1 shifted by `shift`.
std::vector<double> Ramp(int n, double shift) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) {
    v[i] = i + shift;
  }
  return v;
}

DriftColumn NumericColumn(std::string name, std::vector<double> ref, std::vector<double> cur) {
  DriftColumn c;
  c.name = std::move(name);
  c.kind = ColumnKind::kNumerical;
  c.numeric_reference = Numeric(std::move(ref));
  c.numeric_current = Numeric(std::move(cur));
  return c;
}

TEST(DefaultMethod, FollowsEvidentlysTable) {
  using enum Method;
  EXPECT_EQ(kKs, DefaultMethod(ColumnKind::kNumerical, 1000, 6));
  EXPECT_EQ(kChiSquare, DefaultMethod(ColumnKind::kNumerical, 1000, 5));
  EXPECT_EQ(kChiSquare, DefaultMethod(ColumnKind::kNumerical, 10, 3));
  EXPECT_EQ(kZ, DefaultMethod(ColumnKind::kNumerical, 10, 2));
  EXPECT_EQ(kWasserstein, DefaultMethod(ColumnKind::kNumerical, 1001, 6));
  EXPECT_EQ(kJensenShannon, DefaultMethod(ColumnKind::kNumerical, 1001, 5));
  EXPECT_EQ(kChiSquare, DefaultMethod(ColumnKind::kCategorical, 1000, 3));
  EXPECT_EQ(kZ, DefaultMethod(ColumnKind::kCategorical, 1000, 1));
  EXPECT_EQ(kJensenShannon, DefaultMethod(ColumnKind::kCategorical, 1001, 2));
}

TEST(MethodIds, RoundTripAndRejectUnknown) {
  for (int m = 0; m < 12; ++m) {
    const Method method = static_cast<Method>(m);
    auto parsed = MethodFromId(MethodId(method));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(method, *parsed);
  }
  auto bad = MethodFromId("t_test");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string::npos, bad.status().message().find("known: ks"));
}

TEST(ResolveTest, PerColumnBeatsKindBeatsAllBeatsDefault) {
  DriftOptions o;
  o.method = Method::kPsi;
  o.threshold = 0.3;
  auto all = ResolveTest(o, "a", ColumnKind::kNumerical, 10, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Method::kPsi, all->method);
  EXPECT_EQ(0.3, all->threshold);
  EXPECT_FALSE(all->default_method);

  o.numerical_method = Method::kEnergyDistance;
  o.numerical_threshold = 0.2;
  auto by_kind = ResolveTest(o, "a", ColumnKind::kNumerical, 10, 100);
  ASSERT_TRUE(by_kind.ok());
  EXPECT_EQ(Method::kEnergyDistance, by_kind->method);
  EXPECT_EQ(0.2, by_kind->threshold);

  o.per_column["a"] = ColumnOverride{Method::kMannWhitney, std::nullopt};
  auto per_column = ResolveTest(o, "a", ColumnKind::kNumerical, 10, 100);
  ASSERT_TRUE(per_column.ok());
  EXPECT_EQ(Method::kMannWhitney, per_column->method);
  EXPECT_EQ(0.2, per_column->threshold);  // thresholds resolve on their own

  // A categorical column ignores the numerical settings; the all-columns PSI applies.
  auto cat = ResolveTest(o, "b", ColumnKind::kCategorical, 10, 3);
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(Method::kPsi, cat->method);
  EXPECT_EQ(0.3, cat->threshold);
}

TEST(ResolveTest, DefaultThresholdIsTheChosenMethods) {
  auto r = ResolveTest(DriftOptions{}, "a", ColumnKind::kNumerical, 5000, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Method::kWasserstein, r->method);
  EXPECT_EQ(0.1, r->threshold);
  EXPECT_TRUE(r->default_method);
}

TEST(ResolveTest, RefusesANumericOnlyTestOnACategoricalColumn) {
  DriftOptions o;
  o.method = Method::kKs;
  auto r = ResolveTest(o, "a", ColumnKind::kCategorical, 10, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(StatusCode::kInvalidArgument, r.status().code());
}

TEST(DriftOptions, ValidateRejectsNonsense) {
  DriftOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.drift_share = 1.5;
  EXPECT_FALSE(o.Validate().ok());
  o.drift_share = 0.5;
  o.per_column["x"].threshold = std::nan("");
  EXPECT_FALSE(o.Validate().ok());
  o.per_column.clear();
  o.threads = -1;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(ComputeDrift, ShareAndVerdictCountEveryColumn) {
  std::vector<DriftColumn> columns;
  columns.push_back(NumericColumn("same", Ramp(200, 0), Ramp(200, 0.5)));
  columns.push_back(NumericColumn("shifted", Ramp(200, 0), Ramp(150, 120)));
  columns.push_back(NumericColumn("also_same", Ramp(300, 0), Ramp(300, 0.5)));
  DriftColumn cat;
  cat.name = "cat";
  cat.kind = ColumnKind::kCategorical;
  cat.categorical_reference = Categorical({"a", "b", "a", "c"});
  cat.categorical_current = Categorical({"a", "b", "a", "c"});
  columns.push_back(cat);

  DriftOptions o;
  o.threads = 2;
  auto report = ComputeDrift(columns, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(4u, report->columns.size());
  EXPECT_EQ("same", report->columns[0].name);  // input order kept
  EXPECT_EQ(Method::kKs, report->columns[0].result.method);
  EXPECT_FALSE(report->columns[0].result.drifted);
  EXPECT_TRUE(report->columns[1].result.drifted);
  EXPECT_EQ(Method::kChiSquare, report->columns[3].result.method);
  EXPECT_EQ(1u, report->drifted_columns);
  EXPECT_DOUBLE_EQ(0.25, report->drifted_share);
  EXPECT_FALSE(report->dataset_drift);

  o.drift_share = 0.25;  // share >= drift_share
  report = ComputeDrift(columns, o);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->dataset_drift);
}

TEST(ComputeDrift, PerColumnOverrideChangesOnlyThatColumn) {
  std::vector<DriftColumn> columns;
  columns.push_back(NumericColumn("a", Ramp(200, 0), Ramp(200, 3)));
  columns.push_back(NumericColumn("b", Ramp(200, 0), Ramp(200, 3)));
  DriftOptions o;
  o.per_column["b"] = ColumnOverride{Method::kWasserstein, 0.5};
  auto report = ComputeDrift(columns, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Method::kKs, report->columns[0].result.method);
  EXPECT_TRUE(report->columns[0].default_method);
  EXPECT_EQ(Method::kWasserstein, report->columns[1].result.method);
  EXPECT_FALSE(report->columns[1].default_method);
  EXPECT_EQ(0.5, report->columns[1].result.threshold);
  // W1 of a shift by 3 is 3; std of 0..199 is ~57.7: normed ~0.052 < 0.5.
  EXPECT_NEAR(3.0, report->columns[1].result.statistic, 1e-12);
  EXPECT_FALSE(report->columns[1].result.drifted);
}

TEST(ComputeDrift, StoredReferenceProfileGivesTheSameReport) {
  const std::vector<double> ref = Ramp(2000, 0), cur = Ramp(1500, 40);
  std::vector<DriftColumn> raw = {NumericColumn("x", ref, cur)};
  const std::string profile = NumericSample::FromValues(ref).Encode();
  auto decoded = NumericSample::Decode(profile);
  ASSERT_TRUE(decoded.ok());
  DriftColumn stored = raw[0];
  stored.numeric_reference = std::make_shared<const NumericSample>(std::move(*decoded));
  std::vector<DriftColumn> from_profile = {stored};
  auto a = ComputeDrift(raw, DriftOptions{});
  auto b = ComputeDrift(from_profile, DriftOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->columns[0].result.method, b->columns[0].result.method);
  EXPECT_EQ(a->columns[0].result.score, b->columns[0].result.score);  // bit for bit
}

TEST(ComputeDrift, FailsOnAnEmptyColumnNamingIt) {
  std::vector<DriftColumn> columns = {
      NumericColumn("ok", Ramp(10, 0), Ramp(10, 0)),
      NumericColumn("empty", {std::nan(""), std::nan("")}, Ramp(10, 0))};
  auto report = ComputeDrift(columns, DriftOptions{});
  ASSERT_FALSE(report.ok());
  EXPECT_NE(std::string::npos, report.status().message().find("'empty'"));
  EXPECT_FALSE(ComputeDrift(std::span<const DriftColumn>(), DriftOptions{}).ok());
}

TEST(RunCategoricalTest, RefusesMixedKeyKindsAndNumericOnlyTests) {
  const CategoricalSample s = CategoricalSample::FromStrings(std::vector<std::string_view>{"a"});
  const CategoricalSample c = CategoricalSample::FromCodes(std::vector<int64_t>{1});
  EXPECT_FALSE(RunCategoricalTest(Method::kChiSquare, s, c).ok());
  EXPECT_FALSE(RunCategoricalTest(Method::kKs, s, s).ok());
}

TEST(RunNumericTest, ThresholdOverrideChangesOnlyTheVerdict) {
  const NumericSample a = NumericSample::FromValues(Ramp(100, 0));
  const NumericSample b = NumericSample::FromValues(Ramp(100, 10));
  auto strict = RunNumericTest(Method::kKs, a, b, 1e-6);
  auto loose = RunNumericTest(Method::kKs, a, b, 0.9);  // p is about 0.7
  ASSERT_TRUE(strict.ok() && loose.ok());
  EXPECT_EQ(strict->p_value, loose->p_value);
  EXPECT_FALSE(strict->drifted);
  EXPECT_TRUE(loose->drifted);
  EXPECT_DOUBLE_EQ(0.1, strict->statistic);  // D of a shift by 10 in 100
}

TEST(BuildNumericSamples, SortsEveryColumn) {
  const std::vector<double> a = {3, 1, 2}, b = {5, 5, 4, 6};
  const std::vector<std::span<const double>> cols = {a, b};
  auto samples = BuildNumericSamples(cols, 2);
  ASSERT_EQ(2u, samples.size());
  EXPECT_EQ(3u, samples[0]->distinct());
  EXPECT_EQ(2u, samples[1]->counts()[1]);
}

}  // namespace
}  // namespace plinth::drift
