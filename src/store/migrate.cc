#include "store/migrate.h"

#include "store/direct_db.h"
#include "store/metadata_store.h"
#include "store/schema.h"
#include "store/store_common.h"

namespace plinth::store {

Result<SchemaVersions> ReadSchemaVersion(const std::string& uri) {
  SchemaVersions versions;
  versions.latest = LatestSchemaVersion();
  auto db = DirectDb::Open(uri, /*must_exist=*/true);
  if (!db.ok()) {
    if (db.status().code() == StatusCode::kNotFound) return versions;  // no file, no schema
    return db.status();
  }
  PLINTH_ASSIGN_OR_RETURN(versions.current, (*db)->SchemaVersion());
  return versions;
}

Result<MigrationOutcome> MigrateStore(const std::string& uri, int64_t now) {
  MigrationOutcome outcome;
  PLINTH_ASSIGN_OR_RETURN(SchemaVersions before, ReadSchemaVersion(uri));
  outcome.from = before.current;
  if (before.current > before.latest) return SchemaTooNew(before.current, before.latest);
  // The stores' own migration code applies the migrations (one list for both backends); this
  // is the one caller that lets PostgreSQL upgrade an existing schema.
  StoreOpenOptions options;
  options.pool_size = 1;
  options.migrate = true;
  { PLINTH_ASSIGN_OR_RETURN(auto store, OpenStoreFromUri(uri, options, now)); }
  PLINTH_ASSIGN_OR_RETURN(SchemaVersions after, ReadSchemaVersion(uri));
  outcome.to = after.current;
  return outcome;
}

}  // namespace plinth::store
