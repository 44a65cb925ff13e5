// HTTP client for command-line tools that talk to a running server (`plinth models …`): one
// blocking request per call, http:// and https:// (libcurl underneath, private to src/http/),
// whole bodies in memory (small JSON). Thread-safe: each call has its own handle.
#ifndef PLINTH_HTTP_HTTP_CLIENT_H_
#define PLINTH_HTTP_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace plinth::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::string body;  // sent with `content_type` when not empty
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  long timeout_seconds = 60;
};

struct ClientResponse {
  int status = 0;
  std::string body;
};

// Sends the request and returns whatever status the server answered.
// Failure: kUnavailable when no answer came (refused, unresolvable, TLS, timeout), naming why.
Result<ClientResponse> SendHttpRequest(const ClientRequest& request);

// The same with files instead of memory for large bodies: `upload_path` (if not empty) is sent
// as the body, streamed; a 2xx response body is written to `download_path` (if not empty),
// streamed, while other answers are kept in ClientResponse::body for their error message.
// Failure as above, plus kNotFound / kInternal for the local files.
Result<ClientResponse> SendHttpRequestWithFiles(const ClientRequest& request,
                                                const std::string& upload_path,
                                                const std::string& download_path);

// `text` percent-encoded for a query string (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view text);

}  // namespace plinth::http

#endif  // PLINTH_HTTP_HTTP_CLIENT_H_
