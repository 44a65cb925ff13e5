// Status: the outcome of an operation that can fail in an expected way.
//
// A Status is either OK or carries one canonical StatusCode and a message for the user. The
// codes form one closed set shared by every module; `HttpStatusOf` and `MlflowErrorCodeOf`
// (status.cc) are the single table that maps them to an HTTP status and an MLflow `error_code`.
// An OK Status allocates nothing. Status is a value type and thread-compatible.
#ifndef PLINTH_CORE_STATUS_H_
#define PLINTH_CORE_STATUS_H_

#include <memory>
#include <string>
#include <string_view>

namespace plinth {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,       // bad field value: 400 INVALID_PARAMETER_VALUE
  kBadRequest,            // malformed request (JSON, content type): 400 BAD_REQUEST
  kNotFound,              // entity missing: 404 RESOURCE_DOES_NOT_EXIST
  kEndpointNotFound,      // no such route: 404 ENDPOINT_NOT_FOUND
  kAlreadyExists,         // duplicate name: 400 RESOURCE_ALREADY_EXISTS (MLflow's choice)
  kConflict,              // concurrent modification: 409 RESOURCE_CONFLICT
  kFailedPrecondition,    // entity in the wrong state: 400 INVALID_STATE (never 5xx: clients retry)
  kPermissionDenied,      // 403 PERMISSION_DENIED
  kUnauthenticated,       // 401 UNAUTHENTICATED
  kPayloadTooLarge,       // body over the limit: 413 INVALID_PARAMETER_VALUE
  kUnsupportedMediaType,  // 415 BAD_REQUEST
  kMethodNotAllowed,      // 405 BAD_REQUEST
  kUnimplemented,         // 501 NOT_IMPLEMENTED
  kUnavailable,           // shutting down or overloaded: 503 TEMPORARILY_UNAVAILABLE
  kDeadlineExceeded,      // 504 DEADLINE_EXCEEDED
  kDataLoss,              // 500 DATA_LOSS
  kInternal,              // bug or I/O failure: 500 INTERNAL_ERROR
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "NOT_FOUND: message" for logs and tests.
  std::string ToString() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline Status InvalidArgument(std::string_view m) { return {StatusCode::kInvalidArgument, m}; }
inline Status BadRequest(std::string_view m) { return {StatusCode::kBadRequest, m}; }
inline Status NotFound(std::string_view m) { return {StatusCode::kNotFound, m}; }
inline Status AlreadyExists(std::string_view m) { return {StatusCode::kAlreadyExists, m}; }
inline Status FailedPrecondition(std::string_view m) {
  return {StatusCode::kFailedPrecondition, m};
}
inline Status Unavailable(std::string_view m) { return {StatusCode::kUnavailable, m}; }
inline Status Internal(std::string_view m) { return {StatusCode::kInternal, m}; }
inline Status Unimplemented(std::string_view m) { return {StatusCode::kUnimplemented, m}; }

// The one code table.
int HttpStatusOf(StatusCode code);
std::string_view MlflowErrorCodeOf(StatusCode code);
std::string_view StatusCodeName(StatusCode code);

}  // namespace plinth

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define PLINTH_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::plinth::Status plinth_status_ = (expr); \
    if (!plinth_status_.ok()) {               \
      return plinth_status_;                  \
    }                                         \
  } while (0)

#endif  // PLINTH_CORE_STATUS_H_
