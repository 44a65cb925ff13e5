// Minimal RAII over the sqlite3 C API: a connection (SqliteDb) with a cache of prepared
// statements, and a statement cursor (SqliteStmt) with typed binds and column reads. Errors are
// Status values. A SqliteDb and its statements are used by one thread at a time. Private to
// src/store/: nothing outside sees sqlite3.h.
#ifndef PLINTH_STORE_SQLITE_DB_H_
#define PLINTH_STORE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

namespace plinth::store {

class SqliteStmt {
 public:
  // `owned`: finalize the statement on destruction (uncached, ad-hoc SQL).
  explicit SqliteStmt(sqlite3_stmt* stmt, bool owned = false) : stmt_(stmt), owned_(owned) {}
  ~SqliteStmt() {
    Reset();
    if (owned_) {
      sqlite3_finalize(stmt_);
    }
  }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Binds are 1-based, as in SQLite.
  SqliteStmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqliteStmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  SqliteStmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  SqliteStmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  SqliteStmt& Bind(int i, const std::optional<int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }

  // Advances to the next row: true when a row is available, false at the end.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Exec();
  // Number of rows changed by the last Exec.
  int Changes() const { return sqlite3_changes(sqlite3_db_handle(stmt_)); }

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int Columns() const { return sqlite3_column_count(stmt_); }
  int64_t Int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsFloat(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_FLOAT; }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  std::optional<int64_t> OptInt64(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int64(col));
  }

  // Clears bindings and rewinds so the cached statement can be reused.
  void Reset() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

 private:
  sqlite3_stmt* stmt_;
  bool owned_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database at `path` and applies the connection settings
  // (WAL, synchronous=NORMAL, foreign keys, busy timeout, case-sensitive LIKE).
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Executes one or more statements with no results (parsed on every call).
  Status ExecScript(const std::string& sql);
  // Executes one statement with no results through the statement cache: for the transaction
  // control statements run on every request (BEGIN, SAVEPOINT, COMMIT…).
  Status Exec(const std::string& sql);
  // A cached prepared statement for `sql`; the reference is valid until the connection closes.
  // Use it as a cursor and let it go before preparing the same SQL again.
  Result<SqliteStmt*> Prepare(const std::string& sql);
  // An uncached statement for SQL built per request (searches), finalized when dropped.
  Result<std::unique_ptr<SqliteStmt>> PrepareOnce(const std::string& sql);
  sqlite3* handle() { return db_; }
  Status Error(std::string_view what) const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStmt>> cache_;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_SQLITE_DB_H_
