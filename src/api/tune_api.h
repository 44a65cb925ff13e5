// Hyperparameter studies over HTTP: /api/plinth/v1/studies/… (create, get, list, ask, suggest,
// report, heartbeat, tell, best, trials, trials/get, enqueue, trials/set-user-attr). Workers on
// any host drive a study through these routes; `plinth tune` and the Python SDK are clients.
// JSON in, JSON out; errors in MLflow's shape through the one code table, bad input a 400
// naming the field. Handlers translate to TuneService calls (src/tune/service) and back; all
// logic lives there. Every endpoint is documented with a curl example in docs/tuning.md.
// Registered from RegisterMlflowApi when ApiContext::tune is set. Thread-safe.
#ifndef PLINTH_API_TUNE_API_H_
#define PLINTH_API_TUNE_API_H_

#include "http/http_server.h"
#include "tune/service/tune_service.h"

namespace plinth::api {

inline constexpr const char* kStudiesPrefix = "/api/plinth/v1/studies";

void RegisterTuneApi(http::Router& router, tune::TuneService* tune);

}  // namespace plinth::api

#endif  // PLINTH_API_TUNE_API_H_
