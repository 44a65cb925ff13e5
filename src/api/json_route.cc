#include "api/json_route.h"

#include "core/log.h"

namespace plinth::api {

void AddJsonRoute(http::Router& router, http::Method method, const std::string& path,
                  JsonHandler handler) {
  router.Add(method, path, [handler = std::move(handler)](http::Request& req, http::Response& res) {
    auto message = RequestMessage::Parse(req);
    if (!message.ok()) {
      http::WriteError(message.status(), res);
      return;
    }
    JsonWriter w;
    Status s = handler(req, *message, w);
    if (!s.ok()) {
      if (HttpStatusOf(s.code()) >= 500) {
        PLINTH_LOG_ERROR("{} {} failed: {}", req.method_name, req.path, s.ToString());
      }
      http::WriteError(s, res);
      return;
    }
    res.SetJson(200, w.View().empty() ? "{}" : w.Take());
  });
}

void AddJson(http::Router& router, http::Method method, const std::string& path,
             JsonHandler handler) {
  for (const char* prefix : kMlflowPrefixes) {
    AddJsonRoute(router, method, std::string(prefix) + path, handler);
  }
}

}  // namespace plinth::api
