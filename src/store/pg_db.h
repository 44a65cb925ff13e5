// RAII wrappers over libpq for the PostgreSQL store: PgConn (one connection with its own cache
// of prepared statements), PgResult, and PgParams (text-format parameters with explicit types).
// SQL is written with `?` placeholders, as for SQLite, so filter fragments from sql_filter.cc
// are shared; PgConn rewrites them to `$1…$n` once per statement.
//
// Errors carry a classification besides the Status: `retryable` is set when the same
// transaction may simply be run again (serialization failure, deadlock, dropped connection,
// server restarting), which PgStore does with backoff. Not thread-safe: one user at a time.
#ifndef PLINTH_STORE_PG_DB_H_
#define PLINTH_STORE_PG_DB_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace plinth::store {

// Parameters in text format. Strings go untyped so PostgreSQL infers their type from the
// context (as SQLite's affinity does: `experiment_id = '3'` works); numbers are typed.
class PgParams {
 public:
  PgParams& Add(int64_t v);
  PgParams& Add(int v) { return Add(static_cast<int64_t>(v)); }
  PgParams& Add(double v);
  PgParams& Add(std::string_view v);
  PgParams& Add(const std::string& v) { return Add(std::string_view(v)); }
  PgParams& Add(const char* v) { return Add(std::string_view(v)); }
  PgParams& Add(const std::optional<int64_t>& v);
  // NULL for an empty string (optional text columns).
  PgParams& AddOrNull(const std::string& v);
  PgParams& AddNull();
  size_t size() const { return oids_.size(); }

  const Oid* oids() const { return oids_.data(); }
  // Pointers into the stored values; valid until the next Add.
  std::vector<const char*> values() const;

 private:
  std::vector<Oid> oids_;
  std::vector<std::optional<std::string>> values_;
};

// An array literal ("{…}") for one `?::type[]` parameter: a whole batch of rows travels as a
// few arrays and `unnest` turns them back into rows, so one prepared statement serves every
// batch size.
class PgArray {
 public:
  PgArray& Add(std::string_view text);  // quoted and escaped
  PgArray& Add(int64_t v);
  PgArray& Add(double v);                       // shortest form that reads back the same double
  PgArray& AddOrNull(const std::string& text);  // NULL for ""
  std::string str() const { return text_ + "}"; }

 private:
  void Separator() { text_ += text_.size() > 1 ? "," : ""; }
  std::string text_ = "{";
};

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Text(int row, int col) const;  // "" for NULL
  int64_t Int64(int row, int col) const;     // 0 for NULL
  double Double(int row, int col) const;
  std::optional<int64_t> OptInt64(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

// One row of a PgResult, with the column accessors the shared row readers use.
class PgRow {
 public:
  PgRow(const PgResult& r, int row) : r_(r), row_(row) {}
  bool IsNull(int col) const { return r_.IsNull(row_, col); }
  std::string Text(int col) const { return r_.Text(row_, col); }
  int64_t Int64(int col) const { return r_.Int64(row_, col); }
  double Double(int col) const { return r_.Double(row_, col); }
  std::optional<int64_t> OptInt64(int col) const { return r_.OptInt64(row_, col); }

 private:
  const PgResult& r_;
  int row_;
};

class PgConn {
 public:
  // Connects. Failure: kUnavailable with libpq's message.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs `sql` (with `?` placeholders) as a statement prepared once per connection.
  Result<PgResult> Exec(const std::string& sql, const PgParams& params = {});
  // Runs SQL built per request (searches) without keeping a prepared statement.
  Result<PgResult> ExecOnce(const std::string& sql, const PgParams& params = {});
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  Status ExecScript(const std::string& sql);

  // Whether the last failure may be cured by running the transaction again.
  bool last_error_retryable() const { return retryable_; }
  void clear_error() { retryable_ = false; }
  // Whether the connection is usable; if not, Reset reconnects (dropping prepared statements).
  bool ok() const;
  Status Reset();
  PGconn* handle() { return conn_; }

 private:
  explicit PgConn(PGconn* c) : conn_(c) {}
  Status ResultError(PGresult* r, std::string_view sql);
  Status CheckResult(PGresult* r, std::string_view sql);

  PGconn* conn_;
  bool retryable_ = false;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

// `?` → `$1…$n`, leaving quoted literals alone.
std::string PgPlaceholders(std::string_view sql);

}  // namespace plinth::store

#endif  // PLINTH_STORE_PG_DB_H_
