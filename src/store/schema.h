// The versioned schema: one list of migrations, each with its SQLite and its PostgreSQL text
// side by side, so both backends always have the same tables at the same version. Dialect
// differences stay in this file (INTEGER vs BIGINT, REAL vs DOUBLE PRECISION, rowid keys vs
// identity columns, WITHOUT ROWID). The applied version lives in table schema_version.
#ifndef PLINTH_STORE_SCHEMA_H_
#define PLINTH_STORE_SCHEMA_H_

#include <span>

namespace plinth::store {

struct Migration {
  int version;
  const char* description;
  const char* sqlite_sql;
  const char* postgres_sql;
};

// The tables `plinth db export` copies, parents before children, each with its columns in
// order and the column that orders its rows (so two exports of equal stores are identical).
struct TableSpec {
  const char* name;
  const char* columns;   // comma-separated
  const char* types;     // one letter per column: i int64, d double, t text
  const char* order_by;  // a unique ordering
  const char* identity;  // PostgreSQL identity column to resync after import, or nullptr
};
std::span<const TableSpec> ExportedTables();

std::span<const Migration> Migrations();
// The newest schema version this binary knows.
int LatestSchemaVersion();

}  // namespace plinth::store

#endif  // PLINTH_STORE_SCHEMA_H_
