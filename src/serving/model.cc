#include "serving/model.h"

#include <utility>

namespace plinth::serving {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBoolean:
      return "boolean";
    case DataType::kInteger:
      return "integer";
    case DataType::kLong:
      return "long";
    case DataType::kFloat:
      return "float";
    case DataType::kDouble:
      return "double";
    case DataType::kString:
      return "string";
    case DataType::kBinary:
      return "binary";
    case DataType::kDatetime:
      return "datetime";
  }
  return "unknown";
}

Model::Model(ModelInfo info, std::unique_ptr<ModelRuntime> runtime)
    : info_(std::move(info)), runtime_(std::move(runtime)) {}

// Placeholder until the loader lands (issue 4): answers the runtime's raw output.
Status Model::Predict(const FeatureMatrix& x, const PredictParams& params, Predictions* out) const {
  if (x.cols != runtime_->num_features()) {
    return Status(StatusCode::kInvalidArgument, "expected " +
                                                    std::to_string(runtime_->num_features()) +
                                                    " features, got " + std::to_string(x.cols));
  }
  return runtime_->Predict(x, params, out);
}

Result<std::shared_ptr<const Model>> LoadModel(const std::filesystem::path& dir,
                                               const LoadOptions& options) {
  return Status(StatusCode::kUnimplemented, "model loading is not built yet");
}

}  // namespace plinth::serving
