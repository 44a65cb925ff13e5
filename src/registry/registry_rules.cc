#include "registry/registry_rules.h"

#include <charconv>

#include "registry/python_format.h"

namespace plinth::registry {
namespace {

constexpr const char* kStages[] = {"None", "Staging", "Production", "Archived"};

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
// Python's \w for UTF-8 text: any non-ASCII byte is taken as part of a letter.
bool IsWordChar(char c) {
  return IsAsciiAlnum(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// MLflow's invalid_value(): the value as json.dumps prints it.
Status InvalidValue(std::string_view field, const std::string& value, const std::string& why) {
  return InvalidArgument("Invalid value " + PythonJsonString(value) + " for parameter '" +
                         std::string(field) + "' supplied: " + why);
}

std::string BadPathMessage(const std::string& name) {
  return "Names may be treated as files in certain cases, and must not resolve to other names "
         "when treated as such. This name would resolve to " +
         PythonRepr(PosixNormpath(name));
}

// mlflow.utils.validation.path_not_unique.
bool PathNotUnique(const std::string& name) {
  const std::string norm = PosixNormpath(name);
  return norm != name || norm == "." || norm.rfind("..", 0) == 0 || norm.rfind('/', 0) == 0;
}

Status ExceedsLength(std::string_view field, size_t limit) {
  return InvalidArgument("'" + std::string(field) + "' exceeds the maximum length of " +
                         std::to_string(limit) + " characters");
}

}  // namespace

Status ValidateModelName(const std::string& name, std::string_view field) {
  bool blank = true;
  for (char c : name) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') blank = false;
  }
  if (blank) {
    return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'.");
  }
  if (name.find('/') != std::string::npos || name.find(':') != std::string::npos) {
    return InvalidArgument("Invalid model name '" + name + "'. Names cannot contain '/' or ':'.");
  }
  if (PathNotUnique(name)) return InvalidValue("name", name, BadPathMessage(name));
  return Status::Ok();
}

Result<int64_t> ParseVersion(std::string_view text) {
  auto bad = [&]() {
    return InvalidArgument("Parameter 'version' must be an integer, got '" + std::string(text) +
                           "'.");
  };
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return bad();
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return bad();
  return negative ? -v : v;
}

Status ValidateAlias(const std::string& alias, bool reserved) {
  if (alias.empty()) return InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    if (!IsWordChar(c) && c != '-') {
      return InvalidArgument("Invalid alias name: '" + alias +
                             "'. Names may only contain alphanumerics, underscores (_), and "
                             "dashes (-).");
    }
  }
  if (alias.size() > kMaxAliasLength) {
    return ExceedsLength("Registered model alias name", kMaxAliasLength);
  }
  if (!reserved) return Status::Ok();
  if (IsLatestAlias(alias)) {
    return InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (alias.size() > 1 && (alias[0] == 'v' || alias[0] == 'V')) {
    bool digits = true;
    for (size_t i = 1; i < alias.size(); ++i) digits = digits && alias[i] >= '0' && alias[i] <= '9';
    if (digits) return InvalidArgument("Version alias name '" + alias + "' is reserved.");
  }
  return Status::Ok();
}

bool IsLatestAlias(std::string_view alias) { return Lower(alias) == "latest"; }

Result<std::string> CanonicalStage(std::string_view stage) {
  const std::string key = Lower(stage);
  for (const char* canonical : kStages) {
    if (Lower(canonical) == key) return std::string(canonical);
  }
  return InvalidArgument("Invalid Model Version stage: " + std::string(stage) +
                         ". Value must be one of None, Staging, Production, Archived.");
}

bool IsActiveStage(std::string_view canonical_stage) {
  return canonical_stage == "Staging" || canonical_stage == "Production";
}

Status ValidateRegistryTagKey(const std::string& key) {
  for (char c : key) {
    if (!IsWordChar(c) && c != '/' && c != '.' && c != '-' && c != ' ' && c != ':') {
      return InvalidValue("key", key,
                          "Names may only contain alphanumerics, underscores (_), dashes (-), "
                          "periods (.), spaces ( ), colon(:) and slashes (/).");
    }
  }
  if (PathNotUnique(key)) return InvalidValue("key", key, BadPathMessage(key));
  if (key.size() > kMaxRegistryTagKeyLength) return ExceedsLength("key", kMaxRegistryTagKeyLength);
  return Status::Ok();
}

Status ValidateRegistryTag(const std::string& key, const std::string& value) {
  PLINTH_RETURN_IF_ERROR(ValidateRegistryTagKey(key));
  if (value.size() > kMaxRegistryTagValueLength) {
    return ExceedsLength("value", kMaxRegistryTagValueLength);
  }
  return Status::Ok();
}

}  // namespace plinth::registry
