// Plinth's dataset-version and drift REST routes (not part of MLflow's API):
//   PUT  /api/plinth/v1/datasets/blobs/{sha256}   the bytes (streamed, verified against the digest)
//   GET|HEAD /api/plinth/v1/datasets/blobs/{sha256}
//   POST /api/plinth/v1/datasets/versions/create  {name, digest, size_bytes, source?, format?,
//        num_rows?, num_columns?, schema?, profile?, validation?, validation_success?,
//        description?, user_id?} → {dataset_version, created}
//   GET  /api/plinth/v1/datasets/get?name=&version=   (version omitted: the latest)
//   GET  /api/plinth/v1/datasets/versions?name=
//   GET  /api/plinth/v1/datasets/list
//   POST /api/plinth/v1/drift {reference: "NAME[@V]", current: "NAME[@V]", method?, threshold?,
//        drift_share?, column_methods?} → the drift report JSON (as `plinth data drift`)
// Documented with curl examples in docs/data.md. Thread-safe once registered.
#ifndef PLINTH_API_DATASET_API_H_
#define PLINTH_API_DATASET_API_H_

#include "http/http_server.h"

namespace plinth::data {
class DatasetService;
}

namespace plinth::api {

void RegisterDatasetApi(http::Router& router, data::DatasetService* service);

}  // namespace plinth::api

#endif  // PLINTH_API_DATASET_API_H_
