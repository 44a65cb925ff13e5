// The two DirectDb backends. Everything dialect-specific about export and import is here:
// how a consistent snapshot is taken, how rows are streamed out (a SQLite cursor; a PostgreSQL
// server-side cursor, so a large table is never held whole in memory), how they go in (prepared
// INSERTs; COPY FROM STDIN), byte-order sorting of text, SQLite's staged metric points, and
// PostgreSQL's identity sequences.
#include "store/direct_db.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "store/pg_db.h"
#include "store/sqlite_db.h"
#include "store/store_uri.h"

namespace plinth::store {
namespace {

std::vector<std::string_view> SplitColumns(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    out.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

char TypeOf(const TableSpec& table, std::string_view column) {
  std::vector<std::string_view> columns = SplitColumns(table.columns);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return table.types[i];
  }
  return '?';
}

// Shortest text that reads back as the same double; NaN and infinities in the spellings both
// PostgreSQL's float8 input and strtod accept.
std::string_view DoubleText(double v, char (&buf)[32]) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, static_cast<size_t>(end - buf)};
}

// ------------------------------------------------------------------ SQLite

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// The merged view of SQLite's metric points: `metrics` plus the staged points the store has not
// folded in yet, deduplicated exactly as its merge does (INSERT OR IGNORE in arrival order: a
// point already in `metrics`, or staged earlier, wins). Exporting this instead of the two
// tables as stored keeps the dump independent of when the last merge ran, and gives PostgreSQL
// (which never reads metrics_staging) every point.
constexpr const char* kSqliteMergedMetrics =
    "SELECT run_key, key, step, timestamp, value, is_nan, model_id, dataset_name, "
    "dataset_digest FROM metrics "
    "UNION ALL "
    "SELECT s.run_key, s.key, s.step, s.timestamp, s.value, s.is_nan, s.model_id, "
    "s.dataset_name, s.dataset_digest FROM metrics_staging s WHERE NOT EXISTS (SELECT 1 FROM "
    "metrics m WHERE m.run_key=s.run_key AND m.key=s.key AND m.timestamp=s.timestamp AND "
    "m.step=s.step AND m.value=s.value AND m.is_nan=s.is_nan) AND NOT EXISTS (SELECT 1 FROM "
    "metrics_staging e WHERE e.run_key=s.run_key AND e.key=s.key AND e.timestamp=s.timestamp "
    "AND e.step=s.step AND e.value=s.value AND e.is_nan=s.is_nan AND e.rowid < s.rowid) "
    "ORDER BY run_key, key, timestamp, step, value, is_nan";

class SqliteDirectDb final : public DirectDb {
 public:
  explicit SqliteDirectDb(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  Result<int> SchemaVersion() override {
    PLINTH_ASSIGN_OR_RETURN(int64_t has_table,
                            QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND "
                                     "name='schema_version'"));
    if (has_table == 0) return 0;
    PLINTH_ASSIGN_OR_RETURN(int64_t version,
                            QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    return static_cast<int>(version);
  }

  Status BeginSnapshot() override { return db_->ExecScript("BEGIN"); }

  Status ScanTable(const TableSpec& table, const RowFn& on_row) override {
    std::string_view name = table.name;
    std::string sql;
    if (name == "metrics_staging") {
      return Status::Ok();  // exported as part of `metrics` (see kSqliteMergedMetrics)
    }
    if (name == "metrics") {
      PLINTH_ASSIGN_OR_RETURN(int64_t staged,
                              QueryInt("SELECT EXISTS (SELECT 1 FROM metrics_staging)"));
      // Usually nothing is staged and `metrics` is read in its clustered key order, unsorted.
      if (staged != 0) sql = kSqliteMergedMetrics;
    }
    if (sql.empty()) {
      sql = std::string("SELECT ") + table.columns + " FROM " + table.name + " ORDER BY " +
            table.order_by;
    }
    PLINTH_ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(sql));
    const size_t width = SplitColumns(table.columns).size();
    std::vector<Cell> row(width);
    for (;;) {
      int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return Error("reading " + std::string(name));
      for (size_t c = 0; c < width; ++c) {
        int col = static_cast<int>(c);
        Cell& cell = row[c];
        if (sqlite3_column_type(stmt.get(), col) == SQLITE_NULL) {
          cell.kind = Cell::Kind::kNull;
          continue;
        }
        switch (table.types[c]) {
          case 'i':
            cell.kind = Cell::Kind::kInt;
            cell.i = sqlite3_column_int64(stmt.get(), col);
            break;
          case 'd':
            cell.kind = Cell::Kind::kDouble;
            cell.d = sqlite3_column_double(stmt.get(), col);
            break;
          default: {
            cell.kind = Cell::Kind::kText;
            const unsigned char* p = sqlite3_column_text(stmt.get(), col);
            cell.text =
                std::string_view(reinterpret_cast<const char*>(p),
                                 static_cast<size_t>(sqlite3_column_bytes(stmt.get(), col)));
          }
        }
      }
      PLINTH_RETURN_IF_ERROR(on_row(row));
    }
  }

  // IMMEDIATE takes the write lock now; a running server's writes wait (busy timeout).
  Status BeginExclusive() override { return db_->ExecScript("BEGIN IMMEDIATE"); }

  Result<int64_t> QueryInt(const std::string& sql) override {
    PLINTH_ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(sql));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return Error("query");
    return sqlite3_column_int64(stmt.get(), 0);
  }

  Status Execute(const std::string& sql) override { return db_->ExecScript(sql); }

  Status BeginInsert(const TableSpec& table) override {
    size_t width = SplitColumns(table.columns).size();
    std::string sql =
        std::string("INSERT INTO ") + table.name + " (" + table.columns + ") VALUES (";
    for (size_t i = 0; i < width; ++i) sql += i == 0 ? "?" : ",?";
    sql += ")";
    PLINTH_ASSIGN_OR_RETURN(insert_, Prepare(sql));
    insert_table_ = table.name;
    return Status::Ok();
  }

  Status InsertRow(std::span<const Cell> row) override {
    sqlite3_stmt* s = insert_.get();
    for (size_t c = 0; c < row.size(); ++c) {
      int i = static_cast<int>(c) + 1;
      const Cell& cell = row[c];
      switch (cell.kind) {
        case Cell::Kind::kNull:
          sqlite3_bind_null(s, i);
          break;
        case Cell::Kind::kInt:
          sqlite3_bind_int64(s, i, cell.i);
          break;
        case Cell::Kind::kDouble:
          sqlite3_bind_double(s, i, cell.d);
          break;
        case Cell::Kind::kText:
          // SQLITE_STATIC: the text outlives the step below.
          sqlite3_bind_text(s, i, cell.text.data(), static_cast<int>(cell.text.size()),
                            SQLITE_STATIC);
          break;
      }
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return Error("inserting into " + insert_table_);
    return Status::Ok();
  }

  Status EndInsert() override {
    insert_.reset();
    return Status::Ok();
  }

  // Rowid keys continue after the largest one present: nothing to do.
  Status ResyncIdentities() override { return Status::Ok(); }

  Status Commit() override { return db_->ExecScript("COMMIT"); }
  void Rollback() override { (void)db_->ExecScript("ROLLBACK"); }
  // The store's own setting: sampled statistics, cheap on any size.
  Status Analyze() override { return db_->ExecScript("PRAGMA analysis_limit=400; ANALYZE;"); }

 private:
  Result<StmtPtr> Prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    int rc =
        sqlite3_prepare_v2(db_->handle(), sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return Error("preparing " + sql.substr(0, 120));
    return stmt;
  }

  Status Error(const std::string& what) {
    std::string message = "SQLite: " + what + ": " + sqlite3_errmsg(db_->handle());
    if ((sqlite3_errcode(db_->handle()) & 0xff) == SQLITE_CONSTRAINT) {
      return InvalidArgument(message);
    }
    return Internal(message);
  }

  std::unique_ptr<SqliteDb> db_;
  StmtPtr insert_;
  std::string insert_table_;
};

// ------------------------------------------------------------------ PostgreSQL

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

constexpr int kFetchRows = 10000;       // rows per FETCH from the export cursor
constexpr size_t kCopyChunk = 1 << 20;  // bytes buffered before PQputCopyData

// COPY's text format: backslash escapes for the characters that delimit fields and rows.
void AppendCopyText(std::string_view text, std::string* out) {
  for (char ch : text) {
    switch (ch) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(ch);
    }
  }
}

class PgDirectDb final : public DirectDb {
 public:
  explicit PgDirectDb(std::unique_ptr<PgConn> conn) : conn_(std::move(conn)) {}

  Result<int> SchemaVersion() override {
    PLINTH_ASSIGN_OR_RETURN(int64_t has_table,
                            QueryInt("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE "
                                     "schemaname = current_schema() AND "
                                     "tablename = 'schema_version'"));
    if (has_table == 0) return 0;
    PLINTH_ASSIGN_OR_RETURN(int64_t version,
                            QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    return static_cast<int>(version);
  }

  // One snapshot for every table, so an export taken while servers write is still consistent
  // (no metric of a run the export did not see).
  Status BeginSnapshot() override {
    PLINTH_RETURN_IF_ERROR(conn_->ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    // Text sorts by the database's collation unless told otherwise; the dump orders by bytes,
    // as SQLite does, so both backends export the same order. Under the C collation the
    // primary-key indexes already give that order and need no sort.
    PLINTH_ASSIGN_OR_RETURN(PgResult r, conn_->ExecOnce("SELECT datcollate FROM pg_database WHERE "
                                                        "datname = current_database()"));
    std::string collation = r.rows() > 0 ? r.Text(0, 0) : "";
    byte_order_collation_ = collation == "C" || collation == "POSIX";
    return Status::Ok();
  }

  Status ScanTable(const TableSpec& table, const RowFn& on_row) override {
    std::string order;
    for (std::string_view column : SplitColumns(table.order_by)) {
      if (!order.empty()) order += ", ";
      order += column;
      if (TypeOf(table, column) == 't' && !byte_order_collation_) order += " COLLATE \"C\"";
    }
    PLINTH_RETURN_IF_ERROR(conn_->ExecScript(std::string("DECLARE plinth_dump NO SCROLL CURSOR "
                                                         "FOR SELECT ") +
                                             table.columns + " FROM " + table.name + " ORDER BY " +
                                             order));
    const size_t width = SplitColumns(table.columns).size();
    std::vector<Cell> row(width);
    const std::string fetch = "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM plinth_dump";
    for (;;) {
      PgResultPtr r(PQexec(conn_->handle(), fetch.c_str()));
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        return Internal("PostgreSQL: reading " + std::string(table.name) + ": " +
                        PQresultErrorMessage(r.get()));
      }
      int rows = PQntuples(r.get());
      if (rows == 0) break;
      for (int i = 0; i < rows; ++i) {
        for (size_t c = 0; c < width; ++c) {
          int col = static_cast<int>(c);
          Cell& cell = row[c];
          if (PQgetisnull(r.get(), i, col)) {
            cell.kind = Cell::Kind::kNull;
            continue;
          }
          const char* v = PQgetvalue(r.get(), i, col);
          size_t n = static_cast<size_t>(PQgetlength(r.get(), i, col));
          switch (table.types[c]) {
            case 'i':
              cell.kind = Cell::Kind::kInt;
              if (std::from_chars(v, v + n, cell.i).ec != std::errc()) {
                return Internal("PostgreSQL: " + std::string(table.name) + " holds '" +
                                std::string(v, n) + "' where an integer belongs");
              }
              break;
            case 'd':
              // float8 output is the shortest exact form (extra_float_digits >= 1, the
              // default since PostgreSQL 12), and strtod reads NaN and Infinity too.
              cell.kind = Cell::Kind::kDouble;
              cell.d = std::strtod(v, nullptr);
              break;
            default:
              cell.kind = Cell::Kind::kText;
              cell.text = std::string_view(v, n);
          }
        }
        PLINTH_RETURN_IF_ERROR(on_row(row));
      }
    }
    return conn_->ExecScript("CLOSE plinth_dump");
  }

  // The parent tables are locked against writers (a server's inserts of experiments, runs and
  // models, and through their foreign keys every child row) until the import commits.
  Status BeginExclusive() override {
    return conn_->ExecScript(
        "BEGIN; LOCK TABLE experiments, runs, logged_models, datasets IN EXCLUSIVE MODE");
  }

  Result<int64_t> QueryInt(const std::string& sql) override {
    PLINTH_ASSIGN_OR_RETURN(PgResult r, conn_->ExecOnce(sql));
    if (r.rows() == 0) return Internal("PostgreSQL: no row from " + sql);
    return r.Int64(0, 0);
  }

  Status Execute(const std::string& sql) override { return conn_->ExecScript(sql); }

  // COPY is the bulk path: several times faster than multi-row INSERTs for millions of points.
  Status BeginInsert(const TableSpec& table) override {
    insert_table_ = table.name;
    PgResultPtr r(PQexec(
        conn_->handle(),
        (std::string("COPY ") + table.name + " (" + table.columns + ") FROM STDIN").c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) {
      return Internal("PostgreSQL: COPY " + insert_table_ + ": " + PQresultErrorMessage(r.get()));
    }
    copy_.clear();
    in_copy_ = true;
    return Status::Ok();
  }

  Status InsertRow(std::span<const Cell> row) override {
    char buf[32];
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) copy_.push_back('\t');
      const Cell& cell = row[c];
      switch (cell.kind) {
        case Cell::Kind::kNull:
          copy_.append("\\N");
          break;
        case Cell::Kind::kInt: {
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, cell.i);
          copy_.append(buf, end);
          break;
        }
        case Cell::Kind::kDouble:
          copy_.append(DoubleText(cell.d, buf));
          break;
        case Cell::Kind::kText:
          AppendCopyText(cell.text, &copy_);
          break;
      }
    }
    copy_.push_back('\n');
    if (copy_.size() >= kCopyChunk) return Flush();
    return Status::Ok();
  }

  Status EndInsert() override {
    PLINTH_RETURN_IF_ERROR(Flush());
    in_copy_ = false;
    if (PQputCopyEnd(conn_->handle(), nullptr) != 1) {
      return Internal("PostgreSQL: ending COPY " + insert_table_ + ": " +
                      PQerrorMessage(conn_->handle()));
    }
    Status status = Status::Ok();
    while (PGresult* raw = PQgetResult(conn_->handle())) {
      PgResultPtr r(raw);
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && status.ok()) {
        const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        std::string message =
            "PostgreSQL: loading " + insert_table_ + ": " + PQresultErrorMessage(r.get());
        // Integrity and data errors are the dump's fault, the rest the server's.
        bool data_error = state != nullptr && (std::string_view(state).substr(0, 2) == "23" ||
                                               std::string_view(state).substr(0, 2) == "22");
        status = data_error ? InvalidArgument(message) : Internal(message);
      }
    }
    return status;
  }

  // Rows came with their ids; without this the next CREATE would be handed id 1 again.
  Status ResyncIdentities() override {
    for (const TableSpec& table : ExportedTables()) {
      if (table.identity == nullptr) continue;
      std::string t = table.name;
      std::string col = table.identity;
      PLINTH_RETURN_IF_ERROR(conn_->ExecScript("SELECT setval(pg_get_serial_sequence('" + t +
                                               "', '" + col + "'), COALESCE(MAX(" + col +
                                               "), 0) + 1, false) FROM " + t));
    }
    return Status::Ok();
  }

  Status Commit() override { return conn_->ExecScript("COMMIT"); }

  void Rollback() override {
    if (in_copy_) {
      // A COPY cut short by a bad row: end it with an error so the connection takes commands.
      in_copy_ = false;
      if (PQputCopyEnd(conn_->handle(), "import aborted") == 1) {
        while (PGresult* r = PQgetResult(conn_->handle())) PQclear(r);
      }
    }
    (void)conn_->ExecScript("ROLLBACK");
  }

  Status Analyze() override {
    std::string tables;
    for (const TableSpec& table : ExportedTables()) {
      tables += tables.empty() ? "" : ", ";
      tables += table.name;
    }
    return conn_->ExecScript("ANALYZE " + tables);
  }

 private:
  Status Flush() {
    if (copy_.empty()) return Status::Ok();
    if (PQputCopyData(conn_->handle(), copy_.data(), static_cast<int>(copy_.size())) != 1) {
      return Internal("PostgreSQL: sending rows of " + insert_table_ + ": " +
                      PQerrorMessage(conn_->handle()));
    }
    copy_.clear();
    return Status::Ok();
  }

  std::unique_ptr<PgConn> conn_;
  bool byte_order_collation_ = false;
  std::string insert_table_;
  std::string copy_;  // COPY rows not yet sent
  bool in_copy_ = false;
};

}  // namespace

Result<std::unique_ptr<DirectDb>> DirectDb::Open(const std::string& uri, bool must_exist) {
  PLINTH_ASSIGN_OR_RETURN(StoreAddress address, ResolveStoreUri(uri));
  if (address.postgres) {
    PLINTH_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(address.target));
    return std::unique_ptr<DirectDb>(std::make_unique<PgDirectDb>(std::move(conn)));
  }
  std::error_code ec;
  if (must_exist && !std::filesystem::exists(address.target, ec)) {
    return NotFound("there is no SQLite database at '" + address.target + "'");
  }
  PLINTH_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(address.target, /*read_only=*/false));
  return std::unique_ptr<DirectDb>(std::make_unique<SqliteDirectDb>(std::move(db)));
}

}  // namespace plinth::store
