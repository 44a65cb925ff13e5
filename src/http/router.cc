#include <string>

#include "core/json.h"
#include "http/http_server.h"

namespace plinth::http {
namespace {

std::string ExactKey(Method method, std::string_view path) {
  std::string key = std::to_string(static_cast<int>(method));
  key += ' ';
  key += path;
  return key;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      j = path.size();
    }
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> Request::AllQueryParams() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view key = part.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      out.emplace_back(PercentDecode(key, true), PercentDecode(value, true));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  for (auto& [k, v] : AllQueryParams()) {
    if (k == name) {
      return std::move(v);
    }
  }
  return std::nullopt;
}

std::vector<std::string> Request::QueryParams(std::string_view name) const {
  std::vector<std::string> out;
  for (auto& [k, v] : AllQueryParams()) {
    if (k == name) {
      out.push_back(std::move(v));
    }
  }
  return out;
}

void Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  bool patterned = pattern.find('{') != std::string::npos ||
                   (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, "/*") == 0);
  if (!patterned) {
    exact_[ExactKey(method, pattern)] = Exact{std::move(handler), options};
    return;
  }
  Route route;
  route.method = method;
  for (std::string_view seg : SplitPath(pattern)) {
    route.segments.emplace_back(seg);
  }
  if (!route.segments.empty() && route.segments.back() == "*") {
    route.wildcard = true;
    route.segments.pop_back();
  }
  route.handler = std::move(handler);
  route.options = options;
  patterns_.push_back(std::move(route));
}

Router::Match Router::Find(Method method, std::string_view path,
                           std::vector<std::string>* params) const {
  Match match = FindExact(method, path, params);
  if (match.handler == nullptr && method == Method::kHead) {
    // HEAD is answered wherever GET is (RFC 9110 §9.3.2); the server drops the body.
    Match get = FindExact(Method::kGet, path, params);
    if (get.handler != nullptr) {
      return get;
    }
  }
  return match;
}

Router::Match Router::FindExact(Method method, std::string_view path,
                                std::vector<std::string>* params) const {
  Match match;
  if (auto it = exact_.find(ExactKey(method, path)); it != exact_.end()) {
    match.handler = &it->second.handler;
    match.options = it->second.options;
    return match;
  }
  std::vector<std::string_view> segs = SplitPath(path);
  for (const Route& route : patterns_) {
    if (route.wildcard ? segs.size() < route.segments.size()
                       : segs.size() != route.segments.size()) {
      continue;
    }
    std::vector<std::string> captured;
    bool ok = true;
    for (size_t i = 0; i < route.segments.size() && ok; ++i) {
      const std::string& want = route.segments[i];
      if (!want.empty() && want.front() == '{') {
        if (segs[i].empty()) {
          ok = false;
        } else {
          captured.emplace_back(segs[i]);
        }
      } else {
        ok = want == segs[i];
      }
    }
    if (!ok) {
      continue;
    }
    if (route.wildcard) {
      std::string rest;
      for (size_t i = route.segments.size(); i < segs.size(); ++i) {
        if (i > route.segments.size()) {
          rest += '/';
        }
        rest += segs[i];
      }
      captured.push_back(std::move(rest));
    }
    if (route.method != method) {
      match.path_known = true;
      continue;
    }
    match.handler = &route.handler;
    match.options = route.options;
    *params = std::move(captured);
    return match;
  }
  if (!match.path_known) {
    for (Method m : {Method::kGet, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete}) {
      if (m != method && exact_.count(ExactKey(m, path)) != 0) {
        match.path_known = true;
        break;
      }
    }
  }
  return match;
}

void WriteError(const Status& status, Response& response) {
  JsonWriter w;
  w.StartObject();
  w.KeyString("error_code", MlflowErrorCodeOf(status.code()));
  w.KeyString("message", status.message());
  w.EndObject();
  response.stream.reset();
  response.headers.clear();
  response.SetJson(HttpStatusOf(status.code()), w.Take());
}

}  // namespace plinth::http
