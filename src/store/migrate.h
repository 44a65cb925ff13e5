// `plinth db version` and `plinth db migrate`: the schema version of the database a store URI
// names, and applying pending schema migrations explicitly. `plinth server` on SQLite migrates
// at start; on PostgreSQL it only creates the schema of an empty database and refuses an older
// one, because replicas must not upgrade a shared database behind each other's back.
#ifndef PLINTH_STORE_MIGRATE_H_
#define PLINTH_STORE_MIGRATE_H_

#include <cstdint>
#include <string>

#include "core/result.h"

namespace plinth::store {

struct SchemaVersions {
  int current = 0;  // applied to the database; 0 = no schema yet (or no database)
  int latest = 0;   // the newest this binary knows
};

// Reads the applied version without changing anything (a missing SQLite file reads as 0).
// Failure: kInvalidArgument (URI), kUnavailable.
Result<SchemaVersions> ReadSchemaVersion(const std::string& uri);

struct MigrationOutcome {
  int from = 0;
  int to = 0;
};

// Applies every pending migration, each in its own transaction; PostgreSQL takes the store's
// advisory lock, so several callers (or replicas starting) apply each migration once. Running
// it again changes nothing. Failure: kFailedPrecondition when the database's schema is newer
// than this binary knows (it is left untouched); kInvalidArgument; kUnavailable; kInternal when a
// migration fails (it is rolled back).
Result<MigrationOutcome> MigrateStore(const std::string& uri, int64_t now);

}  // namespace plinth::store

#endif  // PLINTH_STORE_MIGRATE_H_
