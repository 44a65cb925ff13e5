// Tests for the HTTP facade (http_server.h): routing, errors, keep-alive, body limits, streaming
// request and response bodies, percent-decoding, HEAD, graceful stop and idle connections.
//
// Each test starts a real HttpServer on an ephemeral port and talks to it over TCP with the small
// blocking client below, so what is checked is what goes over the wire.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/log.h"
#include "http/test_client.h"

namespace plinth::http {
namespace {

using ::testing::HasSubstr;

using testing::ClientResponse;
using testing::Connection;
using testing::Lower;
using testing::Req;

// One request on a fresh connection.
std::optional<ClientResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                    std::string_view body = "", std::string_view headers = "") {
  Connection c(port);
  if (!c.connected() || !c.Send(Req(method, target, body, headers))) return std::nullopt;
  return c.Read(method == "HEAD");
}

// Checks an MLflow-style error body: {"error_code": code, "message": "..."}.
void ExpectJsonError(const ClientResponse& r, std::string_view error_code) {
  EXPECT_THAT(r.Header("content-type").value_or(""), HasSubstr("application/json"));
  JsonDocument doc;
  ASSERT_TRUE(ParseJson(r.body, &doc).ok()) << r.body.substr(0, 200);
  ASSERT_TRUE(doc.IsObject()) << r.body.substr(0, 200);
  auto code = JsonGetString(doc, "error_code");
  ASSERT_TRUE(code.ok() && code->has_value()) << r.body;
  EXPECT_EQ(**code, error_code) << r.body;
  auto message = JsonGetString(doc, "message");
  ASSERT_TRUE(message.ok() && message->has_value()) << r.body;
  EXPECT_FALSE((*message)->empty());
}

// ------------------------------------------------------------------ byte sources

// Deterministic bytes, generated on the fly: byte i is (i * 31 + 7) % 251.
char PatternByte(uint64_t i) { return static_cast<char>((i * 31 + 7) % 251); }

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = PatternByte(i);
  return out;
}

class PatternSource final : public ByteSource {
 public:
  PatternSource(uint64_t size, bool size_known) : size_(size), size_known_(size_known) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos_));
    for (size_t i = 0; i < k; ++i) buf[i] = PatternByte(pos_ + i);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override {
    return size_known_ ? std::optional<uint64_t>(size_) : std::nullopt;
  }

 private:
  uint64_t size_;
  bool size_known_;
  uint64_t pos_ = 0;
};

// A known-size pattern delivered slowly, as from a remote store: `chunks` reads of `chunk`
// bytes, each after a short pause.
class SlowSource final : public ByteSource {
 public:
  SlowSource(size_t chunk, int chunks) : chunk_(chunk), size_(chunk * chunks) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ == size_) return size_t{0};
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    size_t k = std::min({n, chunk_, size_ - pos_});
    for (size_t i = 0; i < k; ++i) buf[i] = PatternByte(pos_ + i);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override { return size_; }

 private:
  size_t chunk_;
  size_t size_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------ fixture

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)SetLogLevel("off");  // handler-threw and drain messages are expected here
    router_.Add(Method::kGet, "/hello", [](Request&, Response& res) {
      res.status = 200;
      res.content_type = "text/plain";
      res.body = "hello";
    });
    router_.Add(Method::kHead, "/head-only", [](Request&, Response& res) {
      res.status = 200;
      res.content_type = "text/plain";
      res.body = "abc";
    });
    router_.Add(Method::kPost, "/echo", [](Request& req, Response& res) {
      res.status = 200;
      res.content_type = "application/octet-stream";
      res.body = req.body;
      res.headers.emplace_back("X-Seen-Custom", std::string(req.Header("x-custom").value_or("")));
      res.headers.emplace_back("X-Remote", req.remote_address);
    });
    router_.Add(Method::kGet, "/items/{id}/parts/{part}", [](Request& req, Response& res) {
      res.status = 200;
      res.content_type = "text/plain";
      for (const std::string& p : req.path_params) res.body += "[" + p + "]";
    });
    router_.Add(Method::kGet, "/files/*", [](Request& req, Response& res) {
      res.status = 200;
      res.content_type = "text/plain";
      res.body = "[" + (req.path_params.empty() ? "<none>" : req.path_params.back()) + "]";
    });
    router_.Add(Method::kGet, "/inspect/{name}", [](Request& req, Response& res) {
      res.status = 200;
      res.content_type = "text/plain";
      res.body = "path=" + req.path + "|name=" + req.path_params[0] +
                 "|q=" + req.QueryParam("q").value_or("<none>") + "|tags=";
      for (const std::string& t : req.QueryParams("tag")) res.body += "(" + t + ")";
      res.body += "|missing=" + req.QueryParam("missing").value_or("<none>");
    });
    router_.Add(Method::kGet, "/throw",
                [](Request&, Response&) { throw std::runtime_error("boom"); });
    router_.Add(
        Method::kPut, "/upload/*",
        [](Request& req, Response& res) {
          std::vector<char> chunk(64 * 1024);
          uint64_t total = 0;
          uint64_t mismatches = 0;
          int reads = 0;
          for (;;) {
            auto got = req.body_stream->Read(chunk.data(), chunk.size());
            if (!got.ok()) {
              WriteError(got.status(), res);
              return;
            }
            if (*got == 0) break;
            ++reads;
            for (size_t i = 0; i < *got; ++i) {
              if (chunk[i] != PatternByte(total + i)) ++mismatches;
            }
            total += *got;
          }
          auto size = req.body_stream->Size();
          res.status = 200;
          res.content_type = "text/plain";
          res.body = "bytes=" + std::to_string(total) +
                     " size=" + (size ? std::to_string(*size) : "unknown") +
                     " mismatches=" + std::to_string(mismatches) +
                     " chunked_reads=" + (reads > 1 ? "yes" : "no") + " name=" + req.path_params[0];
        },
        RouteOptions{.streaming_body = true});
    // A streaming route whose handler answers without reading the body.
    router_.Add(
        Method::kPut, "/reject-upload",
        [](Request&, Response& res) { WriteError(InvalidArgument("not today"), res); },
        RouteOptions{.streaming_body = true});
    auto stream = [](bool size_known) {
      return [size_known](Request& req, Response& res) {
        uint64_t n = std::strtoull(req.QueryParam("n").value_or("0").c_str(), nullptr, 10);
        res.status = 200;
        res.content_type = "application/octet-stream";
        res.stream = std::make_unique<PatternSource>(n, size_known);
      };
    };
    router_.Add(Method::kGet, "/stream/known", stream(true));
    router_.Add(Method::kHead, "/stream/known", stream(true));
    router_.Add(Method::kGet, "/stream/unknown", stream(false));
    router_.Add(Method::kGet, "/slow-stream", [](Request&, Response& res) {
      res.status = 200;
      res.content_type = "application/octet-stream";
      res.stream = std::make_unique<SlowSource>(64 * 1024, 8);
    });
    router_.Add(Method::kGet, "/slow", [this](Request&, Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        slow_entered_ = true;
      }
      cv_.notify_all();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.status = 200;
      res.content_type = "text/plain";
      res.body = "slow done";
      slow_finished_ = true;
    });
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.drain_timeout_seconds = 5;
    server_ = std::make_unique<HttpServer>(options, &router_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  bool WaitForSlowHandler() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [this] { return slow_entered_; });
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool slow_entered_ = false;  // guarded by mu_
  std::atomic<bool> slow_finished_{false};
};

// ------------------------------------------------------------------ options

TEST(ServerOptionsTest, Validate) {
  EXPECT_TRUE(ServerOptions{}.Validate().ok());
  ServerOptions no_host;
  no_host.host = "";
  EXPECT_EQ(no_host.Validate().code(), StatusCode::kInvalidArgument);
  ServerOptions bad_threads;
  bad_threads.threads = -1;
  EXPECT_EQ(bad_threads.Validate().code(), StatusCode::kInvalidArgument);
  ServerOptions no_body;
  no_body.max_body_bytes = 0;
  EXPECT_EQ(no_body.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("100%", false), "100%");
  EXPECT_EQ(PercentDecode("%zz%4", false), "%zz%4");
  EXPECT_EQ(PercentDecode("%41%42", false), "AB");
}

TEST(HttpServerStartTest, PortInUseIsUnavailable) {
  Router router;
  ServerOptions options;
  options.port = 0;
  options.threads = 1;
  HttpServer first(options, &router);
  ASSERT_TRUE(first.Start().ok());
  options.port = first.port();
  HttpServer second(options, &router);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
}

// ------------------------------------------------------------------ routing

TEST_F(HttpServerTest, ExactRoute) {
  StartServer();
  auto r = Fetch(port_, "GET", "/hello");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->Header("content-length"), "5");
}

TEST_F(HttpServerTest, RequestBodyAndHeadersReachTheHandler) {
  StartServer();
  auto r = Fetch(port_, "POST", "/echo", "some body", "X-Custom: Value\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "some body");
  EXPECT_EQ(r->Header("x-seen-custom"), "Value");  // looked up by its lower-case name
  EXPECT_EQ(r->Header("x-remote"), "127.0.0.1");
}

TEST_F(HttpServerTest, ParamRoutes) {
  StartServer();
  auto r = Fetch(port_, "GET", "/items/42/parts/wheel");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "[42][wheel]");

  // An empty segment does not fill a {param}; extra or missing segments do not match.
  for (const char* target : {"/items//parts/wheel", "/items/42/parts", "/items/42/parts/w/x"}) {
    auto miss = Fetch(port_, "GET", target);
    ASSERT_TRUE(miss.has_value()) << target;
    EXPECT_EQ(miss->status, 404) << target;
  }
}

TEST_F(HttpServerTest, WildcardRoutes) {
  StartServer();
  struct Case {
    const char* target;
    const char* body;
  };
  for (const Case& c : {Case{"/files/a.txt", "[a.txt]"}, Case{"/files/a/b/c.txt", "[a/b/c.txt]"},
                        Case{"/files/", "[]"}}) {
    auto r = Fetch(port_, "GET", c.target);
    ASSERT_TRUE(r.has_value()) << c.target;
    EXPECT_EQ(r->status, 200) << c.target;
    EXPECT_EQ(r->body, c.body) << c.target;
  }
  auto other = Fetch(port_, "GET", "/filesystem/a");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 404);
}

TEST_F(HttpServerTest, UnknownPathIsEndpointNotFound) {
  StartServer();
  for (const char* target : {"/nope", "/", "/hello/extra", "/api/2.0/mlflow/unknown"}) {
    auto r = Fetch(port_, "GET", target);
    ASSERT_TRUE(r.has_value()) << target;
    EXPECT_EQ(r->status, 404) << target;
    ExpectJsonError(*r, "ENDPOINT_NOT_FOUND");
  }
}

TEST_F(HttpServerTest, KnownPathWithAnotherMethodIs405) {
  StartServer();
  struct Case {
    const char* method;
    const char* target;
  };
  for (const Case& c :
       {Case{"POST", "/hello"}, Case{"DELETE", "/hello"}, Case{"DELETE", "/items/1/parts/2"},
        Case{"POST", "/files/x"}, Case{"GET", "/echo"}}) {
    auto r = Fetch(port_, c.method, c.target);
    ASSERT_TRUE(r.has_value()) << c.method << " " << c.target;
    EXPECT_EQ(r->status, 405) << c.method << " " << c.target;
    ExpectJsonError(*r, "BAD_REQUEST");
  }
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  ExpectJsonError(*r, "BAD_REQUEST");
}

// ------------------------------------------------------------------ connections

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto first = c.Read();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_NE(Lower(first->Header("connection").value_or("")), "close");

  ASSERT_TRUE(c.Send(Req("POST", "/echo", "second")));
  auto second = c.Read();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, "second");

  // Pipelined: two requests in one write, answered in order.
  ASSERT_TRUE(c.Send(Req("GET", "/items/1/parts/2") + Req("GET", "/files/x")));
  auto third = c.Read();
  auto fourth = c.Read();
  ASSERT_TRUE(third.has_value() && fourth.has_value());
  EXPECT_EQ(third->body, "[1][2]");
  EXPECT_EQ(fourth->body, "[x]");

  // An error response keeps the connection too.
  ASSERT_TRUE(c.Send(Req("GET", "/nope")));
  auto fifth = c.Read();
  ASSERT_TRUE(fifth.has_value());
  EXPECT_EQ(fifth->status, 404);
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto sixth = c.Read();
  ASSERT_TRUE(sixth.has_value());
  EXPECT_EQ(sixth->body, "hello");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("GET", "/hello", "", "Connection: close\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(Lower(r->Header("connection").value_or("")), "close");
  EXPECT_TRUE(c.ClosedByPeer());
}

// ------------------------------------------------------------------ body limits

TEST_F(HttpServerTest, BodyOverLimitWithContentLengthIs413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  // Within the limit: served.
  auto ok = Fetch(port_, "POST", "/echo", std::string(1024, 'a'));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1024u);

  // Over it: refused before the handler runs, with MLflow's error body.
  auto r = Fetch(port_, "POST", "/echo", std::string(8 * 1024, 'b'));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  ExpectJsonError(*r, "INVALID_PARAMETER_VALUE");
}

TEST_F(HttpServerTest, BodyOverLimitWithChunkedEncodingIs413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  std::string chunked;
  for (int i = 0; i < 8; ++i) chunked += "200\r\n" + std::string(512, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  Connection c(port_);
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  ExpectJsonError(*r, "INVALID_PARAMETER_VALUE");
}

TEST_F(HttpServerTest, StreamingBodyOverStreamingLimitIs413) {
  ServerOptions options;
  options.max_streaming_body_bytes = 1 << 20;
  StartServer(options);
  Connection c(port_);
  // Only the header is sent: the declared size alone is enough to refuse.
  ASSERT_TRUE(c.Send("PUT /upload/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  ExpectJsonError(*r, "INVALID_PARAMETER_VALUE");
}

// ------------------------------------------------------------------ streaming

TEST_F(HttpServerTest, StreamingBodyIsReadInChunks) {
  ServerOptions options;
  options.max_body_bytes = 1024;  // streaming routes are not bound by the ordinary limit
  StartServer(options);
  const size_t kSize = 12 * 1024 * 1024 + 123;  // past Beast's 8 MB default limit too
  Connection c(port_);
  std::string headers =
      "PUT /upload/dir/model.bin HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kSize) +
      "\r\n\r\n";
  ASSERT_TRUE(c.Send(headers));
  ASSERT_TRUE(c.Send(Pattern(kSize)));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "bytes=" + std::to_string(kSize) + " size=" + std::to_string(kSize) +
                         " mismatches=0 chunked_reads=yes name=dir/model.bin");

  // The connection is reusable afterwards.
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto next = c.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

TEST_F(HttpServerTest, StreamingBodyWithChunkedEncodingHasUnknownSize) {
  StartServer();
  const size_t kSize = 3 * 1024 * 1024 + 7;
  std::string body = Pattern(kSize);
  std::string wire = "PUT /upload/c.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t off = 0; off < kSize; off += 100000) {
    size_t n = std::min<size_t>(100000, kSize - off);
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    wire += size_line;
    wire.append(body, off, n);
    wire += "\r\n";
  }
  wire += "0\r\n\r\n";
  Connection c(port_);
  ASSERT_TRUE(c.Send(wire));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "bytes=" + std::to_string(kSize) +
                         " size=unknown mismatches=0 chunked_reads=yes name=c.bin");
}

TEST_F(HttpServerTest, StreamingRouteThatIgnoresItsBodyKeepsTheConnectionUsable) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("PUT", "/reject-upload", std::string(300 * 1024, 'z'))));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  ExpectJsonError(*r, "INVALID_PARAMETER_VALUE");
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto next = c.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

TEST_F(HttpServerTest, ExpectContinueOnStreamingUpload) {
  StartServer();
  const size_t kSize = 100000;
  Connection c(port_);
  ASSERT_TRUE(
      c.Send("PUT /upload/e.bin HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: " +
             std::to_string(kSize) + "\r\n\r\n"));
  auto cont = c.Read();
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send(Pattern(kSize)));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("bytes=100000 "));
}

TEST_F(HttpServerTest, StreamedResponseOfKnownSize) {
  StartServer();
  const size_t kSize = 5 * 1024 * 1024 + 17;
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("GET", "/stream/known?n=" + std::to_string(kSize))));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), std::to_string(kSize));
  EXPECT_FALSE(r->Header("transfer-encoding").has_value());
  EXPECT_EQ(r->body.size(), kSize);
  EXPECT_TRUE(r->body == Pattern(kSize));
  // Keep-alive survives a streamed response.
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto next = c.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

TEST_F(HttpServerTest, StreamedResponseOfUnknownSizeIsChunked) {
  StartServer();
  const size_t kSize = 2 * 1024 * 1024 + 5;
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("GET", "/stream/unknown?n=" + std::to_string(kSize))));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(Lower(r->Header("transfer-encoding").value_or("")), HasSubstr("chunked"));
  EXPECT_FALSE(r->Header("content-length").has_value());
  EXPECT_EQ(r->body.size(), kSize);
  EXPECT_TRUE(r->body == Pattern(kSize));

  // An empty stream is a valid empty body.
  ASSERT_TRUE(c.Send(Req("GET", "/stream/unknown?n=0")));
  auto empty = c.Read();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->body, "");
}

// ------------------------------------------------------------------ decoding

TEST_F(HttpServerTest, PercentDecodingOfPathAndQuery) {
  StartServer();
  auto r = Fetch(port_, "GET",
                 "/inspect/a%20b%C3%A9?q=1%2B1+2%26x&tag=one&tag=t%77o&tag=&other=z&tag=four");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body,
            "path=/inspect/a b\xC3\xA9|name=a b\xC3\xA9|q=1+1 2&x|tags=(one)(two)()(four)|"
            "missing=<none>");

  // A decoded %2F is a path separator for routing (as in werkzeug).
  auto wild = Fetch(port_, "GET", "/files/a%2Fb%2Fc.txt");
  ASSERT_TRUE(wild.has_value());
  EXPECT_EQ(wild->status, 200);
  EXPECT_EQ(wild->body, "[a/b/c.txt]");
}

// ------------------------------------------------------------------ handler failures

TEST_F(HttpServerTest, HandlerThatThrowsIs500Json) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("GET", "/throw")));
  auto r = c.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 500);
  ExpectJsonError(*r, "INTERNAL_ERROR");
  EXPECT_THAT(r->body, HasSubstr("boom"));
  // The server and the connection carry on.
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto next = c.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "hello");
}

// A handler throwing something that is not a std::exception must not take the connection (or the
// server's shutdown) down with it. Run in a child process so a crash fails only this test.
TEST(HttpServerDeathTest, HandlerThatThrowsANonStdExceptionIs500) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto scenario = [] {
    (void)SetLogLevel("off");
    Router router;
    router.Add(Method::kGet, "/throw-int", [](Request&, Response&) { throw 42; });
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.drain_timeout_seconds = 2;
    HttpServer server(options, &router);
    if (!server.Start().ok()) std::_Exit(2);
    auto r = Fetch(server.port(), "GET", "/throw-int");
    server.Stop();
    server.Wait();
    std::_Exit(r.has_value() && r->status == 500 ? 0 : 1);
  };
  EXPECT_EXIT(scenario(), ::testing::ExitedWithCode(0), "");
}

// ------------------------------------------------------------------ HEAD

// RFC 9110 9.1: a general-purpose server MUST support HEAD wherever it supports GET (werkzeug,
// under `mlflow server`, does so for every GET route).
TEST_F(HttpServerTest, HeadIsAnsweredByGetRoutesWithoutABody) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("HEAD", "/hello")));
  auto head = c.Read(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/plain");
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto get = c.Read();
  ASSERT_TRUE(get.has_value()) << "the HEAD response carried body bytes";
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

// A response to HEAD never carries body bytes, or the next response on the connection is
// garbled (RFC 9110 9.3.2).
TEST_F(HttpServerTest, HeadResponseWithStringBodySendsNoBodyBytes) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("HEAD", "/head-only")));
  auto head = c.Read(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto get = c.Read();
  ASSERT_TRUE(get.has_value()) << "the HEAD response carried body bytes";
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

TEST_F(HttpServerTest, HeadOnStreamedResponseSendsLengthButNoBody) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("HEAD", "/stream/known?n=123456")));
  auto head = c.Read(/*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "123456");
  ASSERT_TRUE(c.Send(Req("GET", "/hello")));
  auto get = c.Read();
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->body, "hello");
}

// ------------------------------------------------------------------ stopping

TEST_F(HttpServerTest, StopLetsInFlightRequestFinishAndClosesIdleConnections) {
  StartServer();
  // An idle keep-alive connection, after one request.
  Connection idle(port_);
  ASSERT_TRUE(idle.Send(Req("GET", "/hello")));
  ASSERT_TRUE(idle.Read().has_value());

  Connection slow(port_);
  ASSERT_TRUE(slow.Send(Req("GET", "/slow")));
  ASSERT_TRUE(WaitForSlowHandler());

  std::atomic<bool> stop_returned{false};
  std::thread stopper([&] {
    server_->Stop();
    stop_returned = true;
  });
  server_->Wait();
  // Wait returns only once the in-flight request is done.
  EXPECT_TRUE(slow_finished_.load());
  stopper.join();
  EXPECT_TRUE(stop_returned.load());

  auto r = slow.Read();
  ASSERT_TRUE(r.has_value()) << "the in-flight request lost its response";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(Lower(r->Header("connection").value_or("")), "close");
  EXPECT_TRUE(slow.ClosedByPeer());
  EXPECT_TRUE(idle.ClosedByPeer());

  // Nothing is served any more.
  auto after = Fetch(port_, "GET", "/hello");
  EXPECT_FALSE(after.has_value());
}

TEST_F(HttpServerTest, StopDuringStreamedResponseLetsItFinish) {
  StartServer();
  Connection c(port_);
  ASSERT_TRUE(c.Send(Req("GET", "/slow-stream")));
  // The body takes ~320 ms to produce; stop while it is mid-way (the sleep only places the stop,
  // the assertions below do not depend on timing).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread stopper([this] { server_->Stop(); });
  auto r = c.Read();
  stopper.join();
  server_->Wait();
  ASSERT_TRUE(r.has_value()) << "the streamed response was cut short";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 8u * 64 * 1024);
  EXPECT_TRUE(r->body == Pattern(8 * 64 * 1024));
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(HttpServerTest, StopIsIdempotentAndSafeFromManyThreads) {
  StartServer();
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) stoppers.emplace_back([this] { server_->Stop(); });
  for (auto& t : stoppers) t.join();
  server_->Wait();
  server_->Stop();
  EXPECT_FALSE(Fetch(port_, "GET", "/hello").has_value());
}

TEST_F(HttpServerTest, ManyIdleConnectionsDoNotBlockNewRequests) {
  StartServer();  // 4 threads serve 500+ connections: idle ones must not hold a thread
  constexpr int kIdle = 500;
  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Connection>(port_));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  // Some are idle after a request, some stop half-way through a request header.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(idle[i]->Send(Req("GET", "/hello")));
    auto r = idle[i]->Read();
    ASSERT_TRUE(r.has_value()) << i;
  }
  for (int i = 50; i < 100; ++i) ASSERT_TRUE(idle[i]->Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));

  for (int i = 0; i < 5; ++i) {
    auto r = Fetch(port_, "GET", "/hello");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  // A half-sent request completes when its sender carries on.
  ASSERT_TRUE(idle[60]->Send("\r\n"));
  auto finished = idle[60]->Read();
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->body, "hello");

  // Stop closes every idle connection without waiting for the drain timeout to expire.
  server_->Stop();
  server_->Wait();
  int closed = 0;
  for (auto& c : idle) {
    // Once one is found open, do not wait on the rest: the count already fails the test.
    closed += c->ClosedByPeer(closed == &c - &idle[0] ? 2000 : 0) ? 1 : 0;
  }
  EXPECT_EQ(closed, kIdle);
}

}  // namespace
}  // namespace plinth::http

namespace plinth::http {
namespace {

TEST_F(HttpServerTest, IdleTimeoutClosesStalledAndIdleConnectionsButNotBusyOnes) {
  ServerOptions options;
  options.idle_timeout_seconds = 1;
  StartServer(options);
  Connection idle(port_);
  ASSERT_TRUE(idle.Send(Req("GET", "/hello")));
  ASSERT_TRUE(idle.Read().has_value());
  Connection stalled(port_);
  ASSERT_TRUE(stalled.Send("GET /hello HTTP/1.1\r\nHost: x\r\n"));  // header never finished
  // A connection that keeps sending requests is never idle for long.
  Connection active(port_);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(active.Send(Req("GET", "/hello")));
    auto r = active.Read();
    ASSERT_TRUE(r.has_value()) << "request " << i;
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_TRUE(idle.ClosedByPeer(5000));
  EXPECT_TRUE(stalled.ClosedByPeer(5000));
  // The server still accepts new work.
  auto fresh = Fetch(port_, "GET", "/hello");
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->status, 200);
}

}  // namespace
}  // namespace plinth::http
