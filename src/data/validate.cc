#include "data/validate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <unordered_map>
#include <unordered_set>

#include "data/parallel.h"
#include "drift/sample.h"

namespace plinth::data {
namespace {

using nlohmann::json;

constexpr int64_t kNoRow = -1;

bool IsNumericType(DataType t) {
  return t == DataType::kInt64 || t == DataType::kFloat64 || t == DataType::kBool;
}

// The first row of each distinct key: open addressing with linear probing over (hash, row)
// slots, at most half full (doubling as keys arrive, so a column of five values stays in
// cache). std::unordered_map spent most of a uniqueness check allocating one node per
// distinct value (a million for an id column).
class FirstRows {
 public:
  FirstRows() { Resize(1024); }
  // The first row inserted whose key equals this one (`same(row)` compares keys of equal
  // hash), or `row` itself when the key is new.
  template <typename Same>
  int64_t Insert(uint64_t hash, int64_t row, const Same& same) {
    for (size_t h = hash & mask_;; h = (h + 1) & mask_) {
      if (rows_[h] == kNoRow) {
        rows_[h] = row;
        hashes_[h] = hash;
        if (++size_ * 2 > mask_) {
          Resize(2 * (mask_ + 1));
        }
        return row;
      }
      if (hashes_[h] == hash && same(rows_[h])) {
        return rows_[h];
      }
    }
  }

 private:
  void Resize(size_t capacity) {
    std::vector<uint64_t> hashes(capacity);
    std::vector<int64_t> rows(capacity, kNoRow);
    const size_t mask = capacity - 1;
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i] != kNoRow) {
        size_t h = hashes_[i] & mask;
        while (rows[h] != kNoRow) {
          h = (h + 1) & mask;
        }
        rows[h] = rows_[i];
        hashes[h] = hashes_[i];
      }
    }
    hashes_ = std::move(hashes);
    rows_ = std::move(rows);
    mask_ = mask;
  }

  size_t mask_ = 0;
  size_t size_ = 0;
  std::vector<uint64_t> hashes_;
  std::vector<int64_t> rows_;
};

// splitmix64's finalizer: a bijection, so equal hashes mean equal 64-bit keys.
inline uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// For each row, the row where its value first occurs (itself for a first occurrence), or kNoRow
// for a null. Values compare by type: integers, float bit patterns (-0.0 as 0.0), bytes.
std::vector<int64_t> FirstOccurrence(const Column& column) {
  const size_t n = column.size();
  std::vector<int64_t> first(n, kNoRow);
  if (column.type() == DataType::kString) {
    FirstRows seen;
    const std::hash<std::string_view> hash;
    for (size_t i = 0; i < n; ++i) {
      if (column.IsValid(i)) {
        const std::string_view s = column.String(i);
        first[i] = seen.Insert(hash(s), static_cast<int64_t>(i), [&](int64_t r) {
          return column.String(static_cast<size_t>(r)) == s;
        });
      }
    }
    return first;
  }
  if (column.type() == DataType::kInt64 || column.type() == DataType::kTimestamp) {
    // Ids are often written in order: strictly increasing values are all distinct.
    bool increasing = true;
    int64_t last = std::numeric_limits<int64_t>::min();
    bool started = false;
    for (size_t i = 0; i < n && increasing; ++i) {
      if (column.IsValid(i)) {
        const int64_t v = column.Int(i);
        increasing = !started || v > last;
        last = v;
        started = true;
      }
    }
    if (increasing) {
      for (size_t i = 0; i < n; ++i) {
        if (column.IsValid(i)) {
          first[i] = static_cast<int64_t>(i);
        }
      }
      return first;
    }
  }
  FirstRows seen;
  for (size_t i = 0; i < n; ++i) {
    if (!column.IsValid(i)) {
      continue;
    }
    uint64_t key;
    if (column.type() == DataType::kFloat64) {
      double v = column.Float(i);
      if (v == 0.0) {
        v = 0.0;
      }
      std::memcpy(&key, &v, sizeof(key));
    } else if (column.type() == DataType::kBool) {
      key = column.Bool(i) ? 1 : 0;
    } else {
      key = static_cast<uint64_t>(column.Int(i));
    }
    first[i] = seen.Insert(Mix64(key), static_cast<int64_t>(i), [](int64_t) { return true; });
  }
  return first;
}

// The same over several columns: rows whose key columns are all null get kNoRow. Each column's
// values become their first rows (kNoRow for null), then the tuples are folded pairwise:
// (rows so far, next column's row) → the first row of that pair.
std::vector<int64_t> FirstOccurrence(const std::vector<const Column*>& columns, size_t rows) {
  if (columns.size() == 1) {
    return FirstOccurrence(*columns[0]);
  }
  std::vector<int64_t> acc = FirstOccurrence(*columns[0]);
  std::vector<uint8_t> any(rows);
  for (size_t i = 0; i < rows; ++i) {
    any[i] = acc[i] != kNoRow;
  }
  for (size_t k = 1; k < columns.size(); ++k) {
    const std::vector<int64_t> next = FirstOccurrence(*columns[k]);
    FirstRows seen;
    std::vector<int64_t> folded(rows);
    for (size_t i = 0; i < rows; ++i) {
      any[i] = any[i] || next[i] != kNoRow;
      const int64_t a = acc[i], b = next[i];
      const uint64_t hash =
          Mix64(static_cast<uint64_t>(a) * 0x9e3779b97f4a7c15ull ^ Mix64(static_cast<uint64_t>(b)));
      folded[i] = seen.Insert(hash, static_cast<int64_t>(i), [&](int64_t r) {
        return acc[static_cast<size_t>(r)] == a && next[static_cast<size_t>(r)] == b;
      });
    }
    acc = std::move(folded);
  }
  for (size_t i = 0; i < rows; ++i) {
    if (!any[i]) {
      acc[i] = kNoRow;
    }
  }
  return acc;
}

json ObservedNumber(double v) {
  if (!std::isfinite(v)) {
    return nullptr;
  }
  return v;
}

// Evaluation of one expectation against the table.
class Evaluator {
 public:
  // `file_columns`: every column of the input, which may be more than `table` holds.
  Evaluator(const Table& table, const std::vector<std::string>& file_columns,
            const std::vector<std::vector<uint8_t>>& type_error_rows, size_t max_sample)
      : table_(table),
        file_columns_(file_columns),
        type_error_rows_(type_error_rows),
        max_sample_(max_sample) {}

  ExpectationResult Run(const Expectation& e) const {
    ExpectationResult r;
    r.expectation = &e;
    const std::string& t = e.type;
    if (t == "expect_table_row_count_to_be_between" || t == "expect_table_row_count_to_equal") {
      return Aggregate(e, static_cast<double>(table_.num_rows()), json(table_.num_rows()));
    }
    if (t == "expect_table_column_count_to_be_between" ||
        t == "expect_table_column_count_to_equal") {
      return Aggregate(e, static_cast<double>(file_columns_.size()), json(file_columns_.size()));
    }
    if (t == "expect_table_columns_to_match_ordered_list" ||
        t == "expect_table_columns_to_match_set") {
      const std::vector<std::string>& names = file_columns_;
      r.observed_json = json(names).dump();
      if (t == "expect_table_columns_to_match_ordered_list") {
        r.success = names == e.column_list;
      } else {
        std::vector<std::string> a = names, b = e.column_list;
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        r.success = a == b;
      }
      return r;
    }
    if (t == "expect_compound_columns_to_be_unique") {
      return CompoundUnique(e);
    }
    if (t == "expect_column_pair_values_A_to_be_greater_than_B") {
      return PairGreater(e);
    }
    const int index = table_.FindColumn(e.column);
    if (t == "expect_column_to_exist") {
      r.success = index >= 0;
      r.observed_json = json(index >= 0).dump();
      return r;
    }
    if (index < 0) {
      r.error = "column '" + e.column + "' is not in the table";
      return r;
    }
    const Column& col = table_.columns[static_cast<size_t>(index)];
    if (t == "expect_column_values_to_be_of_type") {
      auto want = DataTypeFromName(e.type_name);
      if (!want.ok()) {
        r.error = want.status().message();
        return r;
      }
      r.observed_json = json(std::string(DataTypeName(col.type()))).dump();
      r.success = col.type() == *want;
      return r;
    }
    if (t == "expect_column_values_to_not_be_null" || t == "expect_column_values_to_be_null") {
      const bool want_null = t == "expect_column_values_to_be_null";
      r.is_map = true;
      r.element_count = col.size();
      // A cell that did not parse as its declared type is reported as a bad type, not a null.
      const auto& bad_type = type_error_rows_[static_cast<size_t>(index)];
      for (size_t i = 0; i < col.size(); ++i) {
        if (!bad_type.empty() && bad_type[i]) {
          continue;
        }
        if (col.IsValid(i) == want_null) {
          AddUnexpected(&r, col, i);
        }
      }
      r.success = Passes(r.unexpected_count, r.element_count, e.mostly);
      return r;
    }
    if (t == "expect_column_values_to_be_between") {
      return Between(e, col);
    }
    if (t == "expect_column_values_to_be_in_set" || t == "expect_column_values_to_not_be_in_set") {
      return InSet(e, col, t == "expect_column_values_to_be_in_set");
    }
    if (t == "expect_column_values_to_match_regex" ||
        t == "expect_column_values_to_not_match_regex") {
      return Regex(e, col, t == "expect_column_values_to_match_regex");
    }
    if (t == "expect_column_values_to_be_unique") {
      const std::vector<int64_t> first = FirstOccurrence(col);
      std::vector<uint32_t> occurrences(col.size(), 0);
      for (int64_t f : first) {
        if (f != kNoRow) {
          ++occurrences[static_cast<size_t>(f)];
        }
      }
      return MapOver(e, col,
                     [&](size_t i) { return occurrences[static_cast<size_t>(first[i])] > 1; });
    }
    if (t == "expect_column_value_lengths_to_be_between" ||
        t == "expect_column_value_lengths_to_equal") {
      if (col.type() != DataType::kString) {
        r.error = "column '" + e.column + "' is " + std::string(DataTypeName(col.type())) +
                  ", not string";
        return r;
      }
      Expectation bounds = e;
      if (e.value) {
        bounds.min_value = Bound{*e.value, "", true};
        bounds.max_value = bounds.min_value;
      }
      return MapOver(e, col, [&](size_t i) {
        return !InRange(bounds, static_cast<double>(CodePoints(col.String(i))));
      });
    }
    if (t == "expect_column_unique_value_count_to_be_between" ||
        t == "expect_column_proportion_of_unique_values_to_be_between") {
      const std::vector<int64_t> first = FirstOccurrence(col);
      uint64_t distinct = 0, present = 0;
      for (size_t i = 0; i < first.size(); ++i) {
        present += first[i] != kNoRow;
        distinct += first[i] == static_cast<int64_t>(i);
      }
      if (t == "expect_column_unique_value_count_to_be_between") {
        return Aggregate(e, static_cast<double>(distinct), json(distinct));
      }
      const double share = present == 0 ? 0.0 : static_cast<double>(distinct) / present;
      return Aggregate(e, share, json(share));
    }
    return ColumnAggregate(e, col);
  }

 private:
  static bool Passes(uint64_t unexpected, uint64_t evaluated, double mostly) {
    if (evaluated == 0) {
      return true;
    }
    const double ok_share =
        static_cast<double>(evaluated - unexpected) / static_cast<double>(evaluated);
    return ok_share >= mostly;
  }

  static size_t CodePoints(std::string_view s) {
    size_t n = 0;
    for (char c : s) {
      n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
    return n;
  }

  static bool InRange(const Expectation& e, double v) {
    if (e.min_value && (e.strict_min ? v <= e.min_value->number : v < e.min_value->number)) {
      return false;
    }
    if (e.max_value && (e.strict_max ? v >= e.max_value->number : v > e.max_value->number)) {
      return false;
    }
    return true;
  }

  void AddUnexpected(ExpectationResult* r, const Column& col, size_t i,
                     std::string note = "") const {
    ++r->unexpected_count;
    if (r->partial_unexpected.size() < max_sample_) {
      r->partial_unexpected.push_back(
          {i + 1, table_.SourceLine(i), col.ToText(i), std::move(note)});
    }
  }

  // A per-value expectation over the non-null values of `col`.
  ExpectationResult MapOver(const Expectation& e, const Column& col,
                            const std::function<bool(size_t)>& unexpected) const {
    ExpectationResult r;
    r.expectation = &e;
    r.is_map = true;
    r.element_count = col.size();
    r.missing_count = col.null_count();
    for (size_t i = 0; i < col.size(); ++i) {
      if (col.IsValid(i) && unexpected(i)) {
        AddUnexpected(&r, col, i);
      }
    }
    r.success = Passes(r.unexpected_count, r.element_count - r.missing_count, e.mostly);
    return r;
  }

  // Bounds of a between expectation in the column's terms: timestamps parse text bounds,
  // numbers compare as numbers. Failure: the message for `error`.
  std::optional<std::string> ResolveBounds(const Expectation& e, DataType type,
                                           Expectation* out) const {
    *out = e;
    for (std::optional<Bound>* b : {&out->min_value, &out->max_value}) {
      if (!*b) {
        continue;
      }
      if (type == DataType::kTimestamp && !(*b)->is_number) {
        int64_t micros;
        if (!ParseTimestampText((*b)->text, &micros)) {
          return "bound '" + (*b)->text + "' is not a timestamp";
        }
        (*b)->number = static_cast<double>(micros);
        (*b)->is_number = true;
      }
      if (type != DataType::kString && !(*b)->is_number) {
        double v;
        if (!ParseFloatText((*b)->text, &v)) {
          return "bound '" + (*b)->text + "' is not a number";
        }
        (*b)->number = v;
        (*b)->is_number = true;
      }
    }
    return std::nullopt;
  }

  ExpectationResult Between(const Expectation& e, const Column& col) const {
    if (col.type() == DataType::kString) {
      auto outside = [&](size_t i) {
        const std::string_view s = col.String(i);
        if (e.min_value && (e.strict_min ? s <= e.min_value->text : s < e.min_value->text)) {
          return true;
        }
        return e.max_value && (e.strict_max ? s >= e.max_value->text : s > e.max_value->text);
      };
      return MapOver(e, col, outside);
    }
    Expectation bounds;
    if (auto error = ResolveBounds(e, col.type(), &bounds)) {
      ExpectationResult r;
      r.expectation = &e;
      r.error = *error;
      return r;
    }
    return MapOver(e, col, [&](size_t i) { return !InRange(bounds, col.AsDouble(i)); });
  }

  ExpectationResult InSet(const Expectation& e, const Column& col, bool want_in) const {
    if (col.type() == DataType::kString) {
      if (e.value_set.size() <= 16) {  // a short list: compare lengths, then bytes (no hashing)
        return MapOver(e, col, [&](size_t i) {
          const std::string_view s = col.String(i);
          bool in = false;
          for (const std::string& member : e.value_set) {
            in = in ||
                 (member.size() == s.size() && std::memcmp(member.data(), s.data(), s.size()) == 0);
          }
          return in != want_in;
        });
      }
      const std::unordered_set<std::string_view> set(e.value_set.begin(), e.value_set.end());
      return MapOver(e, col, [&](size_t i) { return (set.count(col.String(i)) != 0) != want_in; });
    }
    // Set members that do not parse as the column's type can match nothing.
    std::unordered_set<double> set;
    for (const std::string& text : e.value_set) {
      double d;
      int64_t micros;
      bool b;
      if (col.type() == DataType::kTimestamp) {
        if (ParseTimestampText(text, &micros)) {
          set.insert(static_cast<double>(micros));
        }
      } else if (col.type() == DataType::kBool) {
        if (ParseBoolText(text, &b)) {
          set.insert(b ? 1.0 : 0.0);
        }
      } else if (ParseFloatText(text, &d)) {
        set.insert(d);
      }
    }
    return MapOver(e, col, [&](size_t i) { return (set.count(col.AsDouble(i)) != 0) != want_in; });
  }

  ExpectationResult Regex(const Expectation& e, const Column& col, bool want_match) const {
    std::optional<std::regex> re;
    try {
      re.emplace(e.regex, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& ex) {
      ExpectationResult r;
      r.expectation = &e;
      r.error = "bad regex '" + e.regex + "': " + ex.what();
      return r;
    }
    // GE matches with re.search semantics (pandas str.contains), not a full match. A string
    // column's values repeat: each distinct one is searched once (up to 2^16 remembered).
    std::unordered_map<std::string_view, bool> seen;
    constexpr size_t kMaxRemembered = size_t{1} << 16;
    return MapOver(e, col, [&](size_t i) {
      if (col.type() == DataType::kString) {
        const std::string_view s = col.String(i);
        if (auto it = seen.find(s); it != seen.end()) {
          return it->second != want_match;
        }
        const bool found = std::regex_search(s.begin(), s.end(), *re);
        if (seen.size() < kMaxRemembered) {
          seen.emplace(s, found);
        }
        return found != want_match;
      }
      const std::string s = col.ToText(i);
      return std::regex_search(s, *re) != want_match;
    });
  }

  ExpectationResult CompoundUnique(const Expectation& e) const {
    ExpectationResult r;
    r.expectation = &e;
    std::vector<const Column*> columns;
    for (const std::string& name : e.column_list) {
      const int index = table_.FindColumn(name);
      if (index < 0) {
        r.error = "column '" + name + "' is not in the table";
        return r;
      }
      columns.push_back(&table_.columns[static_cast<size_t>(index)]);
    }
    if (columns.empty()) {
      r.error = "column_list is empty";
      return r;
    }
    const size_t rows = table_.num_rows();
    const std::vector<int64_t> first = FirstOccurrence(columns, rows);
    std::vector<uint32_t> occurrences(rows, 0);
    for (int64_t f : first) {
      if (f != kNoRow) {
        ++occurrences[static_cast<size_t>(f)];
      }
    }
    r.is_map = true;
    r.element_count = rows;
    for (size_t i = 0; i < rows; ++i) {
      if (first[i] == kNoRow) {
        ++r.missing_count;
        continue;
      }
      if (occurrences[static_cast<size_t>(first[i])] > 1) {
        ++r.unexpected_count;
        if (r.partial_unexpected.size() < max_sample_) {
          std::string value;
          for (const Column* c : columns) {
            value += (value.empty() ? "" : ", ") + c->ToText(i);
          }
          r.partial_unexpected.push_back({i + 1, table_.SourceLine(i), "(" + value + ")", ""});
        }
      }
    }
    r.success = Passes(r.unexpected_count, r.element_count - r.missing_count, e.mostly);
    return r;
  }

  ExpectationResult PairGreater(const Expectation& e) const {
    ExpectationResult r;
    r.expectation = &e;
    const int ia = table_.FindColumn(e.column_a);
    const int ib = table_.FindColumn(e.column_b);
    if (ia < 0 || ib < 0) {
      r.error = "column '" + (ia < 0 ? e.column_a : e.column_b) + "' is not in the table";
      return r;
    }
    const Column& a = table_.columns[static_cast<size_t>(ia)];
    const Column& b = table_.columns[static_cast<size_t>(ib)];
    const bool strings = a.type() == DataType::kString;
    if (strings != (b.type() == DataType::kString)) {
      r.error = "column_A and column_B must both be strings or both be numbers";
      return r;
    }
    r.is_map = true;
    r.element_count = a.size();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a.IsValid(i) || !b.IsValid(i)) {
        ++r.missing_count;
        continue;
      }
      bool ok;
      if (strings) {
        ok = e.or_equal ? a.String(i) >= b.String(i) : a.String(i) > b.String(i);
      } else {
        ok = e.or_equal ? a.AsDouble(i) >= b.AsDouble(i) : a.AsDouble(i) > b.AsDouble(i);
      }
      if (!ok) {
        ++r.unexpected_count;
        if (r.partial_unexpected.size() < max_sample_) {
          r.partial_unexpected.push_back(
              {i + 1, table_.SourceLine(i), "(" + a.ToText(i) + ", " + b.ToText(i) + ")", ""});
        }
      }
    }
    r.success = Passes(r.unexpected_count, r.element_count - r.missing_count, e.mostly);
    return r;
  }

  ExpectationResult Aggregate(const Expectation& e, double observed, json observed_json,
                              DataType type = DataType::kFloat64) const {
    ExpectationResult r;
    r.expectation = &e;
    r.observed_json = observed_json.dump();
    if (e.value) {
      r.success = observed == *e.value;
      return r;
    }
    Expectation bounds;
    if (auto error = ResolveBounds(e, type, &bounds)) {
      r.error = *error;
      return r;
    }
    r.success = std::isfinite(observed) && InRange(bounds, observed);
    return r;
  }

  ExpectationResult ColumnAggregate(const Expectation& e, const Column& col) const {
    const std::string& t = e.type;
    const bool minmax =
        t == "expect_column_min_to_be_between" || t == "expect_column_max_to_be_between";
    if (!IsNumericType(col.type()) && !(minmax && col.type() == DataType::kTimestamp)) {
      ExpectationResult r;
      r.expectation = &e;
      r.error =
          "column '" + e.column + "' is " + std::string(DataTypeName(col.type())) + ", not numeric";
      return r;
    }
    std::vector<double> values;
    values.reserve(col.size() - col.null_count());
    for (size_t i = 0; i < col.size(); ++i) {
      if (col.IsValid(i)) {
        const double v = col.AsDouble(i);
        if (std::isfinite(v)) {
          values.push_back(v);
        }
      }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (minmax) {
      double v = nan;
      if (!values.empty()) {
        v = t == "expect_column_min_to_be_between"
                ? *std::min_element(values.begin(), values.end())
                : *std::max_element(values.begin(), values.end());
      }
      json observed = col.type() == DataType::kTimestamp && std::isfinite(v)
                          ? json(FormatTimestamp(static_cast<int64_t>(v)))
                          : ObservedNumber(v);
      return Aggregate(e, v, observed, col.type());
    }
    const double n = static_cast<double>(values.size());
    double sum = 0.0;
    for (double v : values) {
      sum += v;
    }
    if (t == "expect_column_sum_to_be_between") {
      return Aggregate(e, sum, ObservedNumber(sum));
    }
    const double mean = values.empty() ? nan : sum / n;
    if (t == "expect_column_mean_to_be_between") {
      return Aggregate(e, mean, ObservedNumber(mean));
    }
    if (t == "expect_column_stdev_to_be_between") {
      double m2 = 0.0;
      for (double v : values) {
        m2 += (v - mean) * (v - mean);
      }
      const double sd = values.size() < 2 ? nan : std::sqrt(m2 / (n - 1));
      return Aggregate(e, sd, ObservedNumber(sd));
    }
    // A radix sort: ~4x std::sort on a million values (no NaN here: nulls are left out).
    if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
      std::sort(values.begin(), values.end());
    } else {
      std::vector<double> scratch;
      drift::RadixSortDoubles(values, scratch);
    }
    if (t == "expect_column_median_to_be_between") {
      double median = nan;
      if (!values.empty()) {
        const size_t mid = values.size() / 2;
        median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
      }
      return Aggregate(e, median, ObservedNumber(median));
    }
    // expect_column_quantile_values_to_be_between: pandas' quantile(interpolation="nearest"),
    // as GE's pandas engine computes it.
    ExpectationResult r;
    r.expectation = &e;
    json observed = {{"quantiles", e.quantiles}, {"values", json::array()}};
    r.success = !values.empty();
    for (size_t k = 0; k < e.quantiles.size(); ++k) {
      double v = nan;
      if (!values.empty()) {
        const double pos = e.quantiles[k] * (n - 1);
        v = values[static_cast<size_t>(std::nearbyint(pos))];
      }
      observed["values"].push_back(ObservedNumber(v));
      const auto& [lo, hi] = e.value_ranges[k];
      if (!std::isfinite(v) || (lo && v < *lo) || (hi && v > *hi)) {
        r.success = false;
      }
    }
    r.observed_json = observed.dump();
    return r;
  }

  const Table& table_;
  const std::vector<std::string>& file_columns_;
  const std::vector<std::vector<uint8_t>>& type_error_rows_;
  size_t max_sample_;
};

json UnexpectedJson(const UnexpectedValue& u) {
  json j = {{"line", u.line}, {"value", u.value}};
  if (u.row > 0) {
    j["row"] = u.row;
  } else {
    j["row"] = nullptr;
  }
  if (!u.note.empty()) {
    j["note"] = u.note;
  }
  return j;
}

json ResultJson(const ExpectationResult& r) {
  json out;
  out["success"] = r.success;
  out["expectation_config"] = {{"expectation_type", r.expectation->type},
                               {"kwargs", json::parse(r.expectation->kwargs_json)}};
  json result = json::object();
  if (!r.observed_json.empty()) {
    result["observed_value"] = json::parse(r.observed_json);
  }
  if (r.is_map) {
    const uint64_t evaluated = r.element_count - r.missing_count;
    result["element_count"] = r.element_count;
    result["missing_count"] = r.missing_count;
    result["missing_percent"] =
        r.element_count ? json(100.0 * r.missing_count / r.element_count) : json(nullptr);
    result["unexpected_count"] = r.unexpected_count;
    result["unexpected_percent"] =
        evaluated ? json(100.0 * r.unexpected_count / evaluated) : json(nullptr);
    result["unexpected_percent_total"] =
        r.element_count ? json(100.0 * r.unexpected_count / r.element_count) : json(nullptr);
    json values = json::array(), rows = json::array();
    for (const UnexpectedValue& u : r.partial_unexpected) {
      values.push_back(u.value);
      rows.push_back(UnexpectedJson(u));
    }
    result["partial_unexpected_list"] = values;
    result["partial_unexpected_rows"] = rows;
  }
  out["result"] = result;
  out["exception_info"] = {{"raised_exception", !r.error.empty()},
                           {"exception_message", r.error.empty() ? json(nullptr) : json(r.error)}};
  return out;
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

CsvOptions SuiteCsvOptions(const Suite& suite, CsvOptions base) {
  base.bad_rows = BadRowMode::kCollect;
  // Only the columns the suite names are typed; table-level expectations need just the names.
  std::vector<std::string>& only = base.only_columns;
  auto use = [&](const std::string& name) {
    if (!name.empty() && std::find(only.begin(), only.end(), name) == only.end()) {
      only.push_back(name);
    }
  };
  for (const ColumnSchema& c : suite.columns) {
    if (c.type) {
      base.column_types[c.name] = *c.type;
    }
    use(c.name);
  }
  for (const Expectation& e : suite.expectations) {
    use(e.column);
    use(e.column_a);
    use(e.column_b);
    const bool names_only = e.type == "expect_table_columns_to_match_ordered_list" ||
                            e.type == "expect_table_columns_to_match_set";
    if (!names_only) {
      for (const std::string& name : e.column_list) {
        use(name);
      }
    }
  }
  for (const std::string& name : suite.primary_key) {
    use(name);
  }
  return base;
}

ValidationReport Validate(std::shared_ptr<const Suite> suite, const CsvReadResult& data,
                          const ValidateOptions& options) {
  ValidationReport report;
  report.suite = suite;
  report.suite_name = suite->name;
  const Table& table = data.table;
  report.row_count = table.num_rows();
  const size_t max_sample = options.partial_unexpected_count;
  // A table built in memory (Python) has no file header: its columns are all there is.
  std::vector<std::string> file_columns = data.file_columns;
  if (file_columns.empty()) {
    for (const Column& col : table.columns) {
      file_columns.push_back(col.name());
    }
  }

  // Cells that did not parse as their declared type, per column, as a row mask.
  std::vector<std::vector<uint8_t>> type_error_rows(table.num_columns());
  std::vector<std::vector<const CellTypeError*>> type_errors(table.num_columns());
  for (const CellTypeError& error : data.type_errors) {
    auto& mask = type_error_rows[static_cast<size_t>(error.column)];
    mask.resize(table.num_rows(), 0);
    mask[error.row] = 1;
    type_errors[static_cast<size_t>(error.column)].push_back(&error);
  }

  // Schema.
  for (const ColumnSchema& schema : suite->columns) {
    const int index = table.FindColumn(schema.name);
    if (index < 0) {
      if (schema.required) {
        report.schema.push_back(
            {"missing_column", schema.name, "required column is not in the file", 1, {}});
      }
      continue;
    }
    const size_t c = static_cast<size_t>(index);
    const Column& col = table.columns[c];
    if (!type_errors[c].empty()) {
      SchemaViolation v{"type_mismatch",
                        schema.name,
                        "values that are not " + std::string(DataTypeName(*schema.type)),
                        type_errors[c].size(),
                        {}};
      for (const CellTypeError* e : type_errors[c]) {
        if (v.sample.size() < max_sample) {
          v.sample.push_back({e->row + 1, e->line, e->text, ""});
        }
      }
      report.schema.push_back(std::move(v));
    }
    if (!schema.nullable && col.null_count() > 0) {
      SchemaViolation v{"not_nullable", schema.name, "nulls in a non-nullable column", 0, {}};
      const auto& mask = type_error_rows[c];
      for (size_t i = 0; i < col.size(); ++i) {
        if (!col.IsValid(i) && (mask.empty() || !mask[i])) {
          ++v.count;
          if (v.sample.size() < max_sample) {
            v.sample.push_back({i + 1, table.SourceLine(i), "null", ""});
          }
        }
      }
      if (v.count > 0) {
        report.schema.push_back(std::move(v));
      }
    }
  }
  if (suite->strict) {
    for (const std::string& name : file_columns) {
      if (suite->FindColumn(name) == nullptr) {
        report.schema.push_back(
            {"unexpected_column", name, "column not in the schema (strict)", 1, {}});
      }
    }
  }
  if (!suite->primary_key.empty()) {
    std::vector<const Column*> key;
    std::string names;
    bool complete = true;
    for (const std::string& name : suite->primary_key) {
      const int index = table.FindColumn(name);
      names += (names.empty() ? "" : ", ") + name;
      if (index < 0) {
        complete = false;
        break;
      }
      key.push_back(&table.columns[static_cast<size_t>(index)]);
    }
    if (complete) {
      const std::vector<int64_t> first = FirstOccurrence(key, table.num_rows());
      SchemaViolation v{"duplicate_key", names, "rows repeating an earlier key", 0, {}};
      for (size_t i = 0; i < first.size(); ++i) {
        if (first[i] != kNoRow && first[i] != static_cast<int64_t>(i)) {
          ++v.count;
          if (v.sample.size() < max_sample) {
            std::string value;
            for (const Column* c : key) {
              value += (value.empty() ? "" : ", ") + c->ToText(i);
            }
            v.sample.push_back({i + 1, table.SourceLine(i), value,
                                "duplicate of row " + std::to_string(first[i] + 1)});
          }
        }
      }
      if (v.count > 0) {
        report.schema.push_back(std::move(v));
      }
    }
  }
  if (!data.bad_rows.empty()) {
    SchemaViolation v{"malformed_row", "", "records the CSV reader could not parse", 0, {}};
    for (const BadRow& bad : data.bad_rows) {
      ++v.count;
      if (v.sample.size() < max_sample) {
        v.sample.push_back({0, bad.line, "",
                            "line " + std::to_string(bad.error_line) + ", column " +
                                std::to_string(bad.column) + ": " + bad.reason});
      }
    }
    report.schema.push_back(std::move(v));
  }

  // Expectations, in parallel.
  const Evaluator evaluator(table, file_columns, type_error_rows, max_sample);
  report.results.resize(suite->expectations.size());
  ParallelFor(suite->expectations.size(), options.threads,
              [&](size_t i) { report.results[i] = evaluator.Run(suite->expectations[i]); });
  report.success = report.schema.empty();
  for (const ExpectationResult& r : report.results) {
    report.success = report.success && r.success;
  }
  return report;
}

std::string ValidationToJson(const ValidationReport& report) {
  json out;
  out["success"] = report.success;
  size_t passed = 0;
  json results = json::array();
  for (const ExpectationResult& r : report.results) {
    passed += r.success;
    results.push_back(ResultJson(r));
  }
  const size_t total = report.results.size();
  out["statistics"] = {{"evaluated_expectations", total},
                       {"successful_expectations", passed},
                       {"unsuccessful_expectations", total - passed},
                       {"success_percent", total ? 100.0 * passed / total : 100.0}};
  json violations = json::array();
  for (const SchemaViolation& v : report.schema) {
    json sample = json::array();
    for (const UnexpectedValue& u : v.sample) {
      sample.push_back(UnexpectedJson(u));
    }
    violations.push_back({{"kind", v.kind},
                          {"column", v.column},
                          {"detail", v.detail},
                          {"count", v.count},
                          {"sample", sample}});
  }
  out["schema"] = {{"success", report.schema.empty()}, {"violations", violations}};
  out["results"] = results;
  out["meta"] = {{"expectation_suite_name", report.suite_name},
                 {"source", report.source},
                 {"row_count", report.row_count},
                 {"row_numbering",
                  "row: 1-based data row (header and malformed records excluded); line: 1-based "
                  "file line where the record starts"}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

std::string SampleHtml(const std::vector<UnexpectedValue>& sample, uint64_t count) {
  if (sample.empty()) {
    return "";
  }
  std::string out =
      "<table class=\"sample\"><tr><th>row</th><th>line</th><th>value</th><th></th></tr>";
  for (const UnexpectedValue& u : sample) {
    out += "<tr><td>" + (u.row ? std::to_string(u.row) : std::string("–")) + "</td><td>" +
           std::to_string(u.line) + "</td><td><code>" + HtmlEscape(u.value) + "</code></td><td>" +
           HtmlEscape(u.note) + "</td></tr>";
  }
  out += "</table>";
  if (count > sample.size()) {
    out += "<p class=\"more\">… and " + std::to_string(count - sample.size()) + " more</p>";
  }
  return out;
}

}  // namespace

std::string ValidationToHtml(const ValidationReport& report) {
  size_t passed = 0;
  for (const ExpectationResult& r : report.results) {
    passed += r.success;
  }
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Validation: " +
      HtmlEscape(report.suite_name) +
      "</title><style>"
      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;"
      "text-align:left;vertical-align:top}th{background:#f4f4f4}"
      ".ok{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}"
      ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff}"
      ".badge.ok{background:#1a7f37}.badge.fail{background:#cf222e}"
      "table.sample{font-size:12px}code{font-size:12px}.more{color:#666;font-size:12px}"
      "</style></head><body>";
  html += "<h1>Validation of " + HtmlEscape(report.source) + "</h1>";
  html += "<p>Suite <b>" + HtmlEscape(report.suite_name) + "</b>, " +
          std::to_string(report.row_count) + " rows: <span class=\"badge " +
          (report.success ? "ok\">passed" : "fail\">failed") + "</span> — " +
          std::to_string(passed) + " of " + std::to_string(report.results.size()) +
          " expectations met, " + std::to_string(report.schema.size()) + " schema violations.</p>";
  html +=
      "<p>Row numbers: <i>row</i> is the 1-based data row (header and malformed records "
      "excluded); <i>line</i> is the file line where the record starts.</p>";
  html += "<h2>Schema</h2>";
  if (report.schema.empty()) {
    html += "<p class=\"ok\">No violations.</p>";
  } else {
    html += "<table><tr><th>violation</th><th>column</th><th>count</th><th>where</th></tr>";
    for (const SchemaViolation& v : report.schema) {
      html += "<tr><td class=\"fail\">" + HtmlEscape(v.kind) + "<br><small>" +
              HtmlEscape(v.detail) + "</small></td><td>" + HtmlEscape(v.column) + "</td><td>" +
              std::to_string(v.count) + "</td><td>" + SampleHtml(v.sample, v.count) + "</td></tr>";
    }
    html += "</table>";
  }
  html +=
      "<h2>Expectations</h2><table><tr><th></th><th>expectation</th><th>arguments</th>"
      "<th>observed</th><th>unexpected</th><th>where</th></tr>";
  for (const ExpectationResult& r : report.results) {
    std::string observed = HtmlEscape(r.observed_json);
    if (!r.error.empty()) {
      observed = "<span class=\"fail\">" + HtmlEscape(r.error) + "</span>";
    }
    std::string unexpected;
    if (r.is_map) {
      const uint64_t evaluated = r.element_count - r.missing_count;
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.3g%%",
                    evaluated ? 100.0 * r.unexpected_count / evaluated : 0.0);
      unexpected = std::to_string(r.unexpected_count) + " (" + pct + ")";
    }
    html += std::string("<tr><td class=\"") + (r.success ? "ok\">✔" : "fail\">✘") + "</td><td>" +
            HtmlEscape(r.expectation->type) + "</td><td><code>" +
            HtmlEscape(r.expectation->kwargs_json) + "</code></td><td>" + observed + "</td><td>" +
            unexpected + "</td><td>" + SampleHtml(r.partial_unexpected, r.unexpected_count) +
            "</td></tr>";
  }
  html += "</table></body></html>\n";
  return html;
}

std::vector<std::string> UniqueColumns(const Table& table, int threads) {
  std::vector<uint8_t> unique(table.num_columns(), 0);
  ParallelFor(table.num_columns(), threads, [&](size_t c) {
    const Column& col = table.columns[c];
    if (col.type() == DataType::kFloat64 || col.type() == DataType::kBool ||
        col.size() == col.null_count()) {
      return;
    }
    const std::vector<int64_t> first = FirstOccurrence(col);
    for (size_t i = 0; i < first.size(); ++i) {
      if (first[i] != kNoRow && first[i] != static_cast<int64_t>(i)) {
        return;
      }
    }
    unique[c] = 1;
  });
  std::vector<std::string> names;
  for (size_t c = 0; c < table.num_columns(); ++c) {
    if (unique[c]) {
      names.push_back(table.columns[c].name());
    }
  }
  return names;
}

}  // namespace plinth::data
