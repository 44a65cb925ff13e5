#include "drift/sample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace plinth::drift {
namespace {

TEST(RadixSortDoubles, MatchesStdSortOnMixedMagnitudesAndSigns) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0.0, 1e3);
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    values.push_back(normal(rng));
  }
  // Values whose bit patterns stress the key map: zeros, subnormals, extremes, repeats.
  const double extremes[] = {0.0,
                             std::numeric_limits<double>::denorm_min(),
                             -std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::lowest(),
                             1.0,
                             1.0,
                             -1.0};
  values.insert(values.end(), std::begin(extremes), std::end(extremes));
  std::vector<double> expected = values;
  std::sort(expected.begin(), expected.end());
  std::vector<double> scratch;
  RadixSortDoubles(values, scratch);
  EXPECT_EQ(expected, values);
}

TEST(RadixSortDoubles, SmallInputsUseTheSameOrder) {
  std::vector<double> values = {3.0, -2.0, 5.5, 0.0, -7.25};
  std::vector<double> scratch;
  RadixSortDoubles(values, scratch);
  EXPECT_EQ((std::vector<double>{-7.25, -2.0, 0.0, 3.0, 5.5}), values);
}

TEST(NumericSample, DropsMissingAndRunLengthEncodes) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> raw = {2.0, nan, 1.0, 2.0, inf, -0.0, 0.0, -inf, 2.0};
  const NumericSample s = NumericSample::FromValues(raw);
  EXPECT_EQ(6u, s.size());
  EXPECT_EQ(3u, s.missing());
  ASSERT_EQ(3u, s.distinct());
  EXPECT_EQ((std::vector<double>{0.0, 1.0, 2.0}),
            std::vector<double>(s.values().begin(), s.values().end()));
  EXPECT_EQ((std::vector<uint64_t>{2, 1, 3}),
            std::vector<uint64_t>(s.counts().begin(), s.counts().end()));
  EXPECT_FALSE(std::signbit(s.values()[0]));  // -0.0 and 0.0 are one value
  EXPECT_DOUBLE_EQ(7.0 / 6.0, s.Mean());
  // np.std([0, 0, 1, 2, 2, 2]) = sqrt(174/216)
  EXPECT_NEAR(std::sqrt(174.0 / 216.0), s.StdDev(), 1e-15);
}

// Counting (a narrow range) and the sorted path give the same sample as FromValues on the
// same numbers as doubles, nulls from the validity bits.
TEST(NumericSample, FromIntsMatchesFromValues) {
  std::mt19937_64 rng(11);
  for (int64_t span : {int64_t{5}, int64_t{2000}, int64_t{1} << 40}) {
    std::vector<int64_t> ints(3000);
    std::vector<uint64_t> validity((ints.size() + 63) / 64, ~uint64_t{0});
    std::vector<double> doubles(ints.size());
    for (size_t i = 0; i < ints.size(); ++i) {
      ints[i] = static_cast<int64_t>(rng() % static_cast<uint64_t>(span)) - span / 2;
      doubles[i] = static_cast<double>(ints[i]);
      if (i % 13 == 0) {
        validity[i / 64] &= ~(uint64_t{1} << (i % 64));
        doubles[i] = std::nan("");
      }
    }
    const NumericSample a = NumericSample::FromInts(ints, validity);
    const NumericSample b = NumericSample::FromValues(doubles);
    const NumericSample c =
        NumericSample::FromValues(std::vector<double>(ints.begin(), ints.end()), validity);
    for (const NumericSample* other : {&b, &c}) {
      EXPECT_EQ(a.missing(), other->missing()) << span;
      EXPECT_TRUE(std::equal(a.values().begin(), a.values().end(), other->values().begin(),
                             other->values().end()))
          << span;
      EXPECT_TRUE(std::equal(a.counts().begin(), a.counts().end(), other->counts().begin(),
                             other->counts().end()))
          << span;
    }
  }
  const std::vector<int64_t> huge = {INT64_MAX, INT64_MIN, 0};
  EXPECT_EQ(3u, NumericSample::FromInts(huge).distinct());
}

TEST(NumericSample, ProfileRoundTripsExactly) {
  const std::vector<double> raw = {0.1, -3.5, 0.1, 1e300, 7.0, std::nan("")};
  const NumericSample s = NumericSample::FromValues(raw);
  auto back = NumericSample::Decode(s.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(s.size(), back->size());
  EXPECT_EQ(s.missing(), back->missing());
  EXPECT_TRUE(std::equal(s.values().begin(), s.values().end(), back->values().begin(),
                         back->values().end()));
  EXPECT_TRUE(std::equal(s.counts().begin(), s.counts().end(), back->counts().begin(),
                         back->counts().end()));
}

TEST(NumericSample, DecodeRejectsWhatEncodeDidNotWrite) {
  EXPECT_FALSE(NumericSample::Decode("").ok());
  EXPECT_FALSE(NumericSample::Decode("PLDN1").ok());
  EXPECT_FALSE(NumericSample::Decode("PLDN2").ok());
  // A value gap of zero (a repeated value) is not what Encode writes.
  std::string repeated =
      NumericSample::FromValues(std::vector<double>{1.0, std::nextafter(1.0, 2.0)}).Encode();
  ASSERT_EQ(repeated[repeated.size() - 2], 1);  // the second value's gap: one key step
  repeated[repeated.size() - 2] = 0;
  EXPECT_FALSE(NumericSample::Decode(repeated).ok());
  std::string bytes = NumericSample::FromValues(std::vector<double>{1.0, 2.0}).Encode();
  EXPECT_FALSE(NumericSample::Decode(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(NumericSample::Decode(bytes + "x").ok());
  EXPECT_FALSE(NumericSample::FromDistinct({2.0, 1.0}, {1, 1}, 0).ok());  // not ascending
  EXPECT_FALSE(NumericSample::FromDistinct({1.0, 2.0}, {1, 0}, 0).ok());  // zero count
  EXPECT_FALSE(NumericSample::FromDistinct({1.0, NAN}, {1, 1}, 0).ok());
}

TEST(CategoricalSample, CountsStringsAndSkipsMissing) {
  const std::vector<std::string_view> raw = {"b", "a", "b", "", "c"};
  const std::vector<uint8_t> missing = {0, 0, 0, 1, 0};
  const CategoricalSample s = CategoricalSample::FromStrings(raw, missing);
  EXPECT_EQ(4u, s.size());
  EXPECT_EQ(1u, s.missing());
  ASSERT_EQ(3u, s.distinct());
  EXPECT_EQ("a", s.labels()[0]);
  EXPECT_EQ(2u, s.counts()[1]);
}

TEST(CategoricalSample, IntegerCodesSortNumericallyAndNegativeIsMissing) {
  const std::vector<int64_t> codes = {10, 9, -1, 10, 2};
  const CategoricalSample s = CategoricalSample::FromCodes(codes);
  EXPECT_EQ(CategoricalSample::KeyKind::kInteger, s.key_kind());
  EXPECT_EQ(4u, s.size());
  EXPECT_EQ(1u, s.missing());
  EXPECT_EQ((std::vector<int64_t>{2, 9, 10}),
            std::vector<int64_t>(s.codes().begin(), s.codes().end()));
}

TEST(CategoricalSample, ProfileRoundTripsBothKinds) {
  const std::vector<std::string_view> raw = {"x", "y", "x", "long label with spaces"};
  const CategoricalSample strings = CategoricalSample::FromStrings(raw);
  auto s2 = CategoricalSample::Decode(strings.Encode());
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(std::vector<std::string>(strings.labels().begin(), strings.labels().end()),
            std::vector<std::string>(s2->labels().begin(), s2->labels().end()));
  EXPECT_EQ(strings.size(), s2->size());

  const std::vector<int64_t> codes = {3, 1, 3, -1};
  const CategoricalSample ints = CategoricalSample::FromCodes(codes);
  auto i2 = CategoricalSample::Decode(ints.Encode());
  ASSERT_TRUE(i2.ok()) << i2.status().ToString();
  EXPECT_EQ(CategoricalSample::KeyKind::kInteger, i2->key_kind());
  EXPECT_EQ(1u, i2->missing());
  EXPECT_EQ(3u, i2->size());

  EXPECT_FALSE(CategoricalSample::Decode("PLDC1").ok());
  EXPECT_FALSE(CategoricalSample::FromCounts({"a", "a"}, {1, 2}, 0).ok());
}

}  // namespace
}  // namespace plinth::drift
