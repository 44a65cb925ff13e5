// JSON routes: how a handler that reads a RequestMessage and writes a JSON body becomes a route,
// with errors answered in MLflow's shape ({"error_code", "message"}, HTTP status from the one
// code table) and 5xx logged. Shared by the MLflow surface (mlflow_api.cc, registry_api.cc) and
// Plinth's own /api/plinth/v1 routes. Thread-safe once registered.
#ifndef PLINTH_API_JSON_ROUTE_H_
#define PLINTH_API_JSON_ROUTE_H_

#include <functional>
#include <string>

#include "api/request_message.h"
#include "core/json.h"
#include "http/http_server.h"

namespace plinth::api {

// Writes the response body into the JsonWriter; an empty body answers "{}".
using JsonHandler = std::function<Status(const http::Request&, const RequestMessage&, JsonWriter&)>;

// MLflow serves its REST API under both prefixes (the second for its web UI).
inline constexpr const char* kMlflowPrefixes[] = {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"};

// Registers `handler` at `path` exactly.
void AddJsonRoute(http::Router& router, http::Method method, const std::string& path,
                  JsonHandler handler);
// Registers `handler` at `path` under each of kMlflowPrefixes.
void AddJson(http::Router& router, http::Method method, const std::string& path,
             JsonHandler handler);

}  // namespace plinth::api

#endif  // PLINTH_API_JSON_ROUTE_H_
