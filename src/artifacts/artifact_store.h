// ArtifactStore: the seam for artifact bytes (run files, models, datasets). Paths are relative,
// '/'-separated, and checked by NormalizeArtifactPath before any store sees them, so no path can
// leave the store's root. Content moves through ByteSource in chunks, never whole in memory.
// LocalArtifactStore (a folder) is the default; S3ArtifactStore (s3_artifact_store.h) keeps the
// same contract on any S3-compatible service. Implementations are thread-safe.
#ifndef PLINTH_ARTIFACTS_ARTIFACT_STORE_H_
#define PLINTH_ARTIFACTS_ARTIFACT_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/result.h"

namespace plinth::artifacts {

class S3Client;

struct FileInfo {
  std::string path;  // the entry's name within the listed folder
  bool is_dir = false;
  std::optional<int64_t> file_size;  // files only
};

// A byte range of a file, as GetRange opens it.
struct ArtifactRange {
  std::unique_ptr<ByteSource> content;  // Size() = the bytes in the range
  uint64_t offset = 0;
  uint64_t total_size = 0;  // the whole file's size
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Stores `content` at `path`, replacing any file there. The file appears whole or not at all.
  // Failure: kInvalidArgument when path names a folder; kInternal on I/O errors; the content's
  // own error (e.g. a client that hung up) is passed through.
  virtual Status Put(const std::string& path, ByteSource& content) = 0;
  // Opens the file at `path` for reading. Failure: kNotFound.
  virtual Result<std::unique_ptr<ByteSource>> Get(const std::string& path) = 0;
  // Opens `length` bytes (to the end when absent, clamped to the end) of the file at `path`
  // starting at `offset`; offset == size gives an empty range. Failure: kNotFound;
  // kInvalidArgument when offset is past the end.
  virtual Result<ArtifactRange> GetRange(const std::string& path, uint64_t offset,
                                         std::optional<uint64_t> length) = 0;
  // Lists the folder at `path` ("" = root), sorted by name; an absent folder lists as empty.
  virtual Result<std::vector<FileInfo>> List(const std::string& path) = 0;
  // Deletes the file or folder (recursively) at `path`; absent paths are not an error.
  virtual Status Delete(const std::string& path) = 0;
};

// Checks and canonicalises a relative artifact path: drops empty and "." segments, and refuses
// (kInvalidArgument) absolute paths, "..", backslashes, NUL bytes and Windows drive prefixes.
// `allow_empty` permits "" (the root) for listings.
Result<std::string> NormalizeArtifactPath(std::string_view path, bool allow_empty);

// A store rooted at the local folder `root` (created if missing).
// Failure: kUnavailable when the folder cannot be created.
Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(const std::string& root);

// Opens the store a URI names: a plain folder path or file:///PATH (local), s3://BUCKET[/PREFIX]
// (S3-compatible). Failure: kInvalidArgument for an unknown scheme or malformed URI;
// kUnavailable when the store cannot be reached or created.
Result<std::unique_ptr<ArtifactStore>> OpenArtifactStoreFromUri(const std::string& uri);

// Stores for artifact URIs that runs carry themselves (s3://BUCKET/PREFIX/... when the server
// hands clients direct URIs): one store per bucket, opened on first use and kept, so listing a
// run's artifacts does not build a client per request. Thread-safe.
class ArtifactStoreCache {
 public:
  struct Location {
    std::shared_ptr<ArtifactStore> store;
    std::string path;  // the URI's path inside `store` ("" = the store's root)
  };
  // Resolves `uri`. Failure: kUnimplemented for schemes the server does not open itself (local
  // folders, mlflow-artifacts:), kInvalidArgument for a malformed URI, or the store's error.
  Result<Location> Resolve(const std::string& uri);

 private:
  std::mutex mu_;
  std::shared_ptr<S3Client> client_;                              // guarded by mu_
  std::map<std::string, std::shared_ptr<ArtifactStore>> stores_;  // by bucket; guarded by mu_
};

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_ARTIFACT_STORE_H_
