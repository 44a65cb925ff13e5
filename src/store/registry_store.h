// RegistryStore: the seam between the registry engine (src/registry) and the tables of the
// model registry: registered models, their versions, tags and aliases, and the history of every
// alias move (which MLflow does not keep; rollbacks read it). SqliteStore and PgStore implement
// it next to MetadataStore, on the same database and connections; MetadataStore::registry()
// hands it out. registry_store_test.cc is the conformance suite both pass.
//
// Contract: as MetadataStore's. Methods check only what needs the database (existence,
// uniqueness, which version an alias holds); names, stages, tags and sources are validated by
// the engine, which also fills in every time (`now`). Errors carry MLflow's messages. Every
// write is durable when the method returns OK; on PostgreSQL each is one transaction that may
// be retried, and is written to be safe when run twice. All methods are thread-safe.
#ifndef PLINTH_STORE_REGISTRY_STORE_H_
#define PLINTH_STORE_REGISTRY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/query.h"
#include "store/records.h"

namespace plinth::store {

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::optional<std::string> description;  // MLflow tells "" from unset here
  std::string user_id;
  std::string current_stage = "None";
  std::string source;
  std::string storage_location;  // where the files are; "" = the source itself
  std::string run_id;
  std::string run_link;
  std::string model_id;  // the logged model it was registered from, if any
  std::string status = "READY";
  std::string status_message;
  std::vector<KeyValue> tags;
  std::vector<std::string> aliases;  // filled where MLflow fills them (see each method)
};

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the newest version in each stage, no aliases
  std::vector<KeyValue> tags;
  std::vector<ModelAlias> aliases;
};

// One move of an alias, as the history keeps it.
struct AliasEvent {
  int64_t event_id = 0;  // increasing: the order of the moves
  std::string alias;
  std::optional<int64_t> version;           // unset: the alias was removed
  std::optional<int64_t> previous_version;  // unset: it pointed nowhere before
  std::string action;                       // set, promote, rollback, delete, version_deleted
  std::string user_id;
  int64_t timestamp = 0;
};

// Who moves an alias and why, recorded in the history with the move.
struct AliasChange {
  std::string action = "set";
  std::string user_id;
  int64_t timestamp = 0;
  // Compare-and-set: the move applies only if the alias now points at this version (0: the
  // alias is unset). A rollback computed from the history uses it, so two concurrent rollbacks
  // cannot both step back.
  std::optional<int64_t> expected_version;
};

struct RegisteredModelSearch {
  Filter filter;                  // attributes: name; tags
  std::vector<OrderBy> order_by;  // attributes name, last_updated_timestamp; name ASC breaks ties
  bool include_prompts = false;   // models tagged mlflow.prompt.is_prompt=true (MLflow hides them)
  int64_t max_results = 100;
  int64_t offset = 0;
};

struct ModelVersionSearch {
  Filter filter;  // attributes: name, version_number, run_id, source_path; tags
  // attributes name, version_number, creation_timestamp, last_updated_timestamp; then name ASC,
  // version_number DESC unless present.
  std::vector<OrderBy> order_by;
  bool include_prompts = false;
  int64_t max_results = 10000;
  int64_t offset = 0;
};

struct RegisteredModelPage {
  bool has_more = false;
  std::vector<RegisteredModel> models;
};
struct ModelVersionPage {
  bool has_more = false;
  std::vector<ModelVersion> versions;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // ---- registered models
  // Inserts `model` with its tags (latest_versions and aliases are ignored).
  // Failure: kAlreadyExists "Registered Model (name=X) already exists.".
  virtual Status CreateRegisteredModel(const RegisteredModel& model) = 0;
  // The model with its tags, aliases and latest version per stage.
  // Failure: kNotFound "Registered Model with name=X not found".
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  // Renames the model (its versions follow) and touches its versions' update times.
  // Failure: kNotFound; kAlreadyExists when new_name is taken.
  virtual Status RenameRegisteredModel(const std::string& name, const std::string& new_name,
                                       int64_t now) = 0;
  // Sets (or, with nullopt, clears) the description. Failure: kNotFound.
  virtual Status UpdateRegisteredModel(const std::string& name,
                                       const std::optional<std::string>& description,
                                       int64_t now) = 0;
  // Removes the model, its versions, tags, aliases and alias history. Failure: kNotFound.
  virtual Status DeleteRegisteredModel(const std::string& name) = 0;
  virtual Result<RegisteredModelPage> SearchRegisteredModels(
      const RegisteredModelSearch& search) = 0;
  // Upserts a tag. Failure: kNotFound.
  virtual Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag) = 0;
  // Removes a tag; a missing key is not an error (MLflow). Failure: kNotFound for the model.
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;

  // ---- model versions
  // Inserts the next version of `version.name` (the number is chosen here: one more than any
  // version the model ever had) with its tags, and touches the model's update time. Returns the
  // stored version (no aliases). Failure: kNotFound "Registered Model with name=X not found".
  virtual Result<ModelVersion> CreateModelVersion(const ModelVersion& version) = 0;
  // The version with its tags and aliases.
  // Failure: kNotFound "Model Version (name=X, version=N) not found".
  virtual Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) = 0;
  // Sets (nullopt: clears) the description. Failure: kNotFound.
  virtual Status UpdateModelVersion(const std::string& name, int64_t version,
                                    const std::optional<std::string>& description, int64_t now) = 0;
  // Moves the version to `stage` (canonical name); with `archive_existing`, every other version
  // in that stage moves to Archived. Touches the model's update time. Failure: kNotFound.
  virtual Status TransitionModelVersionStage(const std::string& name, int64_t version,
                                             const std::string& stage, bool archive_existing,
                                             int64_t now) = 0;
  // Removes the version, its tags and the aliases that point at it (each recorded in the history
  // as `version_deleted` with `change`'s user and time). Its number is never reused.
  // Failure: kNotFound.
  virtual Status DeleteModelVersion(const std::string& name, int64_t version,
                                    const AliasChange& change) = 0;
  // Versions without aliases (as MLflow's search returns them).
  virtual Result<ModelVersionPage> SearchModelVersions(const ModelVersionSearch& search) = 0;
  // Failure: kNotFound for the version.
  virtual Status SetModelVersionTag(const std::string& name, int64_t version,
                                    const KeyValue& tag) = 0;
  // A missing key is not an error. Failure: kNotFound for the version.
  virtual Status DeleteModelVersionTag(const std::string& name, int64_t version,
                                       const std::string& key) = 0;

  // ---- aliases
  // Points `alias` at `version` and records the move. Failure: kNotFound for the version;
  // kConflict when change.expected_version is set and the alias holds another version.
  virtual Status SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                         int64_t version, const AliasChange& change) = 0;
  // Removes the alias and records it; a missing alias is not an error (MLflow) and records
  // nothing. Failure: kNotFound for the model; kConflict as above.
  virtual Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                            const AliasChange& change) = 0;
  // The version the alias points at, with tags and aliases. Failure: kNotFound for the model;
  // kInvalidArgument "Registered model alias A not found." (MLflow's code).
  virtual Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                      const std::string& alias) = 0;
  // The moves of `alias` (all the model's aliases when empty), oldest first.
  // Failure: kNotFound for the model.
  virtual Result<std::vector<AliasEvent>> ListAliasHistory(const std::string& name,
                                                           const std::string& alias) = 0;
};

// Stage names (MLflow's canonical spelling). Deleted versions are removed, not staged.
inline constexpr const char* kStageNone = "None";
inline constexpr const char* kStageStaging = "Staging";
inline constexpr const char* kStageProduction = "Production";
inline constexpr const char* kStageArchived = "Archived";

}  // namespace plinth::store

#endif  // PLINTH_STORE_REGISTRY_STORE_H_
