// The dataset-version SQL, written once against SqlSession for SqliteStore and PgStore (as
// registry_sql.h and study_sql.h). Internal to src/store/.
#ifndef PLINTH_STORE_DATASET_SQL_H_
#define PLINTH_STORE_DATASET_SQL_H_

#include <optional>
#include <string>
#include <vector>

#include "store/dataset_store.h"
#include "store/sql_session.h"

namespace plinth::store::dataset_sql {

Result<DatasetVersionRecord> AddVersion(SqlSession& s, const DatasetVersionRecord& record,
                                        int64_t now, bool* created);
Result<DatasetVersionRecord> GetVersion(SqlSession& s, const std::string& name,
                                        std::optional<int64_t> version);
Result<std::vector<DatasetVersionRecord>> ListVersions(SqlSession& s, const std::string& name);
Result<std::vector<DatasetSummary>> ListDatasets(SqlSession& s);
Result<std::optional<std::string>> FindStorageByDigest(SqlSession& s, const std::string& digest);

}  // namespace plinth::store::dataset_sql

#endif  // PLINTH_STORE_DATASET_SQL_H_
