// RegistryService: the model registry engine. It validates requests as MLflow's registry does
// (names, versions, aliases, stages, tags, filters, page sizes), resolves model version sources
// (runs:/, models:/<model_id>, models:/<name>/<version|stage|latest>, models:/<name>@<alias>,
// artifact URIs) to the run and logged model they came from and to where their files are, fills
// in times, and calls the RegistryStore. Beyond MLflow it moves aliases with a recorded history
// (Promote, and Rollback to the previous holder) and reports a version's lineage (source run and
// that run's input datasets). It knows nothing of HTTP. Thread-safe; it holds no state of its
// own, so replicas sharing a database each run one.
#ifndef PLINTH_REGISTRY_REGISTRY_SERVICE_H_
#define PLINTH_REGISTRY_REGISTRY_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"
#include "store/registry_store.h"
#include "tracking/tracking_service.h"

namespace plinth::registry {

using store::AliasEvent;
using store::KeyValue;
using store::ModelVersion;
using store::RegisteredModel;
using tracking::Paged;

// MLflow's page sizes (mlflow/store/model_registry/__init__.py).
inline constexpr int64_t kDefaultSearchRegisteredModels = 100;
inline constexpr int64_t kMaxSearchRegisteredModels = 1000;
inline constexpr int64_t kDefaultSearchModelVersions = 10000;
inline constexpr int64_t kMaxSearchModelVersions = 200000;

struct CreateModelVersionRequest {
  std::string name;
  std::string source;
  // Absent and empty differ where MLflow's handler asks HasField (models:/<name>/… sources).
  std::optional<std::string> run_id;
  std::optional<std::string> model_id;
  std::vector<KeyValue> tags;
  std::string run_link;
  std::optional<std::string> description;
};

struct RegistrySearchRequest {
  std::string filter;
  std::vector<std::string> order_by;
  std::optional<int64_t> max_results;  // absent: MLflow's default for the search
  std::string page_token;
};

// One move of an alias made by Promote or Rollback.
struct AliasMove {
  std::string alias;
  std::optional<int64_t> from;  // the version the alias held before; unset: none
  int64_t to = 0;
  ModelVersion version;  // the version it points at now, with tags and aliases
};

// Where a model version came from.
struct Lineage {
  ModelVersion version;
  // The source run, with its input datasets; unset when the version names no run or the run is
  // gone (`run_missing` then says which).
  std::optional<store::Run> run;
  std::string run_missing;
};

class RegistryService {
 public:
  // `store` provides the registry tables and the runs and logged models that sources name.
  RegistryService(store::MetadataStore* store, Clock* clock);

  // ---- registered models (MLflow). Failures: kInvalidArgument for bad input, and the store's.
  Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                const std::vector<KeyValue>& tags,
                                                const std::string& description);
  Result<RegisteredModel> GetRegisteredModel(const std::string& name);
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name);
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                const std::optional<std::string>& description);
  Status DeleteRegisteredModel(const std::string& name);
  Result<Paged<RegisteredModel>> SearchRegisteredModels(const RegistrySearchRequest& request);
  // The newest version in each of `stages` (all stages when empty), with aliases.
  Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                      const std::vector<std::string>& stages);
  Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag);
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key);

  // ---- model versions (MLflow). `version` is the text of the request ("3").
  Result<ModelVersion> CreateModelVersion(const CreateModelVersionRequest& request);
  Result<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::optional<std::string>& description);
  Result<ModelVersion> TransitionModelVersionStage(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& stage,
                                                   bool archive_existing_versions);
  Status DeleteModelVersion(const std::string& name, const std::string& version);
  Result<Paged<ModelVersion>> SearchModelVersions(const RegistrySearchRequest& request);
  // Where the version's files are: what a models:/ source resolved to, else the source.
  Result<std::string> GetModelVersionDownloadUri(const std::string& name,
                                                 const std::string& version);
  Status SetModelVersionTag(const std::string& name, const std::string& version,
                            const KeyValue& tag);
  Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                               const std::string& key);

  // ---- aliases (MLflow). Each move is recorded in the alias history with `user`.
  Status SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                 const std::string& version, const std::string& user = "");
  Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                    const std::string& user = "");
  // "latest" (any case) is the newest version. Failure: kNotFound; kInvalidArgument for an
  // unknown alias (MLflow's code).
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name, const std::string& alias);

  // ---- Plinth's own
  // Points `alias` at `version`, recorded as a promotion. Failure: as SetRegisteredModelAlias.
  Result<AliasMove> Promote(const std::string& name, const std::string& alias,
                            const std::string& version, const std::string& user);
  // Returns `alias` to the version that held it before the current one, skipping holders that
  // later rollbacks already undid (the history read as a stack). Safe against concurrent moves:
  // it applies only if the alias has not moved meanwhile (else kConflict).
  // Failure: kFailedPrecondition when there is no previous holder, or it was deleted.
  Result<AliasMove> Rollback(const std::string& name, const std::string& alias,
                             const std::string& user);
  // The recorded moves of `alias` (every alias of the model when empty), oldest first.
  Result<std::vector<AliasEvent>> AliasHistory(const std::string& name, const std::string& alias);
  Result<Lineage> GetLineage(const std::string& name, const std::string& version);

 private:
  struct ResolvedSource {
    std::string source;            // as stored (models:/<name>@… becomes models:/<name>/<v>)
    std::string storage_location;  // where the files are, when it differs from the source
    std::string run_id;
    std::string model_id;
  };
  Result<ResolvedSource> ResolveSource(const CreateModelVersionRequest& request);
  Status ValidateRunSource(const std::string& source, const std::string& run_id);
  Status ValidateModelSource(const std::string& source, const std::string& model_id);
  // Records the new version on its logged model's mlflow.modelVersions tag, as MLflow's server
  // does.
  Status TagLoggedModel(const std::string& model_id, const std::string& name, int64_t version);
  Result<ModelVersion> LatestVersion(const std::string& name);
  Result<std::optional<int64_t>> AliasHolder(const std::string& name, const std::string& alias);

  store::MetadataStore* store_;
  store::RegistryStore* registry_;
  Clock* clock_;
};

}  // namespace plinth::registry

#endif  // PLINTH_REGISTRY_REGISTRY_SERVICE_H_
