#include "serving/model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "serving/flat_trees.h"
#include "serving/mlmodel.h"
#include "serving/xgboost_model.h"
#include "serving/xgboost_runtime.h"

namespace plinth::serving {
namespace {

bool IsSklearnModel(const ModelInfo& info) {
  return info.model_class.starts_with("xgboost.sklearn.");
}

// XGBClassifier, XGBRFClassifier: the wrappers whose predict answers class labels.
bool IsSklearnClassifier(const ModelInfo& info) {
  return IsSklearnModel(info) && info.model_class.ends_with("Classifier");
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Internal("cannot open " + path.string());
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    return Internal("cannot read " + path.string());
  }
  return std::move(bytes).str();
}

// The payload named by the flavor must stay inside the model directory.
bool IsContainedRelativePath(const std::filesystem::path& path) {
  if (path.empty() || path.is_absolute() || path.has_root_name()) {
    return false;
  }
  for (const auto& part : path) {
    if (part == "..") {
      return false;
    }
  }
  return true;
}

Result<XgbFileFormat> PayloadFormat(const std::string& model_format,
                                    const std::filesystem::path& data) {
  std::string format = model_format;
  if (format.empty()) {
    format = data.extension().string();
    if (!format.empty()) {
      format.erase(0, 1);
    }
  }
  if (format == "json") {
    return XgbFileFormat::kJson;
  }
  if (format == "ubj") {
    return XgbFileFormat::kUbjson;
  }
  return InvalidArgument("xgboost model format `" + format + "` of " + data.string() +
                         " is not supported (save the model as `ubj` or `json`)");
}

// predict_proba of a multi:softmax classifier: scipy.special.softmax of the margins, which
// numpy computes in float32 for XGBoost's float32 margins.
void SoftmaxRowsFloat(Predictions* p) {
  for (size_t r = 0; r < p->rows; ++r) {
    double* row = p->values.data() + r * p->width;
    float max = static_cast<float>(row[0]);
    for (size_t k = 1; k < p->width; ++k) {
      max = std::max(max, static_cast<float>(row[k]));
    }
    float sum = 0.0f;
    for (size_t k = 0; k < p->width; ++k) {
      float e = std::exp(static_cast<float>(row[k]) - max);
      row[k] = e;
      sum += e;
    }
    for (size_t k = 0; k < p->width; ++k) {
      row[k] = static_cast<float>(row[k]) / sum;
    }
  }
}

}  // namespace

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

// mlflow's pyfunc wrapper of the xgboost flavor calls the model's own predict: a Booster answers
// its objective's output; an XGBClassifier turns probabilities into labels (sklearn.py predict /
// predict_proba), which is reproduced here on top of the runtime's output.
Status Model::Predict(const FeatureMatrix& x, const PredictParams& params, Predictions* out) const {
  if (x.cols != runtime_->num_features()) {
    return InvalidArgument("the model expects " + std::to_string(runtime_->num_features()) +
                           " features per row, got " + std::to_string(x.cols));
  }
  if (!IsSklearnClassifier(info_) || params.output_margin) {
    return runtime_->Predict(x, params, out);
  }
  const bool softmax_objective = info_.objective == "multi:softmax";
  if (params.probabilities && softmax_objective) {
    PLINTH_RETURN_IF_ERROR(runtime_->Predict(x, {.output_margin = true}, out));
    SoftmaxRowsFloat(out);
    out->squeeze = false;
    return Status::Ok();
  }
  PLINTH_RETURN_IF_ERROR(runtime_->Predict(x, {}, out));
  if (params.probabilities) {
    if (out->width == 1) {
      // Binary: [1 - p, p] per row, 1 - p in float32 as numpy computes it.
      std::vector<double> two(out->rows * 2);
      for (size_t r = 0; r < out->rows; ++r) {
        const auto p = static_cast<float>(out->values[r]);
        two[2 * r] = 1.0f - p;
        two[2 * r + 1] = p;
      }
      out->values = std::move(two);
      out->width = 2;
    }
    out->squeeze = false;
    return Status::Ok();
  }
  if (softmax_objective) {
    out->integer = true;  // already the class index
    return Status::Ok();
  }
  if (out->width > 1 && info_.num_classes != 2) {
    // Multi-class: the first most probable class, as numpy's argmax.
    std::vector<double> labels(out->rows);
    for (size_t r = 0; r < out->rows; ++r) {
      const double* row = out->values.data() + r * out->width;
      labels[r] = static_cast<double>(std::max_element(row, row + out->width) - row);
    }
    out->values = std::move(labels);
    out->width = 1;
    out->squeeze = true;
  } else {
    // Binary (and multi-label, column by column): probability above 0.5 is class 1.
    for (double& v : out->values) {
      v = v > 0.5 ? 1.0 : 0.0;
    }
  }
  out->integer = true;
  return Status::Ok();
}

Result<std::shared_ptr<const Model>> LoadModel(const std::filesystem::path& dir,
                                               const LoadOptions& options) {
  if (options.runtime != "auto" && options.runtime != "flat-trees" &&
      options.runtime != "xgboost") {
    return InvalidArgument("unknown model runtime `" + options.runtime +
                           "` (expected auto, flat-trees or xgboost)");
  }
  const std::filesystem::path mlmodel_path = dir / "MLmodel";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(mlmodel_path, ec)) {
    return NotFound("no MLmodel file in " + dir.string());
  }
  PLINTH_ASSIGN_OR_RETURN(std::string mlmodel_text, ReadWholeFile(mlmodel_path));
  Result<MlModelFile> parsed = ParseMlModel(mlmodel_text);
  if (!parsed.ok()) {
    return Status(parsed.status().code(), mlmodel_path.string() + ": " + parsed.status().message());
  }
  MlModelFile& mlmodel = *parsed;
  if (!mlmodel.has_flavor("xgboost")) {
    std::string flavors;
    for (const auto& [name, fields] : mlmodel.flavors) {
      flavors += (flavors.empty() ? "" : ", ") + name;
    }
    return InvalidArgument("unsupported model flavor (" + flavors + ") in " +
                           mlmodel_path.string() + ": plinth serves the xgboost flavor");
  }
  const std::filesystem::path data = mlmodel.FlavorField("xgboost", "data");
  if (!IsContainedRelativePath(data)) {
    return InvalidArgument(mlmodel_path.string() +
                           ": the xgboost flavor's `data` must name a file inside the model "
                           "directory, got `" +
                           data.string() + "`");
  }
  const std::filesystem::path payload = dir / data;
  if (!std::filesystem::is_regular_file(payload, ec)) {
    return NotFound("model file " + payload.string() + " (named by MLmodel) is missing");
  }
  PLINTH_ASSIGN_OR_RETURN(XgbFileFormat format,
                          PayloadFormat(mlmodel.FlavorField("xgboost", "model_format"), data));
  PLINTH_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(payload));
  Result<XgbModel> xgb = ParseXgboostModel(bytes, format);
  if (!xgb.ok()) {
    return Status(xgb.status().code(), payload.string() + ": " + xgb.status().message());
  }

  ModelInfo info;
  info.flavor = "xgboost";
  info.model_class = mlmodel.FlavorField("xgboost", "model_class");
  if (info.model_class.empty()) {
    info.model_class = "xgboost.core.Booster";  // MLmodel files before mlflow 1.22
  }
  info.model_file = data.string();
  info.objective = xgb->objective;
  info.num_features = static_cast<size_t>(xgb->num_feature);
  info.num_outputs = xgb->num_groups();
  info.signature = std::move(mlmodel.signature);
  info.mlflow_version = std::move(mlmodel.mlflow_version);
  info.model_uuid = std::move(mlmodel.model_uuid);
  if (IsSklearnClassifier(info)) {
    info.num_classes = xgb->num_class >= 2 ? static_cast<size_t>(xgb->num_class) : 2;
  }
  if (!xgb->feature_names.empty()) {
    info.feature_names = xgb->feature_names;
  } else if (info.signature.inputs.size() == info.num_features &&
             std::none_of(info.signature.inputs.begin(), info.signature.inputs.end(),
                          [](const ColumnSpec& c) { return c.name.empty(); })) {
    for (const ColumnSpec& column : info.signature.inputs) {
      info.feature_names.push_back(column.name);
    }
  }

  // The sklearn wrappers predict with the best round of early stopping; a Booster uses every
  // tree (xgboost's sklearn.py _get_iteration_range).
  int32_t iteration_end = 0;
  if (IsSklearnModel(info) && xgb->best_iteration) {
    iteration_end = *xgb->best_iteration + 1;
  }
  const size_t tree_end = xgb->TreeEnd(iteration_end);

  std::unique_ptr<ModelRuntime> runtime;
  Status flat_applies = CheckFlatTreesApply(*xgb);
  if (options.runtime == "flat-trees" || (options.runtime == "auto" && flat_applies.ok())) {
    PLINTH_ASSIGN_OR_RETURN(runtime, FlatTreesRuntime::Compile(*xgb, tree_end));
  } else {
    if (options.runtime == "auto") {
      info.runtime_note = flat_applies.message();
    }
    PLINTH_ASSIGN_OR_RETURN(std::string legacy_json,
                            LegacyXgboostJson(bytes, format, *xgb, tree_end));
    PLINTH_ASSIGN_OR_RETURN(runtime,
                            XgboostRuntime::Load(legacy_json, info.num_features, xgb->booster));
  }
  info.runtime = std::string(runtime->name());
  return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(info), std::move(runtime)));
}

}  // namespace plinth::serving
