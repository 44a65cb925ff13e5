// The `MLmodel` file at the top of an MLflow model directory: its flavors (which loader and
// which payload file), its signature (column or tensor specs, stored by MLflow as JSON strings
// inside the YAML) and provenance. Pure parsing functions; yaml-cpp and nlohmann stay inside
// mlmodel.cc and none of their exceptions escape. Values are thread-compatible.
#ifndef PLINTH_SERVING_MLMODEL_H_
#define PLINTH_SERVING_MLMODEL_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "serving/model.h"

namespace plinth::serving {

struct MlModelFile {
  // Each flavor's scalar fields, e.g. flavors["xgboost"]["model_class"]; nested and null values
  // are left out.
  std::map<std::string, std::map<std::string, std::string>> flavors;
  Signature signature;
  std::string mlflow_version;  // may be empty
  std::string model_uuid;      // may be empty

  bool has_flavor(std::string_view name) const { return flavors.count(std::string(name)) > 0; }
  // A flavor's field, or "" when the flavor or the field is absent.
  std::string FlavorField(std::string_view flavor, std::string_view field) const;
};

// Parses the text of an MLmodel file. kInvalidArgument naming the field on malformed YAML, a
// missing `flavors` map or an unreadable signature.
Result<MlModelFile> ParseMlModel(std::string_view yaml_text);

// Parses a signature's `inputs` and `outputs` JSON strings (either may be empty).
Result<Signature> ParseSignature(std::string_view inputs_json, std::string_view outputs_json);

// MLflow's spelling of a column type ("double", "long", ...) → DataType; nullopt if unknown.
std::optional<DataType> ParseDataType(std::string_view name);

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_MLMODEL_H_
