#include "artifacts/artifact_store.h"
#include "artifacts/s3_artifact_store.h"

namespace plinth::artifacts {

Result<std::unique_ptr<ArtifactStore>> OpenArtifactStoreFromUri(const std::string& uri) {
  const std::string file_scheme = "file://";
  if (uri.rfind(file_scheme, 0) == 0) {
    return OpenLocalArtifactStore(uri.substr(file_scheme.size()));
  }
  if (uri.rfind("s3://", 0) == 0) {
    return OpenS3ArtifactStore(uri, ProcessEnv());
  }
  if (uri.find("://") != std::string::npos) {
    return InvalidArgument("artifact location '" + uri +
                           "': supported are a local folder, file:///PATH and s3://BUCKET/PREFIX");
  }
  return OpenLocalArtifactStore(uri);
}

Result<ArtifactStoreCache::Location> ArtifactStoreCache::Resolve(const std::string& uri) {
  if (uri.rfind("s3://", 0) != 0) {
    return Unimplemented("artifact URI '" + uri + "' is not served by this server");
  }
  PLINTH_ASSIGN_OR_RETURN(S3Location loc, ParseS3Uri(uri));
  Location out;
  out.path = loc.prefix;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = stores_.find(loc.bucket);
  if (it != stores_.end()) {
    out.store = it->second;
    return out;
  }
  // One client (connection pool) for every bucket; options come from the environment once.
  if (!client_) {
    PLINTH_ASSIGN_OR_RETURN(S3Options options, S3OptionsFromEnvironment(ProcessEnv()));
    PLINTH_ASSIGN_OR_RETURN(client_, S3Client::Create(std::move(options)));
  }
  out.store = std::shared_ptr<ArtifactStore>(NewS3ArtifactStore(client_, {loc.bucket, ""}));
  stores_.emplace(loc.bucket, out.store);
  return out;
}

}  // namespace plinth::artifacts
