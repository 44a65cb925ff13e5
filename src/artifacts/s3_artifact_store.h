// S3ArtifactStore: artifacts as objects under s3://BUCKET/PREFIX on any S3-compatible service
// (AWS S3, MinIO, Ceph RGW, moto...). Artifact path P is the object PREFIX/P; folders are key
// prefixes, listed with ListObjectsV2 and the delimiter '/'.
//
// Put streams its ByteSource: content up to one part (S3Options::part_size, 8 MiB) goes up in a
// single PUT; anything larger becomes a multipart upload with one part buffered at a time (so
// memory per upload is bounded by the part size and a failed part can be resent). A failed
// multipart upload is aborted, so the object appears whole or not at all. Get streams the object
// without buffering it (S3Client::GetObject); Delete lists the folder and removes its objects
// 1000 per request.
//
// Thread-safe; stores share one S3Client (and its connection pool) through a shared_ptr.
#ifndef PLINTH_ARTIFACTS_S3_ARTIFACT_STORE_H_
#define PLINTH_ARTIFACTS_S3_ARTIFACT_STORE_H_

#include <memory>
#include <string>

#include "artifacts/artifact_store.h"
#include "artifacts/s3_client.h"
#include "artifacts/s3_config.h"

namespace plinth::artifacts {

// A store rooted at `root` that sends its requests through `client`.
std::unique_ptr<ArtifactStore> NewS3ArtifactStore(std::shared_ptr<S3Client> client,
                                                  S3Location root);

// Opens the store for an s3:// URI with options from `env` (S3OptionsFromEnvironment) and checks
// that the bucket answers (one ListObjectsV2 of at most one key). Failure: kInvalidArgument for
// a bad URI or configuration; the bucket check's error (kPermissionDenied, kFailedPrecondition
// for a missing bucket, kUnavailable when the endpoint cannot be reached).
Result<std::unique_ptr<ArtifactStore>> OpenS3ArtifactStore(const std::string& uri,
                                                           const EnvLookup& env);

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_S3_ARTIFACT_STORE_H_
