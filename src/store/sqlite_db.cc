#include "store/sqlite_db.h"

#include <mutex>

namespace plinth::store {

Result<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
    return Status(StatusCode::kAlreadyExists, sqlite3_errmsg(db));
  }
  return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
}

Status SqliteStmt::Exec() {
  auto r = Step();
  Status s = r.status();
  Reset();
  return s;
}

namespace {

// Process-wide settings, applied once before SQLite initialises: each connection is used by one
// thread at a time (multi-thread mode, no per-connection mutex), and no global memory
// statistics (a mutex taken on every allocation; it showed as 4% of log-batch CPU).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  ConfigureSqliteOnce();
  sqlite3* raw = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) {
    return Unavailable("cannot open SQLite database '" + path +
                       "': " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 10000);
  // WAL: readers never block the writer; synchronous=NORMAL in WAL mode loses nothing a
  // committed transaction wrote when the process dies, only (at worst) on power loss.
  // A small page cache per connection (2 MB): ten connections with 16 MB each held ~300 MB of
  // duplicated pages at peak, while the OS page cache serves misses just as fast (measured: the
  // same CPU per request for search and log-batch, peak RSS 304 -> 178 MB).
  std::string pragmas =
      "PRAGMA foreign_keys=ON; PRAGMA case_sensitive_like=ON; PRAGMA temp_store=MEMORY;"
      "PRAGMA cache_size=-2048;";
  if (!read_only) {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  }
  PLINTH_RETURN_IF_ERROR(db->ExecScript(pragmas));
  return db;
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status SqliteDb::ExecScript(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Status(StatusCode::kAlreadyExists, msg);
    }
    return Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Status SqliteDb::Exec(const std::string& sql) {
  PLINTH_ASSIGN_OR_RETURN(SqliteStmt * stmt, Prepare(sql));
  return stmt->Exec();
}

Result<SqliteStmt*> SqliteDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Internal("sqlite prepare failed: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  }
  auto owned = std::make_unique<SqliteStmt>(stmt, /*owned=*/true);
  SqliteStmt* out = owned.get();
  cache_.emplace(sql, std::move(owned));
  return out;
}

Result<std::unique_ptr<SqliteStmt>> SqliteDb::PrepareOnce(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Internal("sqlite prepare failed: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  }
  return std::make_unique<SqliteStmt>(stmt, /*owned=*/true);
}

Status SqliteDb::Error(std::string_view what) const {
  return Internal(std::string(what) + ": " + sqlite3_errmsg(db_));
}

}  // namespace plinth::store
