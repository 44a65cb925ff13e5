// Serves the embedded web UI (ui_assets.h) over the HTTP facade:
//   GET /             index.html, revalidated on every load (Cache-Control: no-cache)
//   GET /static/*     bundled assets; their names carry a content hash, so they are cached
//                     for a year as immutable, and sent gzipped to clients that accept it.
// The UI only calls the public REST API; these routes shadow none of /api, /ajax-api, /health,
// /ready or /version. Handlers read immutable static data: thread-safe.
#ifndef PLINTH_UI_UI_ROUTES_H_
#define PLINTH_UI_UI_ROUTES_H_

#include "http/http_server.h"

namespace plinth::ui {

// Adds the UI's routes to `router`.
void RegisterWebUi(http::Router& router);

}  // namespace plinth::ui

#endif  // PLINTH_UI_UI_ROUTES_H_
