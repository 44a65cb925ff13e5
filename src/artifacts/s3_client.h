// S3Client: the S3 REST calls the artifact store needs (objects, multipart uploads,
// ListObjectsV2, multi-object delete), over libcurl, signed with SigV4 (sigv4.h).
//
// Transport: a pool of libcurl easy handles, each driven through its own multi handle so that
// its connection cache survives between requests (keep-alive) and a download can be read a
// chunk at a time: GetObject returns a ByteSource that pulls from the socket as it is read, with
// at most ~256 KiB buffered (the transfer is paused while the reader is behind).
//
// Failures: every request is retried with full-jitter exponential back-off on connection errors,
// timeouts, 5xx, 429 and S3's SlowDown/RequestTimeout. Only idempotent requests are sent (PUT of
// a whole object or part, GET, HEAD, DELETE, list, multipart create/complete/abort). A download
// cut mid-body resumes with a Range request pinned to the object's ETag (If-Match). S3 error
// documents become Status values: NoSuchKey → kNotFound, access errors → kPermissionDenied
// naming the bucket and S3's code, other 4xx → kFailedPrecondition, exhausted retries →
// kUnavailable; never kInternal for something S3 said.
//
// Thread-safe: concurrent requests use different pooled handles. A returned ByteSource is used by
// one thread at a time and keeps the client alive.
#ifndef PLINTH_ARTIFACTS_S3_CLIENT_H_
#define PLINTH_ARTIFACTS_S3_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/s3_config.h"
#include "artifacts/s3_xml.h"
#include "core/io.h"
#include "core/result.h"

namespace plinth::artifacts {

class CurlHandlePool;

class S3Client : public std::enable_shared_from_this<S3Client> {
 public:
  // Failure: kInvalidArgument when `options` do not validate.
  static Result<std::shared_ptr<S3Client>> Create(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Uploads `body` as the whole object (one PUT, body hash signed).
  Status PutObject(const std::string& bucket, const std::string& key, std::string_view body);

  // Multipart upload: create → parts 1..N (each ≥ 5 MiB but the last) → complete, or abort.
  Result<std::string> CreateMultipartUpload(const std::string& bucket, const std::string& key);
  // Returns the part's ETag.
  Result<std::string> UploadPart(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, int part_number,
                                 std::string_view body);
  // `etags[i]` is part i+1's.
  Status CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id,
                                 const std::vector<std::string>& etags);
  Status AbortMultipartUpload(const std::string& bucket, const std::string& key,
                              const std::string& upload_id);

  struct ObjectInfo {
    uint64_t size = 0;
    std::string etag;
  };
  // Failure: kNotFound when there is no such object.
  Result<ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);

  struct ObjectStream {
    std::unique_ptr<ByteSource> body;  // Size() = bytes in the requested range
    uint64_t offset = 0;
    uint64_t total_size = 0;  // the whole object's size
  };
  // Streams the object from `offset`, `length` bytes or to the end. Failure: kNotFound; an
  // offset past the end of a non-empty object is kInvalidArgument.
  Result<ObjectStream> GetObject(const std::string& bucket, const std::string& key,
                                 uint64_t offset = 0, std::optional<uint64_t> length = {});

  // One ListObjectsV2 page (options.list_page_size keys at most).
  Result<S3ListPage> ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                   const std::string& delimiter,
                                   const std::string& continuation_token);
  // Deletes up to 1000 keys in one request; absent keys are not an error.
  Status DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys);

  const S3Options& options() const { return options_; }
  // Requests retried so far (all calls), for tests and logs.
  uint64_t retry_count() const { return retries_.load(); }

  // Internal: one request and its answer (public for the implementation's helpers only).
  struct Request;
  struct Response;

 private:
  explicit S3Client(S3Options options);
  friend class S3ObjectSource;

  // Sends `request` with retries; returns the final response if it is 2xx, else the mapped
  // error. `attempts` (optional) receives the number of attempts made.
  Result<Response> Execute(Request& request, int* attempts = nullptr);
  // The back-off before attempt `attempt` + 1.
  void Backoff(int attempt);

  S3Options options_;
  std::string scheme_;     // "http" or "https"
  std::string host_;       // host[:port] of the endpoint
  std::string base_path_;  // the endpoint's path ("" or "/something")
  std::unique_ptr<CurlHandlePool> pool_;
  SigV4Signer signer_;
  std::atomic<uint64_t> retries_{0};
};

// The mapped Status of an S3 error answer (exposed for unit tests).
Status StatusFromS3Error(long http_status, std::string_view body, const std::string& bucket,
                         const std::string& key, std::string_view operation);

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_S3_CLIENT_H_
