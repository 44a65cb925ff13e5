#include "store/metadata_store.h"

namespace plinth::store {

Result<std::unique_ptr<MetadataStore>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                         int64_t now) {
  return Unimplemented("PostgreSQL store: under construction");
}

}  // namespace plinth::store
