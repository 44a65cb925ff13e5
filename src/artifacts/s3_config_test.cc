// S3 configuration and XML: s3:// URIs, where options come from (environment over shared files,
// profiles, nested `s3 =` blocks), addressing rules, and parsing S3's documents.
#include "artifacts/s3_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "artifacts/s3_xml.h"

namespace plinth::artifacts {
namespace {

TEST(ParseS3UriTest, BucketAndNormalisedPrefix) {
  auto loc = ParseS3Uri("s3://my-bucket/a//b/c/");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "a/b/c");
  EXPECT_EQ(ParseS3Uri("s3://b")->prefix, "");
  EXPECT_EQ(ParseS3Uri("s3://b/")->prefix, "");
  for (const char* bad : {"s3://", "s3:///x", "gs://b/x", "s3://b/../x", "s3://b/./x", "b/x"}) {
    EXPECT_EQ(ParseS3Uri(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

class S3ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("plinth-s3-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(home_ / ".aws");
    env_["HOME"] = home_.string();
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(home_ / ".aws" / name) << text;
  }
  Result<S3Options> Resolve() {
    return S3OptionsFromEnvironment([this](const std::string& n) -> std::optional<std::string> {
      auto it = env_.find(n);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }
  std::filesystem::path home_;
  std::map<std::string, std::string> env_;
};

TEST_F(S3ConfigTest, DefaultsWithNothingConfigured) {
  auto o = Resolve();
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->region, "us-east-1");
  EXPECT_EQ(o->endpoint, "");
  EXPECT_EQ(o->EffectiveEndpoint(), "https://s3.us-east-1.amazonaws.com");
  EXPECT_TRUE(o->credentials.access_key_id.empty());
  EXPECT_FALSE(o->UsePathStyle("my-bucket"));        // AWS: virtual-hosted
  EXPECT_TRUE(o->UsePathStyle("my.dotted.bucket"));  // TLS wildcard would not match
}

TEST_F(S3ConfigTest, SharedFilesWithProfiles) {
  Write("credentials",
        "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n"
        "# a comment\n[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key=devsecret\n"
        "aws_session_token = devtoken\n");
  Write("config",
        "[default]\nregion = eu-west-1\n"
        "[profile dev]\nregion = ap-south-1\ns3 =\n  addressing_style = path\n"
        "  endpoint_url = http://minio.local:9000/\n");
  auto o = Resolve();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key_id, "DEFAULTKEY");
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->addressing, S3Addressing::kAuto);

  env_["AWS_PROFILE"] = "dev";
  o = Resolve();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(o->credentials.secret_access_key, "devsecret");
  EXPECT_EQ(o->credentials.session_token, "devtoken");
  EXPECT_EQ(o->region, "ap-south-1");
  EXPECT_EQ(o->addressing, S3Addressing::kPath);
  EXPECT_EQ(o->endpoint, "http://minio.local:9000");  // trailing '/' dropped
}

TEST_F(S3ConfigTest, EnvironmentWinsOverFiles) {
  Write("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n");
  Write("config", "[default]\nregion = eu-west-1\nendpoint_url = http://from-config:1\n");
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env_["AWS_SESSION_TOKEN"] = "envtoken";
  env_["AWS_DEFAULT_REGION"] = "us-west-2";
  env_["AWS_ENDPOINT_URL"] = "http://generic:2";
  auto o = Resolve();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(o->credentials.session_token, "envtoken");
  EXPECT_EQ(o->region, "us-west-2");
  EXPECT_EQ(o->endpoint, "http://generic:2");
  EXPECT_TRUE(o->UsePathStyle("bucket"));  // custom endpoint: path-style

  env_["AWS_REGION"] = "ca-central-1";  // over AWS_DEFAULT_REGION
  env_["AWS_ENDPOINT_URL_S3"] = "http://s3-specific:3";
  EXPECT_EQ(Resolve()->region, "ca-central-1");
  EXPECT_EQ(Resolve()->endpoint, "http://s3-specific:3");
  env_["MLFLOW_S3_ENDPOINT_URL"] = "http://mlflow:4";  // MLflow hands it to boto3 explicitly
  EXPECT_EQ(Resolve()->endpoint, "http://mlflow:4");

  env_["AWS_S3_ADDRESSING_STYLE"] = "virtual";
  EXPECT_FALSE(Resolve()->UsePathStyle("bucket"));
  env_["AWS_S3_ADDRESSING_STYLE"] = "sideways";
  EXPECT_EQ(Resolve().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ConfigTest, ExplicitFileLocationsAndTls) {
  std::filesystem::path creds = home_ / "elsewhere-credentials";
  std::ofstream(creds) << "[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = x\n";
  env_["AWS_SHARED_CREDENTIALS_FILE"] = creds.string();
  env_["MLFLOW_S3_IGNORE_TLS"] = "true";
  env_["AWS_CA_BUNDLE"] = "/etc/ssl/ca.pem";
  auto o = Resolve();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->credentials.access_key_id, "ELSEWHERE");
  EXPECT_FALSE(o->verify_tls);
  EXPECT_EQ(o->ca_bundle, "/etc/ssl/ca.pem");
  env_["AWS_ENDPOINT_URL"] = "ftp://nope";
  EXPECT_EQ(Resolve().status().code(), StatusCode::kInvalidArgument);
}

TEST(S3OptionsTest, Validate) {
  S3Options o;
  EXPECT_TRUE(o.Validate().ok());
  o.part_size = 1 << 20;
  EXPECT_FALSE(o.Validate().ok());
  o = S3Options{};
  o.max_attempts = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = S3Options{};
  o.list_page_size = 1001;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(S3XmlTest, ListObjectsV2PageWithUrlEncodedKeys) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>p/a+b%2Bc.txt</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;x&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>p/%C3%BC%20x</Key><Size>0</Size></Contents>
  <CommonPrefixes><Prefix>p/dir%2F/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  auto page = ParseListObjectsV2(xml, true);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a b+c.txt");
  EXPECT_EQ(page->objects[0].size, 1234);
  EXPECT_EQ(page->objects[1].key, "p/\xc3\xbc x");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "p/dir//");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  auto last = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</Key>"
      "<Size>5</Size></Contents></ListBucketResult>",
      false);
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->is_truncated);
  EXPECT_EQ(last->objects[0].key, "a&b");
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents>", false).ok());
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>X</Code></Error>", false).ok());
}

TEST(S3XmlTest, ErrorsAndMultipartDocuments) {
  S3Error err;
  ASSERT_TRUE(ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not "
      "exist.</Message><Key>k</Key><RequestId>1</RequestId></Error>",
      &err));
  EXPECT_EQ(err.code, "NoSuchKey");
  EXPECT_EQ(err.message, "The specified key does not exist.");
  EXPECT_FALSE(ParseS3Error("", &err));
  EXPECT_FALSE(ParseS3Error("<html><body>Error</body></html>", &err));
  EXPECT_FALSE(ParseS3Error("<ListBucketResult/>", &err));

  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  auto failed = ParseDeleteResult(
      "<DeleteResult><Deleted><Key>ok</Key></Deleted><Error><Key>k1</Key><Code>AccessDenied"
      "</Code><Message>no</Message></Error></DeleteResult>");
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].first, "k1");
  EXPECT_EQ((*failed)[0].second.code, "AccessDenied");
  EXPECT_TRUE(ParseDeleteResult("<DeleteResult/>")->empty());
}

TEST(S3XmlTest, RequestBodiesEscapeKeysAndEtags) {
  EXPECT_EQ(CompleteMultipartUploadXml({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  EXPECT_EQ(DeleteObjectsXml({"a<b&c"}),
            "<Delete><Quiet>true</Quiet><Object><Key>a&lt;b&amp;c</Key></Object></Delete>");
}

}  // namespace
}  // namespace plinth::artifacts
