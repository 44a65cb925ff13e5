// MLflow's rules for the model registry's inputs, with its messages (mlflow/utils/validation.py,
// mlflow/entities/model_registry/model_version_stages.py, as of MLflow 3.x): registered-model
// names, version numbers, aliases, stages and registry tags. Pure functions, thread-safe.
#ifndef PLINTH_REGISTRY_REGISTRY_RULES_H_
#define PLINTH_REGISTRY_REGISTRY_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace plinth::registry {

inline constexpr size_t kMaxRegistryTagKeyLength = 250;
inline constexpr size_t kMaxRegistryTagValueLength = 100000;
inline constexpr size_t kMaxAliasLength = 255;

// A registered model name: not blank, no '/' or ':', not "." and not starting with "..".
// `field` names the request field in the "missing value" message (name, new_name).
Status ValidateModelName(const std::string& name, std::string_view field = "name");

// A version number as MLflow's int() reads it ("3", " 3 ", "+3", "003").
// Failure: kInvalidArgument "Parameter 'version' must be an integer, got 'x'.".
Result<int64_t> ParseVersion(std::string_view text);

// An alias: letters, digits, '_' and '-', at most 255 characters. `reserved` also refuses the
// names MLflow keeps for itself: "latest" (any case) and v<digits>.
Status ValidateAlias(const std::string& alias, bool reserved);
// Whether `alias` means the newest version (MLflow's "latest", any case).
bool IsLatestAlias(std::string_view alias);

// The canonical spelling of a stage (None, Staging, Production, Archived), any case in.
// Failure: kInvalidArgument "Invalid Model Version stage: x. Value must be one of …".
Result<std::string> CanonicalStage(std::string_view stage);
// Staging and Production: the stages whose other versions a transition may archive.
bool IsActiveStage(std::string_view canonical_stage);

// A registry tag (registered models and versions): the key as a tracking tag key, at most 250
// characters; the value at most 100,000.
Status ValidateRegistryTag(const std::string& key, const std::string& value);
// The key alone (delete-tag requests).
Status ValidateRegistryTagKey(const std::string& key);

}  // namespace plinth::registry

#endif  // PLINTH_REGISTRY_REGISTRY_RULES_H_
