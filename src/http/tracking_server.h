// How command-line tools find and authenticate to a tracking server, as the MLflow client does:
// an explicit URI, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000; MLFLOW_TRACKING_TOKEN
// (bearer) or MLFLOW_TRACKING_USERNAME/PASSWORD (basic) as the Authorization header.
#ifndef PLINTH_HTTP_TRACKING_SERVER_H_
#define PLINTH_HTTP_TRACKING_SERVER_H_

#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace plinth::http {

// The server's base URL without a trailing '/'. Failure: kInvalidArgument when it is not an
// http(s) URL.
Result<std::string> TrackingServerUrl(const std::string& explicit_uri);
// The Authorization header to send, if the environment names credentials.
std::vector<std::pair<std::string, std::string>> TrackingAuthHeaders();

}  // namespace plinth::http

#endif  // PLINTH_HTTP_TRACKING_SERVER_H_
