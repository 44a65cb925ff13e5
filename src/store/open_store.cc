// Store URIs: which backend a --backend-store-uri names, shared by `plinth server` and `plinth db`.
#include <regex>

#include "store/metadata_store.h"
#include "store/store_uri.h"

namespace plinth::store {
namespace {

bool IsPostgresUri(const std::string& uri) {
  return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0 ||
         uri.rfind("postgresql+psycopg2://", 0) == 0;
}

// MLflow users write SQLAlchemy URIs (postgresql+psycopg2://); libpq wants postgresql://.
std::string LibpqUri(const std::string& uri) {
  const std::string alchemy = "postgresql+psycopg2://";
  if (uri.rfind(alchemy, 0) == 0) return "postgresql://" + uri.substr(alchemy.size());
  return uri;
}

Result<std::string> SqlitePath(const std::string& uri) {
  const std::string scheme = "sqlite:///";
  if (uri.rfind(scheme, 0) == 0) {
    std::string path = uri.substr(scheme.size());
    if (path.empty()) return InvalidArgument("'" + uri + "' names no database file");
    if (path == ":memory:") {
      return InvalidArgument(
          "an in-memory SQLite database would lose everything at exit; name a file");
    }
    return path;
  }
  if (uri.find("://") != std::string::npos) {
    return InvalidArgument("'" + uri +
                           "': supported are sqlite:///PATH and postgresql://USER@HOST/DB");
  }
  if (uri.empty()) return InvalidArgument("the store URI is empty");
  return uri;
}

}  // namespace

Status CheckStoreUri(const std::string& uri) {
  if (IsPostgresUri(uri)) {
    if (uri.size() <= uri.find("://") + 3) {
      return InvalidArgument("'" + uri + "' names no server: use postgresql://USER@HOST[:PORT]/DB");
    }
    return Status::Ok();
  }
  return SqlitePath(uri).status();
}

std::string RedactStoreUri(const std::string& uri) {
  static const std::regex password(R"(^([a-z0-9+]+://[^:/@]*):[^@]*@)");
  return std::regex_replace(uri, password, "$1:***@");
}

Result<StoreAddress> ResolveStoreUri(const std::string& uri) {
  PLINTH_RETURN_IF_ERROR(CheckStoreUri(uri));
  StoreAddress address;
  address.postgres = IsPostgresUri(uri);
  if (address.postgres) {
    address.target = LibpqUri(uri);
  } else {
    PLINTH_ASSIGN_OR_RETURN(address.target, SqlitePath(uri));
  }
  return address;
}

Result<std::unique_ptr<MetadataStore>> OpenStoreFromUri(const std::string& uri,
                                                        const StoreOpenOptions& options,
                                                        int64_t now) {
  PLINTH_RETURN_IF_ERROR(CheckStoreUri(uri));
  if (IsPostgresUri(uri)) {
    PostgresStoreOptions pg;
    pg.conninfo = LibpqUri(uri);
    pg.pool_size = options.pool_size;
    pg.migrate = options.migrate;
    return OpenPostgresStore(pg, now);
  }
  SqliteStoreOptions sqlite;
  PLINTH_ASSIGN_OR_RETURN(sqlite.path, SqlitePath(uri));
  return OpenSqliteStore(sqlite, now);
}

}  // namespace plinth::store
