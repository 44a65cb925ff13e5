// Where `plinth serve` gets its model: a local MLflow model folder, or a registered model
// version (`models:/NAME/VERSION`, `models:/NAME@ALIAS`), a logged model (`models:/m-ID`) or a
// run's artifact (`runs:/RUN_ID/PATH`) fetched through a tracking server's REST API — the same
// URIs `mlflow models serve -m` takes. Remote models are downloaded into a cache folder, one
// subfolder per resolved artifact location, and reused when the same version comes back (as on
// a rollback).
//
// Thread-safety: a ModelSource may be used from one thread at a time (the loader thread).
#ifndef PLINTH_SERVING_SERVER_MODEL_SOURCE_H_
#define PLINTH_SERVING_SERVER_MODEL_SOURCE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace plinth::serving {

struct ModelUri {
  enum class Kind { kLocal, kRegisteredVersion, kRegisteredAlias, kLoggedModel, kRun };
  Kind kind = Kind::kLocal;
  std::string text;     // as given
  std::string path;     // kLocal: the folder; kRun: the artifact path in the run
  std::string name;     // registered model name
  std::string version;  // kRegisteredVersion
  std::string alias;    // kRegisteredAlias
  std::string id;       // kLoggedModel (m-…) or kRun (run id)

  bool remote() const { return kind != Kind::kLocal; }
};

// Parses a model URI. Failure: kInvalidArgument naming what is wrong.
Result<ModelUri> ParseModelUri(std::string_view uri);

// A model folder on local disk plus what it is.
struct FetchedModel {
  std::filesystem::path directory;
  std::string name;     // registered model name, or the folder's name
  std::string version;  // the registered version, or "1"
  std::string source;   // the artifact URI it came from
};

class ModelSource {
 public:
  // `tracking_uri`: http(s)://host:port of the tracking server (MLFLOW_TRACKING_URI when empty);
  // `cache_dir`: where remote models are downloaded.
  ModelSource(std::string tracking_uri, std::filesystem::path cache_dir);

  // The version an alias points at now. Failure: kNotFound (no such model or alias),
  // kUnavailable (server unreachable), kFailedPrecondition (other server errors).
  Result<std::string> ResolveAlias(const std::string& name, const std::string& alias);

  // Fetches the model `uri` names (for an alias URI, the version it points at now, or
  // `version` when given). Failure as above, plus kNotFound when there are no files.
  Result<FetchedModel> Fetch(const ModelUri& uri, const std::string& version = "");

  const std::string& tracking_uri() const { return tracking_uri_; }

 private:
  Result<std::string> Get(const std::string& path_and_query);
  Result<FetchedModel> FetchArtifacts(const std::string& artifact_uri, FetchedModel model);
  Status DownloadProxyFolder(const std::string& store_path, const std::filesystem::path& to,
                             int depth);
  Status DownloadStoreFolder(const std::string& artifact_uri, const std::filesystem::path& to);

  std::string tracking_uri_;
  std::filesystem::path cache_dir_;
};

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_MODEL_SOURCE_H_
