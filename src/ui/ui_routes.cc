#include "ui/ui_routes.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ui/ui_assets.h"

namespace plinth::ui {
namespace {

using AssetIndex = std::unordered_map<std::string_view, const EmbeddedAsset*>;

bool AcceptsGzip(const http::Request& req) {
  auto accept = req.Header("accept-encoding");
  return accept.has_value() && accept->find("gzip") != std::string_view::npos;
}

void ServeAsset(const EmbeddedAsset& asset, std::string_view cache_control,
                const http::Request& req, http::Response& res) {
  res.status = 200;
  res.content_type = std::string(asset.content_type);
  res.headers.emplace_back("Cache-Control", std::string(cache_control));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!asset.gzip.empty()) {
    res.headers.emplace_back("Vary", "Accept-Encoding");
    if (AcceptsGzip(req)) {
      res.headers.emplace_back("Content-Encoding", "gzip");
      res.body.assign(asset.gzip);
      return;
    }
  }
  res.body.assign(asset.data);
}

void NotFound(http::Response& res) {
  res.status = 404;
  res.content_type = "text/plain";
  res.body = "Not found";
}

}  // namespace

void RegisterWebUi(http::Router& router) {
  auto index = std::make_shared<AssetIndex>();
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    (*index)[asset.path] = &asset;
  }
  const EmbeddedAsset* page = index->at("index.html");
  auto serve_page = [page](http::Request& req, http::Response& res) {
    ServeAsset(*page, "no-cache", req, res);
  };
  router.Add(http::Method::kGet, "/", serve_page);
  router.Add(http::Method::kGet, "/index.html", serve_page);
  router.Add(http::Method::kGet, "/static/*", [index](http::Request& req, http::Response& res) {
    std::string path = "static/";
    if (!req.path_params.empty()) {
      path += req.path_params.back();
    }
    auto it = index->find(path);
    if (it == index->end()) {
      NotFound(res);
      return;
    }
    ServeAsset(*it->second, "public, max-age=31536000, immutable", req, res);
  });
}

}  // namespace plinth::ui
