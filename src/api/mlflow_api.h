// The MLflow-compatible REST surface: tracking (/api/2.0/mlflow/…, also under /ajax-api/ for
// the MLflow UI), logged models, the model registry (registry_api.h), the artifact proxy
// (/api/2.0/mlflow-artifacts/…), /health and /version. Handlers translate HTTP+JSON to engine
// (TrackingService, RegistryService) and ArtifactStore calls and back; all logic lives in the
// engines. The registered handlers are thread-safe.
#ifndef PLINTH_API_MLFLOW_API_H_
#define PLINTH_API_MLFLOW_API_H_

#include <string>

#include "artifacts/artifact_store.h"
#include "http/http_server.h"
#include "registry/registry_service.h"
#include "tracking/tracking_service.h"
#include "tune/service/tune_service.h"

namespace plinth::data {
class DatasetService;
}

namespace plinth::api {

// The MLflow version `GET /version` reports: the client gates features on it.
inline constexpr const char* kMlflowCompatVersion = "3.17.2";

struct ApiContext {
  tracking::TrackingService* tracking = nullptr;
  // The model registry (its MLflow routes and Plinth's /api/plinth/v1/registry/…); null: none.
  registry::RegistryService* registry = nullptr;
  // The artifact proxy's store; null with --no-serve-artifacts (the proxy routes then answer
  // 503 as MLflow's do, and s3:// run roots are still listed through the tracking API).
  artifacts::ArtifactStore* artifacts = nullptr;
  // Hyperparameter studies (/api/plinth/v1/studies/…, tune_api.h); null: none.
  tune::TuneService* tune = nullptr;
  // Dataset versions and drift (/api/plinth/v1/datasets/…, /api/plinth/v1/drift); null: none.
  data::DatasetService* datasets = nullptr;
  std::string plinth_version;
  // Readiness for load balancers: false while draining.
  const std::atomic<bool>* ready = nullptr;
};

void RegisterMlflowApi(http::Router& router, const ApiContext& context);

}  // namespace plinth::api

#endif  // PLINTH_API_MLFLOW_API_H_
