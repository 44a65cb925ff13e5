// The web UI's files, compiled into the binary (src/ui/embed_assets.cmake generates the
// definitions from the built ui/ folder at build time). Immutable static data: thread-safe.
#ifndef PLINTH_UI_UI_ASSETS_H_
#define PLINTH_UI_UI_ASSETS_H_

#include <span>
#include <string_view>

namespace plinth::ui {

struct EmbeddedAsset {
  std::string_view path;          // relative to the UI root: "index.html", "static/app-X.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view data;          // the file's bytes
  std::string_view gzip;          // the same bytes gzipped, or empty
};

// Every embedded file, sorted by path. Always holds "index.html" (a page saying how to build
// the UI when the binary was built without node/npm).
std::span<const EmbeddedAsset> EmbeddedAssets();

// False when the binary was built without the UI (EmbeddedAssets() is the placeholder page).
bool WebUiBuilt();

}  // namespace plinth::ui

#endif  // PLINTH_UI_UI_ASSETS_H_
