// Dataset versions: content-addressed bytes plus what was learned when they were added.
//
// The bytes of a file live once in the artifact store under datasets/sha256/<ab>/<digest>, the
// digest being the SHA-256 of the bytes, however many names and versions refer to them; the
// store (store/dataset_store.h) keeps each name's versions with their digest, schema, profile
// and validation result. DatasetService is the server side (used by api/dataset_api.cc): blobs
// in and out, verified as they stream, versions recorded. HashFile and ProfileCsvChunked are the
// client side of `plinth data add`: both read a file front to back in fixed-size buffers, so a
// 2 GB file is hashed and profiled in a few tens of MB.
//
// Thread-safety: DatasetService is thread-safe; the free functions are reentrant.
#ifndef PLINTH_DATA_DATASET_SERVICE_H_
#define PLINTH_DATA_DATASET_SERVICE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/io.h"
#include "core/result.h"
#include "data/csv.h"
#include "data/drift_report.h"
#include "data/profile.h"
#include "store/dataset_store.h"

namespace plinth::artifacts {
class ArtifactStore;
}

namespace plinth::data {

// 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);
// Where the bytes of `digest` are kept in the artifact store.
std::string DatasetBlobPath(std::string_view digest);

struct FileDigest {
  std::string sha256;  // hex
  uint64_t size = 0;
};
// Streams the file through SHA-256: one thread reads the next 4 MiB buffer while the other
// hashes the last, so reading and hashing overlap. Failure: kNotFound / kInternal.
Result<FileDigest> HashFile(const std::string& path);

struct ChunkedProfile {
  DatasetProfile profile;
  uint64_t rows = 0;
  uint64_t columns = 0;
  std::string schema_json;  // [{"name": …, "type": …}, …]
  uint64_t bad_rows = 0;
};
// Profiles a CSV file chunk by chunk (each ~`chunk_bytes`, split at a record boundary outside
// quotes), merging the chunks' profiles, so memory stays near a few chunks whatever the file
// size. Column types are those inferred on the first chunk; a later cell that does not parse as
// its column's type counts as null. Failure: the reader's errors.
Result<ChunkedProfile> ProfileCsvChunked(const std::string& path, size_t chunk_bytes = 8 << 20,
                                         int threads = 0);

class DatasetService {
 public:
  // `blobs` may be null (a server without an artifact store): blob calls then fail with
  // kFailedPrecondition.
  DatasetService(store::DatasetStore* store, artifacts::ArtifactStore* blobs);

  // Stores `body` as the bytes of `digest`, hashing while it streams; returns false when they
  // were already stored (the body is then drained, not stored again). Failure:
  // kInvalidArgument for a malformed digest or bytes whose SHA-256 is not `digest` (nothing is
  // kept).
  Result<bool> PutBlob(const std::string& digest, ByteSource& body);
  Result<std::unique_ptr<ByteSource>> GetBlob(const std::string& digest);
  bool HasBlob(const std::string& digest);

  // Records a version whose bytes are stored. Failure: kInvalidArgument (name, digest),
  // kFailedPrecondition when the blob is not stored yet.
  Result<store::DatasetVersionRecord> AddVersion(store::DatasetVersionRecord record, int64_t now,
                                                 bool* created);
  store::DatasetStore& store() { return *store_; }

  // Reads the CSV of version `version` (latest when unset) of `name` into a table, through a
  // temporary file. Failure: kNotFound, or the reader's error.
  Result<CsvReadResult> ReadVersion(const std::string& name, std::optional<int64_t> version,
                                    const CsvOptions& options = {});

  // What a drift report needs of a CSV version (drift_report.h's DriftReference): built from
  // its bytes the first time it is asked for and stored beside them
  // (datasets/drift-references/<digest>), so later reports against that version never parse
  // its CSV again; the last few are also kept decoded in memory. Failure: kNotFound,
  // kInvalidArgument for a version that is not CSV, or the reader's error.
  Result<std::shared_ptr<const DriftReference>> DriftReferenceOf(const std::string& name,
                                                                 std::optional<int64_t> version);
  // The same reference as bytes (EncodeDriftReference), for a client that tests its own data.
  Result<std::string> DriftReferenceBytes(const std::string& name, std::optional<int64_t> version);

 private:
  // The stored reference bytes of `v`, built and stored when missing.
  Result<std::string> LoadOrBuildReference(const store::DatasetVersionRecord& v);

  store::DatasetStore* store_;
  artifacts::ArtifactStore* blobs_;
  std::mutex cache_mu_;
  std::vector<std::pair<std::string, std::shared_ptr<const DriftReference>>> cache_;  // by digest
};

}  // namespace plinth::data

#endif  // PLINTH_DATA_DATASET_SERVICE_H_
