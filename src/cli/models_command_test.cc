// Tests of `plinth models promote|rollback|history` against an in-process plinth server (SQLite
// store, the real API on an ephemeral port): what the alias ends up pointing at, what is
// printed, exit codes, and the URI and auth handling.
#include "cli/models_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "api/mlflow_api.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/http_server.h"
#include "registry/registry_service.h"
#include "store/metadata_store.h"
#include "tracking/tracking_service.h"

namespace plinth {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1700000000000;

class ModelsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("off");
    std::string pattern = ::testing::TempDir() + "plinth_models_cli_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store::SqliteStoreOptions options;
    options.path = dir_ + "/plinth.db";
    auto opened = store::OpenSqliteStore(options, kNow);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    tracking_ = std::make_unique<tracking::TrackingService>(store_.get(), &clock_,
                                                            tracking::TrackingOptions{});
    registry_ = std::make_unique<registry::RegistryService>(store_.get(), &clock_);
    api::ApiContext context;
    context.tracking = tracking_.get();
    context.registry = registry_.get();
    api::RegisterMlflowApi(router_, context);
    http::ServerOptions server_options;
    server_options.host = "127.0.0.1";
    server_options.port = 0;
    server_options.threads = 2;
    server_ = std::make_unique<http::HttpServer>(server_options, &router_);
    ASSERT_TRUE(server_->Start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());

    ASSERT_TRUE(registry_->CreateRegisteredModel("churn", {}, "").ok());
    for (int i = 0; i < 3; ++i) {
      registry::CreateModelVersionRequest r;
      r.name = "churn";
      r.source = "s3://bucket/churn/" + std::to_string(i);
      ASSERT_TRUE(registry_->CreateModelVersion(r).ok());
    }
  }
  void TearDown() override {
    server_->Stop();
    server_->Wait();
    server_.reset();
    registry_.reset();
    tracking_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ModelsCommandOptions Options(std::string version = "") {
    ModelsCommandOptions o;
    o.tracking_uri = url_ + "/";
    o.name = "churn";
    o.alias = "production";
    o.version = std::move(version);
    o.user = "ops";
    return o;
  }
  int64_t Holder() {
    auto v = registry_->GetModelVersionByAlias("churn", "production");
    return v.ok() ? v->version : -1;
  }

  std::string dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<registry::RegistryService> registry_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
};

TEST_F(ModelsCommandTest, PromoteThenRollBack) {
  std::ostringstream out, err;
  ASSERT_EQ(RunModelsPromote(Options("1"), out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "churn@production now points at version 1 (was unset)\n");
  ASSERT_EQ(RunModelsPromote(Options("3"), out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("now points at version 3 (was version 1)"));
  EXPECT_EQ(Holder(), 3);

  std::ostringstream back;
  ASSERT_EQ(RunModelsRollback(Options(), back, err), 0) << err.str();
  EXPECT_EQ(back.str(), "churn@production rolled back to version 1 (was version 3)\n");
  EXPECT_EQ(Holder(), 1);

  std::ostringstream history;
  ASSERT_EQ(RunModelsHistory(Options(), history, err), 0) << err.str();
  EXPECT_EQ(history.str(),
            "2023-11-14T22:13:20Z  production  promote  - -> 1  by ops\n"
            "2023-11-14T22:13:20Z  production  promote  1 -> 3  by ops\n"
            "2023-11-14T22:13:20Z  production  rollback  3 -> 1  by ops\n");
}

TEST_F(ModelsCommandTest, RefusalsAndUsage) {
  std::ostringstream out, err;
  EXPECT_EQ(RunModelsRollback(Options(), out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("plinth models rollback: the server answered 400: Alias "
                                   "'production' of registered model 'churn' has no previous "
                                   "holder to roll back to."));
  std::ostringstream err2;
  EXPECT_EQ(RunModelsPromote(Options("9"), out, err2), 1);
  EXPECT_THAT(err2.str(), HasSubstr("Model Version (name=churn, version=9) not found"));

  ModelsCommandOptions bad = Options("1");
  bad.tracking_uri = "sqlite:///plinth.db";
  std::ostringstream err3;
  EXPECT_EQ(RunModelsPromote(bad, out, err3), 2);
  EXPECT_THAT(err3.str(), HasSubstr("http:// or https://"));

  bad.tracking_uri = "http://127.0.0.1:1";
  std::ostringstream err4;
  EXPECT_EQ(RunModelsPromote(bad, out, err4), 1);
  EXPECT_THAT(err4.str(), HasSubstr("cannot reach"));

  // The server is found through MLFLOW_TRACKING_URI when --tracking-uri is absent.
  ModelsCommandOptions from_env = Options("2");
  from_env.tracking_uri.clear();
  setenv("MLFLOW_TRACKING_URI", url_.c_str(), 1);
  std::ostringstream out5, err5;
  EXPECT_EQ(RunModelsPromote(from_env, out5, err5), 0) << err5.str();
  unsetenv("MLFLOW_TRACKING_URI");
  EXPECT_EQ(Holder(), 2);
}

}  // namespace
}  // namespace plinth
