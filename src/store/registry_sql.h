// The model registry's SQL, written once for both backends over SqlSession (sql_session.h).
// Each function is the body of one RegistryStore method (registry_store.h documents results and
// failures) and runs inside the caller's transaction: SqliteStore's group-commit job or read
// snapshot, PgStore's retried transaction. Internal to src/store/.
//
// `retry`: an earlier attempt of the same PostgreSQL transaction may have committed before its
// answer was lost. Writes then accept finding their own work done (the model they create exists,
// the alias already moved, the version is gone), so running one twice has the effect of once.
// Version numbers come from `UPDATE registered_models SET last_version = last_version + 1 …
// RETURNING`, which holds the model's row lock until commit: replicas registering versions of
// one model at once are serialized by PostgreSQL and never share a number.
#ifndef PLINTH_STORE_REGISTRY_SQL_H_
#define PLINTH_STORE_REGISTRY_SQL_H_

#include <optional>
#include <string>
#include <vector>

#include "store/registry_store.h"
#include "store/sql_session.h"

namespace plinth::store::registry_sql {

Status CreateRegisteredModel(SqlSession& s, const RegisteredModel& model, bool retry);
Result<RegisteredModel> GetRegisteredModel(SqlSession& s, const std::string& name);
Status RenameRegisteredModel(SqlSession& s, const std::string& name, const std::string& new_name,
                             int64_t now, bool retry);
Status UpdateRegisteredModel(SqlSession& s, const std::string& name,
                             const std::optional<std::string>& description, int64_t now);
Status DeleteRegisteredModel(SqlSession& s, const std::string& name, bool retry);
Result<RegisteredModelPage> SearchRegisteredModels(SqlSession& s,
                                                   const RegisteredModelSearch& search);
Status SetRegisteredModelTag(SqlSession& s, const std::string& name, const KeyValue& tag);
Status DeleteRegisteredModelTag(SqlSession& s, const std::string& name, const std::string& key);

Result<ModelVersion> CreateModelVersion(SqlSession& s, const ModelVersion& version, bool retry);
Result<ModelVersion> GetModelVersion(SqlSession& s, const std::string& name, int64_t version);
Status UpdateModelVersion(SqlSession& s, const std::string& name, int64_t version,
                          const std::optional<std::string>& description, int64_t now);
Status TransitionModelVersionStage(SqlSession& s, const std::string& name, int64_t version,
                                   const std::string& stage, bool archive_existing, int64_t now);
Status DeleteModelVersion(SqlSession& s, const std::string& name, int64_t version,
                          const AliasChange& change, bool retry);
Result<ModelVersionPage> SearchModelVersions(SqlSession& s, const ModelVersionSearch& search);
Status SetModelVersionTag(SqlSession& s, const std::string& name, int64_t version,
                          const KeyValue& tag);
Status DeleteModelVersionTag(SqlSession& s, const std::string& name, int64_t version,
                             const std::string& key);

Status SetRegisteredModelAlias(SqlSession& s, const std::string& name, const std::string& alias,
                               int64_t version, const AliasChange& change, bool retry);
Status DeleteRegisteredModelAlias(SqlSession& s, const std::string& name, const std::string& alias,
                                  const AliasChange& change, bool retry);
Result<ModelVersion> GetModelVersionByAlias(SqlSession& s, const std::string& name,
                                            const std::string& alias);
Result<std::vector<AliasEvent>> ListAliasHistory(SqlSession& s, const std::string& name,
                                                 const std::string& alias);

}  // namespace plinth::store::registry_sql

#endif  // PLINTH_STORE_REGISTRY_SQL_H_
