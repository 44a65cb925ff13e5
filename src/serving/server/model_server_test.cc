// The model server in process: both protocols over real HTTP, micro-batching under concurrent
// requests, and the alias watcher against a fake tracking server (versions from a local folder
// and through the artifact proxy; a broken version is refused and the old one keeps serving).
#include "serving/server/model_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "http/test_client.h"
#include "serving/test_models.h"

namespace plinth::serving {
namespace {

namespace fs = std::filesystem;
using http::testing::Connection;
using http::testing::Req;
using testing::ModelJsonText;
using testing::Stump;
using testing::TestModel;
using testing::WriteFile;
using testing::WriteModelDir;

constexpr const char* kSignature =
    "signature:\n"
    "  inputs: '[{\"type\": \"double\", \"name\": \"f0\", \"required\": true}, {\"type\": "
    "\"double\", \"name\": \"f1\", \"required\": true}]'\n"
    "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": "
    "[-1]}}]'\n";

// f0 < 1 → low, else high; base score 0.5 (squared error: identity).
fs::path StumpModel(const std::string& name, float low, float high) {
  TestModel m;
  m.feature_names = {"f0", "f1"};
  m.trees = {Stump(0, 1.0f, low, high, true)};
  return WriteModelDir(name, ModelJsonText(m), "json", "xgboost.core.Booster", kSignature);
}

class Served {
 public:
  explicit Served(ModelServerOptions options) : model_server_(std::move(options)) {}
  Status Start() {
    PLINTH_RETURN_IF_ERROR(model_server_.Start());
    model_server_.AddRoutes(&router_);
    http::ServerOptions o;
    o.port = 0;
    o.threads = 8;
    server_ = std::make_unique<http::HttpServer>(o, &router_);
    return server_->Start();
  }
  ~Served() {
    if (server_) server_->Stop();
    model_server_.Stop();
  }
  http::testing::ClientResponse Call(std::string_view method, std::string_view target,
                                     std::string_view body = "", std::string_view headers = "") {
    Connection c(server_->port());
    EXPECT_TRUE(c.Send(Req(method, target, body, headers)));
    auto r = c.Read();
    EXPECT_TRUE(r.has_value());
    return r.value_or(http::testing::ClientResponse{});
  }
  uint16_t port() const { return server_->port(); }
  ModelServer& model_server() { return model_server_; }

 private:
  ModelServer model_server_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
};

constexpr const char* kJson = "Content-Type: application/json\r\n";

TEST(ModelServer, ServesALocalModelOverBothProtocols) {
  ModelServerOptions o;
  o.model_uri = StumpModel("local", 10.0f, 20.0f).string();
  o.served_name = "stump";
  Served s(o);
  ASSERT_TRUE(s.Start().ok());

  auto r = s.Call("POST", "/invocations",
                  R"({"dataframe_split": {"columns": ["f1", "f0"], "data": [[0, 0.5], [0, 3]]}})",
                  kJson);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"predictions":[10.5,20.5]})");
  EXPECT_EQ(r.Header("x-plinth-model-version"), "1");
  EXPECT_TRUE(r.Header("x-request-id").has_value());

  r = s.Call("POST", "/v2/models/stump/infer",
             R"({"id": "a", "inputs": [{"name": "t", "shape": [1, 2], "datatype": "FP32",
                 "data": [null, 0]}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  // NaN takes the default (left) branch.
  EXPECT_NE(r.body.find(R"("id":"a")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("data":[10.5])"), std::string::npos) << r.body;

  EXPECT_EQ(s.Call("POST", "/v2/models/other/infer", "{}").status, 404);
  EXPECT_EQ(s.Call("GET", "/v2/models/stump/ready").status, 200);
  EXPECT_EQ(s.Call("GET", "/v2/models/stump/versions/2/ready").status, 404);
  EXPECT_EQ(s.Call("GET", "/ping").status, 200);
  r = s.Call("POST", "/invocations", R"({"instances": [[1]]})", kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("INVALID_PARAMETER_VALUE"), std::string::npos) << r.body;
  r = s.Call("POST", "/invocations", "f0\n1\n", "Content-Type: text/plain\r\n");
  EXPECT_EQ(r.status, 415);

  std::string metrics = s.Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find(R"(plinth_serving_requests_total{endpoint="invocations",code="2xx"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(plinth_serving_requests_total{endpoint="invocations",code="4xx"} 2)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(plinth_serving_rows_total{endpoint="infer"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(plinth_serving_model_info{name="stump",version="1",runtime=)"),
            std::string::npos);
}

TEST(ModelServer, MicroBatchingAnswersEachRequestItsOwnRows) {
  ModelServerOptions o;
  o.model_uri = StumpModel("batched", 10.0f, 20.0f).string();
  o.max_batch = 16;
  o.batch_timeout_us = 2000;
  Served s(o);
  ASSERT_TRUE(s.Start().ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      Connection c(s.port());
      for (int i = 0; i < 40; ++i) {
        // Row (x, 0) answers 10.5 when x < 1, else 20.5; two rows per request.
        double x = (t + i) % 2 == 0 ? 0.0 : 5.0;
        std::string body = R"({"instances": [[)" + std::to_string(x) + R"(, 0], [)" +
                           std::to_string(5.0 - x) + ", 0]]}";
        if (!c.Send(Req("POST", "/invocations", body, kJson))) {
          ++wrong;
          return;
        }
        auto r = c.Read();
        std::string expected =
            x == 0.0 ? R"({"predictions":[10.5,20.5]})" : R"({"predictions":[20.5,10.5]})";
        if (!r || r->body != expected) ++wrong;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A tracking server that knows one registered model "m", its alias "live" and where each
// version's files are; version 2 is reached through the artifact proxy.
class FakeTracking {
 public:
  explicit FakeTracking(fs::path proxy_root) : proxy_root_(std::move(proxy_root)) {
    using http::Method;
    router_.Add(Method::kGet, "/api/2.0/mlflow/registered-models/alias",
                [this](http::Request& q, http::Response& r) {
                  std::lock_guard lock(mu_);
                  if (q.QueryParam("name") != "m" || q.QueryParam("alias") != "live") {
                    r.SetJson(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"})");
                    return;
                  }
                  r.SetJson(200, R"({"model_version":{"name":"m","version":")" + alias_ + "\"}}");
                });
    router_.Add(Method::kGet, "/api/2.0/mlflow/model-versions/get-download-uri",
                [this](http::Request& q, http::Response& r) {
                  std::lock_guard lock(mu_);
                  auto it = locations_.find(q.QueryParam("version").value_or(""));
                  if (it == locations_.end()) {
                    r.SetJson(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"})");
                    return;
                  }
                  r.SetJson(200, R"({"artifact_uri":")" + it->second + "\"}");
                });
    router_.Add(Method::kGet, "/api/2.0/mlflow-artifacts/artifacts",
                [this](http::Request& q, http::Response& r) {
                  fs::path dir = proxy_root_ / q.QueryParam("path").value_or("");
                  std::string files;
                  for (const auto& e : fs::directory_iterator(dir)) {
                    files += std::string(files.empty() ? "" : ",") + R"({"path":")" +
                             e.path().filename().string() + R"(","is_dir":)" +
                             (e.is_directory() ? "true" : "false") + "}";
                  }
                  r.SetJson(200, R"({"files":[)" + files + "]}");
                });
    router_.Add(Method::kGet, "/api/2.0/mlflow-artifacts/artifacts/*",
                [this](http::Request& q, http::Response& r) {
                  std::ifstream in(proxy_root_ / q.path_params.at(0), std::ios::binary);
                  r.status = 200;
                  r.content_type = "application/octet-stream";
                  r.body.assign(std::istreambuf_iterator<char>(in), {});
                });
    http::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<http::HttpServer>(o, &router_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeTracking() { server_->Stop(); }

  void SetAlias(const std::string& version) {
    std::lock_guard lock(mu_);
    alias_ = version;
  }
  void SetLocation(const std::string& version, const std::string& uri) {
    std::lock_guard lock(mu_);
    locations_[version] = uri;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  fs::path proxy_root_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::mutex mu_;
  std::string alias_ = "1";
  std::map<std::string, std::string> locations_;
};

TEST(ModelServer, FollowsTheAliasAndKeepsServingWhenAVersionIsBroken) {
  fs::path v1 = StumpModel("alias_v1", 1.0f, 1.0f);
  fs::path v2 = StumpModel("alias_v2", 2.0f, 2.0f);
  fs::path proxy_root = v2.parent_path() / (v2.filename().string() + "_proxy");
  fs::remove_all(proxy_root);
  fs::create_directories(proxy_root / "models");
  fs::copy(v2, proxy_root / "models" / "v2", fs::copy_options::recursive);
  fs::path v3 = StumpModel("alias_v3", 3.0f, 3.0f);
  WriteFile(v3 / "model.json", "{\"learner\": tru");  // truncated: fails to load

  FakeTracking tracking(proxy_root);
  tracking.SetLocation("1", v1.string());
  tracking.SetLocation("2", "mlflow-artifacts:/models/v2");
  tracking.SetLocation("3", v3.string());
  tracking.SetAlias("1");

  ModelServerOptions o;
  o.model_uri = "models:/m@live";
  o.tracking_uri = tracking.url();
  o.model_cache = v1.parent_path() / (v1.filename().string() + "_cache");
  fs::remove_all(o.model_cache);
  o.poll_interval_ms = 3600 * 1000;  // the test calls CheckAlias itself
  Served s(o);
  ASSERT_TRUE(s.Start().ok());
  auto predict = [&] {
    auto r = s.Call("POST", "/invocations", R"({"instances": [[0, 0]]})", kJson);
    return r.Header("x-plinth-model-version").value_or("") + " " + r.body;
  };
  EXPECT_EQ(predict(), R"(1 {"predictions":[1.5]})");
  EXPECT_EQ(s.Call("GET", "/v2/models/m/ready").status, 200);

  tracking.SetAlias("2");
  ASSERT_TRUE(s.model_server().CheckAlias().ok());
  EXPECT_EQ(predict(), R"(2 {"predictions":[2.5]})");

  tracking.SetAlias("3");
  Status broken = s.model_server().CheckAlias();
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(predict(), R"(2 {"predictions":[2.5]})");  // still the old version
  std::string metrics = s.Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("plinth_serving_model_load_failures_total 1"), std::string::npos);
  EXPECT_NE(metrics.find(R"(plinth_serving_model_last_load_failure{version="3")"),
            std::string::npos)
      << metrics;
  EXPECT_FALSE(s.model_server().CheckAlias().ok());  // not retried at once
  EXPECT_NE(s.Call("GET", "/metrics").body.find("plinth_serving_model_load_failures_total 1"),
            std::string::npos);

  tracking.SetAlias("1");  // rollback
  ASSERT_TRUE(s.model_server().CheckAlias().ok());
  EXPECT_EQ(predict(), R"(1 {"predictions":[1.5]})");
  EXPECT_NE(s.Call("GET", "/metrics").body.find("plinth_serving_model_swaps_total 2"),
            std::string::npos);
}

TEST(ModelServer, StartFailsClearlyWithoutAModel) {
  ModelServerOptions o;
  o.model_uri = "/nonexistent/model";
  ModelServer server(o);
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/model"), std::string::npos);
  o.model_uri = "models:/";
  EXPECT_EQ(ModelServer(o).Start().code(), StatusCode::kInvalidArgument);
  o.model_uri = "ftp://x/y";
  EXPECT_EQ(ModelServer(o).Start().code(), StatusCode::kInvalidArgument);
}

TEST(ModelUri, ParsesTheFormsMlflowTakes) {
  auto alias = ParseModelUri("models:/churn@prod");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ(alias->kind, ModelUri::Kind::kRegisteredAlias);
  EXPECT_EQ(alias->name, "churn");
  EXPECT_EQ(alias->alias, "prod");
  auto version = ParseModelUri("models:/churn/3");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->kind, ModelUri::Kind::kRegisteredVersion);
  EXPECT_EQ(version->version, "3");
  auto logged = ParseModelUri("models:/m-0123");
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(logged->kind, ModelUri::Kind::kLoggedModel);
  auto run = ParseModelUri("runs:/abc/model/sub");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->id, "abc");
  EXPECT_EQ(run->path, "model/sub");
  auto local = ParseModelUri("file:///tmp/x");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->path, "/tmp/x");
  EXPECT_FALSE(ParseModelUri("models:/churn").ok());
  EXPECT_FALSE(ParseModelUri("").ok());
}

}  // namespace
}  // namespace plinth::serving
