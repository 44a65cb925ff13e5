// Test support: a tiny blocking HTTP/1.1 client over a real TCP connection to 127.0.0.1, for
// tests that check what goes over the wire (http_server_test.cc, the api tests). Test-only.
#ifndef PLINTH_HTTP_TEST_CLIENT_H_
#define PLINTH_HTTP_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::http::testing {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One TCP connection to 127.0.0.1. Reads time out (3 s by default) so a broken server fails
// the test instead of hanging it.
class Connection {
 public:
  explicit Connection(uint16_t port, int timeout_seconds = 3) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. `head`: the response to a HEAD request, which has no body whatever its
  // headers say. nullopt when the connection ends or the bytes are not an HTTP response.
  std::optional<ClientResponse> Read(bool head = false) {
    ClientResponse r;
    auto status_line = ReadLine();
    if (!status_line || status_line->rfind("HTTP/1.", 0) != 0 || status_line->size() < 12) {
      return std::nullopt;
    }
    r.status = std::atoi(status_line->c_str() + 9);
    for (;;) {
      auto line = ReadLine();
      if (!line) return std::nullopt;
      if (line->empty()) break;
      size_t colon = line->find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string value = line->substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers.emplace_back(Lower(line->substr(0, colon)), value);
    }
    if (head || r.status / 100 == 1 || r.status == 204 || r.status == 304) return r;
    auto te = r.Header("transfer-encoding");
    auto cl = r.Header("content-length");
    if (te && Lower(*te).find("chunked") != std::string::npos) {
      for (;;) {
        auto size_line = ReadLine();
        if (!size_line) return std::nullopt;
        size_t size = std::strtoull(size_line->c_str(), nullptr, 16);
        if (size == 0) {
          for (;;) {  // trailers
            auto trailer = ReadLine();
            if (!trailer) return std::nullopt;
            if (trailer->empty()) return r;
          }
        }
        if (!ReadExactly(size, &r.body)) return std::nullopt;
        std::string crlf;
        if (!ReadExactly(2, &crlf) || crlf != "\r\n") return std::nullopt;
      }
    }
    if (cl) {
      if (!ReadExactly(std::strtoull(cl->c_str(), nullptr, 10), &r.body)) return std::nullopt;
      return r;
    }
    // No length: the body runs to the end of the connection.
    while (Fill()) {
    }
    r.body += buf_;
    buf_.clear();
    return r;
  }

  // True when the server has closed the connection (EOF or reset) within `timeout_ms` and sent
  // nothing more.
  bool ClosedByPeer(int timeout_ms = 5000) {
    if (!buf_.empty()) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    ssize_t n = recv(fd_, &c, 1, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno == ECONNRESET) return true;
    if (n > 0) buf_.push_back(c);
    return false;
  }

 private:
  bool Fill() {
    char chunk[64 * 1024];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  std::optional<std::string> ReadLine() {
    for (;;) {
      size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return line;
      }
      if (!Fill()) return std::nullopt;
    }
  }
  bool ReadExactly(size_t n, std::string* out) {
    while (buf_.size() < n) {
      if (!Fill()) return false;
    }
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

// A request as bytes: Host and Content-Length added; `headers` are extra "Name: value\r\n" lines.
inline std::string Req(std::string_view method, std::string_view target, std::string_view body = "",
                       std::string_view headers = "") {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  out.append(headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

}  // namespace plinth::http::testing

#endif  // PLINTH_HTTP_TEST_CLIENT_H_
