// Request bodies → a FeatureMatrix in the model's feature order, and Predictions → response
// bodies, for MLflow's scoring protocol (`POST /invocations`: dataframe_split,
// dataframe_records, instances, inputs, CSV) and the Open Inference Protocol v2 (`infer`).
//
// The model signature is enforced as MLflow's pyfunc does: inputs are matched by column name
// (extra columns are ignored, missing required ones are an error), values must convert safely to
// the column's type, and every error names the column (or row) at fault. Missing values (JSON
// null, empty CSV cells) become NaN, which the tree runtimes route down the default branch.
//
// Thread-safety: InputLayout is immutable after construction and shared by all requests.
#ifndef PLINTH_SERVING_SERVER_REQUEST_PARSER_H_
#define PLINTH_SERVING_SERVER_REQUEST_PARSER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "serving/model.h"

namespace plinth::serving {

// How a model's inputs are laid out: names, types and order of its features.
class InputLayout {
 public:
  explicit InputLayout(const ModelInfo& info);

  size_t width() const { return types_.size(); }
  bool named() const { return !names_.empty(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::vector<DataType>& types() const { return types_; }
  bool required(size_t i) const { return required_[i]; }
  // The feature position of `name`, or -1.
  int Find(std::string_view name) const;
  // "f0, f1, …" (at most 10 names), for messages.
  std::string DescribeNames() const;

 private:
  std::vector<std::string> names_;
  std::vector<DataType> types_;
  std::vector<bool> required_;
  std::unordered_map<std::string_view, int> index_;  // views into names_
};

struct ParsedInput {
  std::vector<float> values;  // rows × layout.width(), row-major, NaN = missing
  size_t rows = 0;
  PredictParams params;
  std::string oip_id;  // OIP request "id", echoed in the response
};

// Parses an MLflow `/invocations` body. `content_type` is the raw header value.
// Failure: kBadRequest (malformed JSON/CSV, no or several input fields), kInvalidArgument
// (schema: missing column, wrong type, wrong row width), kUnimplemented for an unsupported media
// type (answered 415 by the caller).
Status ParseInvocation(std::string_view content_type, std::string& body, const InputLayout& layout,
                       ParsedInput* out);

// Parses an OIP v2 infer request body. Inputs are either one tensor of shape [rows, width] or
// one input per feature (named as the feature) of shape [rows] or [rows, 1].
Status ParseOipInfer(std::string& body, const InputLayout& layout, ParsedInput* out);

// {"predictions": [...]} as MLflow's scoring server writes it.
std::string WriteMlflowPredictions(const Predictions& predictions);

// The OIP v2 inference response.
std::string WriteOipResponse(const Predictions& predictions, std::string_view model_name,
                             std::string_view model_version, std::string_view id);

// MLflow's names for the supported JSON input fields, for messages.
inline constexpr std::string_view kRequiredInputFormat =
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

}  // namespace plinth::serving

#endif  // PLINTH_SERVING_SERVER_REQUEST_PARSER_H_
