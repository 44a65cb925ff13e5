#include "core/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace plinth {
namespace {

// MLflow's wording: Invalid value "abc" for parameter 'value' supplied: ...
// `got` is shown as Python would: strings in quotes, other values bare.
std::string FieldError(std::string_view field, std::string_view expected, std::string_view got,
                       bool got_string = true) {
  std::string shown = got_string ? "\"" + std::string(got) + "\"" : std::string(got);
  return "Invalid value " + shown + " for parameter '" + std::string(field) +
         "' supplied: expected " + std::string(expected) +
         ". See the API docs for more information about request parameters.";
}

std::string ValueText(const JsonValue& v) {
  if (v.IsString()) {
    return std::string(v.GetString(), v.GetStringLength());
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v.Accept(writer);
  std::string out(buf.GetString(), buf.GetSize());
  return out.size() > 64 ? out.substr(0, 64) + "..." : out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

// The deepest nesting of arrays and objects in `text`, outside strings. Requests nest a few
// levels; a hostile body of a million '[' must be refused before anything recurses over it.
size_t NestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Status ParseJson(std::string_view text, JsonDocument* doc) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc->SetObject();  // MLflow treats an empty body as {}
    return Status::Ok();
  }
  if (NestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return BadRequest("Malformed JSON in request body: nested deeper than " +
                      std::to_string(kMaxJsonDepth) + " levels");
  }
  // Iterative parsing: no recursion on the stack whatever the input.
  doc->Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                  text.size());
  if (doc->HasParseError()) {
    return BadRequest("Malformed JSON in request body at offset " +
                      std::to_string(doc->GetErrorOffset()) + ": " +
                      rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::Ok();
}

const JsonValue* JsonFind(const JsonValue& obj, std::string_view field) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(field.data(), field.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    return nullptr;
  }
  return &it->value;
}

Result<std::optional<std::string>> JsonGetString(const JsonValue& obj, std::string_view field,
                                                 bool allow_number) {
  const JsonValue* v = JsonFind(obj, field);
  if (v == nullptr) {
    return std::optional<std::string>();
  }
  if (v->IsString()) {
    return std::optional<std::string>(std::string(v->GetString(), v->GetStringLength()));
  }
  // Old clients send ids as numbers; MLflow's parser stringifies them.
  if (allow_number && v->IsInt64()) {
    return std::optional<std::string>(std::to_string(v->GetInt64()));
  }
  return InvalidArgument(FieldError(field, "a string", ValueText(*v), v->IsString()));
}

Result<std::optional<int64_t>> JsonGetInt64(const JsonValue& obj, std::string_view field) {
  const JsonValue* v = JsonFind(obj, field);
  if (v == nullptr) {
    return std::optional<int64_t>();
  }
  if (v->IsInt64()) {
    return std::optional<int64_t>(v->GetInt64());
  }
  if (v->IsDouble()) {
    double d = v->GetDouble();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  if (v->IsString()) {
    PLINTH_ASSIGN_OR_RETURN(
        int64_t parsed, ParseInt64(std::string_view(v->GetString(), v->GetStringLength()), field));
    return std::optional<int64_t>(parsed);
  }
  return InvalidArgument(FieldError(field, "an integer", ValueText(*v), v->IsString()));
}

Result<std::optional<double>> JsonGetDouble(const JsonValue& obj, std::string_view field) {
  const JsonValue* v = JsonFind(obj, field);
  if (v == nullptr) {
    return std::optional<double>();
  }
  if (v->IsNumber()) {
    return std::optional<double>(v->GetDouble());
  }
  if (v->IsString()) {
    PLINTH_ASSIGN_OR_RETURN(
        double parsed, ParseDouble(std::string_view(v->GetString(), v->GetStringLength()), field));
    return std::optional<double>(parsed);
  }
  return InvalidArgument(FieldError(field, "a number", ValueText(*v), v->IsString()));
}

Result<std::optional<bool>> JsonGetBool(const JsonValue& obj, std::string_view field) {
  const JsonValue* v = JsonFind(obj, field);
  if (v == nullptr) {
    return std::optional<bool>();
  }
  if (v->IsBool()) {
    return std::optional<bool>(v->GetBool());
  }
  if (v->IsString()) {
    PLINTH_ASSIGN_OR_RETURN(
        bool parsed, ParseBool(std::string_view(v->GetString(), v->GetStringLength()), field));
    return std::optional<bool>(parsed);
  }
  return InvalidArgument(FieldError(field, "a boolean", ValueText(*v), v->IsString()));
}

Result<int64_t> ParseInt64(std::string_view text, std::string_view field) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return InvalidArgument(FieldError(field, "an integer", text));
  }
  return out;
}

Result<double> ParseDouble(std::string_view text, std::string_view field) {
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  bool negative = !t.empty() && t.front() == '-';
  std::string_view body = (negative || (!t.empty() && t.front() == '+')) ? t.substr(1) : t;
  if (EqualsIgnoreCase(body, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  double out = 0;
  std::string_view digits = (!t.empty() && t.front() == '+') ? t.substr(1) : t;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
    return InvalidArgument(FieldError(field, "a number", text));
  }
  return out;
}

Result<bool> ParseBool(std::string_view text, std::string_view field) {
  if (EqualsIgnoreCase(text, "true") || text == "1") {
    return true;
  }
  if (EqualsIgnoreCase(text, "false") || text == "0") {
    return false;
  }
  return InvalidArgument(FieldError(field, "a boolean", text));
}

void JsonWriter::Double(double v) {
  if (std::isnan(v)) {
    String("NaN");
  } else if (std::isinf(v)) {
    String(v > 0 ? "Infinity" : "-Infinity");
  } else {
    writer_.Double(v);
  }
}

}  // namespace plinth
