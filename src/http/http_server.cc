// Boost.Beast behind the facade of http_server.h. See the header for the threading model.
#include "http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>  // before asio's awaitable.hpp, which uses std::exchange (Boost 1.74 + g++ 12)

#include "core/clock.h"
#include "core/log.h"

namespace plinth::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kChunkBytes = 256 * 1024;

Method ToMethod(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + 32);
    }
  }
  return out;
}

// The request body of a streaming route, read synchronously from the socket in the handler's
// thread. The connection's coroutine is suspended meanwhile, so nothing else touches the socket.
class StreamingBody final : public ByteSource {
 public:
  StreamingBody(tcp::socket& socket, beast::flat_buffer& buffer,
                bhttp::request_parser<bhttp::buffer_body>& parser)
      : socket_(socket), buffer_(buffer), parser_(parser) {}

  Result<size_t> Read(char* buf, size_t n) override {
    while (!parser_.is_done()) {
      parser_.get().body().data = buf;
      parser_.get().body().size = n;
      beast::error_code ec;
      bhttp::read_some(socket_, buffer_, parser_, ec);
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        failed_ = true;
        if (ec == bhttp::error::body_limit) {
          return Status(StatusCode::kPayloadTooLarge, "request body exceeds the size limit");
        }
        return BadRequest("request body ended early: " + ec.message());
      }
      size_t got = n - parser_.get().body().size;
      if (got > 0) {
        return got;
      }
    }
    return size_t{0};
  }

  std::optional<uint64_t> Size() const override {
    auto len = parser_.content_length();
    if (len) {
      return *len;
    }
    return std::nullopt;
  }

  // Reads and drops what the handler left unread, so the connection can be reused.
  bool Drain() {
    if (failed_) {
      return false;
    }
    std::array<char, 16384> scratch;
    while (!parser_.is_done()) {
      auto got = Read(scratch.data(), scratch.size());
      if (!got.ok()) {
        return false;
      }
    }
    return true;
  }

 private:
  tcp::socket& socket_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  bool failed_ = false;
};

}  // namespace

Status ServerOptions::Validate() const {
  if (host.empty()) {
    return InvalidArgument("--host must not be empty");
  }
  if (threads < 0 || threads > 4096) {
    return InvalidArgument("--workers must be between 1 and 4096");
  }
  if (max_body_bytes == 0) {
    return InvalidArgument("max_body_bytes must be positive");
  }
  return Status::Ok();
}

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router* router)
      : options_(std::move(options)), router_(router), acceptor_(io_) {}

  Status Start() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      // Resolve names such as "localhost".
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
      if (ec || results.empty()) {
        return Unavailable("cannot resolve host '" + options_.host + "': " + ec.message());
      }
      address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                         ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), asio::detached);
    if (options_.idle_timeout_seconds > 0) {
      asio::co_spawn(io_, SweepIdle(), asio::detached);
    }
    int threads = options_.threads;
    if (threads == 0) {
      // Enough threads for handlers that wait on a group commit, few enough that the
      // scheduler does not churn (measured: 8 threads 0.12 ms CPU per create-run on 2 cores,
      // 32 threads 0.16 ms).
      threads = std::max(8, 4 * static_cast<int>(std::thread::hardware_concurrency()));
    }
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    stopped_cv_.wait(lock, [this] { return stopped_; });
    lock.unlock();
    if (drain_thread_.joinable()) {
      drain_thread_.join();
    }
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }

  void Stop() {
    if (stopping_.exchange(true)) {
      return;
    }
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // Close idle connections; busy ones close after their response (see Serve).
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [raw, weak] : connections_) {
        std::shared_ptr<Connection> c = weak.lock();
        if (!c) continue;
        asio::post(c->strand, [c] {
          if (c->idle) {
            beast::error_code ec;
            c->socket.shutdown(tcp::socket::shutdown_both, ec);
            c->socket.close(ec);
          }
        });
      }
    }
    std::lock_guard<std::mutex> guard(mu_);
    drain_thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      drained_cv_.wait_for(lock, std::chrono::seconds(options_.drain_timeout_seconds),
                           [this] { return connections_.empty(); });
      if (!connections_.empty()) {
        PLINTH_LOG_WARN("drain timeout: closing {} connections still busy", connections_.size());
      }
      lock.unlock();
      io_.stop();
      lock.lock();
      stopped_ = true;
      stopped_cv_.notify_all();
    });
  }

  ~Impl() {
    Stop();
    Wait();
  }

 private:
  struct Connection {
    Connection(tcp::socket s, asio::strand<asio::io_context::executor_type> st)
        : socket(std::move(s)), strand(std::move(st)) {}
    tcp::socket socket;
    asio::strand<asio::io_context::executor_type> strand;
    bool idle = true;  // touched on the strand only
    // Monotonic ms when the connection last started waiting for a request (read by the sweep).
    std::atomic<int64_t> idle_since_ms{0};
  };

  static int64_t NowMs() { return Clock::System()->MonotonicMicros() / 1000; }

  // Every few seconds, closes connections that have waited longer than the idle timeout for a
  // request header (a plain idle keep-alive, or a client that stalled mid-header). One timer
  // for the server, not one per request.
  asio::awaitable<void> SweepIdle() {
    asio::steady_timer timer(io_);
    const int64_t timeout_ms = int64_t{options_.idle_timeout_seconds} * 1000;
    for (;;) {
      timer.expires_after(
          std::chrono::seconds(std::clamp(options_.idle_timeout_seconds / 4, 1, 5)));
      beast::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopping_.load()) {
        co_return;
      }
      const int64_t now = NowMs();
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [raw, weak] : connections_) {
        std::shared_ptr<Connection> c = weak.lock();
        if (!c || now - c->idle_since_ms.load() < timeout_ms) continue;
        asio::post(c->strand, [c, now, timeout_ms] {
          if (c->idle && now - c->idle_since_ms.load() >= timeout_ms) {
            beast::error_code ignored;
            c->socket.shutdown(tcp::socket::shutdown_both, ignored);
            c->socket.close(ignored);
          }
        });
      }
    }
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      beast::error_code ec;
      auto strand = asio::make_strand(io_);
      tcp::socket socket =
          co_await acceptor_.async_accept(strand, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping_.load() || ec == asio::error::operation_aborted) {
          co_return;
        }
        PLINTH_LOG_WARN("accept failed: {}", ec.message());
        continue;
      }
      if (stopping_.load()) {
        co_return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto conn = std::make_shared<Connection>(std::move(socket), strand);
      {
        std::lock_guard<std::mutex> lock(mu_);
        connections_.emplace(conn.get(), conn);
      }
      asio::co_spawn(strand, Serve(conn), asio::detached);
    }
  }

  void Forget(Connection* c) {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(c);
    if (connections_.empty()) {
      drained_cv_.notify_all();
    }
  }

  // Unregisters a connection however its coroutine ends (return, error or exception).
  struct ForgetOnExit {
    Impl* impl;
    Connection* conn;
    ~ForgetOnExit() { impl->Forget(conn); }
  };

  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn) {
    ForgetOnExit forget{this, conn.get()};
    tcp::socket& socket = conn->socket;
    beast::flat_buffer buffer;
    std::string remote;
    {
      beast::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) {
        remote = ep.address().to_string();
      }
    }
    for (;;) {
      conn->idle = true;
      conn->idle_since_ms = NowMs();
      if (stopping_.load()) {
        break;
      }
      beast::error_code ec;
      bhttp::request_parser<bhttp::empty_body> header_parser;
      header_parser.header_limit(64 * 1024);
      // Beast checks Content-Length against the body limit while reading the header; the real
      // limit is applied below once the route (streaming or not) is known.
      header_parser.body_limit(options_.max_streaming_body_bytes);
      co_await bhttp::async_read_header(socket, buffer, header_parser,
                                        asio::redirect_error(asio::use_awaitable, ec));
      conn->idle = false;
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          Response too_large;
          WriteError(Status(StatusCode::kPayloadTooLarge, "request body exceeds the size limit"),
                     too_large);
          co_await WriteSimple(socket, too_large, 11, false, false);
        } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted &&
                   ec != asio::error::connection_reset && ec != asio::error::eof &&
                   ec != asio::error::bad_descriptor) {
          Response bad;
          WriteError(BadRequest("malformed HTTP request: " + ec.message()), bad);
          co_await WriteSimple(socket, bad, 11, false, false);
        }
        break;
      }
      int64_t start_us = Clock::System()->MonotonicMicros();
      auto& hdr = header_parser.get();
      Request request;
      request.method = ToMethod(hdr.method());
      request.method_name = std::string(Sv(hdr.method_string()));
      request.target = std::string(Sv(hdr.target()));
      request.remote_address = remote;
      size_t qpos = request.target.find('?');
      request.path = PercentDecode(std::string_view(request.target).substr(0, qpos), false);
      if (qpos != std::string::npos) {
        request.query = request.target.substr(qpos + 1);
      }
      for (const auto& field : hdr) {
        request.headers.emplace_back(Lower(Sv(field.name_string())),
                                     std::string(Sv(field.value())));
      }
      bool keep_alive = header_parser.keep_alive() && !stopping_.load();
      unsigned version = hdr.version();
      if (auto expect = request.Header("expect"); expect && Lower(*expect) == "100-continue") {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        co_await bhttp::async_write(socket, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }

      Response response;
      Router::Match match = router_->Find(request.method, request.path, &request.path_params);
      if (match.handler != nullptr && match.options.streaming_body) {
        bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(header_parser));
        body_parser.body_limit(options_.max_streaming_body_bytes);
        StreamingBody body(socket, buffer, body_parser);
        request.body_stream = &body;
        RunHandler(*match.handler, request, response);
        if (!body.Drain()) {
          keep_alive = false;
        }
      } else {
        bhttp::request_parser<bhttp::string_body> body_parser(std::move(header_parser));
        body_parser.body_limit(options_.max_body_bytes);
        // Beast checked Content-Length against the header parser's (streaming) limit; check it
        // against this route's limit before reading anything.
        auto declared = body_parser.content_length();
        if (declared && *declared > options_.max_body_bytes) {
          ec = bhttp::error::body_limit;
        } else {
          co_await bhttp::async_read(socket, buffer, body_parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
        }
        if (ec == bhttp::error::body_limit) {
          WriteError(
              Status(StatusCode::kPayloadTooLarge,
                     "request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes"),
              response);
          keep_alive = false;
        } else if (ec) {
          break;
        } else {
          request.body = std::move(body_parser.get().body());
          if (match.handler == nullptr) {
            WriteError(
                match.path_known
                    ? Status(StatusCode::kMethodNotAllowed,
                             "Method " + request.method_name + " not allowed for " + request.path)
                    : Status(StatusCode::kEndpointNotFound,
                             "No API endpoint for " + request.method_name + " " + request.path),
                response);
          } else {
            RunHandler(*match.handler, request, response);
          }
        }
      }
      if (stopping_.load()) {
        keep_alive = false;
      }
      uint64_t sent = 0;
      bool write_ok;
      if (response.stream) {
        write_ok = WriteStreamed(socket, response, version, keep_alive,
                                 request.method == Method::kHead, &sent);
      } else {
        sent = response.body.size();
        write_ok = co_await WriteSimple(socket, response, version, keep_alive,
                                        request.method == Method::kHead);
      }
      if (spdlog::logger* log = AccessLog()) {
        log->info("{} \"{} {}\" {} {} {}us", remote, request.method_name, request.target,
                  response.status, sent, Clock::System()->MonotonicMicros() - start_us);
      }
      if (!write_ok || !keep_alive) {
        break;
      }
    }
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  static void RunHandler(const Handler& handler, Request& request, Response& response) {
    try {
      handler(request, response);
    } catch (const std::exception& e) {
      PLINTH_LOG_ERROR("handler for {} {} threw: {}", request.method_name, request.path, e.what());
      WriteError(Internal(std::string("internal error: ") + e.what()), response);
    } catch (...) {
      PLINTH_LOG_ERROR("handler for {} {} threw a non-standard exception", request.method_name,
                       request.path);
      WriteError(Internal("internal error"), response);
    }
  }

  static void FillHeaders(bhttp::fields& fields, Response& response) {
    fields.set(bhttp::field::server, "plinth");
    fields.set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) {
      fields.set(name, value);
    }
  }

  // Writes a response held in memory; for HEAD, the header alone with the body's length.
  asio::awaitable<bool> WriteSimple(tcp::socket& socket, Response& response, unsigned version,
                                    bool keep_alive, bool head_only) {
    beast::error_code ec;
    if (head_only) {
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status), version};
      FillHeaders(res.base(), response);
      res.keep_alive(keep_alive);
      res.content_length(response.body.size());
      bhttp::response_serializer<bhttp::empty_body> sr{res};
      co_await bhttp::async_write_header(socket, sr, asio::redirect_error(asio::use_awaitable, ec));
      co_return !ec;
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version};
    FillHeaders(res.base(), response);
    res.body() = std::move(response.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    co_await bhttp::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Streams response.stream in fixed-size chunks, synchronously on this thread.
  static bool WriteStreamed(tcp::socket& socket, Response& response, unsigned version,
                            bool keep_alive, bool head_only, uint64_t* sent) {
    bhttp::response<bhttp::buffer_body> res{static_cast<bhttp::status>(response.status), version};
    FillHeaders(res.base(), response);
    res.keep_alive(keep_alive);
    std::optional<uint64_t> size = response.stream->Size();
    if (size) {
      res.content_length(*size);
    } else {
      res.chunked(true);
    }
    res.body().data = nullptr;
    res.body().more = !head_only;
    bhttp::response_serializer<bhttp::buffer_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(socket, sr, ec);
    if (ec) {
      return false;
    }
    if (head_only) {
      return true;
    }
    std::vector<char> chunk(kChunkBytes);
    for (;;) {
      auto got = response.stream->Read(chunk.data(), chunk.size());
      if (!got.ok()) {
        PLINTH_LOG_ERROR("streaming response failed: {}", got.status().ToString());
        return false;  // the client sees a short body and the connection closes
      }
      if (*got == 0) {
        res.body().data = nullptr;
        res.body().more = false;
      } else {
        res.body().data = chunk.data();
        res.body().size = *got;
        res.body().more = true;
        *sent += *got;
      }
      bhttp::write(socket, sr, ec);
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        return false;
      }
      if (*got == 0) {
        return true;
      }
    }
  }

  ServerOptions options_;
  const Router* router_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  std::thread drain_thread_;  // assigned under mu_ by Stop, joined by Wait
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::map<Connection*, std::weak_ptr<Connection>> connections_;  // guarded by mu_
  std::condition_variable drained_cv_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;  // guarded by mu_
};

HttpServer::HttpServer(ServerOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Start() { return impl_->Start(); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::Wait() { impl_->Wait(); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace plinth::http
