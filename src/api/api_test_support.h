// Test support for the in-process API tests (mlflow_api_test.cc, registry_api_test.cc): a tiny
// blocking HTTP/1.1 client, JSON path helpers, and the MlflowApiTest fixture, which serves the
// real stack (a SQLite store on a temp file, or with PLINTH_TEST_API_STORE=postgres a scratch
// PostgreSQL database; a local artifact store; the tracking and registry engines; Router and
// HttpServer on an ephemeral port). Test-only; included by the api tests alone.
#ifndef PLINTH_API_API_TEST_SUPPORT_H_
#define PLINTH_API_API_TEST_SUPPORT_H_

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/mlflow_api.h"
#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http_server.h"
#include "http/test_client.h"
#include "registry/registry_service.h"
#include "store/metadata_store.h"
#include "store/pg_test_database.h"
#include "tracking/tracking_service.h"

namespace plinth::api {

inline constexpr int64_t kNow = 1700000000000;

// ------------------------------------------------------------------ the HTTP test client

// A response as the api tests read it: status 0 when none could be read.
struct HttpResult {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

using http::testing::Lower;

// http/test_client.h's connection, answering HttpResult (5 s timeouts: some api tests move
// large artifacts).
class Connection {
 public:
  explicit Connection(uint16_t port) : c_(port, 5) {}
  bool Send(std::string_view data) { return c_.connected() && c_.Send(data); }
  HttpResult Read(bool head = false) {
    HttpResult out;
    auto r = c_.Read(head);
    if (!r) return out;
    out.status = r->status;
    out.headers = std::move(r->headers);
    out.body = std::move(r->body);
    return out;
  }

 private:
  http::testing::Connection c_;
};

inline std::string RequestBytes(std::string_view method, std::string_view target,
                                std::string_view body, std::string_view content_type) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

// ------------------------------------------------------------------ JSON helpers

// Follows a dotted path ("run.info.start_time", "metrics.0.value") through objects and arrays.
inline const JsonValue* At(const JsonValue& root, std::string_view path) {
  const JsonValue* v = &root;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (v->IsArray()) {
      char* end = nullptr;
      unsigned long i = std::strtoul(part.c_str(), &end, 10);
      if (*end != '\0' || i >= v->Size()) return nullptr;
      v = &(*v)[static_cast<rapidjson::SizeType>(i)];
    } else if (v->IsObject()) {
      auto it = v->FindMember(part.c_str());
      if (it == v->MemberEnd()) return nullptr;
      v = &it->value;
    } else {
      return nullptr;
    }
  }
  return v;
}

inline std::string StringAt(const JsonValue& root, std::string_view path) {
  const JsonValue* v = At(root, path);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                       : "<missing " + std::string(path) + ">";
}

// The value of key `key` in a [{key, value}] list at `path`.
inline std::string KeyValueAt(const JsonValue& root, std::string_view path, std::string_view key) {
  const JsonValue* list = At(root, path);
  if (list == nullptr || !list->IsArray()) return "<no list>";
  for (const JsonValue& kv : list->GetArray()) {
    if (StringAt(kv, "key") == key) return StringAt(kv, "value");
  }
  return "<absent>";
}

inline std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// ------------------------------------------------------------------ fixture

class MlflowApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("off");
    std::string pattern = ::testing::TempDir() + "plinth_api_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // ctest runs this binary twice: on SQLite, and with PLINTH_TEST_API_STORE=postgres on a
    // scratch PostgreSQL database (src/CMakeLists.txt).
    const char* which = getenv("PLINTH_TEST_API_STORE");
    Result<std::unique_ptr<store::MetadataStore>> metadata = Unavailable("no store");
    if (which != nullptr && std::string_view(which) == "postgres") {
      pg_ = store::ScratchPgDatabase::MakeIfConfigured();
      if (!pg_) GTEST_SKIP() << "PLINTH_TEST_PG_DSN is not set (make test sets it)";
      ASSERT_TRUE(pg_->status().ok()) << pg_->status().ToString();
      store::PostgresStoreOptions store_options;
      store_options.conninfo = pg_->dsn();
      store_options.pool_size = 4;
      metadata = store::OpenPostgresStore(store_options, kNow);
    } else {
      store::SqliteStoreOptions store_options;
      store_options.path = dir_ + "/db/mlflow.db";
      metadata = store::OpenSqliteStore(store_options, kNow);
    }
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    auto artifacts = artifacts::OpenLocalArtifactStore(dir_ + "/artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    tracking_ = std::make_unique<tracking::TrackingService>(metadata_.get(), &clock_,
                                                            tracking::TrackingOptions{});
    registry_ = std::make_unique<registry::RegistryService>(metadata_.get(), &clock_);
    tune_ = std::make_unique<tune::TuneService>(metadata_.get(), tracking_.get(), &clock_);
    ApiContext context;
    context.tracking = tracking_.get();
    context.registry = registry_.get();
    context.tune = tune_.get();
    context.artifacts = artifacts_.get();
    context.plinth_version = "9.9.9-test";
    context.ready = &ready_;
    RegisterMlflowApi(router_, context);

    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.drain_timeout_seconds = 5;
    server_ = std::make_unique<http::HttpServer>(options, &router_);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    port_ = server_->port();
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
    server_.reset();
    tune_.reset();
    registry_.reset();
    tracking_.reset();
    metadata_.reset();
    pg_.reset();
    artifacts_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  HttpResult Call(std::string_view method, std::string_view target, std::string_view body = "",
                  std::string_view content_type = "application/json") {
    Connection c(port_);
    if (method == "GET" || method == "HEAD") content_type = body.empty() ? "" : content_type;
    if (!c.Send(RequestBytes(method, target, body, content_type))) return {};
    return c.Read(method == "HEAD");
  }
  HttpResult Post(std::string_view path, std::string_view json) {
    return Call("POST", "/api/2.0/mlflow" + std::string(path), json);
  }
  HttpResult Get(std::string_view path_and_query) {
    return Call("GET", "/api/2.0/mlflow" + std::string(path_and_query));
  }

  // Parses a 200 response's JSON body, failing the test otherwise.
  JsonDocument Ok(const HttpResult& r) {
    JsonDocument doc;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_THAT(r.Header("content-type"), ::testing::HasSubstr("application/json"));
    Status parsed = ParseJson(r.body, &doc);
    EXPECT_TRUE(parsed.ok()) << parsed.ToString() << " in " << r.body;
    if (!parsed.ok()) doc.SetObject();
    return doc;
  }

  std::string CreateExperiment(const std::string& name) {
    JsonDocument doc = Ok(Post("/experiments/create", R"({"name":")" + Escape(name) + R"("})"));
    return StringAt(doc, "experiment_id");
  }

  std::string CreateRun(const std::string& experiment_id, const std::string& name = "",
                        std::optional<int64_t> start_time = std::nullopt) {
    std::string body = R"({"experiment_id":")" + experiment_id + R"(")";
    if (!name.empty()) body += R"(,"run_name":")" + Escape(name) + R"(")";
    if (start_time) body += R"(,"start_time":)" + std::to_string(*start_time);
    body += "}";
    JsonDocument doc = Ok(Post("/runs/create", body));
    return StringAt(doc, "run.info.run_id");
  }

  std::string dir_;
  FakeClock clock_{kNow};
  std::atomic<bool> ready_{true};
  std::unique_ptr<store::ScratchPgDatabase> pg_;  // before metadata_: dropped after it
  std::unique_ptr<store::MetadataStore> metadata_;
  std::unique_ptr<artifacts::ArtifactStore> artifacts_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<registry::RegistryService> registry_;
  std::unique_ptr<tune::TuneService> tune_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  uint16_t port_ = 0;
};

// Checks MLflow's error body: {"error_code": "<code>", "message": "<non-empty>"} as JSON.
inline void ExpectErrorBody(const HttpResult& r, std::string_view error_code) {
  EXPECT_THAT(r.Header("content-type"), ::testing::HasSubstr("application/json"));
  JsonDocument doc;
  ASSERT_TRUE(ParseJson(r.body, &doc).ok()) << r.body;
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(StringAt(doc, "error_code"), error_code) << r.body;
  EXPECT_THAT(StringAt(doc, "message"), ::testing::Not(::testing::HasSubstr("<missing"))) << r.body;
  EXPECT_FALSE(StringAt(doc, "message").empty());
}

}  // namespace plinth::api

#endif  // PLINTH_API_API_TEST_SUPPORT_H_
