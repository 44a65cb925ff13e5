// A servable model: an MLflow-style model directory (an `MLmodel` file plus its payload) loaded
// into a ModelRuntime. The server (serving_api) only sees this header: it turns request bodies
// into a FeatureMatrix laid out in the model's feature order, calls Model::Predict, and writes
// the Predictions. Runtimes (XGBoost C API, flattened trees; ONNX or LightGBM later) plug in
// behind ModelRuntime without the server changing.
//
// Thread-safety: a loaded Model is immutable; Predict may be called from many threads at once.
#ifndef PLINTH_SERVING_MODEL_H_
#define PLINTH_SERVING_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace plinth::serving {

// MLflow's ColSpec data types (mlflow.types.DataType) plus tensor dtypes.
enum class DataType { kBoolean, kInteger, kLong, kFloat, kDouble, kString, kBinary, kDatetime };
std::string_view DataTypeName(DataType type);  // MLflow's spelling: "double", "long", ...

struct ColumnSpec {
  std::string name;  // empty for unnamed columns
  DataType type = DataType::kDouble;
  bool required = true;
};

struct TensorSpec {
  std::string name;            // may be empty
  std::string dtype;           // numpy spelling: "float32", "float64", "int64", ...
  std::vector<int64_t> shape;  // -1 = any size
};

// The `signature:` of an MLmodel file. Either column-based or tensor-based, or absent.
struct Signature {
  std::vector<ColumnSpec> inputs;          // column-based inputs, in order
  std::optional<TensorSpec> input_tensor;  // tensor-based input (first tensor only)
  std::vector<ColumnSpec> outputs;         // column-based outputs
  std::optional<TensorSpec> output_tensor;
  bool present() const { return !inputs.empty() || input_tensor.has_value(); }
};

// Dense row-major float32 features; NaN marks a missing value (XGBoost's convention).
struct FeatureMatrix {
  const float* data = nullptr;
  size_t rows = 0;
  size_t cols = 0;
};

// What the caller wants back, from MLflow scoring `params` (e.g. {"output_margin": true}).
struct PredictParams {
  bool output_margin = false;  // untransformed margins (XGBoost's output_margin=True)
  bool probabilities = false;  // class probabilities even for a sklearn classifier
                               // (predict_proba); ignored for regressors
};

// Row-major predictions: rows × width values. `integer` when they are class labels.
struct Predictions {
  size_t rows = 0;
  size_t width = 1;  // 1 for a scalar per row; num_class for probabilities
  bool integer = false;
  bool squeeze = true;  // width 1 is written as a flat list (not [[v], [v]])
  std::vector<double> values;
};

// A prediction engine for one model file. Implementations must be thread-safe for Predict.
class ModelRuntime {
 public:
  virtual ~ModelRuntime() = default;
  // "flat-trees", "xgboost" (the XGBoost C API), ...
  virtual std::string_view name() const = 0;
  virtual size_t num_features() const = 0;
  // Raw model output for every row (transformed by the objective unless params.output_margin).
  virtual Status Predict(const FeatureMatrix& x, const PredictParams& params,
                         Predictions* out) const = 0;
};

struct LoadOptions {
  // "auto" (flattened trees when they apply, else the XGBoost C API), "flat-trees", "xgboost".
  std::string runtime = "auto";
};

struct ModelInfo {
  std::string flavor;       // "xgboost"
  std::string model_class;  // e.g. "xgboost.sklearn.XGBClassifier", "xgboost.core.Booster"
  std::string model_file;   // payload path relative to the model directory
  std::string runtime;      // the runtime chosen (ModelRuntime::name())
  std::string objective;    // e.g. "binary:logistic"
  std::vector<std::string> feature_names;  // from the model file (may be empty)
  size_t num_features = 0;
  Signature signature;
  std::string mlflow_version;  // from MLmodel, may be empty
  std::string model_uuid;      // from MLmodel, may be empty
  size_t num_outputs = 1;      // output groups of the raw model (classes of a softprob model)
  size_t num_classes = 0;      // a sklearn classifier's classes (2 when binary), else 0
  std::string runtime_note;    // why "auto" did not pick flat-trees; empty when it did
};

class Model {
 public:
  Model(ModelInfo info, std::unique_ptr<ModelRuntime> runtime);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const { return info_; }
  const ModelRuntime& runtime() const { return *runtime_; }

  // Predicts `x` (columns in the model's feature order) with the flavor's pyfunc semantics:
  // a sklearn XGBClassifier answers class labels (probabilities with params.probabilities), a
  // regressor or a Booster answers the objective's output. kInvalidArgument on a wrong width.
  Status Predict(const FeatureMatrix& x, const PredictParams& params, Predictions* out) const;

 private:
  ModelInfo info_;
  std::unique_ptr<ModelRuntime> runtime_;
};

// Loads the model directory `dir` (must contain an MLmodel file with a supported flavor).
// Errors: kNotFound (no MLmodel / payload), kInvalidArgument (unsupported flavor or a corrupt
// model file, with the reason).
Result<std::shared_ptr<const Model>> LoadModel(const std::filesystem::path& dir,
                                               const LoadOptions& options = {});

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_MODEL_H_
