#include "http/http_client.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace plinth::http {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

// Writes a 2xx body to the file and anything else to the response (for its message).
struct DownloadSink {
  CURL* curl;
  std::FILE* file;
  std::string* error_body;
  bool failed = false;
};

size_t WriteDownload(char* data, size_t size, size_t count, void* out) {
  auto* sink = static_cast<DownloadSink*>(out);
  long status = 0;
  curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    sink->error_body->append(data, size * count);
    return size * count;
  }
  if (std::fwrite(data, size, count, sink->file) != count) {
    sink->failed = true;
    return 0;
  }
  return size * count;
}

size_t ReadUpload(char* buffer, size_t size, size_t count, void* in) {
  return std::fread(buffer, size, count, static_cast<std::FILE*>(in));
}

}  // namespace

Result<ClientResponse> SendHttpRequestWithFiles(const ClientRequest& request,
                                                const std::string& upload_path,
                                                const std::string& download_path) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Unavailable("cannot start an HTTP client (libcurl)");
  CURL* c = curl.get();
  ClientResponse response;
  std::unique_ptr<curl_slist, ListDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  std::unique_ptr<std::FILE, FileCloser> upload;
  std::unique_ptr<std::FILE, FileCloser> download;
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!upload_path.empty()) {
    upload.reset(std::fopen(upload_path.c_str(), "rbe"));
    if (!upload) return NotFound("cannot open " + upload_path);
    std::fseek(upload.get(), 0, SEEK_END);
    long size = std::ftell(upload.get());
    std::fseek(upload.get(), 0, SEEK_SET);
    add_header("Content-Type: application/octet-stream");
    add_header("Expect:");  // no 100-continue round trip
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(c, CURLOPT_READDATA, upload.get());
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  }
  DownloadSink sink{c, nullptr, &response.body};
  if (!download_path.empty()) {
    download.reset(std::fopen(download_path.c_str(), "wbe"));
    if (!download) return Internal("cannot write " + download_path);
    sink.file = download.get();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteDownload);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  } else {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT, request.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  if (sink.failed) return Internal("cannot write " + download_path);
  if (rc != CURLE_OK) {
    return Unavailable("cannot reach " + request.url + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

Result<ClientResponse> SendHttpRequest(const ClientRequest& request) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Unavailable("cannot start an HTTP client (libcurl)");
  CURL* c = curl.get();
  ClientResponse response;
  std::unique_ptr<curl_slist, ListDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  if (!request.body.empty()) add_header("Content-Type: " + request.content_type);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, request.timeout_seconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return Unavailable("cannot reach " + request.url + ": " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace plinth::http
