#include "artifacts/artifact_store.h"

namespace plinth::artifacts {

Result<std::unique_ptr<ArtifactStore>> OpenArtifactStoreFromUri(const std::string& uri) {
  const std::string file_scheme = "file://";
  if (uri.rfind(file_scheme, 0) == 0) {
    return OpenLocalArtifactStore(uri.substr(file_scheme.size()));
  }
  if (uri.find("://") != std::string::npos) {
    return InvalidArgument("artifact location '" + uri +
                           "': supported are a local folder, file:///PATH and s3://BUCKET/PREFIX");
  }
  return OpenLocalArtifactStore(uri);
}

}  // namespace plinth::artifacts
