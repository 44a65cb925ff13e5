#include "drift/sample.h"

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "drift/numeric.h"

namespace plinth::drift {
namespace {

// Order-preserving map from a double's bits to an unsigned key: flip every bit of a negative
// number (so larger magnitudes sort first), only the sign bit of a positive one.
inline uint64_t KeyOf(double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits & 0x8000000000000000ULL) ? ~bits : (bits | 0x8000000000000000ULL);
}
inline double ValueOf(uint64_t key) {
  const uint64_t bits = (key & 0x8000000000000000ULL) ? (key & ~0x8000000000000000ULL) : ~key;
  return std::bit_cast<double>(bits);
}

constexpr int kDigitBits = 11;
constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kBuckets = size_t{1} << kDigitBits;
// Below this size std::sort wins over six histogram passes.
constexpr size_t kRadixMinSize = 512;

// Profile framing: a magic tag, then fixed-width little-endian fields.
constexpr std::string_view kNumericMagic = "PLDN1";  // read only: fixed-width values and counts
constexpr std::string_view kNumericMagic2 = "PLDN2";
constexpr std::string_view kCategoricalMagic = "PLDC1";

template <typename T>
void Put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    std::reverse(buf, buf + sizeof(T));
  }
  out.append(buf, sizeof(T));
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads fixed-width fields from profile bytes; any short read makes ok() false.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool Magic(std::string_view magic) {
    if (rest_.substr(0, magic.size()) != magic) {
      return false;
    }
    rest_.remove_prefix(magic.size());
    return true;
  }
  template <typename T>
  bool Get(T* v) {
    if (rest_.size() < sizeof(T)) {
      return false;
    }
    char buf[sizeof(T)];
    std::memcpy(buf, rest_.data(), sizeof(T));
    if constexpr (std::endian::native == std::endian::big) {
      std::reverse(buf, buf + sizeof(T));
    }
    std::memcpy(v, buf, sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetVarint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) {
        return false;
      }
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      if (shift == 63 && byte > 1) {
        return false;
      }
      out |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = out;
        return true;
      }
    }
    return false;
  }
  bool GetString(std::string* s) {
    uint64_t len = 0;
    if (!Get(&len) || rest_.size() < len) {
      return false;
    }
    s->assign(rest_.substr(0, len));
    rest_.remove_prefix(len);
    return true;
  }
  bool done() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

Status CheckCounts(std::span<const uint64_t> counts) {
  for (uint64_t c : counts) {
    if (c == 0) {
      return InvalidArgument("sample counts must be positive");
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// LSD radix sort of order-preserving keys, 11 bits a pass. `hist` holds the digit counts of
// all passes, filled by the caller while it wrote the keys (one read of the data fewer).
// Returns the buffer that holds the sorted keys: `keys` or `tmp`.
uint64_t* RadixSortKeys(uint64_t* keys, uint64_t* tmp, size_t n,
                        std::array<std::array<uint32_t, kBuckets>, kPasses>& hist) {
  uint64_t* src = keys;
  uint64_t* dst = tmp;
  for (int p = 0; p < kPasses; ++p) {
    auto& h = hist[p];
    const int shift = p * kDigitBits;
    // A digit shared by every key (common in the exponent's high bits) needs no pass.
    if (h[(src[0] >> shift) & (kBuckets - 1)] == n) {
      continue;
    }
    uint32_t sum = 0;
    for (auto& c : h) {
      const uint32_t count = c;
      c = sum;
      sum += count;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = src[i];
      dst[h[(k >> shift) & (kBuckets - 1)]++] = k;
    }
    std::swap(src, dst);
  }
  return src;
}

inline void CountDigits(uint64_t k, std::array<std::array<uint32_t, kBuckets>, kPasses>& hist) {
  for (int p = 0; p < kPasses; ++p) {
    ++hist[p][(k >> (p * kDigitBits)) & (kBuckets - 1)];
  }
}

// Histogram counters are 32-bit; past 4 billion rows std::sort takes over.
bool UseRadix(size_t n) { return n >= kRadixMinSize && n <= UINT32_MAX; }

}  // namespace

void RadixSortDoubles(std::vector<double>& values, std::vector<double>& scratch) {
  const size_t n = values.size();
  if (!UseRadix(n)) {
    std::sort(values.begin(), values.end());
    return;
  }
  // Keys live in the doubles' storage (same width), so no extra array beyond `scratch`.
  static_assert(sizeof(double) == sizeof(uint64_t));
  uint64_t* keys = reinterpret_cast<uint64_t*>(values.data());
  scratch.resize(n);
  auto hist = std::make_unique<std::array<std::array<uint32_t, kBuckets>, kPasses>>();
  for (size_t i = 0; i < n; ++i) {
    keys[i] = KeyOf(values[i]);
    CountDigits(keys[i], *hist);
  }
  const uint64_t* sorted =
      RadixSortKeys(keys, reinterpret_cast<uint64_t*>(scratch.data()), n, *hist);
  for (size_t i = 0; i < n; ++i) {
    values[i] = ValueOf(sorted[i]);
  }
}

NumericSample NumericSample::FromValues(std::span<const double> values) {
  return FromValues(values, {});
}

NumericSample NumericSample::FromValues(std::span<const double> values,
                                        std::span<const uint64_t> validity) {
  NumericSample s;
  const size_t n = values.size();
  // Uninitialized buffers: every slot used is written before it is read.
  std::unique_ptr<uint64_t[]> keys(new uint64_t[n > 0 ? n : 1]);
  size_t m = 0;
  const bool radix = UseRadix(n);
  auto hist = std::make_unique<std::array<std::array<uint32_t, kBuckets>, kPasses>>();
  const bool all_valid = validity.empty();
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i];
    if (!std::isfinite(v) || (!all_valid && !((validity[i >> 6] >> (i & 63)) & 1))) {
      ++s.missing_;
      continue;
    }
    const uint64_t k = KeyOf(v + 0.0);  // -0.0 + 0.0 == +0.0: one key for zero
    keys[m++] = k;
    if (radix) {
      CountDigits(k, *hist);
    }
  }
  const uint64_t* sorted = keys.get();
  std::unique_ptr<uint64_t[]> tmp;
  if (radix && UseRadix(m)) {
    tmp.reset(new uint64_t[m]);
    sorted = RadixSortKeys(keys.get(), tmp.get(), m, *hist);
  } else {
    std::sort(keys.get(), keys.get() + m);  // keys order as their doubles do
  }
  // Run-length encode: count the runs first so both arrays are allocated once, exactly.
  size_t runs = 0;
  for (size_t i = 0; i < m; ++i) {
    runs += (i == 0 || sorted[i] != sorted[i - 1]) ? 1 : 0;
  }
  s.values_.resize(runs);
  s.counts_.resize(runs);
  size_t r = 0;
  for (size_t i = 0; i < m;) {
    size_t j = i + 1;
    while (j < m && sorted[j] == sorted[i]) {
      ++j;
    }
    s.values_[r] = ValueOf(sorted[i]);
    s.counts_[r] = j - i;
    ++r;
    i = j;
  }
  s.Finish();
  return s;
}

NumericSample NumericSample::FromInts(std::span<const int64_t> values,
                                      std::span<const uint64_t> validity) {
  const size_t n = values.size();
  const bool all_valid = validity.empty();
  auto valid = [&](size_t i) { return all_valid || ((validity[i >> 6] >> (i & 63)) & 1); };
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  uint64_t missing = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!valid(i)) {
      ++missing;
      continue;
    }
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  // Counting pays while the range is within a few times the row count; every integer in it
  // must also be exact as a double (|v| <= 2^53) so distinct integers stay distinct values.
  constexpr int64_t kExact = int64_t{1} << 53;
  const uint64_t m = n - missing;
  if (m > 0 && lo >= -kExact && hi <= kExact && m <= UINT32_MAX &&
      static_cast<uint64_t>(hi - lo) < 4 * m + 4096) {
    const size_t range = static_cast<size_t>(hi - lo) + 1;
    std::vector<uint32_t> count(range, 0);
    for (size_t i = 0; i < n; ++i) {
      if (valid(i)) {
        ++count[static_cast<size_t>(values[i] - lo)];
      }
    }
    NumericSample s;
    s.missing_ = missing;
    size_t runs = 0;
    for (uint32_t c : count) {
      runs += c != 0 ? 1 : 0;
    }
    s.values_.reserve(runs);
    s.counts_.reserve(runs);
    for (size_t k = 0; k < range; ++k) {
      if (count[k] != 0) {
        s.values_.push_back(static_cast<double>(lo + static_cast<int64_t>(k)));
        s.counts_.push_back(count[k]);
      }
    }
    s.Finish();
    return s;
  }
  // Wide or huge integers: as doubles, sorted (integers beyond 2^53 round as numpy's do).
  std::vector<double> doubles(n);
  for (size_t i = 0; i < n; ++i) {
    doubles[i] = valid(i) ? static_cast<double>(values[i]) : std::nan("");
  }
  return FromValues(doubles);
}

Result<NumericSample> NumericSample::FromDistinct(std::vector<double> values,
                                                  std::vector<uint64_t> counts, uint64_t missing) {
  if (values.size() != counts.size()) {
    return InvalidArgument("sample values and counts differ in length");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument("sample values must be finite");
    }
    if (i > 0 && !(values[i - 1] < values[i])) {
      return InvalidArgument("sample values must be strictly ascending");
    }
  }
  PLINTH_RETURN_IF_ERROR(CheckCounts(counts));
  NumericSample s;
  s.values_ = std::move(values);
  s.counts_ = std::move(counts);
  s.missing_ = missing;
  s.Finish();
  return s;
}

void NumericSample::Finish() {
  size_ = std::accumulate(counts_.begin(), counts_.end(), uint64_t{0});
}

double NumericSample::Mean() const {
  if (size_ == 0) {
    return std::nan("");
  }
  CompensatedSum sum;
  for (size_t i = 0; i < values_.size(); ++i) {
    sum.Add(values_[i] * static_cast<double>(counts_[i]));
  }
  return sum.value() / static_cast<double>(size_);
}

double NumericSample::StdDev() const {
  if (size_ == 0) {
    return std::nan("");
  }
  // Two passes, as numpy: the mean first, then the mean squared deviation from it.
  const double mean = Mean();
  CompensatedSum sum;
  for (size_t i = 0; i < values_.size(); ++i) {
    const double d = values_[i] - mean;
    sum.Add(d * d * static_cast<double>(counts_[i]));
  }
  return std::sqrt(sum.value() / static_cast<double>(size_));
}

std::string NumericSample::Encode() const {
  // PLDN2: the count of distinct values and of missing ones, then per distinct value the gap
  // from the previous one's order-preserving key and its count, both as LEB128 varints: a
  // column of a million distinct doubles takes ~6 bytes a value instead of 16.
  std::string out(kNumericMagic2);
  out.reserve(out.size() + 16 + values_.size() * 7);
  Put<uint64_t>(out, values_.size());
  Put<uint64_t>(out, missing_);
  uint64_t previous = 0;
  for (size_t i = 0; i < values_.size(); ++i) {
    const uint64_t key = KeyOf(values_[i]);
    PutVarint(out, key - previous);
    PutVarint(out, counts_[i]);
    previous = key;
  }
  return out;
}

Result<NumericSample> NumericSample::Decode(std::string_view bytes) {
  Reader r(bytes);
  uint64_t n = 0, missing = 0;
  if (r.Magic(kNumericMagic2)) {
    // Each value takes at least two bytes, which bounds n before anything is allocated.
    if (!r.Get(&n) || !r.Get(&missing) || n > r.remaining() / 2) {
      return InvalidArgument("not a numeric drift profile");
    }
    std::vector<double> values(n);
    std::vector<uint64_t> counts(n);
    uint64_t key = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t gap = 0;
      if (!r.GetVarint(&gap) || !r.GetVarint(&counts[i]) || (i > 0 && gap == 0) ||
          key + gap < key) {
        return InvalidArgument("not a numeric drift profile");
      }
      key += gap;
      values[i] = ValueOf(key);
    }
    if (!r.done()) {
      return InvalidArgument("not a numeric drift profile");
    }
    return FromDistinct(std::move(values), std::move(counts), missing);
  }
  if (!r.Magic(kNumericMagic) || !r.Get(&n) || !r.Get(&missing) || r.remaining() != n * 16) {
    return InvalidArgument("not a numeric drift profile");
  }
  std::vector<double> values(n);
  std::vector<uint64_t> counts(n);
  for (auto& v : values) {
    uint64_t bits = 0;
    (void)r.Get(&bits);
    v = std::bit_cast<double>(bits);
  }
  for (auto& c : counts) {
    (void)r.Get(&c);
  }
  return FromDistinct(std::move(values), std::move(counts), missing);
}

CategoricalSample CategoricalSample::FromStrings(std::span<const std::string_view> values,
                                                 std::span<const uint8_t> missing) {
  CategoricalSample s;
  s.kind_ = KeyKind::kString;
  std::unordered_map<std::string_view, uint64_t> counts;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!missing.empty() && missing[i]) {
      ++s.missing_;
      continue;
    }
    ++counts[values[i]];
  }
  std::vector<std::pair<std::string_view, uint64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [label, count] : sorted) {
    s.labels_.emplace_back(label);
    s.counts_.push_back(count);
    s.size_ += count;
  }
  return s;
}

CategoricalSample CategoricalSample::FromCodes(std::span<const int64_t> codes) {
  CategoricalSample s;
  s.kind_ = KeyKind::kInteger;
  std::unordered_map<int64_t, uint64_t> counts;
  for (int64_t c : codes) {
    if (c < 0) {
      ++s.missing_;
    } else {
      ++counts[c];
    }
  }
  std::vector<std::pair<int64_t, uint64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [code, count] : sorted) {
    s.codes_.push_back(code);
    s.counts_.push_back(count);
    s.size_ += count;
  }
  return s;
}

Result<CategoricalSample> CategoricalSample::FromCounts(std::vector<std::string> labels,
                                                        std::vector<uint64_t> counts,
                                                        uint64_t missing) {
  if (labels.size() != counts.size()) {
    return InvalidArgument("category labels and counts differ in length");
  }
  PLINTH_RETURN_IF_ERROR(CheckCounts(counts));
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return labels[a] < labels[b]; });
  CategoricalSample s;
  s.kind_ = KeyKind::kString;
  for (size_t k = 0; k < order.size(); ++k) {
    if (k > 0 && labels[order[k]] == s.labels_.back()) {  // the previous one was moved
      return InvalidArgument("duplicate category label");
    }
    s.labels_.push_back(std::move(labels[order[k]]));
    s.counts_.push_back(counts[order[k]]);
    s.size_ += counts[order[k]];
  }
  s.missing_ = missing;
  return s;
}

Result<CategoricalSample> CategoricalSample::FromCodeCounts(std::vector<int64_t> codes,
                                                            std::vector<uint64_t> counts,
                                                            uint64_t missing) {
  if (codes.size() != counts.size()) {
    return InvalidArgument("category codes and counts differ in length");
  }
  PLINTH_RETURN_IF_ERROR(CheckCounts(counts));
  std::vector<size_t> order(codes.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return codes[a] < codes[b]; });
  CategoricalSample s;
  s.kind_ = KeyKind::kInteger;
  for (size_t k = 0; k < order.size(); ++k) {
    if (codes[order[k]] < 0 || (k > 0 && codes[order[k]] == codes[order[k - 1]])) {
      return InvalidArgument("category codes must be unique and non-negative");
    }
    s.codes_.push_back(codes[order[k]]);
    s.counts_.push_back(counts[order[k]]);
    s.size_ += counts[order[k]];
  }
  s.missing_ = missing;
  return s;
}

std::string CategoricalSample::Encode() const {
  std::string out(kCategoricalMagic);
  Put<uint8_t>(out, kind_ == KeyKind::kInteger ? 1 : 0);
  Put<uint64_t>(out, counts_.size());
  Put<uint64_t>(out, missing_);
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (kind_ == KeyKind::kInteger) {
      Put<int64_t>(out, codes_[i]);
    } else {
      Put<uint64_t>(out, labels_[i].size());
      out.append(labels_[i]);
    }
    Put<uint64_t>(out, counts_[i]);
  }
  return out;
}

Result<CategoricalSample> CategoricalSample::Decode(std::string_view bytes) {
  Reader r(bytes);
  uint8_t kind = 0;
  uint64_t n = 0, missing = 0;
  if (!r.Magic(kCategoricalMagic) || !r.Get(&kind) || kind > 1 || !r.Get(&n) || !r.Get(&missing) ||
      n > r.remaining()) {
    return InvalidArgument("not a categorical drift profile");
  }
  std::vector<std::string> labels;
  std::vector<int64_t> codes;
  std::vector<uint64_t> counts(n);
  for (uint64_t i = 0; i < n; ++i) {
    bool ok = true;
    if (kind == 1) {
      int64_t code = 0;
      ok = r.Get(&code);
      codes.push_back(code);
    } else {
      std::string label;
      ok = r.GetString(&label);
      labels.push_back(std::move(label));
    }
    if (!ok || !r.Get(&counts[i])) {
      return InvalidArgument("truncated categorical drift profile");
    }
  }
  if (!r.done()) {
    return InvalidArgument("trailing bytes after categorical drift profile");
  }
  if (kind == 1) {
    return FromCodeCounts(std::move(codes), std::move(counts), missing);
  }
  return FromCounts(std::move(labels), std::move(counts), missing);
}

}  // namespace plinth::drift
