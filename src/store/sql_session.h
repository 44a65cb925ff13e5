// SqlSession: one open transaction on either backend, seen through the smallest common surface:
// statements with `?` placeholders, arguments bound by value, result rows materialized. The
// model registry's SQL is written once against it (registry_sql.cc); SqliteStore and PgStore
// each adapt their connection (SqliteSession, PgSession) inside their own transaction plumbing.
// The registry moves a few rows per request, so materializing rows costs nothing that matters;
// the tracking hot paths keep their backend-specific code. Internal to src/store/; one user at a
// time, like the connection it wraps.
#ifndef PLINTH_STORE_SQL_SESSION_H_
#define PLINTH_STORE_SQL_SESSION_H_

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"

namespace plinth::store {

// A bound argument: NULL, an integer, a double or a text.
using SqlArg = std::variant<std::monostate, int64_t, double, std::string>;

// NULL for "" (optional text columns store NULL, and read back as "").
inline SqlArg TextOrNull(const std::string& v) { return v.empty() ? SqlArg() : SqlArg(v); }
inline SqlArg OptionalText(const std::optional<std::string>& v) {
  return v ? SqlArg(*v) : SqlArg();
}
inline SqlArg OptionalInt(const std::optional<int64_t>& v) { return v ? SqlArg(*v) : SqlArg(); }

// A statement's result: its rows (each cell NULL or text, integers in decimal) and how many rows
// it changed.
class SqlRows {
 public:
  using Row = std::vector<std::optional<std::string>>;

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  int64_t affected() const { return affected_; }

  bool IsNull(size_t row, int col) const { return !rows_[row][static_cast<size_t>(col)]; }
  std::string Text(size_t row, int col) const {
    const auto& cell = rows_[row][static_cast<size_t>(col)];
    return cell ? *cell : std::string();
  }
  int64_t Int64(size_t row, int col) const {
    const auto& cell = rows_[row][static_cast<size_t>(col)];
    int64_t v = 0;
    if (cell) std::from_chars(cell->data(), cell->data() + cell->size(), v);
    return v;
  }
  std::optional<int64_t> OptInt64(size_t row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Int64(row, col);
  }
  std::optional<std::string> OptText(size_t row, int col) const {
    return rows_[row][static_cast<size_t>(col)];
  }

  void AddRow(Row row) { rows_.push_back(std::move(row)); }
  void set_affected(int64_t n) { affected_ = n; }

 private:
  std::vector<Row> rows_;
  int64_t affected_ = 0;
};

enum class SqlDialect { kSqlite, kPostgres };

class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs one statement. `cached`: keep it prepared on the connection (fixed SQL); SQL built per
  // call (searches, id lists) passes false. Failure: the backend's, mapped as elsewhere in the
  // store (a unique violation is kAlreadyExists).
  virtual Result<SqlRows> Run(const std::string& sql, const std::vector<SqlArg>& args = {},
                              bool cached = true) = 0;
  virtual SqlDialect dialect() const = 0;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_SQL_SESSION_H_
