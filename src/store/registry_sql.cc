#include "store/registry_sql.h"

#include <map>
#include <utility>

#include "store/sql_filter.h"

namespace plinth::store::registry_sql {
namespace {

constexpr const char* kPromptTag = "mlflow.prompt.is_prompt";

Status RegisteredModelNotFound(const std::string& name) {
  return NotFound("Registered Model with name=" + name + " not found");
}
Status ModelVersionNotFound(const std::string& name, int64_t version) {
  return NotFound("Model Version (name=" + name + ", version=" + std::to_string(version) +
                  ") not found");
}
Status RegisteredModelExists(const std::string& name) {
  return AlreadyExists("Registered Model (name=" + name + ") already exists.");
}

constexpr const char* kModelSelect =
    "SELECT rm.model_key, rm.name, rm.creation_time, rm.last_updated_time, rm.description "
    "FROM registered_models rm";

constexpr const char* kVersionSelect =
    "SELECT rm.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, "
    "v.current_stage, v.source, v.storage_location, v.run_id, v.run_link, v.model_id, v.status, "
    "v.status_message, v.model_key FROM model_versions v JOIN registered_models rm ON "
    "rm.model_key=v.model_key";
constexpr int kVersionKeyColumn = 14;

constexpr const char* kHistoryInsert =
    "INSERT INTO registered_model_alias_history (model_key, alias, version, previous_version, "
    "action, user_id, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)";

RegisteredModel ModelFromRow(const SqlRows& r, size_t i) {
  RegisteredModel m;
  m.name = r.Text(i, 1);
  m.creation_timestamp = r.Int64(i, 2);
  m.last_updated_timestamp = r.Int64(i, 3);
  m.description = r.Text(i, 4);
  return m;
}

ModelVersion VersionFromRow(const SqlRows& r, size_t i) {
  ModelVersion v;
  v.name = r.Text(i, 0);
  v.version = r.Int64(i, 1);
  v.creation_timestamp = r.Int64(i, 2);
  v.last_updated_timestamp = r.Int64(i, 3);
  v.description = r.OptText(i, 4);
  v.user_id = r.Text(i, 5);
  v.current_stage = r.Text(i, 6);
  v.source = r.Text(i, 7);
  v.storage_location = r.Text(i, 8);
  v.run_id = r.Text(i, 9);
  v.run_link = r.Text(i, 10);
  v.model_id = r.Text(i, 11);
  v.status = r.Text(i, 12);
  v.status_message = r.Text(i, 13);
  return v;
}

// "(1,2,3)": an IN list of integer keys, written into the SQL (integers only, so no injection).
std::string KeyList(const std::vector<int64_t>& keys) {
  std::string out = "(";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(keys[i]);
  }
  return out + ")";
}

std::vector<SqlArg> ToArgs(const std::vector<SqlValue>& binds) {
  std::vector<SqlArg> args;
  args.reserve(binds.size());
  for (const SqlValue& b : binds) {
    std::visit([&args](const auto& v) { args.emplace_back(v); }, b);
  }
  return args;
}

// Tags deduplicated with the last value of a key winning (MLflow), in key order so that
// concurrent writers on PostgreSQL lock rows in the same order.
std::map<std::string, std::string> LastValueWins(const std::vector<KeyValue>& tags) {
  std::map<std::string, std::string> out;
  for (const KeyValue& t : tags) out[t.key] = t.value;
  return out;
}

// The model's key, or nullopt when there is none. `lock`: on PostgreSQL the row is locked until
// commit, which serializes every write to the model's versions and aliases across replicas
// (SQLite's single writer already does).
Result<std::optional<int64_t>> FindModel(SqlSession& s, const std::string& name, bool lock) {
  std::string sql = "SELECT model_key FROM registered_models WHERE name=?";
  if (lock && s.dialect() == SqlDialect::kPostgres) sql += " FOR UPDATE";
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, {name}));
  if (r.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r.Int64(0, 0));
}

Result<bool> VersionExists(SqlSession& s, int64_t model_key, int64_t version) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("SELECT 1 FROM model_versions WHERE model_key=? AND version=?", {model_key, version}));
  return !r.empty();
}

// The model's key when the version exists. Failure: MLflow's "Model Version … not found", also
// when the model itself is missing.
Result<int64_t> FindVersion(SqlSession& s, const std::string& name, int64_t version, bool lock) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, lock));
  if (!key) return ModelVersionNotFound(name, version);
  PLINTH_ASSIGN_OR_RETURN(bool exists, VersionExists(s, *key, version));
  if (!exists) return ModelVersionNotFound(name, version);
  return *key;
}

Result<std::optional<int64_t>> AliasHolder(SqlSession& s, int64_t model_key,
                                           const std::string& alias) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("SELECT version FROM registered_model_aliases WHERE model_key=? AND alias=?",
                       {model_key, alias}));
  if (r.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(r.Int64(0, 0));
}

Status CheckExpected(const std::string& alias, const std::optional<int64_t>& current,
                     const AliasChange& change) {
  if (!change.expected_version || current.value_or(0) == *change.expected_version) {
    return Status::Ok();
  }
  auto describe = [](int64_t v) {
    return v == 0 ? std::string("no version") : "version " + std::to_string(v);
  };
  return Status(StatusCode::kConflict,
                "Alias '" + alias + "' now points at " + describe(current.value_or(0)) + ", not " +
                    describe(*change.expected_version) +
                    ": it was moved meanwhile; look at its history and try again.");
}

Status RecordAliasEvent(SqlSession& s, int64_t model_key, const std::string& alias,
                        std::optional<int64_t> version, std::optional<int64_t> previous,
                        const std::string& action, const AliasChange& change) {
  return s
      .Run(kHistoryInsert, {model_key, alias, OptionalInt(version), OptionalInt(previous), action,
                            TextOrNull(change.user_id), change.timestamp})
      .status();
}

// Fills the tags of `versions`, whose model keys are `keys` (one per version).
Status LoadVersionTags(SqlSession& s, const std::vector<int64_t>& keys,
                       std::vector<ModelVersion>* versions) {
  if (versions->empty()) return Status::Ok();
  std::map<std::pair<int64_t, int64_t>, ModelVersion*> by_id;
  std::string pairs;
  for (size_t i = 0; i < versions->size(); ++i) {
    ModelVersion& v = (*versions)[i];
    by_id[{keys[i], v.version}] = &v;
    pairs +=
        (i == 0 ? "(" : ",(") + std::to_string(keys[i]) + "," + std::to_string(v.version) + ")";
  }
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("SELECT model_key, version, key, value FROM model_version_tags WHERE "
                       "(model_key, version) IN (VALUES " +
                           pairs + ") ORDER BY model_key, version, key",
                       {}, /*cached=*/false));
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_id.find({r.Int64(i, 0), r.Int64(i, 1)});
    if (it != by_id.end()) it->second->tags.push_back({r.Text(i, 2), r.Text(i, 3)});
  }
  return Status::Ok();
}

// Fills the aliases of `versions` (model keys in `keys`).
Status LoadVersionAliases(SqlSession& s, const std::vector<int64_t>& keys,
                          std::vector<ModelVersion>* versions) {
  if (versions->empty()) return Status::Ok();
  std::map<std::pair<int64_t, int64_t>, ModelVersion*> by_id;
  for (size_t i = 0; i < versions->size(); ++i) {
    by_id[{keys[i], (*versions)[i].version}] = &(*versions)[i];
  }
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("SELECT model_key, version, alias FROM registered_model_aliases WHERE "
                       "model_key IN " +
                           KeyList(keys) + " ORDER BY model_key, alias",
                       {}, /*cached=*/false));
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_id.find({r.Int64(i, 0), r.Int64(i, 1)});
    if (it != by_id.end()) it->second->aliases.push_back(r.Text(i, 2));
  }
  return Status::Ok();
}

// One version with its tags and (when `with_aliases`) its aliases.
Result<ModelVersion> LoadVersion(SqlSession& s, int64_t model_key, int64_t version,
                                 const std::string& name, bool with_aliases) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run(std::string(kVersionSelect) + " WHERE v.model_key=? AND v.version=?",
                       {model_key, version}));
  if (r.empty()) return ModelVersionNotFound(name, version);
  std::vector<ModelVersion> one{VersionFromRow(r, 0)};
  std::vector<int64_t> keys{model_key};
  PLINTH_RETURN_IF_ERROR(LoadVersionTags(s, keys, &one));
  if (with_aliases) PLINTH_RETURN_IF_ERROR(LoadVersionAliases(s, keys, &one));
  return std::move(one[0]);
}

// Fills tags, aliases and latest versions (the newest in each stage) of `models`.
Status LoadModels(SqlSession& s, const std::vector<int64_t>& keys,
                  std::vector<RegisteredModel>* models) {
  if (models->empty()) return Status::Ok();
  std::map<int64_t, RegisteredModel*> by_key;
  for (size_t i = 0; i < models->size(); ++i) by_key[keys[i]] = &(*models)[i];
  const std::string list = KeyList(keys);
  PLINTH_ASSIGN_OR_RETURN(SqlRows tags,
                          s.Run("SELECT model_key, key, value FROM registered_model_tags WHERE "
                                "model_key IN " +
                                    list + " ORDER BY model_key, key",
                                {}, false));
  for (size_t i = 0; i < tags.size(); ++i) {
    by_key[tags.Int64(i, 0)]->tags.push_back({tags.Text(i, 1), tags.Text(i, 2)});
  }
  PLINTH_ASSIGN_OR_RETURN(SqlRows aliases,
                          s.Run("SELECT model_key, alias, version FROM registered_model_aliases "
                                "WHERE model_key IN " +
                                    list + " ORDER BY model_key, alias",
                                {}, false));
  for (size_t i = 0; i < aliases.size(); ++i) {
    by_key[aliases.Int64(i, 0)]->aliases.push_back({aliases.Text(i, 1), aliases.Int64(i, 2)});
  }
  // The newest version per stage: one grouped pass over the models' versions, then a primary-key
  // lookup per stage (a correlated MAX per row would be quadratic in a model's versions).
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows latest,
      s.Run(std::string(kVersionSelect) +
                " JOIN (SELECT model_key, MAX(version) AS version FROM model_versions WHERE "
                "model_key IN " +
                list +
                " GROUP BY model_key, current_stage) newest ON newest.model_key=v.model_key AND "
                "newest.version=v.version ORDER BY v.model_key, v.version",
            {}, false));
  std::vector<ModelVersion> versions;
  std::vector<int64_t> version_keys;
  for (size_t i = 0; i < latest.size(); ++i) {
    versions.push_back(VersionFromRow(latest, i));
    version_keys.push_back(latest.Int64(i, kVersionKeyColumn));
  }
  PLINTH_RETURN_IF_ERROR(LoadVersionTags(s, version_keys, &versions));
  for (size_t i = 0; i < versions.size(); ++i) {
    by_key[version_keys[i]]->latest_versions.push_back(std::move(versions[i]));
  }
  return Status::Ok();
}

Status UpsertModelTag(SqlSession& s, int64_t model_key, const std::string& key,
                      const std::string& value) {
  return s
      .Run(
          "INSERT INTO registered_model_tags (model_key, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (model_key, key) DO UPDATE SET value=excluded.value",
          {model_key, key, value})
      .status();
}

Status UpsertVersionTag(SqlSession& s, int64_t model_key, int64_t version, const std::string& key,
                        const std::string& value) {
  return s
      .Run(
          "INSERT INTO model_version_tags (model_key, version, key, value) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (model_key, version, key) DO UPDATE SET value=excluded.value",
          {model_key, version, key, value})
      .status();
}

}  // namespace

// ------------------------------------------------------------------ registered models

Status CreateRegisteredModel(SqlSession& s, const RegisteredModel& model, bool retry) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("INSERT INTO registered_models (name, creation_time, last_updated_time, description, "
            "last_version) VALUES (?, ?, ?, ?, 0) ON CONFLICT (name) DO NOTHING "
            "RETURNING model_key",
            {model.name, model.creation_timestamp, model.last_updated_timestamp,
             TextOrNull(model.description)}));
  if (r.empty()) {
    // On a retry after a lost COMMIT answer, the model that exists is the one we created.
    return retry ? Status::Ok() : RegisteredModelExists(model.name);
  }
  int64_t key = r.Int64(0, 0);
  for (const auto& [k, v] : LastValueWins(model.tags)) {
    PLINTH_RETURN_IF_ERROR(UpsertModelTag(s, key, k, v));
  }
  return Status::Ok();
}

Result<RegisteredModel> GetRegisteredModel(SqlSession& s, const std::string& name) {
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(std::string(kModelSelect) + " WHERE rm.name=?", {name}));
  if (r.empty()) return RegisteredModelNotFound(name);
  std::vector<RegisteredModel> one{ModelFromRow(r, 0)};
  PLINTH_RETURN_IF_ERROR(LoadModels(s, {r.Int64(0, 0)}, &one));
  return std::move(one[0]);
}

Status RenameRegisteredModel(SqlSession& s, const std::string& name, const std::string& new_name,
                             int64_t now, bool retry) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, /*lock=*/true));
  if (!key) {
    if (retry) {
      PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> renamed, FindModel(s, new_name, false));
      if (renamed) return Status::Ok();  // our rename landed
    }
    return RegisteredModelNotFound(name);
  }
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> holder, FindModel(s, new_name, false));
  if (holder && *holder != *key) return RegisteredModelExists(new_name);
  auto renamed = s.Run("UPDATE registered_models SET name=?, last_updated_time=? WHERE model_key=?",
                       {new_name, now, *key});
  if (!renamed.ok()) {
    // Another replica took the name between our check and the update.
    if (renamed.status().code() == StatusCode::kAlreadyExists) {
      return RegisteredModelExists(new_name);
    }
    return renamed.status();
  }
  return s.Run("UPDATE model_versions SET last_updated_time=? WHERE model_key=?", {now, *key})
      .status();
}

Status UpdateRegisteredModel(SqlSession& s, const std::string& name,
                             const std::optional<std::string>& description, int64_t now) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("UPDATE registered_models SET description=?, last_updated_time=? WHERE name=?",
            {OptionalText(description), now, name}));
  return r.affected() == 0 ? RegisteredModelNotFound(name) : Status::Ok();
}

Status DeleteRegisteredModel(SqlSession& s, const std::string& name, bool retry) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, /*lock=*/true));
  if (!key) return retry ? Status::Ok() : RegisteredModelNotFound(name);
  // Children before parents, so foreign keys hold at every step.
  for (const char* table :
       {"registered_model_aliases", "registered_model_alias_history", "model_version_tags",
        "model_versions", "registered_model_tags", "registered_models"}) {
    PLINTH_RETURN_IF_ERROR(
        s.Run(std::string("DELETE FROM ") + table + " WHERE model_key=?", {*key}).status());
  }
  return Status::Ok();
}

Result<RegisteredModelPage> SearchRegisteredModels(SqlSession& s,
                                                   const RegisteredModelSearch& search) {
  std::vector<SqlValue> binds;
  PLINTH_ASSIGN_OR_RETURN(std::string where, CompileRegisteredModelFilter(search.filter, &binds));
  std::string sql = std::string(kModelSelect) + " WHERE 1=1" + where;
  if (!search.include_prompts) {
    sql +=
        " AND rm.model_key NOT IN (SELECT model_key FROM registered_model_tags WHERE key=? "
        "AND value='true')";
    binds.emplace_back(std::string(kPromptTag));
  }
  sql += " ORDER BY ";
  bool by_name = false;
  for (const OrderBy& o : search.order_by) {
    PLINTH_ASSIGN_OR_RETURN(std::string term, CompileRegisteredModelOrderBy(o));
    sql += term + ", ";
    by_name = by_name || o.key == "name";
  }
  sql += by_name ? "rm.model_key ASC" : "rm.name ASC";
  sql += " LIMIT ? OFFSET ?";
  binds.emplace_back(search.max_results + 1);
  binds.emplace_back(search.offset);
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, ToArgs(binds), /*cached=*/false));
  RegisteredModelPage page;
  std::vector<int64_t> keys;
  for (size_t i = 0; i < r.size(); ++i) {
    if (static_cast<int64_t>(i) == search.max_results) {
      page.has_more = true;
      break;
    }
    page.models.push_back(ModelFromRow(r, i));
    keys.push_back(r.Int64(i, 0));
  }
  PLINTH_RETURN_IF_ERROR(LoadModels(s, keys, &page.models));
  return page;
}

Status SetRegisteredModelTag(SqlSession& s, const std::string& name, const KeyValue& tag) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, false));
  if (!key) return RegisteredModelNotFound(name);
  return UpsertModelTag(s, *key, tag.key, tag.value);
}

Status DeleteRegisteredModelTag(SqlSession& s, const std::string& name, const std::string& key) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> model_key, FindModel(s, name, false));
  if (!model_key) return RegisteredModelNotFound(name);
  return s.Run("DELETE FROM registered_model_tags WHERE model_key=? AND key=?", {*model_key, key})
      .status();
}

// ------------------------------------------------------------------ model versions

Result<ModelVersion> CreateModelVersion(SqlSession& s, const ModelVersion& v, bool retry) {
  if (retry) {
    // The version an earlier attempt may have committed: same model, time, source and run.
    PLINTH_ASSIGN_OR_RETURN(
        SqlRows mine,
        s.Run("SELECT v.model_key, v.version FROM model_versions v JOIN registered_models rm ON "
              "rm.model_key=v.model_key WHERE rm.name=? AND v.creation_time=? AND v.source=? AND "
              "v.run_id=? ORDER BY v.version DESC LIMIT 1",
              {v.name, v.creation_timestamp, v.source, v.run_id}));
    if (!mine.empty()) {
      return LoadVersion(s, mine.Int64(0, 0), mine.Int64(0, 1), v.name, false);
    }
  }
  // The next number, under the model's row lock until commit.
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows next,
      s.Run("UPDATE registered_models SET last_version=last_version+1, last_updated_time=? "
            "WHERE name=? RETURNING model_key, last_version",
            {v.creation_timestamp, v.name}));
  if (next.empty()) return RegisteredModelNotFound(v.name);
  const int64_t key = next.Int64(0, 0);
  const int64_t version = next.Int64(0, 1);
  PLINTH_RETURN_IF_ERROR(
      s.Run("INSERT INTO model_versions (model_key, version, creation_time, last_updated_time, "
            "description, user_id, current_stage, source, storage_location, run_id, run_link, "
            "model_id, status, status_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {key, version, v.creation_timestamp, v.last_updated_timestamp,
             OptionalText(v.description), TextOrNull(v.user_id), v.current_stage, v.source,
             TextOrNull(v.storage_location), v.run_id, v.run_link, TextOrNull(v.model_id), v.status,
             TextOrNull(v.status_message)})
          .status());
  for (const auto& [k, value] : LastValueWins(v.tags)) {
    PLINTH_RETURN_IF_ERROR(UpsertVersionTag(s, key, version, k, value));
  }
  return LoadVersion(s, key, version, v.name, /*with_aliases=*/false);
}

Result<ModelVersion> GetModelVersion(SqlSession& s, const std::string& name, int64_t version) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, false));
  if (!key) return ModelVersionNotFound(name, version);
  return LoadVersion(s, *key, version, name, /*with_aliases=*/true);
}

Status UpdateModelVersion(SqlSession& s, const std::string& name, int64_t version,
                          const std::optional<std::string>& description, int64_t now) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run("UPDATE model_versions SET description=?, last_updated_time=? WHERE "
                       "model_key=(SELECT model_key FROM registered_models WHERE name=?) AND "
                       "version=?",
                       {OptionalText(description), now, name, version}));
  return r.affected() == 0 ? ModelVersionNotFound(name, version) : Status::Ok();
}

Status TransitionModelVersionStage(SqlSession& s, const std::string& name, int64_t version,
                                   const std::string& stage, bool archive_existing, int64_t now) {
  PLINTH_ASSIGN_OR_RETURN(int64_t key, FindVersion(s, name, version, /*lock=*/true));
  if (archive_existing) {
    PLINTH_RETURN_IF_ERROR(
        s.Run("UPDATE model_versions SET current_stage=?, last_updated_time=? WHERE model_key=? "
              "AND version<>? AND current_stage=?",
              {std::string(kStageArchived), now, key, version, stage})
            .status());
  }
  PLINTH_RETURN_IF_ERROR(s.Run("UPDATE model_versions SET current_stage=?, last_updated_time=? "
                               "WHERE model_key=? AND version=?",
                               {stage, now, key, version})
                             .status());
  return s.Run("UPDATE registered_models SET last_updated_time=? WHERE model_key=?", {now, key})
      .status();
}

Status DeleteModelVersion(SqlSession& s, const std::string& name, int64_t version,
                          const AliasChange& change, bool retry) {
  auto key = FindVersion(s, name, version, /*lock=*/true);
  if (!key.ok()) {
    // On a retry the version is gone because our first attempt removed it.
    return retry && key.status().code() == StatusCode::kNotFound ? Status::Ok() : key.status();
  }
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows aliases,
      s.Run("SELECT alias FROM registered_model_aliases WHERE model_key=? AND version=? "
            "ORDER BY alias",
            {*key, version}));
  for (size_t i = 0; i < aliases.size(); ++i) {
    PLINTH_RETURN_IF_ERROR(RecordAliasEvent(s, *key, aliases.Text(i, 0), std::nullopt, version,
                                            "version_deleted", change));
  }
  for (const char* table : {"registered_model_aliases", "model_version_tags", "model_versions"}) {
    PLINTH_RETURN_IF_ERROR(
        s.Run(std::string("DELETE FROM ") + table + " WHERE model_key=? AND version=?",
              {*key, version})
            .status());
  }
  return s
      .Run("UPDATE registered_models SET last_updated_time=? WHERE model_key=?",
           {change.timestamp, *key})
      .status();
}

Result<ModelVersionPage> SearchModelVersions(SqlSession& s, const ModelVersionSearch& search) {
  std::vector<SqlValue> binds;
  PLINTH_ASSIGN_OR_RETURN(std::string where, CompileModelVersionFilter(search.filter, &binds));
  std::string sql = std::string(kVersionSelect) + " WHERE 1=1" + where;
  if (!search.include_prompts) {
    // MLflow hides every version of a model that has a version tagged as a prompt.
    sql +=
        " AND v.model_key NOT IN (SELECT model_key FROM model_version_tags WHERE key=? AND "
        "value='true')";
    binds.emplace_back(std::string(kPromptTag));
  }
  sql += " ORDER BY ";
  bool by_name = false;
  bool by_version = false;
  for (const OrderBy& o : search.order_by) {
    PLINTH_ASSIGN_OR_RETURN(std::string term, CompileModelVersionOrderBy(o));
    sql += term + ", ";
    by_name = by_name || o.key == "name";
    by_version = by_version || o.key == "version_number";
  }
  if (!by_name) sql += "rm.name ASC, ";
  if (!by_version) sql += "v.version DESC, ";
  sql += "v.model_key ASC LIMIT ? OFFSET ?";
  binds.emplace_back(search.max_results + 1);
  binds.emplace_back(search.offset);
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, ToArgs(binds), /*cached=*/false));
  ModelVersionPage page;
  std::vector<int64_t> keys;
  for (size_t i = 0; i < r.size(); ++i) {
    if (static_cast<int64_t>(i) == search.max_results) {
      page.has_more = true;
      break;
    }
    page.versions.push_back(VersionFromRow(r, i));
    keys.push_back(r.Int64(i, kVersionKeyColumn));
  }
  PLINTH_RETURN_IF_ERROR(LoadVersionTags(s, keys, &page.versions));
  return page;
}

Status SetModelVersionTag(SqlSession& s, const std::string& name, int64_t version,
                          const KeyValue& tag) {
  PLINTH_ASSIGN_OR_RETURN(int64_t key, FindVersion(s, name, version, false));
  return UpsertVersionTag(s, key, version, tag.key, tag.value);
}

Status DeleteModelVersionTag(SqlSession& s, const std::string& name, int64_t version,
                             const std::string& key) {
  PLINTH_ASSIGN_OR_RETURN(int64_t model_key, FindVersion(s, name, version, false));
  return s
      .Run("DELETE FROM model_version_tags WHERE model_key=? AND version=? AND key=?",
           {model_key, version, key})
      .status();
}

// ------------------------------------------------------------------ aliases

Status SetRegisteredModelAlias(SqlSession& s, const std::string& name, const std::string& alias,
                               int64_t version, const AliasChange& change, bool retry) {
  (void)retry;  // a re-run finds the alias already at `version`: a no-op, as below
  PLINTH_ASSIGN_OR_RETURN(int64_t key, FindVersion(s, name, version, /*lock=*/true));
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> current, AliasHolder(s, key, alias));
  // Already there (also: our own earlier attempt landed): nothing moves, nothing is recorded.
  if (current == version) return Status::Ok();
  PLINTH_RETURN_IF_ERROR(CheckExpected(alias, current, change));
  PLINTH_RETURN_IF_ERROR(
      s.Run("INSERT INTO registered_model_aliases (model_key, alias, version) VALUES (?, ?, ?) "
            "ON CONFLICT (model_key, alias) DO UPDATE SET version=excluded.version",
            {key, alias, version})
          .status());
  return RecordAliasEvent(s, key, alias, version, current, change.action, change);
}

Status DeleteRegisteredModelAlias(SqlSession& s, const std::string& name, const std::string& alias,
                                  const AliasChange& change, bool retry) {
  (void)retry;  // a re-run finds the alias gone: a no-op, as below
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, /*lock=*/true));
  if (!key) return RegisteredModelNotFound(name);
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> current, AliasHolder(s, *key, alias));
  if (!current) return Status::Ok();
  PLINTH_RETURN_IF_ERROR(CheckExpected(alias, current, change));
  PLINTH_RETURN_IF_ERROR(
      s.Run("DELETE FROM registered_model_aliases WHERE model_key=? AND alias=?", {*key, alias})
          .status());
  return RecordAliasEvent(s, *key, alias, std::nullopt, current, change.action, change);
}

Result<ModelVersion> GetModelVersionByAlias(SqlSession& s, const std::string& name,
                                            const std::string& alias) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, false));
  if (!key) return RegisteredModelNotFound(name);
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> version, AliasHolder(s, *key, alias));
  if (!version) return InvalidArgument("Registered model alias " + alias + " not found.");
  return LoadVersion(s, *key, *version, name, /*with_aliases=*/true);
}

Result<std::vector<AliasEvent>> ListAliasHistory(SqlSession& s, const std::string& name,
                                                 const std::string& alias) {
  PLINTH_ASSIGN_OR_RETURN(std::optional<int64_t> key, FindModel(s, name, false));
  if (!key) return RegisteredModelNotFound(name);
  std::string sql =
      "SELECT event_id, alias, version, previous_version, action, user_id, timestamp FROM "
      "registered_model_alias_history WHERE model_key=?";
  std::vector<SqlArg> args{*key};
  if (!alias.empty()) {
    sql += " AND alias=?";
    args.emplace_back(alias);
  }
  sql += " ORDER BY event_id";
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, args));
  std::vector<AliasEvent> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    AliasEvent e;
    e.event_id = r.Int64(i, 0);
    e.alias = r.Text(i, 1);
    e.version = r.OptInt64(i, 2);
    e.previous_version = r.OptInt64(i, 3);
    e.action = r.Text(i, 4);
    e.user_id = r.Text(i, 5);
    e.timestamp = r.Int64(i, 6);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace plinth::store::registry_sql
