// Table: a columnar in-memory table of typed columns with null bitmaps, the unit the data engine
// reads (csv.h), profiles (profile.h) and validates (validate.h).
//
// A Column owns one contiguous array per type: int64 for kInt64 and kTimestamp (microseconds
// since the Unix epoch, UTC), double for kFloat64, one byte per value for kBool, and for kString
// an arena of bytes plus offsets (value i is bytes [offsets[i], offsets[i+1])), so a million
// strings are two allocations, not a million. A null value keeps a zero/empty slot in the data
// and a 0 bit in the validity bitmap. Tables are immutable once built and safe to read from many
// threads; building one is single-threaded per column.
#ifndef PLINTH_DATA_TABLE_H_
#define PLINTH_DATA_TABLE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace plinth::data {

enum class DataType : uint8_t { kInt64, kFloat64, kBool, kString, kTimestamp };

// "int", "float", "bool", "string", "timestamp": the names suites and profiles use.
std::string_view DataTypeName(DataType type);
// Accepts the names above and common aliases (int64, integer, double, float64, boolean, str,
// datetime). Failure: kInvalidArgument listing the names.
Result<DataType> DataTypeFromName(std::string_view name);

// Formats microseconds since the epoch as ISO 8601 ("2024-03-01T12:00:00Z", fractional
// seconds only when non-zero).
std::string FormatTimestamp(int64_t micros);

class Column {
 public:
  Column(std::string name, DataType type) : name_(std::move(name)), type_(type) {
    if (type_ == DataType::kString) {
      offsets_.push_back(0);
    }
  }

  const std::string& name() const { return name_; }
  DataType type() const { return type_; }
  size_t size() const { return size_; }
  size_t null_count() const { return null_count_; }

  // A numeric column read in place from values the caller owns: int64 for kInt64 and
  // kTimestamp, double for kFloat64, one byte per value for kBool. `validity` holds one bit per
  // value (bit set: valid); empty means every value is valid. Nothing is copied, so the caller
  // keeps `data` alive and unchanged while this column or any copy of it lives (the Python
  // bindings hand numpy buffers over this way). Appending to a borrowed column aborts.
  static Column Borrow(std::string name, DataType type, const void* data, size_t size,
                       std::vector<uint64_t> validity = {});

  bool IsValid(size_t i) const { return (validity_[i >> 6] >> (i & 63)) & 1; }
  // Typed access; the caller checks type() first. Null slots read as 0 / false / "".
  int64_t Int(size_t i) const { return IntData()[i]; }
  double Float(size_t i) const { return FloatData()[i]; }
  bool Bool(size_t i) const { return BoolData()[i] != 0; }
  std::string_view String(size_t i) const {
    return {arena_.data() + offsets_[i], static_cast<size_t>(offsets_[i + 1] - offsets_[i])};
  }
  // A numeric view of value i for kInt64, kFloat64, kBool and kTimestamp.
  double AsDouble(size_t i) const;
  // The value as text (what a report shows): integers and floats in shortest form, bools as
  // "true"/"false", timestamps in ISO 8601; "null" for a null.
  std::string ToText(size_t i) const;

  std::span<const int64_t> ints() const { return {IntData(), IsIntLike() ? size_ : 0}; }
  std::span<const double> floats() const {
    return {FloatData(), type_ == DataType::kFloat64 ? size_ : 0};
  }
  std::span<const uint8_t> bools() const {
    return {BoolData(), type_ == DataType::kBool ? size_ : 0};
  }
  std::span<const uint64_t> validity() const { return validity_; }
  size_t string_bytes() const { return arena_.size(); }

  // Appends; each keeps the bitmap and the per-type array in step.
  void AppendNull();
  void AppendInt(int64_t v) {
    if (borrowed_ != nullptr) [[unlikely]] {
      CheckOwned();
    }
    ints_.push_back(v);
    PushValidity(true);
  }
  void AppendFloat(double v) {
    if (borrowed_ != nullptr) [[unlikely]] {
      CheckOwned();
    }
    floats_.push_back(v);
    PushValidity(true);
  }
  void AppendBool(bool v) {
    if (borrowed_ != nullptr) [[unlikely]] {
      CheckOwned();
    }
    bools_.push_back(v ? 1 : 0);
    PushValidity(true);
  }
  void AppendString(std::string_view v);
  // Appends a string whose bytes the caller writes into the returned buffer (length n).
  char* AppendStringUninitialized(size_t n);
  void Reserve(size_t rows, size_t string_bytes = 0);
  // Appends every value of `other`, which must have the same type.
  void AppendColumn(const Column& other);

 private:
  // Inline: the CSV reader calls it once per value.
  void PushValidity(bool valid) {
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
  void CheckOwned() const;
  bool IsIntLike() const { return type_ == DataType::kInt64 || type_ == DataType::kTimestamp; }
  const int64_t* IntData() const {
    return borrowed_ ? static_cast<const int64_t*>(borrowed_) : ints_.data();
  }
  const double* FloatData() const {
    return borrowed_ ? static_cast<const double*>(borrowed_) : floats_.data();
  }
  const uint8_t* BoolData() const {
    return borrowed_ ? static_cast<const uint8_t*>(borrowed_) : bools_.data();
  }

  std::string name_;
  DataType type_;
  size_t size_ = 0;
  size_t null_count_ = 0;
  std::vector<uint64_t> validity_;
  std::vector<int64_t> ints_;       // kInt64, kTimestamp
  std::vector<double> floats_;      // kFloat64
  std::vector<uint8_t> bools_;      // kBool
  std::vector<int64_t> offsets_;    // kString: size()+1 entries
  std::vector<char> arena_;         // kString bytes
  const void* borrowed_ = nullptr;  // Borrow(): the values, instead of the vectors above
};

// A set of equally long columns with unique names. `source_lines` (when not empty) gives for
// each row the 1-based line of the input file where its record starts, so reports can point at
// the file even when quoted fields span lines or malformed lines were skipped.
struct Table {
  std::vector<Column> columns;
  std::vector<int64_t> source_lines;

  size_t num_rows() const { return columns.empty() ? 0 : columns.front().size(); }
  size_t num_columns() const { return columns.size(); }
  // The index of the column named `name`, or -1.
  int FindColumn(std::string_view name) const;
  // The 1-based source line of row `row` (0-based), or row + 2 (a header line, then one line
  // per row) when the table did not come from a file with line tracking.
  int64_t SourceLine(size_t row) const {
    return source_lines.empty() ? static_cast<int64_t>(row) + 2 : source_lines[row];
  }
};

}  // namespace plinth::data

#endif  // PLINTH_DATA_TABLE_H_
