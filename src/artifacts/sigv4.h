// AWS Signature Version 4 for S3-compatible requests: canonical request, string to sign, and the
// HMAC-SHA256 key chain (OpenSSL), giving the `Authorization` header.
//
// Why our own signer (reference/cpp.md §3.6): Debian's libs3 signs with SigV2 only, and
// libcurl 7.88's CURLOPT_AWS_SIGV4 signs the query string as given, without canonicalising it,
// which breaks ListObjectsV2 and multipart requests. The algorithm is small and is tested
// against the example requests in AWS's documentation (sigv4_test.cc).
//
// Pure functions and an immutable signer: thread-safe.
#ifndef PLINTH_ARTIFACTS_SIGV4_H_
#define PLINTH_ARTIFACTS_SIGV4_H_

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::artifacts {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The payload hash S3 accepts in place of a body's SHA-256 (the body is then not signed).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string, the payload hash of GET/HEAD/DELETE requests.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent as x-amz-security-token
};

struct SigningRequest {
  std::string method;         // "GET", "PUT", ...
  std::string canonical_uri;  // the path exactly as sent: already URI-encoded, e.g. "/b/a%20c"
  HeaderList query;           // decoded names and values; encoded and sorted when signing
  HeaderList headers;         // must include "host"; every header listed here is signed
  std::string payload_hash;   // lowercase hex SHA-256 of the body, or kUnsignedPayload
};

// RFC 3986 percent-encoding as SigV4 defines it: unreserved characters (A-Z a-z 0-9 - _ . ~)
// stay, every other byte becomes %XX (upper-case hex); '/' stays unless `encode_slash`.
std::string UriEncode(std::string_view in, bool encode_slash);

// "20130524T000000Z" for a UNIX time.
std::string AmzDate(std::time_t t);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Incremental SHA-256 for bodies hashed as they are read.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lowercase hex digest; the hasher must not be updated afterwards.
  std::string FinishHex();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay in sigv4.cc
};

class SigV4Signer {
 public:
  SigV4Signer(AwsCredentials credentials, std::string region, std::string service = "s3");

  // Signs `request` at time `now`: adds x-amz-date, x-amz-content-sha256 (service "s3") and
  // x-amz-security-token (temporary credentials) to request.headers, then returns the value of
  // the Authorization header. The caller sends exactly request.headers plus Authorization.
  std::string Sign(SigningRequest& request, std::time_t now) const;

  // The pieces, exposed for tests and for the fake S3 server that verifies signatures.
  static std::string CanonicalQueryString(const HeaderList& query);
  // The canonical request of an already-dated request, and its signed-header list.
  static std::string CanonicalRequest(const SigningRequest& request, std::string* signed_headers);
  std::string StringToSign(const std::string& canonical_request, const std::string& amz_date) const;
  // Hex HMAC of the string to sign with the key derived for the date of `amz_date`.
  std::string Signature(const std::string& string_to_sign, const std::string& amz_date) const;

  const AwsCredentials& credentials() const { return credentials_; }
  const std::string& region() const { return region_; }

 private:
  std::string Scope(const std::string& amz_date) const;

  AwsCredentials credentials_;
  std::string region_;
  std::string service_;
};

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_SIGV4_H_
