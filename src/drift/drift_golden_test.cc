// Checks every drift statistic, p-value, score and verdict against the golden table written
// by tests/golden/drift/make_golden.py from scipy 1.17 and Evidently 0.7 (see its header).
// The inputs are regenerated here from the table's recipes, bit for bit as the script makes
// them. Tolerance: 1e-9 relative, with the absolute floors explained at kZAbsTol/kCvmAbsTol.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "drift/report.h"
#include "drift/sample.h"
#include "drift/stattests.h"

namespace plinth::drift {
namespace {

constexpr double kRelTol = 1e-9;

// Evidently's Z-test p-value is 2 * (1 - Phi(|z|)): the subtraction from 1 leaves scipy's
// value with an absolute error of one ulp of 1 (1.1e-16) that no reimplementation can match
// relatively when p is tiny. Compared with an absolute floor of 1e-15 on top of 1e-9 relative.
constexpr double kZAbsTol = 1e-15;
// The asymptotic Cramér-von Mises p-value is 1 - CDF too, the CDF a series of Bessel K_{1/4}
// terms: scipy's kv is itself a few ulps off (kv(0.25, 1/32) by 6 ulps), so its p-value
// carries ~1e-15 absolute error (and ~1e-11 from stopping the series at a 1e-7 term, which we
// copy). Compared with an absolute floor of 1e-14 on top of 1e-9 relative.
constexpr double kCvmAbsTol = 1e-14;

double AbsTolerance(Method m) {
  switch (m) {
    case Method::kZ:
      return kZAbsTol;
    case Method::kCramerVonMises:
      return kCvmAbsTol;
    default:
      return 0.0;
  }
}

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

struct Generated {
  std::vector<double> numbers;
  std::vector<std::string> labels;
  std::vector<int64_t> codes;  // "catint": integer categories, -1 missing
  std::vector<uint8_t> missing;
  bool integer_codes = false;
};

// make_golden.py's generate(), operation for operation.
Generated Generate(const JsonValue& r) {
  auto get_num = [&](const char* key, double def) {
    const JsonValue* v = JsonFind(r, key);
    return v ? v->GetDouble() : def;
  };
  auto get_int = [&](const char* key, int64_t def) {
    const JsonValue* v = JsonFind(r, key);
    return v ? v->GetInt64() : def;
  };
  SplitMix64 rng(static_cast<uint64_t>(get_int("seed", 0)));
  const std::string dist = r["dist"].GetString();
  const int64_t n = get_int("n", 0);
  const uint64_t nan = static_cast<uint64_t>(get_int("nan", 0));
  const uint64_t inf = static_cast<uint64_t>(get_int("inf", 0));
  const double loc = get_num("loc", 0.0), scale = get_num("scale", 1.0);
  const uint64_t k = static_cast<uint64_t>(get_int("k", 1));
  const int quant = static_cast<int>(get_int("quant", 0));
  const int64_t offset = get_int("offset", 0);
  Generated g;
  g.integer_codes = dist == "catint";
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t m = rng.Next() % 1000;
    if (m < nan) {
      g.numbers.push_back(std::nan(""));
      g.labels.emplace_back();
      g.codes.push_back(-1);
      g.missing.push_back(1);
      continue;
    }
    if (m < nan + inf) {
      g.numbers.push_back(m % 2 == 0 ? INFINITY : -INFINITY);
      g.labels.emplace_back();
      g.codes.push_back(-1);
      g.missing.push_back(1);
      continue;
    }
    g.missing.push_back(0);
    if (dist == "normal") {
      int64_t s = 0;
      for (int j = 0; j < 4; ++j) {
        s += static_cast<int64_t>(rng.Next() >> 44);
      }
      s = (s >> quant) << quant;
      g.numbers.push_back(loc + scale * (static_cast<double>(s - 2097152) / 1048576.0));
    } else if (dist == "skew") {
      const double u = static_cast<double>(rng.Next() >> 44) / 1048576.0;
      g.numbers.push_back(loc + scale * (u * u * u));
    } else if (dist == "discrete") {
      g.numbers.push_back(loc + scale * static_cast<double>(rng.Next() % k));
    } else if (dist == "constant") {
      g.numbers.push_back(loc);
    } else if (dist == "cat" || dist == "catint") {
      const uint64_t a = rng.Next() % k, b = rng.Next() % k;
      const int64_t code = static_cast<int64_t>(std::min(a, b)) + offset;
      g.labels.push_back("c" + std::to_string(code));
      g.codes.push_back(code);
      continue;
    } else {
      ADD_FAILURE() << "unknown dist " << dist;
    }
    g.labels.emplace_back();
  }
  return g;
}

NumericSample NumericOf(const Generated& g) { return NumericSample::FromValues(g.numbers); }

CategoricalSample CategoricalOf(const Generated& g) {
  if (g.integer_codes) {
    return CategoricalSample::FromCodes(g.codes);
  }
  std::vector<std::string_view> views(g.labels.begin(), g.labels.end());
  return CategoricalSample::FromStrings(views, g.missing);
}

double Num(const JsonValue& v) {
  if (v.IsString()) {
    const std::string s = v.GetString();
    if (s == "nan") {
      return std::nan("");
    }
    return s == "inf" ? INFINITY : -INFINITY;
  }
  return v.GetDouble();
}

::testing::AssertionResult Close(double expected, double actual, double abs_tol = 0.0) {
  if (std::isnan(expected) && std::isnan(actual)) {
    return ::testing::AssertionSuccess();
  }
  if (expected == actual) {
    return ::testing::AssertionSuccess();
  }
  const double diff = std::fabs(expected - actual);
  if (diff <= kRelTol * std::max(std::fabs(expected), std::fabs(actual)) || diff <= abs_tol) {
    return ::testing::AssertionSuccess();
  }
  std::ostringstream os;
  os.precision(17);
  os << "expected " << expected << " got " << actual << " (rel "
     << diff / std::max(std::fabs(expected), std::fabs(actual)) << ")";
  return ::testing::AssertionFailure() << os.str();
}

const JsonDocument& Golden() {
  static const JsonDocument* doc = [] {
    const auto path =
        std::filesystem::path(__FILE__).parent_path() / "../../tests/golden/drift/golden.json";
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto* d = new JsonDocument();
    const Status st = ParseJson(ss.str(), d);
    if (!st.ok()) {
      ADD_FAILURE() << "cannot read " << path << ": " << st.ToString();
    }
    return d;
  }();
  return *doc;
}

struct CaseName {
  std::string name;
};

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  const JsonDocument& g = Golden();
  if (!g.IsObject()) {
    return names;
  }
  for (const auto& c : g["cases"].GetArray()) {
    names.push_back(c["name"].GetString());
  }
  return names;
}

const JsonValue& CaseByName(const std::string& name) {
  for (const auto& c : Golden()["cases"].GetArray()) {
    if (name == c["name"].GetString()) {
      return c;
    }
  }
  static JsonValue null_value;
  return null_value;
}

class DriftGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DriftGoldenTest, MatchesScipyAndEvidently) {
  const JsonValue& c = CaseByName(GetParam());
  ASSERT_TRUE(c.IsObject());
  const bool numeric = std::string(c["kind"].GetString()) == "numeric";
  const Generated ref_raw = Generate(c["ref"]), cur_raw = Generate(c["cur"]);
  const NumericSample nref = NumericOf(ref_raw), ncur = NumericOf(cur_raw);
  const CategoricalSample cref = CategoricalOf(ref_raw), ccur = CategoricalOf(cur_raw);

  int checked = 0;
  for (const auto& m : c["results"].GetObject()) {
    const std::string id = m.name.GetString();
    SCOPED_TRACE(GetParam() + " / " + id);
    auto method = MethodFromId(id);
    ASSERT_TRUE(method.ok()) << method.status().ToString();
    const JsonValue& want = m.value;
    Result<TestResult> got =
        numeric ? RunNumericTest(*method, nref, ncur) : RunCategoricalTest(*method, cref, ccur);
    if (JsonFind(want, "error")) {
      EXPECT_FALSE(got.ok()) << "reference refused: " << want["error"].GetString();
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const double abs_tol = AbsTolerance(*method);
    EXPECT_TRUE(Close(Num(want["statistic"]), got->statistic)) << "statistic";
    EXPECT_TRUE(Close(Num(want["p_value"]), got->p_value, abs_tol)) << "p_value";
    EXPECT_TRUE(Close(Num(want["score"]), got->score, abs_tol)) << "score";
    EXPECT_EQ(want["threshold"].GetDouble(), got->threshold);
    EXPECT_EQ(want["drifted"].GetBool(), got->drifted);
    ++checked;
  }

  if (const JsonValue* def = JsonFind(c, "default")) {
    SCOPED_TRACE(GetParam() + " / default");
    DriftColumn col;
    col.name = "x";
    col.kind = numeric ? ColumnKind::kNumerical : ColumnKind::kCategorical;
    if (numeric) {
      col.numeric_reference = std::make_shared<NumericSample>(nref);
      col.numeric_current = std::make_shared<NumericSample>(ncur);
    } else {
      col.categorical_reference = std::make_shared<CategoricalSample>(cref);
      col.categorical_current = std::make_shared<CategoricalSample>(ccur);
    }
    auto report = ComputeDrift(std::span<const DriftColumn>(&col, 1), DriftOptions{});
    if (JsonFind(*def, "error")) {
      EXPECT_FALSE(report.ok()) << (*def)["error"].GetString();
    } else {
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      const TestResult& r = report->columns[0].result;
      EXPECT_EQ((*def)["method"].GetString(), std::string(MethodDisplayName(r.method)));
      EXPECT_EQ((*def)["threshold"].GetDouble(), r.threshold);
      const double abs_tol = AbsTolerance(r.method);
      EXPECT_TRUE(Close(Num((*def)["score"]), r.score, abs_tol));
      EXPECT_EQ((*def)["drifted"].GetBool(), r.drifted);
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Golden, DriftGoldenTest, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) { return info.param; });

TEST(DriftGoldenDatasets, DriftShareMatchesEvidently) {
  const JsonDocument& g = Golden();
  ASSERT_TRUE(g.IsObject());
  int index = 0;
  for (const auto& ds : g["datasets"].GetArray()) {
    SCOPED_TRACE("dataset " + std::to_string(index++));
    std::vector<DriftColumn> columns;
    for (const auto& spec : ds["columns"].GetArray()) {
      DriftColumn col;
      col.name = spec["name"].GetString();
      const Generated r = Generate(spec["ref"]), c = Generate(spec["cur"]);
      if (std::string(spec["kind"].GetString()) == "numeric") {
        col.kind = ColumnKind::kNumerical;
        col.numeric_reference = std::make_shared<NumericSample>(NumericOf(r));
        col.numeric_current = std::make_shared<NumericSample>(NumericOf(c));
      } else {
        col.kind = ColumnKind::kCategorical;
        col.categorical_reference = std::make_shared<CategoricalSample>(CategoricalOf(r));
        col.categorical_current = std::make_shared<CategoricalSample>(CategoricalOf(c));
      }
      columns.push_back(std::move(col));
    }
    DriftOptions options;
    options.drift_share = ds["drift_share"].GetDouble();
    options.threads = 2;
    auto report = ComputeDrift(columns, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(ds["drifted_count"].GetUint64(), report->drifted_columns);
    EXPECT_TRUE(Close(Num(ds["drifted_share"]), report->drifted_share));
    for (const ColumnDrift& col : report->columns) {
      const JsonValue& want = ds["per_column"][col.name.c_str()];
      EXPECT_EQ(want["method"].GetString(), std::string(MethodDisplayName(col.result.method)))
          << col.name;
      EXPECT_EQ(want["threshold"].GetDouble(), col.result.threshold) << col.name;
      EXPECT_TRUE(Close(Num(want["score"]), col.result.score)) << col.name;
    }
  }
}

}  // namespace
}  // namespace plinth::drift
