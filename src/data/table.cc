#include "data/table.h"

#include <charconv>
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

double Column::AsDouble(size_t i) const {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      return static_cast<double>(ints_[i]);
    case DataType::kFloat64:
      return floats_[i];
    case DataType::kBool:
      return bools_[i] ? 1.0 : 0.0;
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
      return std::to_string(ints_[i]);
    case DataType::kFloat64: {
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), floats_[i]);
      return std::string(buf, res.ptr);
    }
    case DataType::kBool:
      return bools_[i] ? "true" : "false";
    case DataType::kString:
      return std::string(String(i));
    case DataType::kTimestamp:
      return FormatTimestamp(ints_[i]);
  }
  return "";
}

void Column::PushValidity(bool valid) {
  if ((size_ & 63) == 0) {
    validity_.push_back(0);
  }
  if (valid) {
    validity_.back() |= uint64_t{1} << (size_ & 63);
  } else {
    ++null_count_;
  }
  ++size_;
}

void Column::AppendNull() {
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

void Column::AppendInt(int64_t v) {
  ints_.push_back(v);
  PushValidity(true);
}

void Column::AppendFloat(double v) {
  floats_.push_back(v);
  PushValidity(true);
}

void Column::AppendBool(bool v) {
  bools_.push_back(v ? 1 : 0);
  PushValidity(true);
}

void Column::AppendString(std::string_view v) {
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
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      ints_.insert(ints_.end(), other.ints_.begin(), other.ints_.end());
      break;
    case DataType::kFloat64:
      floats_.insert(floats_.end(), other.floats_.begin(), other.floats_.end());
      break;
    case DataType::kBool:
      bools_.insert(bools_.end(), other.bools_.begin(), other.bools_.end());
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
