#include "http/tracking_server.h"

#include <cstdlib>

#include "core/base64.h"

namespace plinth::http {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace

Result<std::string> TrackingServerUrl(const std::string& explicit_uri) {
  std::string url = explicit_uri;
  if (url.empty()) url = Env("MLFLOW_TRACKING_URI");
  if (url.empty()) url = "http://127.0.0.1:5000";
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return InvalidArgument("the tracking URI must be a server's http:// or https:// URL, not '" +
                           url + "'");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::vector<std::pair<std::string, std::string>> TrackingAuthHeaders() {
  if (std::string token = Env("MLFLOW_TRACKING_TOKEN"); !token.empty()) {
    return {{"Authorization", "Bearer " + token}};
  }
  if (std::string user = Env("MLFLOW_TRACKING_USERNAME"); !user.empty()) {
    return {
        {"Authorization", "Basic " + Base64Encode(user + ":" + Env("MLFLOW_TRACKING_PASSWORD"))}};
  }
  return {};
}

}  // namespace plinth::http
