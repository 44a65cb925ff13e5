// DirectDb: a store's database opened by URI below the MetadataStore, for the `plinth db`
// commands: the schema version, whole-table reads in one snapshot (export) and bulk writes in
// one exclusive transaction (import). Its two implementations (SQLite, PostgreSQL) hold every
// dialect difference those commands need, so the dump format (dump.cc) and the migration
// command (migrate.cc) are written once. Internal to src/store/. Not thread-safe.
#ifndef PLINTH_STORE_DIRECT_DB_H_
#define PLINTH_STORE_DIRECT_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/schema.h"

namespace plinth::store {

// One cell of a row, typed by the TableSpec's letter. `text` points into memory owned by the
// caller that produced the row and is valid only during the call that hands the row over.
struct Cell {
  enum class Kind { kNull, kInt, kDouble, kText };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double d = 0;
  std::string_view text;
};

using RowFn = std::function<Status(std::span<const Cell> row)>;

class DirectDb {
 public:
  virtual ~DirectDb() = default;

  // Opens the database `uri` names. `must_exist`: a SQLite file that does not exist is
  // kNotFound instead of being created. Failure: kInvalidArgument (URI), kUnavailable.
  static Result<std::unique_ptr<DirectDb>> Open(const std::string& uri, bool must_exist);

  // The applied schema version; 0 when the database has no schema yet.
  virtual Result<int> SchemaVersion() = 0;

  // Starts a read-only transaction in which every ScanTable sees the same snapshot.
  virtual Status BeginSnapshot() = 0;
  // Hands every row of `table` to `on_row`, ordered by table.order_by (text compared as bytes
  // on both backends), typed by table.types. Stops at the first error `on_row` returns.
  virtual Status ScanTable(const TableSpec& table, const RowFn& on_row) = 0;

  // Starts a write transaction that keeps other writers out until Commit or Rollback.
  virtual Status BeginExclusive() = 0;
  // Runs backend-neutral SQL returning one integer (e.g. a COUNT).
  virtual Result<int64_t> QueryInt(const std::string& sql) = 0;
  // Runs backend-neutral SQL returning no rows.
  virtual Status Execute(const std::string& sql) = 0;
  // Bulk insert into `table`: BeginInsert, one InsertRow per row (cells in table.columns
  // order), EndInsert; nothing else may run on the connection in between.
  virtual Status BeginInsert(const TableSpec& table) = 0;
  virtual Status InsertRow(std::span<const Cell> row) = 0;
  virtual Status EndInsert() = 0;
  // After rows were inserted with explicit ids: makes the next generated id of every
  // TableSpec::identity column follow the largest one present.
  virtual Status ResyncIdentities() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // Refreshes planner statistics (outside a transaction), so queries right after an import
  // are planned on the real table sizes.
  virtual Status Analyze() = 0;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_DIRECT_DB_H_
