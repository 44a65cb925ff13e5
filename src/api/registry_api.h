// The model registry over HTTP: MLflow's Model Registry REST API (/api/2.0/mlflow/
// registered-models/… and model-versions/…, also under /ajax-api/) and Plinth's own
// /api/plinth/v1/registry/… (promote, rollback, alias history, lineage). Handlers translate
// HTTP+JSON to RegistryService calls and MLflow's proto-JSON shapes back; all logic lives in the
// engine. Registered from RegisterMlflowApi. The handlers are thread-safe.
#ifndef PLINTH_API_REGISTRY_API_H_
#define PLINTH_API_REGISTRY_API_H_

#include "core/json.h"
#include "http/http_server.h"
#include "registry/registry_service.h"

namespace plinth::api {

void RegisterRegistryApi(http::Router& router, registry::RegistryService* registry);

// MLflow's proto-JSON for registry entities: versions as strings ("3"), unset fields omitted,
// run_id and run_link always present (MLflow stores "" for them), aliases only where MLflow
// fills them.
void WriteModelVersion(JsonWriter& w, const store::ModelVersion& v);
void WriteRegisteredModel(JsonWriter& w, const store::RegisteredModel& m);

}  // namespace plinth::api

#endif  // PLINTH_API_REGISTRY_API_H_
