#include "serving/mlmodel.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace plinth::serving {
namespace {

using nlohmann::json;

Status Invalid(std::string_view what) { return InvalidArgument("MLmodel: " + std::string(what)); }

std::string ScalarOr(const YAML::Node& node, std::string_view key) {
  YAML::Node value = node[std::string(key)];
  if (!value || !value.IsScalar()) {
    return "";
  }
  return value.as<std::string>();
}

// One JSON spec list, `[{"type": "double", "name": "x"}, ...]` or tensor specs.
Status ParseSpecs(std::string_view text, std::string_view which, std::vector<ColumnSpec>* columns,
                  std::optional<TensorSpec>* tensor) {
  if (text.empty()) {
    return Status::Ok();
  }
  const std::string where = "signature " + std::string(which);
  json specs = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (specs.is_discarded() || !specs.is_array()) {
    return Invalid(where + " is not a JSON list of specs");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const json& spec = specs[i];
    const std::string at = where + " [" + std::to_string(i) + "]";
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string()) {
      return Invalid(at + " has no `type`");
    }
    const std::string type = spec["type"].get<std::string>();
    std::string name;
    if (spec.contains("name") && spec["name"].is_string()) {
      name = spec["name"].get<std::string>();
    }
    if (type == "tensor") {
      if (!spec.contains("tensor-spec") || !spec["tensor-spec"].is_object()) {
        return Invalid(at + " is a tensor without `tensor-spec`");
      }
      const json& ts = spec["tensor-spec"];
      TensorSpec parsed;
      parsed.name = name;
      if (!ts.contains("dtype") || !ts["dtype"].is_string()) {
        return Invalid(at + " tensor-spec has no `dtype`");
      }
      parsed.dtype = ts["dtype"].get<std::string>();
      if (ts.contains("shape")) {
        if (!ts["shape"].is_array()) {
          return Invalid(at + " tensor-spec `shape` is not a list");
        }
        for (const json& dim : ts["shape"]) {
          if (!dim.is_number_integer()) {
            return Invalid(at + " tensor-spec `shape` holds a non-integer");
          }
          parsed.shape.push_back(dim.get<int64_t>());
        }
      }
      if (!tensor->has_value()) {
        *tensor = std::move(parsed);
      }
      continue;
    }
    std::optional<DataType> data_type = ParseDataType(type);
    if (!data_type) {
      return Invalid(at + " has unsupported column type `" + type + "`");
    }
    ColumnSpec column;
    column.name = std::move(name);
    column.type = *data_type;
    if (spec.contains("required") && spec["required"].is_boolean()) {
      column.required = spec["required"].get<bool>();
    }
    columns->push_back(std::move(column));
  }
  return Status::Ok();
}

Result<MlModelFile> ParseYaml(std::string_view yaml_text) {
  YAML::Node root = YAML::Load(std::string(yaml_text));
  if (!root.IsMap()) {
    return Invalid("not a YAML mapping");
  }
  MlModelFile file;
  YAML::Node flavors = root["flavors"];
  if (!flavors || !flavors.IsMap()) {
    return Invalid("no `flavors` mapping");
  }
  for (const auto& flavor : flavors) {
    const std::string name = flavor.first.as<std::string>();
    std::map<std::string, std::string>& fields = file.flavors[name];
    if (!flavor.second.IsMap()) {
      continue;
    }
    for (const auto& field : flavor.second) {
      if (field.second.IsScalar()) {
        fields[field.first.as<std::string>()] = field.second.as<std::string>();
      }
    }
  }
  file.mlflow_version = ScalarOr(root, "mlflow_version");
  file.model_uuid = ScalarOr(root, "model_uuid");
  YAML::Node signature = root["signature"];
  if (signature && signature.IsMap()) {
    PLINTH_ASSIGN_OR_RETURN(file.signature, ParseSignature(ScalarOr(signature, "inputs"),
                                                           ScalarOr(signature, "outputs")));
  } else if (signature && !signature.IsNull()) {
    return Invalid("`signature` is not a mapping");
  }
  return file;
}

}  // namespace

std::string MlModelFile::FlavorField(std::string_view flavor, std::string_view field) const {
  auto it = flavors.find(std::string(flavor));
  if (it == flavors.end()) {
    return "";
  }
  auto f = it->second.find(std::string(field));
  return f == it->second.end() ? "" : f->second;
}

std::optional<DataType> ParseDataType(std::string_view name) {
  for (DataType type :
       {DataType::kBoolean, DataType::kInteger, DataType::kLong, DataType::kFloat,
        DataType::kDouble, DataType::kString, DataType::kBinary, DataType::kDatetime}) {
    if (DataTypeName(type) == name) {
      return type;
    }
  }
  return std::nullopt;
}

Result<Signature> ParseSignature(std::string_view inputs_json, std::string_view outputs_json) {
  try {
    Signature signature;
    PLINTH_RETURN_IF_ERROR(
        ParseSpecs(inputs_json, "inputs", &signature.inputs, &signature.input_tensor));
    PLINTH_RETURN_IF_ERROR(
        ParseSpecs(outputs_json, "outputs", &signature.outputs, &signature.output_tensor));
    return signature;
  } catch (const std::exception& e) {
    return Invalid(std::string("signature: ") + e.what());
  }
}

Result<MlModelFile> ParseMlModel(std::string_view yaml_text) {
  try {
    return ParseYaml(yaml_text);
  } catch (const YAML::Exception& e) {
    return Invalid(e.what());
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

}  // namespace plinth::serving
