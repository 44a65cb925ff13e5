#include "artifacts/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "core/base64.h"

namespace plinth::artifacts {

// ------------------------------------------------------------------ curl plumbing

// An easy handle and the multi handle that drives it. The easy handle is added to the multi
// for one transfer at a time; the connection cache lives in the multi, so keep-alive
// connections survive between requests made with this pair.
struct CurlHandle {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  ~CurlHandle() {
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

class CurlHandlePool {
 public:
  std::unique_ptr<CurlHandle> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    auto h = std::make_unique<CurlHandle>();
    h->easy = curl_easy_init();
    h->multi = curl_multi_init();
    if (h->easy == nullptr || h->multi == nullptr) return nullptr;
    return h;
  }
  // Takes back a handle whose transfer is over (removed from its multi handle).
  void Release(std::unique_ptr<CurlHandle> h) {
    // Drop the options that point into the finished transfer (error buffer, header list,
    // callback data): nothing may write through them once it is gone. Connections stay cached.
    curl_easy_reset(h->easy);
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(h));
  }

 private:
  static constexpr size_t kMaxIdle = 32;
  std::mutex mu_;
  std::vector<std::unique_ptr<CurlHandle>> idle_;  // guarded by mu_
};

namespace {

constexpr size_t kMaxResponseBody = 64u << 20;   // list pages and error documents are far smaller
constexpr size_t kStreamHighWater = 256u << 10;  // a download pauses above this many buffered bytes

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The state of one HTTP exchange, shared with libcurl's callbacks.
struct Transfer {
  // request body
  std::string_view upload;
  size_t upload_pos = 0;
  // response
  long status = 0;
  bool headers_done = false;
  HeaderList headers;  // names lower-case
  std::string body;    // non-streaming answers and error documents
  // streaming downloads: 2xx body bytes go to `sink`, paused above the high-water mark
  bool streaming = false;
  std::string sink;
  size_t sink_pos = 0;
  uint64_t delivered = 0;
  bool paused = false;
  curl_slist* header_list = nullptr;
  char error[CURL_ERROR_SIZE] = {0};

  ~Transfer() { curl_slist_free_all(header_list); }
  void ResetResponse() {
    upload_pos = 0;
    status = 0;
    headers_done = false;
    headers.clear();
    body.clear();
    paused = false;
    curl_slist_free_all(header_list);
    header_list = nullptr;
    error[0] = '\0';
  }
  bool Ok() const { return status >= 200 && status < 300; }
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a 100 Continue, or a redirect) starts a new header block.
    t->headers.clear();
    t->headers_done = false;
    size_t sp = line.find(' ');
    t->status = 0;
    if (sp != std::string_view::npos) {
      std::from_chars(line.data() + sp + 1, line.data() + line.size(), t->status);
    }
  } else if (line.empty()) {
    if (t->status >= 200) t->headers_done = true;
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    t->headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  }
  return len;
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->streaming && t->Ok()) {
    if (t->sink.size() - t->sink_pos >= kStreamHighWater) {
      t->paused = true;
      return CURL_WRITEFUNC_PAUSE;  // libcurl keeps this chunk and hands it over on unpause
    }
    t->sink.append(data, len);
    t->delivered += len;
    return len;
  }
  if (t->body.size() + len > kMaxResponseBody) return 0;  // fails the transfer
  t->body.append(data, len);
  return len;
}

size_t OnRead(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t k = std::min(size * n, t->upload.size() - t->upload_pos);
  std::memcpy(buf, t->upload.data() + t->upload_pos, k);
  t->upload_pos += k;
  return k;
}

// libcurl rewinds the body when it resends a request on a fresh connection (a kept-alive one
// that the server had closed).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->upload_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Drives the handle's transfer until it finishes (returns its result, *finished = true) or
// `ready()` holds (returns CURLE_OK, *finished = false).
CURLcode Drive(CurlHandle& h, const std::function<bool()>& ready, bool* finished) {
  *finished = false;
  for (;;) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(h.multi, &running);
    if (mc != CURLM_OK) {
      *finished = true;
      return CURLE_FAILED_INIT;
    }
    if (running == 0) {
      CURLcode rc = CURLE_OK;
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(h.multi, &queued)) {
        if (msg->msg == CURLMSG_DONE) rc = msg->data.result;
      }
      *finished = true;
      return rc;
    }
    if (ready && ready()) return CURLE_OK;
    curl_multi_poll(h.multi, nullptr, 0, 1000, nullptr);
  }
}

bool RetryableCurl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

bool RetryableHttp(long status, std::string_view code) {
  if (status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
      status == 504) {
    return true;
  }
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

std::string Md5Base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(md), len));
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

std::string S3Url(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

}  // namespace

// ------------------------------------------------------------------ requests

struct S3Client::Request {
  std::string operation;  // "PutObject", for messages
  std::string method = "GET";
  std::string bucket;
  std::string key;  // "" for bucket-level requests
  HeaderList query;
  HeaderList headers;  // extra headers, all signed
  std::string_view body;
  std::string payload_hash = std::string(kEmptyPayloadSha256);
  bool error_in_200 = false;  // CompleteMultipartUpload may fail with a 200 and an <Error>
};

struct S3Client::Response {
  long status = 0;
  HeaderList headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

Status StatusFromS3Error(long http_status, std::string_view body, const std::string& bucket,
                         const std::string& key, std::string_view operation) {
  S3Error err;
  bool parsed = ParseS3Error(body, &err);
  std::string code = parsed ? err.code : "HTTP " + std::to_string(http_status);
  std::string detail = code + (parsed && !err.message.empty() ? ": " + err.message : "");
  std::string op(operation);
  if (code == "NoSuchBucket") {
    return FailedPrecondition("S3 bucket '" + bucket + "' does not exist (" + detail + ")");
  }
  if (http_status == 404) {
    return NotFound(S3Url(bucket, key) + " not found (" + detail + ")");
  }
  if (http_status == 401 || http_status == 403) {
    return Status(StatusCode::kPermissionDenied,
                  "S3 denied " + op + " on bucket '" + bucket + "' (" + detail + ")");
  }
  if (http_status == 416) {
    return InvalidArgument("requested range of " + S3Url(bucket, key) + " is past its end");
  }
  if (http_status >= 500 || http_status == 429) {
    return Unavailable("S3 " + op + " on bucket '" + bucket + "' failed (" + detail + ")");
  }
  return FailedPrecondition("S3 rejected " + op + " on " + S3Url(bucket, key) + " (" + detail +
                            ")");
}

Result<std::shared_ptr<S3Client>> S3Client::Create(S3Options options) {
  PLINTH_RETURN_IF_ERROR(options.Validate());
  InitCurlOnce();
  std::shared_ptr<S3Client> client(new S3Client(std::move(options)));
  // scheme://host[:port][/base]
  std::string endpoint = client->options_.EffectiveEndpoint();
  size_t scheme_end = endpoint.find("://");
  client->scheme_ = endpoint.substr(0, scheme_end);
  std::string rest = endpoint.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  client->host_ = rest.substr(0, slash);
  if (slash != std::string::npos) client->base_path_ = rest.substr(slash);
  while (!client->base_path_.empty() && client->base_path_.back() == '/') {
    client->base_path_.pop_back();
  }
  if (client->host_.empty()) {
    return InvalidArgument("S3 endpoint '" + endpoint + "' has no host");
  }
  return client;
}

S3Client::S3Client(S3Options options)
    : options_(std::move(options)),
      pool_(std::make_unique<CurlHandlePool>()),
      signer_(options_.credentials, options_.region) {}

S3Client::~S3Client() = default;

void S3Client::Backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t cap = std::min<int64_t>(options_.backoff_max_ms,
                                  int64_t{options_.backoff_base_ms} << std::min(attempt - 1, 20));
  if (cap <= 0) return;
  std::uniform_int_distribution<int64_t> wait(0, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(wait(rng)));
}

namespace {

// Fills the easy handle for one attempt of `r`: URL, signed headers, method and body.
void Prepare(CurlHandle& h, Transfer& t, const S3Client::Request& r, const S3Options& o,
             const SigV4Signer& signer, const std::string& scheme, const std::string& host,
             const std::string& base_path) {
  bool path_style = o.UsePathStyle(r.bucket);
  std::string path = base_path;
  std::string request_host = host;
  if (path_style) {
    path += "/" + UriEncode(r.bucket, true);
    if (!r.key.empty()) path += "/" + UriEncode(r.key, false);
  } else {
    request_host = r.bucket + "." + host;
    path += "/" + UriEncode(r.key, false);
  }
  SigningRequest s{r.method, path, r.query, r.headers, r.payload_hash};
  s.headers.emplace_back("host", request_host);
  std::string authorization;
  if (!o.credentials.access_key_id.empty()) {
    authorization = signer.Sign(s, std::time(nullptr));
  }
  std::string query = SigV4Signer::CanonicalQueryString(r.query);
  std::string url = scheme + "://" + request_host + path + (query.empty() ? "" : "?" + query);

  CURL* e = h.easy;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // the signed path is the one sent
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout_s));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_timeout_s));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  if (!o.verify_tls) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!o.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_bundle.c_str());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);

  curl_slist* list = nullptr;
  for (const auto& [name, value] : s.headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  if (!authorization.empty()) {
    list = curl_slist_append(list, ("Authorization: " + authorization).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  if (r.method == "PUT") {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(e, CURLOPT_READDATA, &t);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else if (r.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    // Never a null pointer: libcurl would then read the body through a read callback.
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.empty() ? "" : r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    list = curl_slist_append(list, "Content-Type: application/xml");
  } else if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  t.header_list = list;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
}

std::string CurlErrorText(CURLcode rc, const Transfer& t) {
  std::string text = curl_easy_strerror(rc);
  if (t.error[0] != '\0') text += std::string(" (") + t.error + ")";
  return text;
}

}  // namespace

Result<S3Client::Response> S3Client::Execute(Request& r, int* attempts) {
  std::string last_error;
  for (int attempt = 1;; ++attempt) {
    if (attempts != nullptr) *attempts = attempt;
    std::unique_ptr<CurlHandle> h = pool_->Acquire();
    if (!h) return Internal("cannot create a libcurl handle");
    Transfer t;
    t.upload = r.body;
    Prepare(*h, t, r, options_, signer_, scheme_, host_, base_path_);
    curl_multi_add_handle(h->multi, h->easy);
    bool finished = false;
    CURLcode rc = Drive(*h, nullptr, &finished);
    curl_multi_remove_handle(h->multi, h->easy);
    pool_->Release(std::move(h));

    bool retry = false;
    if (rc != CURLE_OK) {
      retry = RetryableCurl(rc);
      last_error = "cannot reach S3 at " + scheme_ + "://" + host_ + ": " + CurlErrorText(rc, t);
      if (!retry) {
        return Unavailable(r.operation + " on bucket '" + r.bucket + "' failed: " + last_error);
      }
    } else {
      S3Error err;
      bool error_doc = ParseS3Error(t.body, &err);
      if (t.Ok() && !(r.error_in_200 && error_doc)) {
        return Response{t.status, std::move(t.headers), std::move(t.body)};
      }
      long status = t.Ok() ? 500 : t.status;  // an <Error> inside a 200 counts as a 500
      retry = RetryableHttp(status, err.code);
      if (!retry) return StatusFromS3Error(status, t.body, r.bucket, r.key, r.operation);
      last_error = "HTTP " + std::to_string(status) + (error_doc ? " " + err.code : "");
    }
    if (attempt >= options_.max_attempts) {
      return Unavailable(r.operation + " on " + S3Url(r.bucket, r.key) + " failed after " +
                         std::to_string(attempt) + " attempts: " + last_error);
    }
    retries_.fetch_add(1);
    Backoff(attempt);
  }
}

Status S3Client::PutObject(const std::string& bucket, const std::string& key,
                           std::string_view body) {
  Request r;
  r.operation = "PutObject";
  r.method = "PUT";
  r.bucket = bucket;
  r.key = key;
  r.body = body;
  r.payload_hash = Sha256Hex(body);
  return Execute(r).status();
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket,
                                                    const std::string& key) {
  Request r;
  r.operation = "CreateMultipartUpload";
  r.method = "POST";
  r.bucket = bucket;
  r.key = key;
  r.query = {{"uploads", ""}};
  PLINTH_ASSIGN_OR_RETURN(Response resp, Execute(r));
  return ParseInitiateMultipartUpload(resp.body);
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number,
                                         std::string_view body) {
  Request r;
  r.operation = "UploadPart";
  r.method = "PUT";
  r.bucket = bucket;
  r.key = key;
  r.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  r.body = body;
  r.payload_hash = Sha256Hex(body);
  PLINTH_ASSIGN_OR_RETURN(Response resp, Execute(r));
  auto etag = resp.Header("etag");
  if (!etag) return Unavailable("S3 UploadPart of " + S3Url(bucket, key) + " returned no ETag");
  return *etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id,
                                         const std::vector<std::string>& etags) {
  std::string xml = CompleteMultipartUploadXml(etags);
  Request r;
  r.operation = "CompleteMultipartUpload";
  r.method = "POST";
  r.bucket = bucket;
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  r.body = xml;
  r.payload_hash = Sha256Hex(xml);
  r.error_in_200 = true;
  int attempts = 0;
  auto resp = Execute(r, &attempts);
  // A retry after a completion whose answer was lost finds the upload gone: it did complete.
  if (!resp.ok() && resp.status().code() == StatusCode::kNotFound && attempts > 1) {
    return Status::Ok();
  }
  return resp.status();
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) {
  Request r;
  r.operation = "AbortMultipartUpload";
  r.method = "DELETE";
  r.bucket = bucket;
  r.key = key;
  r.query = {{"uploadId", upload_id}};
  Status s = Execute(r).status();
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Result<S3Client::ObjectInfo> S3Client::HeadObject(const std::string& bucket,
                                                  const std::string& key) {
  Request r;
  r.operation = "HeadObject";
  r.method = "HEAD";
  r.bucket = bucket;
  r.key = key;
  PLINTH_ASSIGN_OR_RETURN(Response resp, Execute(r));
  ObjectInfo info;
  info.size = ParseU64(resp.Header("content-length").value_or("0")).value_or(0);
  info.etag = resp.Header("etag").value_or("");
  return info;
}

Result<S3ListPage> S3Client::ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                           const std::string& delimiter,
                                           const std::string& continuation_token) {
  Request r;
  r.operation = "ListObjectsV2";
  r.bucket = bucket;
  r.query = {{"list-type", "2"},
             {"prefix", prefix},
             {"max-keys", std::to_string(options_.list_page_size)},
             {"encoding-type", "url"}};
  if (!delimiter.empty()) r.query.emplace_back("delimiter", delimiter);
  if (!continuation_token.empty()) r.query.emplace_back("continuation-token", continuation_token);
  PLINTH_ASSIGN_OR_RETURN(Response resp, Execute(r));
  return ParseListObjectsV2(resp.body, true);
}

Status S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::Ok();
  std::string xml = DeleteObjectsXml(keys);
  Request r;
  r.operation = "DeleteObjects";
  r.method = "POST";
  r.bucket = bucket;
  r.query = {{"delete", ""}};
  r.headers = {{"content-md5", Md5Base64(xml)}};  // S3 requires it for multi-object delete
  r.body = xml;
  r.payload_hash = Sha256Hex(xml);
  PLINTH_ASSIGN_OR_RETURN(Response resp, Execute(r));
  PLINTH_ASSIGN_OR_RETURN(auto failed, ParseDeleteResult(resp.body));
  if (!failed.empty()) {
    const auto& [key, err] = failed.front();
    long status = err.code == "AccessDenied" ? 403 : 500;
    return StatusFromS3Error(status,
                             "<Error><Code>" + XmlEscape(err.code) + "</Code><Message>" +
                                 XmlEscape(err.message) + "</Message></Error>",
                             bucket, key, "DeleteObjects");
  }
  return Status::Ok();
}

// ------------------------------------------------------------------ streaming download

// A GET whose body is pulled by Read(). Holds a pooled handle until the body ends or the source
// is destroyed. A transfer cut short resumes from the next byte (Range + If-Match on the ETag).
class S3ObjectSource final : public ByteSource {
 public:
  S3ObjectSource(std::shared_ptr<S3Client> client, std::string bucket, std::string key)
      : client_(std::move(client)), bucket_(std::move(bucket)), key_(std::move(key)) {}
  ~S3ObjectSource() override { ReleaseHandle(); }

  // Sends the GET for [offset, offset+length) and waits for its header (with retries).
  Status Open(uint64_t offset, std::optional<uint64_t> length) {
    start_ = offset;
    if (length) end_ = offset + *length;  // exclusive
    return StartWithRetries();
  }

  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      if (t_.sink_pos < t_.sink.size()) {
        size_t k = std::min(n, t_.sink.size() - t_.sink_pos);
        std::memcpy(buf, t_.sink.data() + t_.sink_pos, k);
        t_.sink_pos += k;
        return k;
      }
      t_.sink.clear();
      t_.sink_pos = 0;
      if (done_ || n == 0) return 0;
      if (finished_) {
        if (rc_ == CURLE_OK && t_.delivered >= expected_) {
          done_ = true;
          ReleaseHandle();
          return 0;
        }
        // Cut short (dropped connection, timeout, or a body shorter than announced): resume.
        // A transfer that made progress since it started earns a fresh retry budget, so a long
        // download survives any number of cuts as long as each one moves it forward.
        if (t_.delivered > delivered_at_start_) attempts_ = 0;
        std::string why = rc_ == CURLE_OK ? "short body" : CurlErrorText(rc_, t_);
        if ((rc_ != CURLE_OK && !RetryableCurl(rc_)) ||
            attempts_ >= client_->options().max_attempts) {
          return Unavailable("download of " + S3Url(bucket_, key_) + " failed after " +
                             std::to_string(t_.delivered) + " of " + std::to_string(expected_) +
                             " bytes: " + why);
        }
        client_->retries_.fetch_add(1);
        client_->Backoff(attempts_);
        PLINTH_RETURN_IF_ERROR(StartWithRetries());
        continue;
      }
      if (t_.paused) {
        t_.paused = false;
        curl_easy_pause(handle_->easy, CURLPAUSE_CONT);  // may refill the sink right away
        continue;
      }
      bool finished = false;
      CURLcode rc = Drive(
          *handle_, [this] { return t_.sink_pos < t_.sink.size() || t_.paused; }, &finished);
      if (finished) {
        finished_ = true;
        rc_ = rc;
      }
    }
  }

  std::optional<uint64_t> Size() const override { return expected_; }
  // For a range that is empty by definition: nothing to fetch, Read() answers 0 at once.
  void MarkEmpty() { done_ = true; }
  uint64_t total_size() const { return total_; }
  uint64_t offset() const { return start_; }

 private:
  // One attempt: (re)sends the GET for the bytes not yet delivered and drives it until the
  // response header is in. Returns true when a 2xx body is flowing; `*error` otherwise.
  bool StartOnce(Status* error, bool* retryable) {
    ReleaseHandle();
    ++attempts_;
    handle_ = client_->pool_->Acquire();
    if (!handle_) {
      *error = Internal("cannot create a libcurl handle");
      *retryable = false;
      return false;
    }
    t_.ResetResponse();
    t_.streaming = true;
    delivered_at_start_ = t_.delivered;
    finished_ = false;
    rc_ = CURLE_OK;
    S3Client::Request r;
    r.operation = "GetObject";
    r.bucket = bucket_;
    r.key = key_;
    uint64_t from = start_ + t_.delivered;
    bool ranged = from > 0 || end_.has_value();
    if (ranged) {
      r.headers.emplace_back(
          "range", "bytes=" + std::to_string(from) + "-" + (end_ ? std::to_string(*end_ - 1) : ""));
    }
    if (!etag_.empty()) r.headers.emplace_back("if-match", etag_);
    Prepare(*handle_, t_, r, client_->options_, client_->signer_, client_->scheme_, client_->host_,
            client_->base_path_);
    curl_multi_add_handle(handle_->multi, handle_->easy);
    bool finished = false;
    CURLcode rc = Drive(
        *handle_, [this] { return t_.headers_done && t_.Ok(); }, &finished);
    if (finished) {
      finished_ = true;
      rc_ = rc;
    }
    if (finished && rc != CURLE_OK && !t_.headers_done) {
      *retryable = RetryableCurl(rc);
      *error = Unavailable("GetObject on " + S3Url(bucket_, key_) +
                           " failed: cannot reach S3: " + CurlErrorText(rc, t_));
      return false;
    }
    if (!t_.Ok()) {
      // An error document: it is small and already complete (the transfer finished).
      S3Error err;
      ParseS3Error(t_.body, &err);
      *retryable = RetryableHttp(t_.status, err.code);
      if (t_.status == 412 && !etag_.empty()) {
        *retryable = false;
        *error = Unavailable(S3Url(bucket_, key_) + " changed while it was being downloaded");
        return false;
      }
      *error = StatusFromS3Error(t_.status, t_.body, bucket_, key_, "GetObject");
      return false;
    }
    if (ranged && t_.status != 206) {
      *retryable = false;
      *error =
          Unavailable("the S3 endpoint ignored the Range of GetObject on " + S3Url(bucket_, key_));
      return false;
    }
    if (etag_.empty()) {
      // First answer: learn the size and pin the version for resumes.
      etag_ = t_.Header("etag").value_or("");
      uint64_t length = ParseU64(t_.Header("content-length").value_or("")).value_or(0);
      expected_ = length;
      total_ = length;
      if (auto range = t_.Header("content-range")) {  // "bytes 0-9/443"
        size_t slash = range->rfind('/');
        if (slash != std::string::npos) {
          total_ = ParseU64(std::string_view(*range).substr(slash + 1)).value_or(length);
        }
      }
    }
    return true;
  }

  Status StartWithRetries() {
    for (;;) {
      Status error;
      bool retryable = false;
      if (StartOnce(&error, &retryable)) return Status::Ok();
      ReleaseHandle();
      if (!retryable || attempts_ >= client_->options().max_attempts) return error;
      client_->retries_.fetch_add(1);
      client_->Backoff(attempts_);
    }
  }

  void ReleaseHandle() {
    if (!handle_) return;
    curl_multi_remove_handle(handle_->multi, handle_->easy);
    client_->pool_->Release(std::move(handle_));
  }

  std::shared_ptr<S3Client> client_;
  std::string bucket_;
  std::string key_;
  std::unique_ptr<CurlHandle> handle_;
  Transfer t_;
  uint64_t start_ = 0;
  std::optional<uint64_t> end_;  // exclusive
  uint64_t expected_ = 0;        // body bytes of the first answer
  uint64_t total_ = 0;
  std::string etag_;
  int attempts_ = 0;                 // starts since the last progress
  uint64_t delivered_at_start_ = 0;  // t_.delivered when the current transfer started
  bool finished_ = false;
  CURLcode rc_ = CURLE_OK;
  bool done_ = false;
};

Result<S3Client::ObjectStream> S3Client::GetObject(const std::string& bucket,
                                                   const std::string& key, uint64_t offset,
                                                   std::optional<uint64_t> length) {
  auto empty_range = [&](uint64_t total) -> Result<ObjectStream> {
    auto source = std::make_unique<S3ObjectSource>(shared_from_this(), bucket, key);
    source->MarkEmpty();
    ObjectStream out;
    out.offset = offset;
    out.total_size = total;
    out.body = std::move(source);
    return out;
  };
  if (length && *length == 0) {
    PLINTH_ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
    if (offset > info.size) {
      return InvalidArgument("requested range of " + S3Url(bucket, key) + " is past its end");
    }
    return empty_range(info.size);
  }
  auto source = std::make_unique<S3ObjectSource>(shared_from_this(), bucket, key);
  Status s = source->Open(offset, length);
  if (s.code() == StatusCode::kInvalidArgument) {
    // 416: S3 refuses any range of an empty object and a range starting at the end; both are
    // an empty answer for us when the offset is exactly the size.
    PLINTH_ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
    if (offset == info.size) return empty_range(info.size);
    return s;
  }
  PLINTH_RETURN_IF_ERROR(s);
  ObjectStream out;
  out.offset = source->offset();
  out.total_size = source->total_size();
  out.body = std::move(source);
  return out;
}

}  // namespace plinth::artifacts
