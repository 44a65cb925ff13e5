// Where an S3-compatible store is and how to reach it: s3:// URIs, and S3Options resolved the
// way the AWS CLI and boto3 (so the mlflow client) resolve them, from environment variables and
// the shared ~/.aws/credentials and ~/.aws/config files. Pure functions over an injected
// environment (tests pass their own); thread-safe.
#ifndef PLINTH_ARTIFACTS_S3_CONFIG_H_
#define PLINTH_ARTIFACTS_S3_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "artifacts/sigv4.h"
#include "core/result.h"

namespace plinth::artifacts {

// s3://BUCKET[/PREFIX]: prefix without leading or trailing '/', "" for the bucket's root.
struct S3Location {
  std::string bucket;
  std::string prefix;
};

// Failure: kInvalidArgument for another scheme, an empty or invalid bucket name, or '..' in the
// prefix.
Result<S3Location> ParseS3Uri(std::string_view uri);

enum class S3Addressing {
  kAuto,     // virtual-hosted on AWS, path-style for a custom endpoint or a dotted bucket name
  kPath,     // https://endpoint/BUCKET/KEY
  kVirtual,  // https://BUCKET.endpoint/KEY
};

struct S3Options {
  // scheme://host[:port] without a path; empty: AWS, https://s3.REGION.amazonaws.com.
  std::string endpoint;
  std::string region = "us-east-1";
  AwsCredentials credentials;  // empty access key: requests go unsigned (public buckets)
  S3Addressing addressing = S3Addressing::kAuto;
  // Multipart part size (S3 allows 5 MiB..5 GiB). One part is buffered per upload so that it can
  // be retried; files up to this size go up in one PUT.
  uint64_t part_size = 8ull << 20;
  int max_attempts = 5;       // per request, including the first (1 = no retries)
  int backoff_base_ms = 100;  // full-jitter exponential back-off: rand(0, base·2^n)
  int backoff_max_ms = 5000;  // cap of one wait
  int connect_timeout_s = 10;
  int low_speed_timeout_s = 60;  // a transfer under 1 byte/s this long fails (and is retried)
  int list_page_size = 1000;     // max-keys of ListObjectsV2 (tests use small pages)
  bool verify_tls = true;        // MLFLOW_S3_IGNORE_TLS=true turns it off
  std::string ca_bundle;         // AWS_CA_BUNDLE

  // Failure: kInvalidArgument naming the bad field.
  Status Validate() const;
  // The endpoint requests go to: `endpoint` or AWS's regional one.
  std::string EffectiveEndpoint() const;
  // Whether requests for `bucket` use path-style URLs.
  bool UsePathStyle(std::string_view bucket) const;
};

// Reads an environment variable; nullopt when unset. Tests inject a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
EnvLookup ProcessEnv();

// Resolves S3Options from (first match wins):
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the
//                profile's keys in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), else in
//                AWS_CONFIG_FILE (~/.aws/config); profile = AWS_PROFILE, else "default"
//   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1
//   endpoint     MLFLOW_S3_ENDPOINT_URL (MLflow passes it to boto3 explicitly, so it wins),
//                AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `s3 = endpoint_url`,
//                then its `endpoint_url`, else AWS
//   addressing   AWS_S3_ADDRESSING_STYLE (path|virtual|auto), the profile's
//                `s3 = addressing_style`, else auto
//   TLS          MLFLOW_S3_IGNORE_TLS=true, AWS_CA_BUNDLE
// Failure: kInvalidArgument for an unknown addressing style or a malformed endpoint.
Result<S3Options> S3OptionsFromEnvironment(const EnvLookup& env);

}  // namespace plinth::artifacts

#endif  // PLINTH_ARTIFACTS_S3_CONFIG_H_
