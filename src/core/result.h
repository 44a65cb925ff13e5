// Result<T>: either a value of T or a non-OK Status (never an OK Status without a value).
// Modelled on absl::StatusOr. Thread-compatible value type.
#ifndef PLINTH_CORE_RESULT_H_
#define PLINTH_CORE_RESULT_H_

#include <cstdlib>
#include <utility>
#include <variant>

#include "core/status.h"

namespace plinth {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design, like StatusOr
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      v_ = Status(StatusCode::kInternal, "Result constructed from an OK Status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Accessors require ok(); calling them on an error is a programming bug and aborts.
  T& value() & {
    CheckOk();
    return std::get<T>(v_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<T>(v_);
  }
  T&& value() && {
    CheckOk();
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!ok()) {
      std::abort();
    }
  }
  std::variant<T, Status> v_;
};

}  // namespace plinth

#define PLINTH_CONCAT_INNER_(a, b) a##b
#define PLINTH_CONCAT_(a, b) PLINTH_CONCAT_INNER_(a, b)

// `PLINTH_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define PLINTH_ASSIGN_OR_RETURN(lhs, expr) \
  PLINTH_ASSIGN_OR_RETURN_IMPL_(PLINTH_CONCAT_(plinth_result_, __LINE__), lhs, expr)
#define PLINTH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) {                                    \
    return tmp.status();                              \
  }                                                   \
  lhs = std::move(tmp).value()

#endif  // PLINTH_CORE_RESULT_H_
