#include "store/dataset_sql.h"

namespace plinth::store::dataset_sql {
namespace {

constexpr const char* kVersionColumns =
    "n.name, v.version, v.digest, v.size_bytes, v.source, v.storage_uri, v.format, v.num_rows, "
    "v.num_columns, v.schema_json, v.profile_json, v.validation_json, v.validation_success, "
    "v.description, v.user_id, v.creation_time";
// The same without the two large JSON texts, for listings.
constexpr const char* kVersionListColumns =
    "n.name, v.version, v.digest, v.size_bytes, v.source, v.storage_uri, v.format, v.num_rows, "
    "v.num_columns, v.schema_json, '', '', v.validation_success, v.description, v.user_id, "
    "v.creation_time";

DatasetVersionRecord VersionFromRow(const SqlRows& r, size_t i) {
  DatasetVersionRecord d;
  d.name = r.Text(i, 0);
  d.version = r.Int64(i, 1);
  d.digest = r.Text(i, 2);
  d.size_bytes = r.Int64(i, 3);
  d.source = r.Text(i, 4);
  d.storage_uri = r.Text(i, 5);
  d.format = r.Text(i, 6);
  d.num_rows = r.OptInt64(i, 7);
  d.num_columns = r.OptInt64(i, 8);
  d.schema_json = r.Text(i, 9);
  d.profile_json = r.Text(i, 10);
  d.validation_json = r.Text(i, 11);
  if (auto v = r.OptInt64(i, 12)) d.validation_success = *v != 0;
  d.description = r.Text(i, 13);
  d.user_id = r.Text(i, 14);
  d.creation_time = r.Int64(i, 15);
  return d;
}

Status DatasetNotFound(const std::string& name, std::optional<int64_t> version) {
  if (version) {
    return NotFound("Dataset '" + name + "' has no version " + std::to_string(*version));
  }
  return NotFound("Dataset '" + name + "' not found");
}

}  // namespace

Result<DatasetVersionRecord> AddVersion(SqlSession& s, const DatasetVersionRecord& record,
                                        int64_t now, bool* created) {
  if (record.name.empty()) return InvalidArgument("a dataset needs a name");
  if (record.digest.empty()) return InvalidArgument("a dataset version needs a digest");
  PLINTH_RETURN_IF_ERROR(s.Run("INSERT INTO dataset_names (name, next_version, creation_time, "
                               "last_updated_time) VALUES (?, 1, ?, ?) ON CONFLICT (name) DO "
                               "NOTHING",
                               {record.name, now, now})
                             .status());
  // A no-op update takes the name's row lock (PostgreSQL; SQLite has one writer): concurrent
  // adds of one name are serialized from here on.
  PLINTH_ASSIGN_OR_RETURN(SqlRows key,
                          s.Run("UPDATE dataset_names SET next_version = next_version WHERE name=? "
                                "RETURNING dataset_key, next_version",
                                {record.name}));
  if (key.empty()) return Internal("dataset '" + record.name + "' vanished while adding");
  const int64_t dataset_key = key.Int64(0, 0);
  const int64_t version = key.Int64(0, 1);
  if (version > 1) {
    PLINTH_ASSIGN_OR_RETURN(
        SqlRows latest,
        s.Run(std::string("SELECT ") + kVersionColumns +
                  " FROM dataset_versions v JOIN dataset_names n ON n.dataset_key = v.dataset_key"
                  " WHERE v.dataset_key=? ORDER BY v.version DESC LIMIT 1",
              {dataset_key}));
    if (!latest.empty() && latest.Text(0, 2) == record.digest) {
      *created = false;
      return VersionFromRow(latest, 0);
    }
  }
  PLINTH_RETURN_IF_ERROR(
      s.Run("UPDATE dataset_names SET next_version = next_version + 1, last_updated_time=? "
            "WHERE dataset_key=?",
            {now, dataset_key})
          .status());
  auto opt_int = [](const std::optional<int64_t>& v) { return OptionalInt(v); };
  SqlArg success;
  if (record.validation_success) success = int64_t{*record.validation_success ? 1 : 0};
  PLINTH_RETURN_IF_ERROR(
      s.Run("INSERT INTO dataset_versions (dataset_key, version, digest, size_bytes, source, "
            "storage_uri, format, num_rows, num_columns, schema_json, profile_json, "
            "validation_json, validation_success, description, user_id, creation_time) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {dataset_key, version, record.digest, record.size_bytes, TextOrNull(record.source),
             record.storage_uri, TextOrNull(record.format), opt_int(record.num_rows),
             opt_int(record.num_columns), TextOrNull(record.schema_json),
             TextOrNull(record.profile_json), TextOrNull(record.validation_json), success,
             TextOrNull(record.description), TextOrNull(record.user_id), now})
          .status());
  DatasetVersionRecord out = record;
  out.version = version;
  out.creation_time = now;
  *created = true;
  return out;
}

Result<DatasetVersionRecord> GetVersion(SqlSession& s, const std::string& name,
                                        std::optional<int64_t> version) {
  std::string sql = std::string("SELECT ") + kVersionColumns +
                    " FROM dataset_versions v JOIN dataset_names n ON n.dataset_key = "
                    "v.dataset_key WHERE n.name=?";
  std::vector<SqlArg> args = {name};
  if (version) {
    sql += " AND v.version=?";
    args.emplace_back(*version);
  } else {
    sql += " ORDER BY v.version DESC LIMIT 1";
  }
  PLINTH_ASSIGN_OR_RETURN(SqlRows r, s.Run(sql, args, /*cached=*/true));
  if (r.empty()) return DatasetNotFound(name, version);
  return VersionFromRow(r, 0);
}

Result<std::vector<DatasetVersionRecord>> ListVersions(SqlSession& s, const std::string& name) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r, s.Run(std::string("SELECT ") + kVersionListColumns +
                           " FROM dataset_versions v JOIN dataset_names n ON n.dataset_key = "
                           "v.dataset_key WHERE n.name=? ORDER BY v.version DESC",
                       {name}));
  if (r.empty()) return DatasetNotFound(name, std::nullopt);
  std::vector<DatasetVersionRecord> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(VersionFromRow(r, i));
  return out;
}

Result<std::vector<DatasetSummary>> ListDatasets(SqlSession& s) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("SELECT n.name, MAX(v.version), COUNT(v.version), n.creation_time, "
            "n.last_updated_time FROM dataset_names n JOIN dataset_versions v ON v.dataset_key "
            "= n.dataset_key GROUP BY n.name, n.creation_time, n.last_updated_time ORDER BY "
            "n.name"));
  std::vector<DatasetSummary> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.Text(i, 0), r.Int64(i, 1), r.Int64(i, 2), r.Int64(i, 3), r.Int64(i, 4)});
  }
  return out;
}

Result<std::optional<std::string>> FindStorageByDigest(SqlSession& s, const std::string& digest) {
  PLINTH_ASSIGN_OR_RETURN(
      SqlRows r,
      s.Run("SELECT storage_uri FROM dataset_versions WHERE digest=? LIMIT 1", {digest}));
  if (r.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

}  // namespace plinth::store::dataset_sql
