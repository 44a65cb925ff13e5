#include "data/table.h"

#include <bit>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace plinth::data {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kInt64:
      return "int";
    case DataType::kFloat64:
      return "float";
    case DataType::kBool:
      return "bool";
    case DataType::kString:
      return "string";
    case DataType::kTimestamp:
      return "timestamp";
  }
  return "string";
}

Result<DataType> DataTypeFromName(std::string_view name) {
  if (name == "int" || name == "int64" || name == "integer" || name == "long") {
    return DataType::kInt64;
  }
  if (name == "float" || name == "float64" || name == "double" || name == "number") {
    return DataType::kFloat64;
  }
  if (name == "bool" || name == "boolean") {
    return DataType::kBool;
  }
  if (name == "string" || name == "str" || name == "text" || name == "object") {
    return DataType::kString;
  }
  if (name == "timestamp" || name == "datetime" || name == "date") {
    return DataType::kTimestamp;
  }
  return InvalidArgument("unknown type '" + std::string(name) +
                         "': expected int, float, bool, string or timestamp");
}

namespace {

// Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

}  // namespace

std::string FormatTimestamp(int64_t micros) {
  constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t secs = rem / 1000000;
  int64_t frac = rem % 1000000;
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  out += 'Z';
  return out;
}

Column Column::Borrow(std::string name, DataType type, const void* data, size_t size,
                      std::vector<uint64_t> validity) {
  Column column(std::move(name), type);
  if (type == DataType::kString) {
    std::fprintf(stderr, "plinth: Column::Borrow does not take strings\n");
    std::abort();
  }
  column.borrowed_ = data;
  column.size_ = size;
  const size_t words = (size + 63) / 64;
  if (validity.empty()) {
    validity.assign(words, ~uint64_t{0});
  }
  validity.resize(words);
  if (size % 64 != 0) {
    validity.back() &= (uint64_t{1} << (size % 64)) - 1;
  }
  size_t valid = 0;
  for (uint64_t w : validity) {
    valid += static_cast<size_t>(std::popcount(w));
  }
  column.null_count_ = size - valid;
  column.validity_ = std::move(validity);
  return column;
}

void Column::CheckOwned() const {
  if (borrowed_ != nullptr) {
    std::fprintf(stderr, "plinth: appending to borrowed column '%s'\n", name_.c_str());
    std::abort();
  }
}

double Column::AsDouble(size_t i) const {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      return static_cast<double>(Int(i));
    case DataType::kFloat64:
      return Float(i);
    case DataType::kBool:
      return Bool(i) ? 1.0 : 0.0;
    case DataType::kString:
      return 0.0;
  }
  return 0.0;
}

std::string Column::ToText(size_t i) const {
  if (!IsValid(i)) {
    return "null";
  }
  switch (type_) {
    case DataType::kInt64:
      return std::to_string(Int(i));
    case DataType::kFloat64: {
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), Float(i));
      return std::string(buf, res.ptr);
    }
    case DataType::kBool:
      return Bool(i) ? "true" : "false";
    case DataType::kString:
      return std::string(String(i));
    case DataType::kTimestamp:
      return FormatTimestamp(Int(i));
  }
  return "";
}

void Column::AppendNull() {
  CheckOwned();
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.push_back(0);
      break;
    case DataType::kFloat64:
      floats_.push_back(0.0);
      break;
    case DataType::kBool:
      bools_.push_back(0);
      break;
    case DataType::kString:
      offsets_.push_back(static_cast<int64_t>(arena_.size()));
      break;
  }
  PushValidity(false);
}

void Column::AppendString(std::string_view v) {
  CheckOwned();
  arena_.insert(arena_.end(), v.begin(), v.end());
  offsets_.push_back(static_cast<int64_t>(arena_.size()));
  PushValidity(true);
}

char* Column::AppendStringUninitialized(size_t n) {
  size_t start = arena_.size();
  arena_.resize(start + n);
  offsets_.push_back(static_cast<int64_t>(arena_.size()));
  PushValidity(true);
  return arena_.data() + start;
}

void Column::Reserve(size_t rows, size_t string_bytes) {
  CheckOwned();
  validity_.reserve((rows + 63) / 64);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.reserve(rows);
      break;
    case DataType::kFloat64:
      floats_.reserve(rows);
      break;
    case DataType::kBool:
      bools_.reserve(rows);
      break;
    case DataType::kString:
      offsets_.reserve(rows + 1);
      arena_.reserve(string_bytes);
      break;
  }
}

void Column::AppendColumn(const Column& other) {
  const size_t n = other.size_;
  if (n == 0) {
    return;
  }
  CheckOwned();
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.insert(ints_.end(), other.ints().begin(), other.ints().end());
      break;
    case DataType::kFloat64:
      floats_.insert(floats_.end(), other.floats().begin(), other.floats().end());
      break;
    case DataType::kBool:
      bools_.insert(bools_.end(), other.bools().begin(), other.bools().end());
      break;
    case DataType::kString: {
      const int64_t base = static_cast<int64_t>(arena_.size());
      arena_.insert(arena_.end(), other.arena_.begin(), other.arena_.end());
      offsets_.reserve(offsets_.size() + n);
      for (size_t i = 1; i <= n; ++i) {
        offsets_.push_back(base + other.offsets_[i]);
      }
      break;
    }
  }
  // Bitmaps: word-aligned copy when this column ends on a word boundary, else bit by bit.
  if ((size_ & 63) == 0) {
    validity_.insert(validity_.end(), other.validity_.begin(), other.validity_.end());
    size_ += n;
    null_count_ += other.null_count_;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    PushValidity(other.IsValid(i));
  }
}

int Table::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name() == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace plinth::data
