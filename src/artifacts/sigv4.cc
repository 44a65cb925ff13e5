#include "artifacts/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace plinth::artifacts {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string HexOf(const unsigned char* data, size_t n) {
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexLower[data[i] >> 4];
    out[2 * i + 1] = kHexLower[data[i] & 0xf];
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with runs of spaces collapsed to one (SigV4's Trimall).
std::string TrimAll(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string UriEncode(std::string_view in, bool encode_slash) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 0xf];
    }
  }
  return out;
}

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinishHex();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string Sha256::FinishHex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out, &len);
  return HexOf(out, len);
}

SigV4Signer::SigV4Signer(AwsCredentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string SigV4Signer::CanonicalQueryString(const HeaderList& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  // Sorted by encoded name, then value (byte order), as the specification requires.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string SigV4Signer::CanonicalRequest(const SigningRequest& request,
                                          std::string* signed_headers) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(Lower(name), TrimAll(value));
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  signed_headers->clear();
  for (size_t i = 0; i < headers.size(); ++i) {
    // A header sent twice is signed once, its values joined by commas.
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // '\n'
      canonical_headers += ',' + headers[i].second + '\n';
      continue;
    }
    canonical_headers += headers[i].first + ':' + headers[i].second + '\n';
    if (!signed_headers->empty()) *signed_headers += ';';
    *signed_headers += headers[i].first;
  }
  std::string out;
  out.reserve(256 + canonical_headers.size());
  out += request.method + '\n';
  out += (request.canonical_uri.empty() ? "/" : request.canonical_uri) + '\n';
  out += CanonicalQueryString(request.query) + '\n';
  out += canonical_headers + '\n';
  out += *signed_headers + '\n';
  out += request.payload_hash;
  return out;
}

std::string SigV4Signer::Scope(const std::string& amz_date) const {
  return amz_date.substr(0, 8) + '/' + region_ + '/' + service_ + "/aws4_request";
}

std::string SigV4Signer::StringToSign(const std::string& canonical_request,
                                      const std::string& amz_date) const {
  return std::string(kAlgorithm) + '\n' + amz_date + '\n' + Scope(amz_date) + '\n' +
         Sha256Hex(canonical_request);
}

std::string SigV4Signer::Signature(const std::string& string_to_sign,
                                   const std::string& amz_date) const {
  std::string key = HmacSha256("AWS4" + credentials_.secret_access_key, amz_date.substr(0, 8));
  key = HmacSha256(key, region_);
  key = HmacSha256(key, service_);
  key = HmacSha256(key, "aws4_request");
  std::string mac = HmacSha256(key, string_to_sign);
  return HexOf(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string SigV4Signer::Sign(SigningRequest& request, std::time_t now) const {
  std::string amz_date = AmzDate(now);
  request.headers.emplace_back("x-amz-date", amz_date);
  if (service_ == "s3") {
    request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  if (!credentials_.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  std::string signed_headers;
  std::string canonical = CanonicalRequest(request, &signed_headers);
  std::string signature = Signature(StringToSign(canonical, amz_date), amz_date);
  return std::string(kAlgorithm) + " Credential=" + credentials_.access_key_id + '/' +
         Scope(amz_date) + ", SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

}  // namespace plinth::artifacts
