#include "api/request_message.h"

namespace plinth::api {

Status MissingParameter(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) +
                         "'. See the API docs for more information about request parameters.");
}

Result<RequestMessage> RequestMessage::Parse(const http::Request& request) {
  RequestMessage m;
  bool has_body = request.body.find_first_not_of(" \t\r\n") != std::string::npos;
  if (request.method == http::Method::kGet || (!has_body && !request.query.empty())) {
    m.from_query_ = true;
    m.query_ = request.AllQueryParams();
    return m;
  }
  if (has_body) {
    auto content_type = request.Header("content-type");
    if (!content_type) {
      return InvalidArgument("Bad Request. Content-Type header is missing.");
    }
    std::string_view ct = *content_type;
    if (ct.substr(0, ct.find(';')).find("application/json") == std::string_view::npos) {
      return InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].");
    }
  }
  m.doc_ = std::make_unique<JsonDocument>();
  PLINTH_RETURN_IF_ERROR(ParseJson(request.body, m.doc_.get()));
  if (m.doc_->IsString()) {
    // Very old clients double-encode: a JSON string holding the JSON object.
    std::string inner(m.doc_->GetString(), m.doc_->GetStringLength());
    PLINTH_RETURN_IF_ERROR(ParseJson(inner, m.doc_.get()));
  }
  if (!m.doc_->IsObject()) {
    return BadRequest("Malformed JSON in request body: expected a JSON object");
  }
  return m;
}

bool RequestMessage::Has(std::string_view field) const {
  if (from_query_) {
    for (const auto& [k, v] : query_) {
      if (k == field) return true;
    }
    return false;
  }
  return JsonFind(*doc_, field) != nullptr;
}

Result<std::optional<std::string>> RequestMessage::String(std::string_view field) const {
  if (from_query_) {
    for (const auto& [k, v] : query_) {
      if (k == field) return std::optional<std::string>(v);
    }
    return std::optional<std::string>();
  }
  bool is_id = field.size() >= 3 && field.substr(field.size() - 3) == "_id";
  return JsonGetString(*doc_, field, is_id);
}

Result<std::string> RequestMessage::RequiredString(std::string_view field) const {
  PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> v, String(field));
  if (!v || v->empty()) {
    return MissingParameter(field);
  }
  return std::move(*v);
}

Result<std::optional<int64_t>> RequestMessage::Int64(std::string_view field) const {
  if (from_query_) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> v, String(field));
    if (!v) return std::optional<int64_t>();
    PLINTH_ASSIGN_OR_RETURN(int64_t parsed, ParseInt64(*v, field));
    return std::optional<int64_t>(parsed);
  }
  return JsonGetInt64(*doc_, field);
}

Result<std::optional<double>> RequestMessage::Double(std::string_view field) const {
  if (from_query_) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> v, String(field));
    if (!v) return std::optional<double>();
    PLINTH_ASSIGN_OR_RETURN(double parsed, ParseDouble(*v, field));
    return std::optional<double>(parsed);
  }
  return JsonGetDouble(*doc_, field);
}

Result<std::optional<bool>> RequestMessage::Bool(std::string_view field) const {
  if (from_query_) {
    PLINTH_ASSIGN_OR_RETURN(std::optional<std::string> v, String(field));
    if (!v) return std::optional<bool>();
    PLINTH_ASSIGN_OR_RETURN(bool parsed, ParseBool(*v, field));
    return std::optional<bool>(parsed);
  }
  return JsonGetBool(*doc_, field);
}

Result<std::vector<std::string>> RequestMessage::StringList(std::string_view field) const {
  std::vector<std::string> out;
  if (from_query_) {
    for (const auto& [k, v] : query_) {
      if (k == field) out.push_back(v);
    }
    return out;
  }
  const JsonValue* v = JsonFind(*doc_, field);
  if (v == nullptr) return out;
  if (!v->IsArray()) {
    // A single value where a list is expected: accept it as a one-element list.
    if (v->IsString()) {
      out.emplace_back(v->GetString(), v->GetStringLength());
      return out;
    }
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "': expected a list of strings");
  }
  for (const JsonValue& item : v->GetArray()) {
    if (item.IsString()) {
      out.emplace_back(item.GetString(), item.GetStringLength());
    } else if (item.IsInt64()) {
      out.push_back(std::to_string(item.GetInt64()));
    } else {
      return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                             "': expected a list of strings");
    }
  }
  return out;
}

Result<const JsonValue*> RequestMessage::Array(std::string_view field) const {
  if (from_query_) return static_cast<const JsonValue*>(nullptr);
  const JsonValue* v = JsonFind(*doc_, field);
  if (v == nullptr) return static_cast<const JsonValue*>(nullptr);
  if (!v->IsArray()) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "': expected a list");
  }
  return v;
}

const JsonValue* RequestMessage::Object(std::string_view field) const {
  if (from_query_) return nullptr;
  const JsonValue* v = JsonFind(*doc_, field);
  return (v != nullptr && v->IsObject()) ? v : nullptr;
}

}  // namespace plinth::api
