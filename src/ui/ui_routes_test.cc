// Tests for the web UI routes (ui_routes.h) through the Router, as the server dispatches them:
// every embedded asset is served byte for byte with its type and caching policy, gzip only to
// clients that ask for it, unknown assets are 404, and the API paths stay unrouted.
#include "ui/ui_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "ui/ui_assets.h"

namespace plinth::ui {
namespace {

using ::testing::HasSubstr;

std::optional<std::string> HeaderOf(const http::Response& res, const std::string& name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) {
      return v;
    }
  }
  return std::nullopt;
}

class WebUiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { RegisterWebUi(router_); }

  // Runs GET `path` through the router; nullopt when no route matches.
  std::optional<http::Response> Get(const std::string& path, bool accept_gzip = false) {
    http::Request req;
    req.method = http::Method::kGet;
    req.path = path;
    req.target = path;
    if (accept_gzip) {
      req.headers.emplace_back("accept-encoding", "gzip, deflate, br");
    }
    auto match = router_.Find(http::Method::kGet, path, &req.path_params);
    if (match.handler == nullptr) {
      return std::nullopt;
    }
    http::Response res;
    (*match.handler)(req, res);
    return res;
  }

  http::Router router_;
};

TEST_F(WebUiRoutesTest, RootServesIndexRevalidatedEachTime) {
  auto res = Get("/");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->content_type, "text/html; charset=utf-8");
  EXPECT_THAT(res->body, HasSubstr("<title>Plinth"));
  EXPECT_EQ(HeaderOf(*res, "Cache-Control"), "no-cache");
}

TEST_F(WebUiRoutesTest, EveryEmbeddedAssetIsServedByteForByte) {
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    std::string path = "/" + std::string(asset.path);
    auto res = Get(path);
    ASSERT_TRUE(res.has_value()) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body, asset.data) << path;
    EXPECT_EQ(res->content_type, asset.content_type) << path;
    EXPECT_EQ(HeaderOf(*res, "Content-Encoding"), std::nullopt) << path;
    if (asset.path.starts_with("static/")) {
      EXPECT_EQ(HeaderOf(*res, "Cache-Control"), "public, max-age=31536000, immutable");
    }
  }
}

TEST_F(WebUiRoutesTest, GzipOnlyForClientsThatAcceptIt) {
  int gzipped = 0;
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    if (asset.gzip.empty()) {
      continue;
    }
    ++gzipped;
    auto res = Get("/" + std::string(asset.path), /*accept_gzip=*/true);
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(HeaderOf(*res, "Content-Encoding"), "gzip");
    EXPECT_EQ(HeaderOf(*res, "Vary"), "Accept-Encoding");
    EXPECT_EQ(res->body, asset.gzip);
    ASSERT_GE(res->body.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(res->body[0]), 0x1f);  // gzip magic
    EXPECT_EQ(static_cast<unsigned char>(res->body[1]), 0x8b);
  }
  if (WebUiBuilt()) {
    EXPECT_GT(gzipped, 0) << "the bundled JS and CSS ship gzipped";
  }
}

TEST_F(WebUiRoutesTest, IndexReferencesEmbeddedBundle) {
  if (!WebUiBuilt()) {
    GTEST_SKIP() << "built without node/npm: placeholder page";
  }
  auto res = Get("/");
  ASSERT_TRUE(res.has_value());
  bool js = false;
  bool css = false;
  for (const EmbeddedAsset& asset : EmbeddedAssets()) {
    if (!asset.path.starts_with("static/") || res->body.find(asset.path) == std::string::npos) {
      continue;
    }
    js = js || asset.path.ends_with(".js");
    css = css || asset.path.ends_with(".css");
  }
  EXPECT_TRUE(js);
  EXPECT_TRUE(css);
}

TEST_F(WebUiRoutesTest, UnknownAssetIsNotFound) {
  auto res = Get("/static/no-such-file.js");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 404);
}

TEST_F(WebUiRoutesTest, ShadowsNoApiRoute) {
  for (const char* path : {"/api/2.0/mlflow/experiments/search", "/ajax-api/2.0/mlflow/runs/get",
                           "/health", "/ready", "/version", "/api/plinth/v1/version"}) {
    EXPECT_FALSE(Get(path).has_value()) << path;
  }
}

}  // namespace
}  // namespace plinth::ui
