// RequestMessage: one view over an MLflow request's fields, whether they came as a JSON body
// (POST/PATCH/DELETE) or as query parameters (GET), with MLflow's parsing rules: ints accepted
// as numbers or strings, bools as true/false in any case, repeated fields as JSON arrays or
// repeated query keys, unknown fields ignored. Errors name the field. Not thread-safe; one per
// request.
#ifndef PLINTH_API_REQUEST_MESSAGE_H_
#define PLINTH_API_REQUEST_MESSAGE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "http/http_server.h"

namespace plinth::api {

class RequestMessage {
 public:
  // Parses the request. Failure: kBadRequest for malformed JSON, kInvalidArgument for a body
  // sent without Content-Type application/json.
  static Result<RequestMessage> Parse(const http::Request& request);

  Result<std::optional<std::string>> String(std::string_view field) const;
  // Failure: kInvalidArgument "Missing value for required parameter '<field>'".
  Result<std::string> RequiredString(std::string_view field) const;
  Result<std::optional<int64_t>> Int64(std::string_view field) const;
  Result<std::optional<double>> Double(std::string_view field) const;
  Result<std::optional<bool>> Bool(std::string_view field) const;
  Result<std::vector<std::string>> StringList(std::string_view field) const;
  // The JSON array `field` (JSON bodies only), or nullptr when absent.
  Result<const JsonValue*> Array(std::string_view field) const;
  // The JSON object `field` (JSON bodies only), or nullptr when absent.
  const JsonValue* Object(std::string_view field) const;
  bool Has(std::string_view field) const;

 private:
  bool from_query_ = false;
  std::vector<std::pair<std::string, std::string>> query_;
  std::unique_ptr<JsonDocument> doc_;
};

Status MissingParameter(std::string_view field);

}  // namespace plinth::api

#endif  // PLINTH_API_REQUEST_MESSAGE_H_
