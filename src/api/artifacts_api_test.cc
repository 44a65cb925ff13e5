// The artifact routes beyond the plain proxy: a server without the proxy
// (--no-serve-artifacts) answering as `mlflow server` does, run artifacts listed through the
// tracking API from the s3:// roots such a server hands to clients (against FakeS3), and HTTP
// Range requests on proxied downloads. Handlers are called through the Router, in process.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "api/mlflow_api.h"
#include "artifacts/fake_s3.h"
#include "core/clock.h"
#include "store/metadata_store.h"

namespace plinth::api {
namespace {

constexpr int64_t kNow = 1700000000000;

struct Answer {
  int status = 0;
  std::string body;
  http::Response response;
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : response.headers) {
      if (k == name) return v;
    }
    return "";
  }
};

class ArtifactsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // src/CMakeLists.txt runs the API tests a second time on PostgreSQL; these do not depend on
    // the metadata store, so once (on SQLite) is enough.
    const char* store = std::getenv("PLINTH_TEST_API_STORE");
    if (store != nullptr && std::string_view(store) == "postgres") {
      GTEST_SKIP() << "artifact routes do not depend on the metadata store: run on SQLite only";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("plinth-artifacts-api-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    tracking_.reset();
    metadata_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // Builds the API over a fresh SQLite store; `proxy` may be null (--no-serve-artifacts).
  void Build(artifacts::ArtifactStore* proxy, const std::string& default_root) {
    store::SqliteStoreOptions options;
    options.path = (dir_ / "db" / "mlflow.db").string();
    auto metadata = store::OpenSqliteStore(options, kNow);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    tracking::TrackingOptions tracking_options;
    tracking_options.default_artifact_root = default_root;
    tracking_ =
        std::make_unique<tracking::TrackingService>(metadata_.get(), &clock_, tracking_options);
    ApiContext context;
    context.tracking = tracking_.get();
    context.artifacts = proxy;
    RegisterMlflowApi(router_, context);
  }
  Answer Call(http::Method method, const std::string& path, const std::string& query = "",
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = method;
    req.method_name = method == http::Method::kGet ? "GET" : "PUT";
    req.path = path;
    req.query = query;
    req.target = path + (query.empty() ? "" : "?" + query);
    req.headers = std::move(headers);
    Answer a;
    auto match = router_.Find(method, path, &req.path_params);
    if (match.handler == nullptr) {
      a.status = 404;
      return a;
    }
    (*match.handler)(req, a.response);
    a.status = a.response.status;
    a.body = a.response.body;
    if (a.response.stream) {
      char buf[4096];
      for (;;) {
        auto got = a.response.stream->Read(buf, sizeof buf);
        if (!got.ok() || *got == 0) break;
        a.body.append(buf, *got);
      }
    }
    return a;
  }
  std::string NewRun() {
    auto exp = tracking_->CreateExperiment("e", "", {});
    EXPECT_TRUE(exp.ok()) << exp.status().ToString();
    tracking::CreateRunRequest request;
    request.experiment_id = *exp;
    auto run = tracking_->CreateRun(request);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run->info.run_id;
  }

  std::filesystem::path dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<store::MetadataStore> metadata_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  http::Router router_;
};

TEST_F(ArtifactsApiTest, WithoutTheProxyItsRoutesAnswerAsMlflowDoes) {
  Build(nullptr, (dir_ / "local-root").string());
  for (http::Method m : {http::Method::kGet, http::Method::kPut, http::Method::kDelete}) {
    Answer a = Call(m, "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x.txt");
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.body,
              "Endpoint: /api/2.0/mlflow-artifacts/artifacts/<path:artifact_path> disabled due "
              "to the mlflow server running with `--no-serve-artifacts`. To enable artifacts "
              "server functionality, run `mlflow server` with `--serve-artifacts`");
  }
  Answer list = Call(http::Method::kGet, "/api/2.0/mlflow-artifacts/artifacts", "path=1");
  EXPECT_EQ(list.status, 503);
  EXPECT_EQ(list.body.rfind("Endpoint: /api/2.0/mlflow-artifacts/artifacts disabled due to", 0), 0u)
      << list.body;
  // Runs under a local root: listed as empty (the client reads local roots itself).
  std::string run = NewRun();
  Answer runs = Call(http::Method::kGet, "/api/2.0/mlflow/artifacts/list", "run_id=" + run);
  EXPECT_EQ(runs.status, 200) << runs.body;
  EXPECT_EQ(runs.body.find("\"files\""), std::string::npos) << runs.body;
}

TEST_F(ArtifactsApiTest, ProxiedRootsNeedTheProxy) {
  Build(nullptr, "mlflow-artifacts:");
  std::string run = NewRun();
  Answer a = Call(http::Method::kGet, "/api/2.0/mlflow/artifacts/list", "run_id=" + run);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_NE(a.body.find("--no-serve-artifacts"), std::string::npos) << a.body;
}

TEST_F(ArtifactsApiTest, RunArtifactsListedFromS3Roots) {
  artifacts::testing::FakeS3 fake;
  ASSERT_TRUE(fake.Start().ok());
  fake.CreateBucket("bkt");
  // The server reads the usual AWS variables; make them point at the fake only.
  for (const char* name : {"MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
                           "AWS_SESSION_TOKEN", "AWS_S3_ADDRESSING_STYLE"}) {
    unsetenv(name);
  }
  setenv("AWS_ENDPOINT_URL", fake.endpoint().c_str(), 1);
  setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "fake-secret", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);

  Build(nullptr, "s3://bkt/mlruns");
  std::string run = NewRun();
  auto got = tracking_->GetRun(run);
  ASSERT_TRUE(got.ok());
  const std::string root = got->info.artifact_uri;
  ASSERT_EQ(root.rfind("s3://bkt/mlruns/", 0), 0u) << root;
  const std::string key = root.substr(std::string("s3://bkt/").size());
  fake.Put("bkt", key + "/model/MLmodel", "flavors: {}");
  fake.Put("bkt", key + "/model/data/w.bin", std::string(1000, 'w'));
  fake.Put("bkt", key + "/notes.txt", "hi");

  Answer top = Call(http::Method::kGet, "/api/2.0/mlflow/artifacts/list", "run_id=" + run);
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(top.body, "{\"root_uri\":\"" + root +
                          "\",\"files\":[{\"path\":\"model\",\"is_dir\":true},"
                          "{\"path\":\"notes.txt\",\"is_dir\":false,\"file_size\":2}]}");
  Answer sub =
      Call(http::Method::kGet, "/api/2.0/mlflow/artifacts/list", "run_id=" + run + "&path=model");
  EXPECT_EQ(sub.body,
            "{\"root_uri\":\"" + root +
                "\",\"files\":[{\"path\":\"model/MLmodel\",\"is_dir\":false,\"file_size\":11},"
                "{\"path\":\"model/data\",\"is_dir\":true}]}");
  EXPECT_EQ(fake.BadSignatures(), 0);
}

TEST_F(ArtifactsApiTest, ProxyHonoursByteRanges) {
  auto store = artifacts::OpenLocalArtifactStore((dir_ / "artifacts").string());
  ASSERT_TRUE(store.ok());
  Build(store->get(), "mlflow-artifacts:");
  const std::string url = "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/f.txt";
  {
    std::string body = "0123456789";
    class Body : public ByteSource {
     public:
      explicit Body(std::string s) : s_(std::move(s)) {}
      Result<size_t> Read(char* buf, size_t n) override {
        size_t k = std::min(n, s_.size() - pos_);
        std::copy_n(s_.data() + pos_, k, buf);
        pos_ += k;
        return k;
      }
      std::optional<uint64_t> Size() const override { return s_.size(); }

     private:
      std::string s_;
      size_t pos_ = 0;
    } source(body);
    ASSERT_TRUE((*store)->Put("1/r/artifacts/f.txt", source).ok());
  }
  Answer whole = Call(http::Method::kGet, url);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, "0123456789");
  EXPECT_EQ(whole.Header("Accept-Ranges"), "bytes");

  Answer mid = Call(http::Method::kGet, url, "", {{"range", "bytes=2-5"}});
  EXPECT_EQ(mid.status, 206);
  EXPECT_EQ(mid.body, "2345");
  EXPECT_EQ(mid.Header("Content-Range"), "bytes 2-5/10");

  Answer open = Call(http::Method::kGet, url, "", {{"range", "bytes=7-"}});
  EXPECT_EQ(open.status, 206);
  EXPECT_EQ(open.body, "789");
  EXPECT_EQ(open.Header("Content-Range"), "bytes 7-9/10");

  Answer clamped = Call(http::Method::kGet, url, "", {{"range", "bytes=8-100"}});
  EXPECT_EQ(clamped.status, 206);
  EXPECT_EQ(clamped.body, "89");
  EXPECT_EQ(clamped.Header("Content-Range"), "bytes 8-9/10");

  for (const char* past : {"bytes=10-", "bytes=50-60"}) {
    Answer a = Call(http::Method::kGet, url, "", {{"range", past}});
    EXPECT_EQ(a.status, 416) << past;
    EXPECT_EQ(a.Header("Content-Range"), "bytes */10") << past;
  }
  // Forms we do not serve partially: the whole file, as HTTP allows.
  for (const char* other : {"bytes=-3", "bytes=0-1,4-5", "items=0-1", "bytes=5-2"}) {
    Answer a = Call(http::Method::kGet, url, "", {{"range", other}});
    EXPECT_EQ(a.status, 200) << other;
    EXPECT_EQ(a.body, "0123456789") << other;
  }
  Answer missing = Call(http::Method::kGet, url + ".nope", "", {{"range", "bytes=0-1"}});
  EXPECT_EQ(missing.status, 404);
}

}  // namespace
}  // namespace plinth::api
