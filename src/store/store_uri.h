// Where a --backend-store-uri leads, for the code that opens the database directly instead of
// through a MetadataStore (`plinth db` export, import, migrate, version). Internal to store/.
#ifndef PLINTH_STORE_STORE_URI_H_
#define PLINTH_STORE_STORE_URI_H_

#include <string>

#include "core/result.h"

namespace plinth::store {

struct StoreAddress {
  bool postgres = false;
  std::string target;  // the SQLite file path, or a libpq connection string
};

// Resolves a URI as OpenStoreFromUri does. Failure: kInvalidArgument, as CheckStoreUri.
Result<StoreAddress> ResolveStoreUri(const std::string& uri);

}  // namespace plinth::store

#endif  // PLINTH_STORE_STORE_URI_H_
