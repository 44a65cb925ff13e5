#include "artifacts/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>

namespace plinth::artifacts {
namespace {

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The AWS shared files are INI with one twist: a key with an empty value opens a nested block of
// indented `key = value` lines (`s3 =\n  addressing_style = path`), stored here as "s3.key".
// In the config file, sections other than [default] are named [profile NAME].
IniFile ReadAwsIni(const std::string& path, bool config_file) {
  IniFile out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  std::string section;
  std::string nested;  // the open nested block's key, or ""
  bool in_section = false;
  while (std::getline(in, line)) {
    std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    bool indented = std::isspace(static_cast<unsigned char>(line.front()));
    if (t.front() == '[' && t.back() == ']') {
      std::string_view name = Trim(t.substr(1, t.size() - 2));
      if (config_file && name.rfind("profile ", 0) == 0) name = Trim(name.substr(8));
      section = std::string(name);
      in_section = true;
      nested.clear();
      continue;
    }
    if (!in_section) continue;
    size_t eq = t.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = Lower(Trim(t.substr(0, eq)));
    std::string value(Trim(t.substr(eq + 1)));
    if (indented && !nested.empty()) {
      out[section][nested + "." + key] = value;
      continue;
    }
    nested = value.empty() ? key : "";
    if (!value.empty()) out[section][key] = value;
  }
  return out;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::optional<std::string> Lookup(const IniFile& file, const std::string& section,
                                  const std::string& key) {
  auto s = file.find(section);
  if (s == file.end()) return std::nullopt;
  auto k = s->second.find(key);
  if (k == s->second.end() || k->second.empty()) return std::nullopt;
  return k->second;
}

Result<S3Addressing> ParseAddressing(std::string_view v, std::string_view where) {
  std::string s = Lower(v);
  if (s == "path") return S3Addressing::kPath;
  if (s == "virtual") return S3Addressing::kVirtual;
  if (s == "auto" || s.empty()) return S3Addressing::kAuto;
  return InvalidArgument("S3 addressing style '" + std::string(v) + "' from " + std::string(where) +
                         ": expected path, virtual or auto");
}

// Bucket names that can be a DNS label and match a TLS wildcard (no dots, no upper case).
bool VirtualHostable(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

}  // namespace

Result<S3Location> ParseS3Uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.rfind(kScheme, 0) != 0) {
    return InvalidArgument("'" + std::string(uri) + "' is not an s3://BUCKET/PREFIX URI");
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  if (loc.bucket.empty() || loc.bucket.size() > 255 ||
      loc.bucket.find_first_of(" ?#%\\") != std::string::npos) {
    return InvalidArgument("'" + std::string(uri) + "': invalid S3 bucket name");
  }
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  // Drop empty segments so "s3://b//x/" and "s3://b/x" name the same place.
  size_t i = 0;
  while (i <= prefix.size()) {
    size_t j = prefix.find('/', i);
    if (j == std::string_view::npos) j = prefix.size();
    std::string_view seg = prefix.substr(i, j - i);
    if (seg == "." || seg == "..") {
      return InvalidArgument("'" + std::string(uri) + "': '.' and '..' are not allowed");
    }
    if (!seg.empty()) {
      if (!loc.prefix.empty()) loc.prefix += '/';
      loc.prefix += seg;
    }
    i = j + 1;
  }
  return loc;
}

Status S3Options::Validate() const {
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 &&
      endpoint.rfind("https://", 0) != 0) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' must start with http:// or https://");
  }
  if (region.empty()) return InvalidArgument("S3 region must not be empty");
  if (part_size < (5ull << 20) || part_size > (5ull << 30)) {
    return InvalidArgument("S3 part size must be between 5 MiB and 5 GiB");
  }
  if (max_attempts < 1) return InvalidArgument("S3 max_attempts must be at least 1");
  if (backoff_base_ms < 0 || backoff_max_ms < backoff_base_ms) {
    return InvalidArgument("S3 back-off must satisfy 0 <= base <= max");
  }
  if (list_page_size < 1 || list_page_size > 1000) {
    return InvalidArgument("S3 list page size must be between 1 and 1000");
  }
  return Status::Ok();
}

std::string S3Options::EffectiveEndpoint() const {
  if (!endpoint.empty()) return endpoint;
  return "https://s3." + region + ".amazonaws.com";
}

bool S3Options::UsePathStyle(std::string_view bucket) const {
  switch (addressing) {
    case S3Addressing::kPath:
      return true;
    case S3Addressing::kVirtual:
      return false;
    case S3Addressing::kAuto:
      break;
  }
  return !endpoint.empty() || !VirtualHostable(bucket);
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<S3Options> S3OptionsFromEnvironment(const EnvLookup& env) {
  S3Options o;
  std::string home = env("HOME").value_or("");
  std::string profile = NonEmpty(env, "AWS_PROFILE")
                            .value_or(NonEmpty(env, "AWS_DEFAULT_PROFILE").value_or("default"));
  IniFile credentials = ReadAwsIni(
      NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials"), false);
  IniFile config =
      ReadAwsIni(NonEmpty(env, "AWS_CONFIG_FILE").value_or(home + "/.aws/config"), true);

  auto key_id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    o.credentials = {*key_id, *secret, NonEmpty(env, "AWS_SESSION_TOKEN").value_or("")};
  } else {
    for (const IniFile* file : {&credentials, &config}) {
      auto id = Lookup(*file, profile, "aws_access_key_id");
      auto key = Lookup(*file, profile, "aws_secret_access_key");
      if (id && key) {
        o.credentials = {*id, *key, Lookup(*file, profile, "aws_session_token").value_or("")};
        break;
      }
    }
  }

  if (auto r = NonEmpty(env, "AWS_REGION")) {
    o.region = *r;
  } else if (auto r = NonEmpty(env, "AWS_DEFAULT_REGION")) {
    o.region = *r;
  } else if (auto r = Lookup(config, profile, "region")) {
    o.region = *r;
  }

  for (const char* name : {"MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (auto v = NonEmpty(env, name)) {
      o.endpoint = *v;
      break;
    }
  }
  if (o.endpoint.empty()) {
    o.endpoint = Lookup(config, profile, "s3.endpoint_url")
                     .value_or(Lookup(config, profile, "endpoint_url").value_or(""));
  }
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();

  if (auto v = NonEmpty(env, "AWS_S3_ADDRESSING_STYLE")) {
    PLINTH_ASSIGN_OR_RETURN(o.addressing, ParseAddressing(*v, "AWS_S3_ADDRESSING_STYLE"));
  } else if (auto v = Lookup(config, profile, "s3.addressing_style")) {
    PLINTH_ASSIGN_OR_RETURN(o.addressing, ParseAddressing(*v, "the AWS config file"));
  }

  if (auto v = NonEmpty(env, "MLFLOW_S3_IGNORE_TLS")) {
    std::string s = Lower(*v);
    o.verify_tls = !(s == "true" || s == "1" || s == "yes");
  }
  o.ca_bundle = NonEmpty(env, "AWS_CA_BUNDLE").value_or("");
  PLINTH_RETURN_IF_ERROR(o.Validate());
  return o;
}

}  // namespace plinth::artifacts
