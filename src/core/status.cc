#include "core/status.h"

namespace plinth {
namespace {

struct CodeInfo {
  StatusCode code;
  std::string_view name;
  int http_status;
  std::string_view mlflow_error_code;
};

// The single mapping from our canonical codes to HTTP and MLflow. MLflow maps INVALID_STATE to
// 500, but its client retries every 5xx for minutes, so a wrong-state request answers 400 with
// the same error_code: the client raises the same MlflowException, at once.
constexpr CodeInfo kCodeTable[] = {
    {StatusCode::kOk, "OK", 200, "OK"},
    {StatusCode::kInvalidArgument, "INVALID_ARGUMENT", 400, "INVALID_PARAMETER_VALUE"},
    {StatusCode::kBadRequest, "BAD_REQUEST", 400, "BAD_REQUEST"},
    {StatusCode::kNotFound, "NOT_FOUND", 404, "RESOURCE_DOES_NOT_EXIST"},
    {StatusCode::kEndpointNotFound, "ENDPOINT_NOT_FOUND", 404, "ENDPOINT_NOT_FOUND"},
    {StatusCode::kAlreadyExists, "ALREADY_EXISTS", 400, "RESOURCE_ALREADY_EXISTS"},
    {StatusCode::kConflict, "CONFLICT", 409, "RESOURCE_CONFLICT"},
    {StatusCode::kFailedPrecondition, "FAILED_PRECONDITION", 400, "INVALID_STATE"},
    {StatusCode::kPermissionDenied, "PERMISSION_DENIED", 403, "PERMISSION_DENIED"},
    {StatusCode::kUnauthenticated, "UNAUTHENTICATED", 401, "UNAUTHENTICATED"},
    {StatusCode::kPayloadTooLarge, "PAYLOAD_TOO_LARGE", 413, "INVALID_PARAMETER_VALUE"},
    {StatusCode::kUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415, "BAD_REQUEST"},
    {StatusCode::kMethodNotAllowed, "METHOD_NOT_ALLOWED", 405, "BAD_REQUEST"},
    {StatusCode::kUnimplemented, "UNIMPLEMENTED", 501, "NOT_IMPLEMENTED"},
    {StatusCode::kUnavailable, "UNAVAILABLE", 503, "TEMPORARILY_UNAVAILABLE"},
    {StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", 504, "DEADLINE_EXCEEDED"},
    {StatusCode::kDataLoss, "DATA_LOSS", 500, "DATA_LOSS"},
    {StatusCode::kInternal, "INTERNAL", 500, "INTERNAL_ERROR"},
};

const CodeInfo& InfoOf(StatusCode code) {
  for (const CodeInfo& info : kCodeTable) {
    if (info.code == code) {
      return info;
    }
  }
  return kCodeTable[sizeof(kCodeTable) / sizeof(kCodeTable[0]) - 1];
}

const std::string kEmpty;

}  // namespace

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_unique<Rep>(Rep{code, std::string(message)});
  }
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  }
  return *this;
}

const std::string& Status::message() const { return rep_ ? rep_->message : kEmpty; }

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  return std::string(StatusCodeName(rep_->code)) + ": " + rep_->message;
}

int HttpStatusOf(StatusCode code) { return InfoOf(code).http_status; }
std::string_view MlflowErrorCodeOf(StatusCode code) { return InfoOf(code).mlflow_error_code; }
std::string_view StatusCodeName(StatusCode code) { return InfoOf(code).name; }

}  // namespace plinth
