#include "registry/model_source.h"

#include <charconv>
#include <filesystem>
#include <vector>

#include "registry/python_format.h"

namespace plinth::registry {
namespace {

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// urllib.parse.unquote (plus = true: unquote_plus, '+' is a space).
std::string Unquote(std::string_view s, bool plus) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (plus && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Unquotes until nothing changes, as MLflow does against double-encoded paths.
std::string UnquoteFully(std::string s, bool plus) {
  for (;;) {
    std::string next = Unquote(s, plus);
    if (next == s) return s;
    s = std::move(next);
  }
}

UriParts Split(std::string_view uri, bool allow_fragments) {
  std::string url;
  size_t start = 0;
  while (start < uri.size() && static_cast<unsigned char>(uri[start]) <= 0x20) ++start;
  for (char c : uri.substr(start)) {
    if (c != '\t' && c != '\r' && c != '\n') url.push_back(c);
  }
  UriParts parts;
  const size_t colon = url.find(':');
  if (colon != std::string::npos && colon > 0 &&
      ((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z'))) {
    bool valid = true;
    for (size_t i = 0; i < colon; ++i) valid = valid && IsSchemeChar(url[i]);
    if (valid) {
      parts.scheme = url.substr(0, colon);
      for (char& c : parts.scheme) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      url.erase(0, colon + 1);
    }
  }
  if (url.rfind("//", 0) == 0) {
    size_t end = url.find_first_of("/?#", 2);
    if (end == std::string::npos) end = url.size();
    parts.netloc = url.substr(2, end - 2);
    url.erase(0, end);
  }
  if (allow_fragments) {
    const size_t hash = url.find('#');
    if (hash != std::string::npos) url.resize(hash);
  }
  const size_t question = url.find('?');
  if (question != std::string::npos) {
    parts.query = url.substr(question + 1);
    url.resize(question);
  }
  parts.path = std::move(url);
  return parts;
}

// The host of a netloc ("user@host:port" -> "host"), lower case.
std::string HostOf(const std::string& netloc) {
  std::string host =
      netloc.substr(netloc.rfind('@') == std::string::npos ? 0 : netloc.rfind('@') + 1);
  if (!host.empty() && host.front() == '[') {
    host = host.substr(
        1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else if (host.find(':') != std::string::npos) {
    host.resize(host.find(':'));
  }
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return host;
}

// MLflow's _normalized_uri_parts: scheme and authority in lower case, the non-empty path
// segments each fully percent-decoded.
struct NormalizedUri {
  std::string scheme;
  std::string authority;
  std::vector<std::string> segments;
};
NormalizedUri Normalize(std::string_view uri) {
  UriParts parts = SplitUri(uri);
  NormalizedUri out;
  out.scheme = parts.scheme;
  out.authority = parts.netloc;
  for (char& c : out.authority) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  size_t i = 0;
  while (i <= parts.path.size()) {
    size_t j = parts.path.find('/', i);
    if (j == std::string::npos) j = parts.path.size();
    if (j > i) out.segments.push_back(UnquoteFully(parts.path.substr(i, j - i), false));
    i = j + 1;
  }
  return out;
}

Status NotProperModelsUri(std::string_view uri) {
  return InvalidArgument(
      "Not a proper models:/ URI: " + std::string(uri) +
      ". Models URIs must be of the form 'models:/name/suffix' or 'models:/name@alias' where "
      "suffix is a version, stage, or the string 'latest' and where alias is a registered model "
      "alias. Only one of suffix or alias can be defined at a time.");
}

bool Blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// An absolute, lexically normal local path for a local source or root.
std::filesystem::path LocalPath(std::string_view uri) {
  UriParts parts = SplitUri(uri);
  std::filesystem::path p(parts.scheme == "file" ? Unquote(parts.path, false) : std::string(uri));
  if (p.is_relative()) {
    std::error_code ec;
    p = std::filesystem::current_path(ec) / p;
  }
  return p.lexically_normal();
}

}  // namespace

UriParts SplitUri(std::string_view uri) { return Split(uri, /*allow_fragments=*/true); }

Result<ModelsUri> ParseModelsUri(std::string_view uri) {
  UriParts parts = Split(uri, /*allow_fragments=*/false);
  if (parts.scheme != "models") return NotProperModelsUri(uri);
  const std::string& path = parts.path;
  if (path.size() <= 1 || path.front() != '/') return NotProperModelsUri(uri);
  std::string rest = path.substr(path.find_first_not_of('/'));
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i <= rest.size()) {
    size_t j = rest.find('/', i);
    if (j == std::string::npos) j = rest.size();
    pieces.push_back(rest.substr(i, j - i));
    i = j + 1;
  }
  if (pieces.size() > 2 || Blank(pieces[0])) return NotProperModelsUri(uri);
  ModelsUri out;
  if (pieces.size() == 2) {
    out.name = pieces[0];
    const std::string& suffix = pieces[1];
    if (Blank(suffix)) return NotProperModelsUri(uri);
    bool digits = true;
    for (char c : suffix) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      int64_t v = -1;  // a number too large for any version: found nowhere
      std::from_chars(suffix.data(), suffix.data() + suffix.size(), v);
      out.version = v;
    } else {
      std::string lower = suffix;
      for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      if (lower != "latest") out.stage = suffix;
    }
    return out;
  }
  if (path.find('@') != std::string::npos) {
    const size_t at = pieces[0].rfind('@');
    if (at == std::string::npos || Blank(pieces[0].substr(at + 1))) return NotProperModelsUri(uri);
    out.name = pieces[0].substr(0, at);
    out.alias = pieces[0].substr(at + 1);
    return out;
  }
  out.model_id = pieces[0];
  return out;
}

Result<std::string> RunIdOfRunsUri(std::string_view uri) {
  UriParts parts = SplitUri(uri);
  if (parts.scheme != "runs" || parts.path.size() <= 1 || parts.path.front() != '/') {
    return InvalidArgument("Not a proper runs:/ URI: " + std::string(uri) +
                           ". Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/"
                           "artifact'");
  }
  std::string rest = parts.path.substr(1);
  std::string run_id = rest.substr(0, rest.find('/'));
  if (run_id.empty()) {
    return InvalidArgument("Not a proper runs:/ URI: " + std::string(uri));
  }
  return run_id;
}

bool IsLocalUri(std::string_view uri) {
  UriParts parts = SplitUri(uri);
  if (parts.scheme.empty()) return true;
  if (parts.scheme != "file") return false;
  const std::string host = HostOf(parts.netloc);
  return host.empty() || host == "." || host.rfind("localhost", 0) == 0 ||
         host.rfind("127.0.0.1", 0) == 0;
}

Status CheckAbsoluteSourcePath(const std::string& original) {
  const std::string source = UnquoteFully(original, /*plus=*/true);
  auto invalid = [&source]() {
    return InvalidArgument("Invalid model version source: '" + source +
                           "'. If supplying a source as an http, https, local file path, ftp, "
                           "objectstore, or mlflow-artifacts uri, an absolute path must be "
                           "provided without relative path references present. Please provide "
                           "an absolute path.");
  };
  std::string raw = SplitUri(source).path;
  while (!raw.empty() && raw.back() == '/') raw.pop_back();
  std::string path;
  for (char c : raw) {
    if (c == '/' && !path.empty() && path.back() == '/') continue;
    path.push_back(c);
  }
  if (path.find('\0') != std::string::npos) return invalid();
  size_t i = 0;
  while (i <= source.size()) {
    size_t j = source.find('/', i);
    if (j == std::string::npos) j = source.size();
    if (source.compare(i, j - i, "..") == 0 && j - i == 2) return invalid();
    i = j + 1;
  }
  // pathlib's resolve() would turn a relative or empty path, or one with "." segments, into
  // something else.
  if (path.empty() || path.front() != '/' || PosixNormpath(path) != path) return invalid();
  return Status::Ok();
}

bool IsProxiedArtifactSource(std::string_view source) {
  NormalizedUri n = Normalize(source);
  if (n.scheme == "mlflow-artifacts") return true;
  if (n.scheme != "http" && n.scheme != "https") return false;
  static const char* kRoute[] = {"api", "2.0", "mlflow-artifacts", "artifacts"};
  for (size_t i = 0; i + 4 <= n.segments.size(); ++i) {
    bool match = true;
    for (size_t k = 0; k < 4; ++k) match = match && n.segments[i + k] == kRoute[k];
    if (match) return true;
  }
  return false;
}

bool IsUriWithinRoot(std::string_view source, std::string_view root) {
  NormalizedUri s = Normalize(source);
  NormalizedUri r = Normalize(root);
  if (s.scheme != r.scheme || s.authority != r.authority || r.segments.empty()) return false;
  if (r.segments.size() > s.segments.size()) return false;
  for (size_t i = 0; i < r.segments.size(); ++i) {
    if (s.segments[i] != r.segments[i]) return false;
  }
  return true;
}

bool IsLocalPathWithin(std::string_view source, std::string_view root) {
  const std::filesystem::path s = LocalPath(source);
  const std::filesystem::path r = LocalPath(root);
  auto si = s.begin();
  for (auto ri = r.begin(); ri != r.end(); ++ri, ++si) {
    if (ri->empty()) continue;  // a trailing separator
    if (si == s.end() || *si != *ri) return false;
  }
  return true;
}

}  // namespace plinth::registry
