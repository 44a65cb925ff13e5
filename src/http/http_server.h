// The HTTP facade: a Router of handlers and an HttpServer that runs them. Only src/http/ sees
// the HTTP library (Boost.Beast); everything else uses Request, Response and Router.
//
// Model: one io_context run by `threads` threads; each connection is a coroutine that reads a
// request, runs its handler on the same thread, and writes the response. Handlers may block
// (store writes wait for group commit) — the other threads keep serving. Idle keep-alive
// connections cost a socket and a small buffer, no thread. Routes marked `streaming_body`
// receive the request body as a ByteSource instead of a string, and any handler may answer
// with a ByteSource, so large artifacts stream through in fixed-size chunks.
//
// Thread-safety: Router is immutable once the server starts; handlers run concurrently and
// must be thread-safe. HttpServer::Stop may be called from any thread (e.g. a signal watcher).
#ifndef PLINTH_HTTP_HTTP_SERVER_H_
#define PLINTH_HTTP_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/io.h"
#include "core/status.h"

namespace plinth::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

class Request {
 public:
  Method method = Method::kOther;
  std::string method_name;
  std::string target;                                        // as sent: path?query
  std::string path;                                          // percent-decoded path
  std::string query;                                         // raw query string (after '?')
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // the whole body, for ordinary routes
  ByteSource* body_stream = nullptr;                         // the body, for streaming_body routes
  std::vector<std::string> path_params;  // values of {param} segments and a trailing '*'
  std::string remote_address;

  // The first header named `name` (lower-case), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The first query parameter `name`, percent-decoded, or nullopt.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // Every value of a repeated query parameter, in order.
  std::vector<std::string> QueryParams(std::string_view name) const;
  // All query parameters, decoded, in order.
  std::vector<std::pair<std::string, std::string>> AllQueryParams() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed from here instead of `body`.
  std::unique_ptr<ByteSource> stream;

  void SetJson(int http_status, std::string json) {
    status = http_status;
    content_type = "application/json";
    body = std::move(json);
  }
};

using Handler = std::function<void(Request&, Response&)>;

struct RouteOptions {
  bool streaming_body = false;  // the handler reads Request::body_stream itself
};

// Maps (method, path) to handlers. Patterns are literal paths, may contain `{name}` segments
// (captured into path_params in order), and may end in `/*` to capture the rest of the path.
class Router {
 public:
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Handler* handler = nullptr;
    RouteOptions options;
    bool path_known = false;  // some route has this path with another method (405)
  };
  // Finds the handler for `method` and `path`; fills `params` for patterned routes.
  Match Find(Method method, std::string_view path, std::vector<std::string>* params) const;

 private:
  Match FindExact(Method method, std::string_view path, std::vector<std::string>* params) const;
  struct Route {
    Method method;
    std::vector<std::string> segments;  // "{...}" = one segment, "*" = the rest
    bool wildcard = false;
    Handler handler;
    RouteOptions options;
  };
  struct Exact {
    Handler handler;
    RouteOptions options;
  };
  std::unordered_map<std::string, Exact> exact_;  // key: method + ' ' + path
  std::vector<Route> patterns_;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5000;
  int threads = 0;                                 // 0: max(8, 4 × cores)
  uint64_t max_body_bytes = 64ull << 20;           // ordinary (non-streaming) bodies
  uint64_t max_streaming_body_bytes = 1ull << 40;  // artifact uploads
  int drain_timeout_seconds = 30;                  // graceful stop waits this long at most
  // A connection waiting this long for (the rest of) a request header is closed; 0 = never.
  // Bounds what idle or stalled clients can hold; keep-alive clients simply reconnect.
  int idle_timeout_seconds = 300;

  Status Validate() const;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router* router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Failure: kUnavailable when the address cannot be bound.
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Serves until Stop(); returns after in-flight requests have finished.
  void Wait();
  // Stops accepting, closes idle connections, lets in-flight requests finish (up to the drain
  // timeout), then stops the threads. Safe from any thread, any number of times.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes an error response with MLflow's body {"error_code": ..., "message": ...}.
void WriteError(const Status& status, Response& response);

// Percent-decodes `in` ('+' stays '+' in paths; query decoding turns '+' into ' ').
std::string PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace plinth::http

#endif  // PLINTH_HTTP_HTTP_SERVER_H_
