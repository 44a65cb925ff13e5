// FakeS3: an in-process S3-compatible endpoint for the S3 store's failure tests, served by our
// own HTTP facade on a loopback port. Test-only (header-only, included by *_test.cc files).
//
// It implements what S3ArtifactStore uses — PutObject, GetObject (Range, If-Match), HeadObject,
// ListObjectsV2 (prefix, delimiter, max-keys, continuation tokens, encoding-type=url),
// DeleteObject(s), and multipart create/upload part/complete/abort — in path-style and
// virtual-hosted form (BUCKET.localhost), and verifies every request's SigV4 signature and body
// hash like S3 does. Faults are injected per operation: S3 error answers (503 SlowDown, 500, a 200
// carrying an <Error>), connections dropped after the header, bodies cut in half.
//
// Thread-safe (one mutex over the state); requests are served on the facade's threads.
#ifndef PLINTH_ARTIFACTS_FAKE_S3_H_
#define PLINTH_ARTIFACTS_FAKE_S3_H_

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/s3_xml.h"
#include "artifacts/sigv4.h"
#include "core/base64.h"
#include "http/http_server.h"

namespace plinth::artifacts::testing {

enum class FaultKind {
  kSlowDown,        // 503 <Error><Code>SlowDown</Code>
  kInternalError,   // 500 <Error><Code>InternalError</Code>
  kErrorIn200,      // 200 whose body is an <Error> (CompleteMultipartUpload does this)
  kDropConnection,  // a 200 header announcing a body, then the connection closes
  kTruncateBody,    // GetObject: half the body, then the connection closes
  kAccessDenied,    // 403 AccessDenied
};

struct Fault {
  std::string operation;  // "PutObject", "UploadPart", "GetObject", ...
  FaultKind kind;
  int skip = 0;   // let this many matching requests through first
  int count = 1;  // then fail this many
};

class FakeS3 {
 public:
  struct Object {
    std::string data;
    std::string etag;
  };

  explicit FakeS3(std::string secret = "fake-secret") : secret_(std::move(secret)) {
    auto handler = [this](http::Request& req, http::Response& res) { Handle(req, res); };
    for (http::Method m : {http::Method::kGet, http::Method::kHead, http::Method::kPut,
                           http::Method::kPost, http::Method::kDelete}) {
      router_.Add(m, "/", handler);
      router_.Add(m, "/*", handler);
    }
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.max_body_bytes = 64ull << 20;
    options.drain_timeout_seconds = 1;
    server_ = std::make_unique<http::HttpServer>(options, &router_);
  }
  ~FakeS3() { Stop(); }

  Status Start() {
    PLINTH_RETURN_IF_ERROR(server_->Start());
    waiter_ = std::thread([this] { server_->Wait(); });
    return Status::Ok();
  }
  void Stop() {
    if (waiter_.joinable()) {
      server_->Stop();
      waiter_.join();
    }
  }
  uint16_t port() const { return server_->port(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }

  void CreateBucket(const std::string& bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_[bucket];
  }
  void AddFault(Fault f) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(std::move(f));
  }
  // Requests seen per operation (faulted ones included).
  int Count(const std::string& operation) {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_[operation];
  }
  int OpenUploads() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(uploads_.size());
  }
  std::optional<Object> Get(const std::string& bucket, const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = buckets_.find(bucket);
    if (b == buckets_.end()) return std::nullopt;
    auto o = b->second.find(key);
    if (o == b->second.end()) return std::nullopt;
    return o->second;
  }
  void Put(const std::string& bucket, const std::string& key, std::string data) {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_[bucket][key] = Object{data, "\"" + Sha256Hex(data).substr(0, 32) + "\""};
  }
  // Hosts seen in requests, in order (addressing-style tests).
  std::vector<std::string> Hosts() {
    std::lock_guard<std::mutex> lock(mu_);
    return hosts_;
  }
  // Signature failures seen (a test expecting none asserts 0).
  int BadSignatures() { return bad_signatures_.load(); }

 private:
  // A response body that sends `keep` bytes of `data` and then fails, so the facade closes the
  // connection with the body short of its announced length.
  class CutSource final : public ByteSource {
   public:
    CutSource(std::string data, size_t keep) : data_(std::move(data)), keep_(keep) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (pos_ >= keep_) {
        if (keep_ == data_.size()) return size_t{0};
        return Internal("fault injected: connection dropped");
      }
      size_t k = std::min(n, keep_ - pos_);
      std::memcpy(buf, data_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    std::optional<uint64_t> Size() const override { return data_.size(); }

   private:
    std::string data_;
    size_t keep_;
    size_t pos_ = 0;
  };

  static void XmlAnswer(http::Response& res, int status, std::string body) {
    res.status = status;
    res.content_type = "application/xml";
    res.body = std::move(body);
  }
  static void ErrorAnswer(http::Response& res, int status, const std::string& code,
                          const std::string& message = "fake") {
    XmlAnswer(res, status,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                  "</Code><Message>" + XmlEscape(message) + "</Message></Error>");
  }

  static std::string Param(const std::vector<std::pair<std::string, std::string>>& q,
                           const std::string& name, bool* present = nullptr) {
    for (const auto& [n, v] : q) {
      if (n == name) {
        if (present) *present = true;
        return v;
      }
    }
    if (present) *present = false;
    return "";
  }

  static std::string Operation(const http::Request& req, const std::string& key,
                               const std::vector<std::pair<std::string, std::string>>& q) {
    bool has = false;
    switch (req.method) {
      case http::Method::kGet:
        return key.empty() ? "ListObjectsV2" : "GetObject";
      case http::Method::kHead:
        return "HeadObject";
      case http::Method::kPut:
        Param(q, "uploadId", &has);
        return has ? "UploadPart" : "PutObject";
      case http::Method::kPost:
        Param(q, "uploads", &has);
        if (has) return "CreateMultipartUpload";
        Param(q, "delete", &has);
        if (has) return "DeleteObjects";
        return "CompleteMultipartUpload";
      case http::Method::kDelete:
        Param(q, "uploadId", &has);
        return has ? "AbortMultipartUpload" : "DeleteObject";
      default:
        return "?";
    }
  }

  // SigV4 as S3 checks it: rebuild the canonical request from what arrived, sign it with the
  // shared secret, compare; and the body must hash to the signed payload hash.
  bool VerifySignature(const http::Request& req, const std::string& raw_path,
                       const std::vector<std::pair<std::string, std::string>>& q) {
    auto auth = req.Header("authorization");
    if (!auth) return false;
    std::string a(*auth);
    auto field = [&](const std::string& name) {
      size_t p = a.find(name + "=");
      if (p == std::string::npos) return std::string();
      p += name.size() + 1;
      size_t e = a.find_first_of(", ", p);
      return a.substr(p, e == std::string::npos ? std::string::npos : e - p);
    };
    std::string credential = field("Credential");  // AKID/date/region/s3/aws4_request
    std::vector<std::string> parts;
    for (size_t i = 0, j; i <= credential.size(); i = j + 1) {
      j = credential.find('/', i);
      if (j == std::string::npos) j = credential.size();
      parts.push_back(credential.substr(i, j - i));
    }
    if (parts.size() != 5) return false;
    SigningRequest s;
    s.method = req.method_name;
    s.canonical_uri = raw_path;
    s.query = q;
    std::string signed_headers = field("SignedHeaders");
    for (size_t i = 0, j; i <= signed_headers.size(); i = j + 1) {
      j = signed_headers.find(';', i);
      if (j == std::string::npos) j = signed_headers.size();
      std::string name = signed_headers.substr(i, j - i);
      auto v = req.Header(name);
      if (!v) return false;
      s.headers.emplace_back(name, std::string(*v));
    }
    auto payload = req.Header("x-amz-content-sha256");
    if (!payload) return false;
    s.payload_hash = std::string(*payload);
    if (s.payload_hash != kUnsignedPayload && s.payload_hash != Sha256Hex(req.body)) {
      return false;
    }
    auto date = req.Header("x-amz-date");
    if (!date) return false;
    SigV4Signer signer({parts[0], secret_, ""}, parts[2]);
    std::string dummy;
    std::string canonical = SigV4Signer::CanonicalRequest(s, &dummy);
    std::string expected =
        signer.Signature(signer.StringToSign(canonical, std::string(*date)), std::string(*date));
    return expected == field("Signature");
  }

  void Handle(http::Request& req, http::Response& res) {
    // Which bucket and key: BUCKET.localhost:PORT (virtual-hosted) or /BUCKET/KEY (path-style).
    std::string host(req.Header("host").value_or(""));
    size_t q_mark = req.target.find('?');
    std::string raw_path = req.target.substr(0, q_mark);
    std::string bucket;
    std::string key;
    if (size_t dot = host.find(".localhost"); dot != std::string::npos) {
      bucket = host.substr(0, dot);
      key = req.path.size() > 1 ? req.path.substr(1) : "";
    } else {
      std::string p = req.path.substr(1);
      size_t slash = p.find('/');
      bucket = p.substr(0, slash);
      key = slash == std::string::npos ? "" : p.substr(slash + 1);
    }
    std::vector<std::pair<std::string, std::string>> q;
    if (q_mark != std::string::npos) {
      std::string_view rest = std::string_view(req.target).substr(q_mark + 1);
      while (!rest.empty()) {
        size_t amp = rest.find('&');
        std::string_view item = rest.substr(0, amp);
        size_t eq = item.find('=');
        q.emplace_back(http::PercentDecode(item.substr(0, eq), false),
                       eq == std::string_view::npos
                           ? std::string()
                           : http::PercentDecode(item.substr(eq + 1), false));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
      }
    }
    std::string op = Operation(req, key, q);
    {
      std::lock_guard<std::mutex> lock(mu_);
      hosts_.push_back(host);
      ++counts_[op];
    }
    if (!VerifySignature(req, raw_path, q)) {
      bad_signatures_.fetch_add(1);
      ErrorAnswer(res, 403, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you "
                  "provided.");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (Fault& f : faults_) {
      if (f.operation != op || f.count == 0) continue;
      if (f.skip > 0) {
        --f.skip;
        continue;
      }
      --f.count;
      switch (f.kind) {
        case FaultKind::kSlowDown:
          return ErrorAnswer(res, 503, "SlowDown", "Please reduce your request rate.");
        case FaultKind::kInternalError:
          return ErrorAnswer(res, 500, "InternalError");
        case FaultKind::kAccessDenied:
          return ErrorAnswer(res, 403, "AccessDenied", "Access Denied");
        case FaultKind::kErrorIn200:
          return ErrorAnswer(res, 200, "InternalError");
        case FaultKind::kDropConnection:
          res.status = 200;
          res.stream = std::make_unique<CutSource>(std::string(64, 'x'), 0);
          return;
        case FaultKind::kTruncateBody:
          truncate_next_get_ = true;  // GetObject below sends half the body
          break;
      }
      break;
    }
    auto b = buckets_.find(bucket);
    if (b == buckets_.end()) {
      return ErrorAnswer(res, 404, "NoSuchBucket", "The specified bucket does not exist");
    }
    auto& objects = b->second;
    if (op == "PutObject") {
      objects[key] = Object{req.body, "\"" + Sha256Hex(req.body).substr(0, 32) + "\""};
      res.headers.emplace_back("ETag", objects[key].etag);
      return XmlAnswer(res, 200, "");
    }
    if (op == "GetObject" || op == "HeadObject") {
      auto o = objects.find(key);
      if (o == objects.end()) {
        if (op == "HeadObject") {
          res.status = 404;
          return;
        }
        return ErrorAnswer(res, 404, "NoSuchKey", "The specified key does not exist.");
      }
      auto if_match = req.Header("if-match");
      if (if_match && *if_match != o->second.etag) {
        return ErrorAnswer(res, 412, "PreconditionFailed");
      }
      const std::string& data = o->second.data;
      res.headers.emplace_back("ETag", o->second.etag);
      if (op == "HeadObject") {
        res.status = 200;
        res.content_type = "application/octet-stream";
        res.body = data;  // the facade sends only the length for HEAD
        return;
      }
      size_t from = 0;
      size_t to = data.size();  // exclusive
      int status = 200;
      if (auto range = req.Header("range")) {  // bytes=A-[B]
        std::string r(range->substr(6));
        size_t dash = r.find('-');
        from = std::stoull(r.substr(0, dash));
        if (dash + 1 < r.size())
          to = std::min<size_t>(data.size(), std::stoull(r.substr(dash + 1)) + 1);
        if (from >= data.size()) return ErrorAnswer(res, 416, "InvalidRange");
        status = 206;
        res.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                      std::to_string(to - 1) + "/" +
                                                      std::to_string(data.size()));
      }
      res.status = status;
      res.content_type = "application/octet-stream";
      std::string slice = data.substr(from, to - from);
      size_t keep = slice.size();
      if (truncate_next_get_) {
        truncate_next_get_ = false;
        keep = slice.size() / 2;
      }
      res.stream = std::make_unique<CutSource>(std::move(slice), keep);
      return;
    }
    if (op == "ListObjectsV2") {
      std::string prefix = Param(q, "prefix");
      std::string delimiter = Param(q, "delimiter");
      size_t max_keys = std::stoul(Param(q, "max-keys").empty() ? "1000" : Param(q, "max-keys"));
      // Tokens are opaque to clients; ours is the last key (or prefix + 0xff) in base64.
      std::string after = Base64Decode(Param(q, "continuation-token")).value_or("");
      bool encode = Param(q, "encoding-type") == "url";
      auto enc = [&](const std::string& s) { return encode ? UriEncode(s, false) : XmlEscape(s); };
      std::string contents;
      std::string prefixes;
      std::string last_prefix;
      size_t n = 0;
      bool truncated = false;
      std::string next;
      for (auto it = objects.lower_bound(prefix); it != objects.end(); ++it) {
        const std::string& k = it->first;
        if (k.compare(0, prefix.size(), prefix) != 0) break;
        if (!after.empty() && k <= after) continue;
        std::string entry = k;
        bool is_prefix = false;
        if (!delimiter.empty()) {
          size_t d = k.find(delimiter, prefix.size());
          if (d != std::string::npos) {
            entry = k.substr(0, d + delimiter.size());
            is_prefix = true;
            if (entry == last_prefix) continue;
          }
        }
        if (n == max_keys) {
          truncated = true;
          break;
        }
        ++n;
        if (is_prefix) {
          last_prefix = entry;
          prefixes += "<CommonPrefixes><Prefix>" + enc(entry) + "</Prefix></CommonPrefixes>";
          // Continue after every key under this prefix.
          next = entry + "\xff";
        } else {
          contents += "<Contents><Key>" + enc(k) + "</Key><Size>" +
                      std::to_string(it->second.data.size()) + "</Size></Contents>";
          next = k;
        }
      }
      std::string body =
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
          "<Name>" +
          bucket + "</Name><Prefix>" + enc(prefix) +
          "</Prefix>"
          "<KeyCount>" +
          std::to_string(n) + "</KeyCount>" + "<IsTruncated>" + (truncated ? "true" : "false") +
          "</IsTruncated>" +
          (truncated ? "<NextContinuationToken>" + Base64Encode(next) + "</NextContinuationToken>"
                     : "") +
          contents + prefixes + "</ListBucketResult>";
      return XmlAnswer(res, 200, body);
    }
    if (op == "DeleteObject") {
      objects.erase(key);
      res.status = 204;
      return;
    }
    if (op == "DeleteObjects") {
      auto md5 = req.Header("content-md5");
      if (!md5) return ErrorAnswer(res, 400, "MissingContentMD5");
      size_t pos = 0;
      while ((pos = req.body.find("<Key>", pos)) != std::string::npos) {
        size_t end = req.body.find("</Key>", pos);
        std::string k = req.body.substr(pos + 5, end - pos - 5);
        // Undo XmlEscape for the characters our keys can hold.
        for (auto [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"},
                                {"&gt;", ">"},
                                {"&quot;", "\""},
                                {"&apos;", "'"},
                                {"&amp;", "&"}}) {
          for (size_t p = k.find(from); p != std::string::npos; p = k.find(from, p + 1)) {
            k.replace(p, from.size(), to);
          }
        }
        objects.erase(k);
        pos = end;
      }
      return XmlAnswer(res, 200, "<DeleteResult></DeleteResult>");
    }
    if (op == "CreateMultipartUpload") {
      std::string id = "upload-" + std::to_string(++next_upload_);
      uploads_[id] = Upload{bucket, key, {}};
      return XmlAnswer(res, 200,
                       "<InitiateMultipartUploadResult><Bucket>" + bucket + "</Bucket><Key>" +
                           XmlEscape(key) + "</Key><UploadId>" + id +
                           "</UploadId></InitiateMultipartUploadResult>");
    }
    std::string upload_id = Param(q, "uploadId");
    auto u = uploads_.find(upload_id);
    if (u == uploads_.end()) return ErrorAnswer(res, 404, "NoSuchUpload");
    if (op == "UploadPart") {
      int n = std::stoi(Param(q, "partNumber"));
      std::string etag = "\"" + Sha256Hex(req.body).substr(0, 32) + "\"";
      u->second.parts[n] = {req.body, etag};
      res.headers.emplace_back("ETag", etag);
      return XmlAnswer(res, 200, "");
    }
    if (op == "AbortMultipartUpload") {
      uploads_.erase(u);
      res.status = 204;
      return;
    }
    if (op == "CompleteMultipartUpload") {
      std::string data;
      int expect = 1;
      size_t pos = 0;
      while ((pos = req.body.find("<PartNumber>", pos)) != std::string::npos) {
        int n = std::stoi(req.body.substr(pos + 12));
        size_t e = req.body.find("<ETag>", pos);
        std::string etag = req.body.substr(e + 6, req.body.find("</ETag>", e) - e - 6);
        etag.replace(etag.find("&quot;"), 6, "\"");
        etag.replace(etag.rfind("&quot;"), 6, "\"");
        auto p = u->second.parts.find(n);
        if (n != expect++ || p == u->second.parts.end() || p->second.second != etag) {
          return ErrorAnswer(res, 400, "InvalidPart");
        }
        data += p->second.first;
        pos = e;
      }
      objects[key] = Object{data, "\"" + Sha256Hex(data).substr(0, 32) + "-mpu\""};
      uploads_.erase(u);
      return XmlAnswer(res, 200,
                       "<CompleteMultipartUploadResult><Key>" + XmlEscape(key) +
                           "</Key></CompleteMultipartUploadResult>");
    }
    ErrorAnswer(res, 400, "NotImplemented", op);
  }

  struct Upload {
    std::string bucket;
    std::string key;
    std::map<int, std::pair<std::string, std::string>> parts;  // number → (data, etag)
  };

  std::string secret_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread waiter_;
  std::atomic<int> bad_signatures_{0};

  std::mutex mu_;
  std::map<std::string, std::map<std::string, Object>> buckets_;  // guarded by mu_
  std::map<std::string, Upload> uploads_;                         // guarded by mu_
  std::vector<Fault> faults_;                                     // guarded by mu_
  std::map<std::string, int> counts_;                             // guarded by mu_
  std::vector<std::string> hosts_;                                // guarded by mu_
  int next_upload_ = 0;                                           // guarded by mu_
  bool truncate_next_get_ = false;                                // guarded by mu_
};

}  // namespace plinth::artifacts::testing

#endif  // PLINTH_ARTIFACTS_FAKE_S3_H_
