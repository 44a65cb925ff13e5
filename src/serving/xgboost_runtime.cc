#include "serving/xgboost_runtime.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace plinth::serving {
namespace {

// XGBoost's message without the stack trace it appends (noise in a user-facing error).
Status XgboostError(std::string_view what) {
  const char* last_error = XGBGetLastError();
  std::string message = last_error != nullptr ? last_error : "unknown error";
  if (size_t trace = message.find("\nStack trace:"); trace != std::string::npos) {
    message.resize(trace);
  }
  return InvalidArgument("XGBoost " + std::string(what) + ": " + message);
}

// XGBoost's __array_interface__ for a dense row-major float32 matrix (the pointer is passed
// as an integer, as numpy does).
std::string DenseArrayInterface(const float* data, size_t rows, size_t cols) {
  return "{\"data\":[" + std::to_string(reinterpret_cast<uintptr_t>(data)) + ",true],\"shape\":[" +
         std::to_string(rows) + "," + std::to_string(cols) + "],\"typestr\":\"<f4\",\"version\":3}";
}

// type 0 = transformed value, 1 = margin (1.7's PredictionType); every tree is used (the file
// holds only the trees to predict with); NaN marks a missing value.
constexpr const char* kValueConfig =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false,\"cache_id\":0,\"missing\":NaN}";
constexpr const char* kMarginConfig =
    "{\"type\":1,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false,\"cache_id\":0,\"missing\":NaN}";

// The same for XGBoosterPredictFromDMatrix (gblinear), and the DMatrix built for it.
constexpr const char* kDMatrixValueConfig =
    "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false}";
constexpr const char* kDMatrixMarginConfig =
    "{\"type\":1,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
    "\"strict_shape\":false}";
constexpr const char* kDMatrixConfig = "{\"missing\":NaN,\"nthread\":1}";

struct DMatrixDeleter {
  void operator()(void* matrix) const { XGDMatrixFree(matrix); }
};

// Copies XGBoost's output (a buffer it owns, valid until this thread's next call) into `out`.
Status CopyPrediction(const bst_ulong* shape, bst_ulong dims, const float* result, size_t rows,
                      Predictions* out) {
  size_t total = 1;
  for (bst_ulong d = 0; d < dims; ++d) {
    total *= static_cast<size_t>(shape[d]);
  }
  if (dims == 0 || total % rows != 0) {
    return Internal("XGBoost returned an unexpected prediction shape");
  }
  out->width = total / rows;
  out->squeeze = out->width == 1;
  out->values.assign(result, result + total);
  return Status::Ok();
}

}  // namespace

void XgboostRuntime::BoosterDeleter::operator()(void* booster) const { XGBoosterFree(booster); }

Result<std::unique_ptr<XgboostRuntime>> XgboostRuntime::Load(std::string_view model_json,
                                                             size_t num_features,
                                                             std::string_view booster_name) {
  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(nullptr, 0, &handle) != 0) {
    return XgboostError("could not create a booster");
  }
  BoosterPtr booster(handle);
  if (XGBoosterLoadModelFromBuffer(handle, model_json.data(), model_json.size()) != 0) {
    return XgboostError("could not load the model");
  }
  // One OpenMP thread per call: single rows and small batches gain nothing from a thread team,
  // and the server already predicts requests on several threads.
  if (XGBoosterSetParam(handle, "nthread", "1") != 0) {
    return XgboostError("could not set nthread");
  }
  std::unique_ptr<XgboostRuntime> runtime(
      new XgboostRuntime(std::move(booster), num_features, booster_name != "gblinear"));
  // Warm-up: the first prediction configures the learner (a lazy, locked mutation); doing it
  // here leaves later predictions read-only. It also proves the model answers.
  std::vector<float> row(num_features, std::nanf(""));
  Predictions warmup;
  PLINTH_RETURN_IF_ERROR(runtime->Predict({row.data(), 1, num_features}, {}, &warmup));
  return runtime;
}

Status XgboostRuntime::Predict(const FeatureMatrix& x, const PredictParams& params,
                               Predictions* out) const {
  if (x.cols != num_features_) {
    return InvalidArgument("expected " + std::to_string(num_features_) + " features, got " +
                           std::to_string(x.cols));
  }
  out->rows = x.rows;
  out->integer = false;
  if (x.rows == 0) {
    out->width = 1;
    out->squeeze = true;
    out->values.clear();
    return Status::Ok();
  }
  if (x.data == nullptr) {
    return InvalidArgument("no feature data");
  }
  const std::string array = DenseArrayInterface(x.data, x.rows, x.cols);
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  if (inplace_) {
    if (XGBoosterPredictFromDense(booster_.get(), array.c_str(),
                                  params.output_margin ? kMarginConfig : kValueConfig, nullptr,
                                  &shape, &dims, &result) != 0) {
      return XgboostError("prediction failed");
    }
    return CopyPrediction(shape, dims, result, x.rows, out);
  }
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromDense(array.c_str(), kDMatrixConfig, &handle) != 0) {
    return XgboostError("could not build the input matrix");
  }
  std::unique_ptr<void, DMatrixDeleter> matrix(handle);
  std::lock_guard<std::mutex> lock(dmatrix_mu_);
  if (XGBoosterPredictFromDMatrix(booster_.get(), handle,
                                  params.output_margin ? kDMatrixMarginConfig : kDMatrixValueConfig,
                                  &shape, &dims, &result) != 0) {
    return XgboostError("prediction failed");
  }
  return CopyPrediction(shape, dims, result, x.rows, out);
}

}  // namespace plinth::serving
