// Model version sources: the URIs a version is registered from, read the way MLflow's server
// reads them (urllib.parse, mlflow.store.artifact.utils.models, mlflow/server/handlers.py):
// `runs:/<run_id>/<path>`, `models:/<model_id>` (an MLflow 3 logged model),
// `models:/<name>/<version|stage|latest>` and `models:/<name>@<alias>` (another version), and
// artifact URIs (`mlflow-artifacts:/…`, `s3://…`, local paths). Pure functions, thread-safe.
#ifndef PLINTH_REGISTRY_MODEL_SOURCE_H_
#define PLINTH_REGISTRY_MODEL_SOURCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace plinth::registry {

// Python's urllib.parse.urlsplit: scheme (lower case; empty when there is none), netloc (after
// "//"), path, query.
struct UriParts {
  std::string scheme;
  std::string netloc;
  std::string path;
  std::string query;
};
UriParts SplitUri(std::string_view uri);

// A parsed models:/ URI. Exactly one form is set: model_id; or name with one of version, stage,
// alias, or none of them (the latest version).
struct ModelsUri {
  std::string model_id;
  std::string name;
  std::optional<int64_t> version;
  std::string stage;
  std::string alias;
};
// Failure: kInvalidArgument "Not a proper models:/ URI: …" (MLflow's text).
Result<ModelsUri> ParseModelsUri(std::string_view uri);

// The run id of `runs:/<run_id>/<path>`. Failure: kInvalidArgument "Not a proper runs:/ URI".
Result<std::string> RunIdOfRunsUri(std::string_view uri);

// A local path or file: URI (MLflow's is_local_uri); a file: URI naming a remote host is not.
bool IsLocalUri(std::string_view uri);
// MLflow refuses sources whose path has ".." or "." segments, NUL bytes, or no absolute path
// (after percent-decoding): "Invalid model version source: '…'. If supplying a source as an
// http, https, …". Checked for every source that is not local.
Status CheckAbsoluteSourcePath(const std::string& source);
// mlflow-artifacts: URIs and http(s) URLs of an artifact proxy (…/api/2.0/mlflow-artifacts/
// artifacts/…): sources that must lie inside their run's or logged model's artifact root.
bool IsProxiedArtifactSource(std::string_view source);
// Whether `source` lies inside `root`: same scheme and host, and root's decoded path segments
// are a prefix of source's.
bool IsUriWithinRoot(std::string_view source, std::string_view root);
// Whether the local path or file: URI `source` lies inside the local `root`.
bool IsLocalPathWithin(std::string_view source, std::string_view root);

}  // namespace plinth::registry

#endif  // PLINTH_REGISTRY_MODEL_SOURCE_H_
