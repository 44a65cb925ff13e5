// DatasetStore: the seam between dataset versioning (src/data/dataset_service) and the tables
// that keep content-addressed dataset versions: a name, its versions 1, 2, … and for each the
// SHA-256 of its bytes, where the bytes are, and the schema, profile and validation result
// recorded when it was added. SqliteStore and PgStore implement it on the same database as the
// tracking tables; MetadataStore::datasets() hands it out; dataset_store_test.cc is the
// conformance suite both pass.
//
// Versions are numbered per name under a row lock on the name (concurrent adds from many
// replicas get distinct, gap-free numbers). Adding the bytes the latest version already holds
// adds nothing: the existing version is returned. Contract as MetadataStore's; thread-safe.
#ifndef PLINTH_STORE_DATASET_STORE_H_
#define PLINTH_STORE_DATASET_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace plinth::store {

struct DatasetVersionRecord {
  std::string name;
  int64_t version = 0;  // chosen by the store
  std::string digest;   // SHA-256 of the bytes, 64 lower-case hex digits
  int64_t size_bytes = 0;
  std::string source;       // where the bytes came from (a path as the user gave it)
  std::string storage_uri;  // where the bytes are kept (artifact store path)
  std::string format;       // "csv", or "" for bytes the engine does not read
  std::optional<int64_t> num_rows;
  std::optional<int64_t> num_columns;
  std::string schema_json;      // [{name, type}, …] or ""
  std::string profile_json;     // the dataset profile (src/data/profile.h) or ""
  std::string validation_json;  // the validation result when a suite ran, or ""
  std::optional<bool> validation_success;
  std::string description;
  std::string user_id;
  int64_t creation_time = 0;
};

struct DatasetSummary {
  std::string name;
  int64_t latest_version = 0;
  int64_t versions = 0;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
};

class DatasetStore {
 public:
  virtual ~DatasetStore() = default;

  // Adds a version of `record.name` (version and creation time of `record` are ignored and
  // chosen here; `now` is the time). When the latest version has the same digest, returns it
  // with *created = false. Failure: kInvalidArgument for an empty name or digest.
  virtual Result<DatasetVersionRecord> AddDatasetVersion(const DatasetVersionRecord& record,
                                                         int64_t now, bool* created) = 0;
  // Version `version` of `name`, or its latest when unset. Failure: kNotFound.
  virtual Result<DatasetVersionRecord> GetDatasetVersion(const std::string& name,
                                                         std::optional<int64_t> version) = 0;
  // The versions of `name`, newest first (profiles and validation left out: "" ).
  virtual Result<std::vector<DatasetVersionRecord>> ListDatasetVersions(
      const std::string& name) = 0;
  // Every dataset name, by name.
  virtual Result<std::vector<DatasetSummary>> ListDatasets() = 0;
  // Whether any version (of any name) holds bytes with this digest, and where.
  virtual Result<std::optional<std::string>> FindStorageByDigest(const std::string& digest) = 0;
};

}  // namespace plinth::store

#endif  // PLINTH_STORE_DATASET_STORE_H_
