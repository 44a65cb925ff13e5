// SigV4 against AWS's published examples: the four requests of the S3 guide's "Signature
// Calculations for the Authorization Header" page (GET Object with Range, PUT Object, GET Bucket
// Lifecycle, List Objects; key AKIAIOSFODNN7EXAMPLE, 24 May 2013) and "get-vanilla" /
// "get-vanilla-query-order-key-case" of the SigV4 test suite (AKIDEXAMPLE, 30 Aug 2015).
#include "artifacts/sigv4.h"

#include <gtest/gtest.h>

namespace plinth::artifacts {
namespace {

constexpr std::time_t kMay24th2013 = 1369353600;  // 20130524T000000Z
constexpr std::time_t kAug30th2015 = 1440938160;  // 20150830T123600Z
constexpr char kS3Host[] = "examplebucket.s3.amazonaws.com";

SigV4Signer S3DocSigner() {
  return SigV4Signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                     "us-east-1");
}

std::string SignatureOf(const std::string& authorization) {
  return authorization.substr(authorization.rfind("Signature=") + 10);
}

TEST(SigV4Test, S3GetObjectWithRange) {
  SigningRequest r{"GET",
                   "/test.txt",
                   {},
                   {{"Host", kS3Host}, {"Range", "bytes=0-9"}},
                   std::string(kEmptyPayloadSha256)};
  std::string auth = S3DocSigner().Sign(r, kMay24th2013);
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectWithEncodedKeyAndSignedBody) {
  std::string body_hash = Sha256Hex("Welcome to Amazon S3.");
  EXPECT_EQ(body_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigningRequest r{"PUT",
                   "/" + UriEncode("test$file.text", false),
                   {},
                   {{"Host", kS3Host},
                    {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                    {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                   body_hash};
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  std::string auth = S3DocSigner().Sign(r, kMay24th2013);
  EXPECT_NE(auth.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-storage-class,"),
            std::string::npos);
  EXPECT_EQ(SignatureOf(auth), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleValuelessQueryParameter) {
  SigningRequest r{
      "GET", "/", {{"lifecycle", ""}}, {{"Host", kS3Host}}, std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(SigV4Signer::CanonicalQueryString(r.query), "lifecycle=");
  EXPECT_EQ(SignatureOf(S3DocSigner().Sign(r, kMay24th2013)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3ListObjectsSortsTheQuery) {
  SigningRequest r{"GET",
                   "/",
                   {{"prefix", "J"}, {"max-keys", "2"}},
                   {{"Host", kS3Host}},
                   std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(SigV4Signer::CanonicalQueryString(r.query), "max-keys=2&prefix=J");
  EXPECT_EQ(SignatureOf(S3DocSigner().Sign(r, kMay24th2013)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

SigV4Signer SuiteSigner() {
  return SigV4Signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1",
                     "service");
}

TEST(SigV4Test, SuiteGetVanilla) {
  SigningRequest r{
      "GET", "/", {}, {{"Host", "example.amazonaws.com"}}, std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(SuiteSigner().Sign(r, kAug30th2015),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  // Only the S3 service gets x-amz-content-sha256.
  for (const auto& [name, value] : r.headers) EXPECT_NE(name, "x-amz-content-sha256");
}

TEST(SigV4Test, SuiteGetVanillaQueryOrderKeyCase) {
  SigningRequest r{"GET",
                   "/",
                   {{"Param2", "value2"}, {"Param1", "value1"}},
                   {{"Host", "example.amazonaws.com"}},
                   std::string(kEmptyPayloadSha256)};
  EXPECT_EQ(SignatureOf(SuiteSigner().Sign(r, kAug30th2015)),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, SessionTokenIsSentAndSigned) {
  SigV4Signer signer({"AKID", "secret", "the-token"}, "eu-west-1");
  SigningRequest r{"GET", "/k", {}, {{"host", "h"}}, std::string(kEmptyPayloadSha256)};
  std::string auth = signer.Sign(r, kMay24th2013);
  EXPECT_NE(auth.find("x-amz-date;x-amz-security-token,"), std::string::npos) << auth;
  bool found = false;
  for (const auto& [name, value] : r.headers) found |= name == "x-amz-security-token";
  EXPECT_TRUE(found);
}

TEST(SigV4Test, CanonicalFormDetails) {
  // Only unreserved characters survive; '/' only in paths; UTF-8 bytes one by one.
  EXPECT_EQ(UriEncode("A-z_0.9~", true), "A-z_0.9~");
  EXPECT_EQ(UriEncode("a b+c=d&e", true), "a%20b%2Bc%3Dd%26e");
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", true), "%C3%A9");
  // Multipart query: a valueless name and an upload id with reserved characters.
  EXPECT_EQ(SigV4Signer::CanonicalQueryString({{"uploadId", "a/b+c=="}, {"partNumber", "2"}}),
            "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D");
  EXPECT_EQ(SigV4Signer::CanonicalQueryString({{"uploads", ""}}), "uploads=");
  // Header names lower-cased and sorted, values trimmed with inner runs of spaces collapsed.
  SigningRequest r{"PUT",
                   "/x",
                   {},
                   {{"X-Amz-Meta-B", "  two   words "}, {"Host", "h"}},
                   std::string(kUnsignedPayload)};
  std::string signed_headers;
  std::string canonical = SigV4Signer::CanonicalRequest(r, &signed_headers);
  EXPECT_EQ(signed_headers, "host;x-amz-meta-b");
  EXPECT_EQ(canonical,
            "PUT\n/x\n\nhost:h\nx-amz-meta-b:two words\n\nhost;x-amz-meta-b\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(AmzDate(kAug30th2015), "20150830T123600Z");
}

TEST(SigV4Test, IncrementalSha256MatchesOneShot) {
  Sha256 h;
  h.Update("Welcome to ");
  h.Update("Amazon S3.");
  EXPECT_EQ(h.FinishHex(), Sha256Hex("Welcome to Amazon S3."));
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
}

}  // namespace
}  // namespace plinth::artifacts
