// The versioned schema. Each migration is applied once, in order, at start-up; the applied
// version lives in table schema_version. SQLite's SQL is written here; the PostgreSQL backend
// will hold its own strings for the same versions (dialect differences stay in this file and
// its PostgreSQL twin: INTEGER vs BIGINT, REAL vs DOUBLE PRECISION, WITHOUT ROWID).
#ifndef PLINTH_STORE_SCHEMA_H_
#define PLINTH_STORE_SCHEMA_H_

#include <span>

namespace plinth::store {

struct Migration {
  int version;
  const char* description;
  const char* sqlite_sql;
};

std::span<const Migration> Migrations();
// The newest schema version this binary knows.
int LatestSchemaVersion();

}  // namespace plinth::store

#endif  // PLINTH_STORE_SCHEMA_H_
