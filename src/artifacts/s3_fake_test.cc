// S3ArtifactStore against FakeS3 (fake_s3.h): the protocol (signed requests, multipart, paging,
// ranges, both addressing styles) and the failure cases — 503s, dropped connections, a failure
// mid-multipart, a cut download — with the retry, resume and abort behaviour they must cause.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "artifacts/fake_s3.h"
#include "artifacts/s3_artifact_store.h"
#include "artifacts/s3_client.h"

namespace plinth::artifacts {
namespace {

using testing::FakeS3;
using testing::Fault;
using testing::FaultKind;

constexpr uint64_t kPart = 5ull << 20;  // S3's smallest part

// `size` bytes of a pattern that differs at every position mod 251, produced on the fly.
class PatternSource : public ByteSource {
 public:
  explicit PatternSource(uint64_t size, bool announce_size = true, uint64_t fail_at = UINT64_MAX)
      : size_(size), announce_(announce_size), fail_at_(fail_at) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_at_) return BadRequest("client went away");
    size_t k = static_cast<size_t>(std::min<uint64_t>({n, size_ - pos_, fail_at_ - pos_}));
    for (size_t i = 0; i < k; ++i) buf[i] = Byte(pos_ + i);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override {
    return announce_ ? std::optional<uint64_t>(size_) : std::nullopt;
  }
  static char Byte(uint64_t i) { return static_cast<char>((i * 7 + i / 251) % 251); }

 private:
  uint64_t size_;
  bool announce_;
  uint64_t fail_at_;
  uint64_t pos_ = 0;
};

class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string s) : s_(std::move(s)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    std::memcpy(buf, s_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override { return s_.size(); }

 private:
  std::string s_;
  size_t pos_ = 0;
};

Result<std::string> ReadAll(ByteSource& src) {
  std::string out;
  char buf[65536];
  for (;;) {
    PLINTH_ASSIGN_OR_RETURN(size_t got, src.Read(buf, sizeof buf));
    if (got == 0) return out;
    out.append(buf, got);
  }
}

bool IsPattern(const std::string& data, uint64_t offset = 0) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != PatternSource::Byte(offset + i)) return false;
  }
  return true;
}

class S3FakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start().ok());
    fake_.CreateBucket("bkt");
    options_.endpoint = fake_.endpoint();
    options_.credentials = {"AKIDFAKE", "fake-secret", ""};
    options_.part_size = kPart;
    options_.backoff_base_ms = 1;
    options_.backoff_max_ms = 5;
    options_.max_attempts = 4;
    options_.connect_timeout_s = 2;
    options_.low_speed_timeout_s = 5;
  }
  std::unique_ptr<ArtifactStore> Store(const std::string& prefix = "root/dir") {
    auto client = S3Client::Create(options_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    client_ = *client;
    return NewS3ArtifactStore(client_, {"bkt", prefix});
  }
  // Every request our client signs must verify, unless a test provokes failures on purpose.
  void TearDown() override {
    if (!expect_bad_signatures_) {
      EXPECT_EQ(fake_.BadSignatures(), 0);
    }
  }

  bool expect_bad_signatures_ = false;
  FakeS3 fake_;
  S3Options options_;
  std::shared_ptr<S3Client> client_;
};

TEST_F(S3FakeTest, PutGetListDeleteWithKeysNeedingEncoding) {
  auto store = Store();
  const std::vector<std::string> paths = {"a b/c+d.txt", "a b/ü=é&.json", "top.txt",
                                          "deep/x/y/z.bin", "a b/sub/e.txt"};
  for (const std::string& p : paths) {
    StringSource src("content of " + p);
    Status put = store->Put(p, src);
    ASSERT_TRUE(put.ok()) << p << ": " << put.ToString();
  }
  ASSERT_TRUE(fake_.Get("bkt", "root/dir/a b/c+d.txt").has_value());
  auto got = store->Get("a b/ü=é&.json");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*ReadAll(**got), "content of a b/ü=é&.json");
  EXPECT_EQ((*got)->Size(), std::string("content of a b/ü=é&.json").size());

  auto root = store->List("");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  std::vector<std::pair<std::string, bool>> names;
  for (const auto& f : *root) names.emplace_back(f.path, f.is_dir);
  EXPECT_EQ(names, (std::vector<std::pair<std::string, bool>>{
                       {"a b", true}, {"deep", true}, {"top.txt", false}}));
  auto sub = store->List("a b");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 3u);
  EXPECT_EQ((*sub)[0].path, "c+d.txt");
  EXPECT_EQ((*sub)[0].file_size, 22);
  EXPECT_EQ((*sub)[1].path, "sub");
  EXPECT_TRUE((*sub)[1].is_dir);
  EXPECT_EQ((*sub)[2].path, "ü=é&.json");
  EXPECT_TRUE(store->List("nope")->empty());

  ASSERT_TRUE(store->Delete("a b").ok());
  EXPECT_FALSE(fake_.Get("bkt", "root/dir/a b/c+d.txt").has_value());
  EXPECT_FALSE(fake_.Get("bkt", "root/dir/a b/sub/e.txt").has_value());
  EXPECT_TRUE(fake_.Get("bkt", "root/dir/top.txt").has_value());
  ASSERT_TRUE(store->Delete("top.txt").ok());  // a single file
  EXPECT_FALSE(fake_.Get("bkt", "root/dir/top.txt").has_value());
  EXPECT_TRUE(store->Delete("never/was").ok());

  auto missing = store->Get("a b/c+d.txt");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->retry_count(), 0u);
}

TEST_F(S3FakeTest, ListAndDeleteFollowContinuationTokens) {
  options_.list_page_size = 2;
  auto store = Store("");
  for (int i = 0; i < 7; ++i) {
    StringSource src(std::string(i, 'x'));
    ASSERT_TRUE(store->Put("d/f" + std::to_string(i), src).ok());
    StringSource src2("y");
    ASSERT_TRUE(store->Put("d/sub" + std::to_string(i) + "/g", src2).ok());
  }
  auto files = store->List("d");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 14u);
  EXPECT_EQ((*files)[0].path, "f0");
  EXPECT_EQ((*files)[0].file_size, 0);
  EXPECT_EQ((*files)[13].path, "sub6");
  EXPECT_GE(fake_.Count("ListObjectsV2"), 7);
  ASSERT_TRUE(store->Delete("d").ok());
  EXPECT_TRUE(store->List("d")->empty());
  EXPECT_TRUE(store->List("")->empty());
}

TEST_F(S3FakeTest, VirtualHostedAddressing) {
  options_.endpoint = "http://localhost:" + std::to_string(fake_.port());
  options_.addressing = S3Addressing::kVirtual;
  auto store = Store();
  StringSource src("virtual");
  ASSERT_TRUE(store->Put("v.txt", src).ok());
  EXPECT_EQ(*ReadAll(**store->Get("v.txt")), "virtual");
  EXPECT_EQ(store->List("")->size(), 1u);
  EXPECT_EQ(fake_.Hosts().back(), "bkt.localhost:" + std::to_string(fake_.port()));
  EXPECT_TRUE(fake_.Get("bkt", "root/dir/v.txt").has_value());
}

TEST_F(S3FakeTest, LargeFilesGoUpInParts) {
  auto store = Store();
  for (bool announce : {true, false}) {
    PatternSource src(2 * kPart + 12345, announce);
    ASSERT_TRUE(store->Put("big.bin", src).ok());
  }
  EXPECT_EQ(fake_.Count("CreateMultipartUpload"), 2);
  EXPECT_EQ(fake_.Count("UploadPart"), 6);
  EXPECT_EQ(fake_.OpenUploads(), 0);
  auto got = store->Get("big.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->Size(), 2 * kPart + 12345);
  auto data = ReadAll(**got);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->size(), 2 * kPart + 12345);
  EXPECT_TRUE(IsPattern(*data));
  // Exactly one part: still multipart (the store cannot know the end until it reads past it).
  PatternSource exact(kPart);
  ASSERT_TRUE(store->Put("exact.bin", exact).ok());
  EXPECT_TRUE(IsPattern(fake_.Get("bkt", "root/dir/exact.bin")->data));
  // Empty file: one PUT of nothing.
  StringSource empty("");
  ASSERT_TRUE(store->Put("empty", empty).ok());
  EXPECT_EQ(*ReadAll(**store->Get("empty")), "");
}

TEST_F(S3FakeTest, RangedReads) {
  auto store = Store();
  PatternSource src(1000);
  ASSERT_TRUE(store->Put("r.bin", src).ok());
  auto r = store->GetRange("r.bin", 100, 50);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->offset, 100u);
  EXPECT_EQ(r->total_size, 1000u);
  EXPECT_EQ(r->content->Size(), 50u);
  auto data = ReadAll(*r->content);
  EXPECT_EQ(data->size(), 50u);
  EXPECT_TRUE(IsPattern(*data, 100));
  auto tail = store->GetRange("r.bin", 990, std::nullopt);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(IsPattern(*ReadAll(*tail->content), 990));
  auto clamped = store->GetRange("r.bin", 990, 100);
  EXPECT_EQ(ReadAll(*clamped->content)->size(), 10u);
  auto at_end = store->GetRange("r.bin", 1000, std::nullopt);
  ASSERT_TRUE(at_end.ok()) << at_end.status().ToString();
  EXPECT_EQ(*ReadAll(*at_end->content), "");
  EXPECT_EQ(store->GetRange("r.bin", 1001, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetRange("nope", 0, 1).status().code(), StatusCode::kNotFound);
  StringSource empty("");
  ASSERT_TRUE(store->Put("empty", empty).ok());
  auto empty_range = store->GetRange("empty", 0, std::nullopt);
  ASSERT_TRUE(empty_range.ok()) << empty_range.status().ToString();
  EXPECT_EQ(empty_range->total_size, 0u);
}

TEST_F(S3FakeTest, RetriesSlowDownAndServerErrors) {
  auto store = Store();
  fake_.AddFault({"PutObject", FaultKind::kSlowDown, 0, 2});
  fake_.AddFault({"ListObjectsV2", FaultKind::kInternalError, 0, 1});
  fake_.AddFault({"GetObject", FaultKind::kSlowDown, 0, 1});
  StringSource src("after retries");
  ASSERT_TRUE(store->Put("x.txt", src).ok());
  EXPECT_EQ(fake_.Count("PutObject"), 3);
  auto listed = store->List("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 1u);
  auto got = store->Get("x.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*ReadAll(**got), "after retries");
  EXPECT_EQ(client_->retry_count(), 4u);
}

TEST_F(S3FakeTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  auto store = Store();
  fake_.AddFault({"PutObject", FaultKind::kSlowDown, 0, 100});
  StringSource src("never");
  Status s = store->Put("x.txt", src);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("4 attempts"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("SlowDown"), std::string::npos) << s.message();
  EXPECT_EQ(fake_.Count("PutObject"), 4);
}

TEST_F(S3FakeTest, DroppedConnectionsAreRetried) {
  auto store = Store();
  fake_.AddFault({"UploadPart", FaultKind::kDropConnection, 1, 1});  // the second part, once
  fake_.AddFault({"CreateMultipartUpload", FaultKind::kDropConnection, 0, 1});
  PatternSource src(2 * kPart + 1);
  Status s = store->Put("big.bin", src);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fake_.Count("UploadPart"), 4);
  EXPECT_TRUE(IsPattern(fake_.Get("bkt", "root/dir/big.bin")->data));
  // The first CreateMultipartUpload may have opened an upload whose answer was lost: S3 keeps
  // such uploads until a lifecycle rule removes them; the object is whole either way.
  EXPECT_LE(fake_.OpenUploads(), 1);
}

TEST_F(S3FakeTest, FailureMidMultipartAbortsTheUpload) {
  auto store = Store();
  fake_.AddFault({"UploadPart", FaultKind::kInternalError, 1, 100});  // part 2 never succeeds
  PatternSource src(3 * kPart);
  Status s = store->Put("big.bin", src);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(fake_.Count("AbortMultipartUpload"), 1);
  EXPECT_EQ(fake_.Count("CompleteMultipartUpload"), 0);
  EXPECT_EQ(fake_.OpenUploads(), 0);
  EXPECT_FALSE(fake_.Get("bkt", "root/dir/big.bin").has_value());
}

TEST_F(S3FakeTest, ClientHangingUpMidUploadAbortsAndPassesItsError) {
  auto store = Store();
  PatternSource src(3 * kPart, /*announce_size=*/false, /*fail_at=*/kPart + 100);
  Status s = store->Put("big.bin", src);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest) << s.ToString();
  EXPECT_EQ(fake_.Count("AbortMultipartUpload"), 1);
  EXPECT_EQ(fake_.OpenUploads(), 0);
  EXPECT_FALSE(fake_.Get("bkt", "root/dir/big.bin").has_value());
  // A small upload cut short never reaches S3 at all.
  PatternSource small(1000, false, 10);
  EXPECT_EQ(store->Put("small.bin", small).code(), StatusCode::kBadRequest);
  EXPECT_EQ(fake_.Count("PutObject"), 0);
}

TEST_F(S3FakeTest, CompleteAnsweringErrorIn200IsRetried) {
  auto store = Store();
  fake_.AddFault({"CompleteMultipartUpload", FaultKind::kErrorIn200, 0, 1});
  PatternSource src(kPart + 10);
  Status s = store->Put("big.bin", src);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fake_.Count("CompleteMultipartUpload"), 2);
  EXPECT_TRUE(IsPattern(fake_.Get("bkt", "root/dir/big.bin")->data));
}

TEST_F(S3FakeTest, CutDownloadResumesWhereItStopped) {
  auto store = Store();
  fake_.Put("bkt", "root/dir/big.bin", [] {
    std::string s(3'000'000, '\0');
    for (size_t i = 0; i < s.size(); ++i) s[i] = PatternSource::Byte(i);
    return s;
  }());
  fake_.AddFault({"GetObject", FaultKind::kTruncateBody, 0, 2});
  auto got = store->Get("big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto data = ReadAll(**got);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->size(), 3'000'000u);
  EXPECT_TRUE(IsPattern(*data));
  EXPECT_EQ(fake_.Count("GetObject"), 3);
  EXPECT_EQ(client_->retry_count(), 2u);
}

TEST_F(S3FakeTest, CutsThatMakeProgressDoNotExhaustTheRetries) {
  auto store = Store();
  fake_.Put("bkt", "root/dir/big.bin", std::string(4'000'000, 'z'));
  fake_.AddFault({"GetObject", FaultKind::kTruncateBody, 0, 6});  // more cuts than max_attempts
  auto got = store->Get("big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  auto data = ReadAll(**got);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, std::string(4'000'000, 'z'));
  EXPECT_EQ(fake_.Count("GetObject"), 7);
}

TEST_F(S3FakeTest, ObjectReplacedDuringResumeIsAnError) {
  auto store = Store();
  fake_.Put("bkt", "root/dir/f.bin", std::string(2'000'000, 'a'));
  fake_.AddFault({"GetObject", FaultKind::kTruncateBody, 0, 1});
  auto got = store->Get("f.bin");
  ASSERT_TRUE(got.ok());
  char buf[1000];
  ASSERT_TRUE((*got)->Read(buf, sizeof buf).ok());
  fake_.Put("bkt", "root/dir/f.bin", std::string(2'000'000, 'b'));
  auto all = ReadAll(**got);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.status().message().find("changed"), std::string::npos) << all.status().message();
}

TEST_F(S3FakeTest, AuthAndBucketErrorsNameTheBucketAndCode) {
  expect_bad_signatures_ = true;
  options_.credentials.secret_access_key = "wrong";
  auto store = Store();
  StringSource src("x");
  Status s = store->Put("x.txt", src);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("bucket 'bkt'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.message();
  EXPECT_EQ(fake_.Count("PutObject"), 1);  // not retried
  EXPECT_EQ(store->List("").status().code(), StatusCode::kPermissionDenied);

  options_.credentials.secret_access_key = "fake-secret";
  auto client = S3Client::Create(options_);
  auto missing = NewS3ArtifactStore(*client, {"no-such-bucket", ""});
  Status m = missing->List("").status();
  EXPECT_EQ(m.code(), StatusCode::kFailedPrecondition) << m.ToString();
  EXPECT_NE(m.message().find("'no-such-bucket' does not exist"), std::string::npos);
  auto good = NewS3ArtifactStore(*client, {"bkt", ""});
  fake_.AddFault({"GetObject", FaultKind::kAccessDenied, 0, 1});
  Status denied = good->Get("x").status();
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("AccessDenied"), std::string::npos) << denied.message();
  EXPECT_GT(fake_.BadSignatures(), 0);
}

TEST(S3ClientTest, UnreachableEndpointIsUnavailableAfterRetries) {
  // A port nobody listens on: bind one, note it, close it.
  S3Options o;
  {
    FakeS3 gone;
    ASSERT_TRUE(gone.Start().ok());
    o.endpoint = gone.endpoint();
    gone.Stop();
  }
  o.credentials = {"AKID", "secret", ""};
  o.max_attempts = 3;
  o.backoff_base_ms = 1;
  o.backoff_max_ms = 2;
  o.connect_timeout_s = 2;
  auto client = S3Client::Create(o);
  ASSERT_TRUE(client.ok());
  auto store = NewS3ArtifactStore(*client, {"b", ""});
  Status s = store->List("").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("3 attempts"), std::string::npos) << s.message();
  EXPECT_EQ((*client)->retry_count(), 2u);
}

TEST(S3ClientTest, ErrorMapping) {
  auto doc = [](const std::string& code) {
    return "<Error><Code>" + code + "</Code><Message>m</Message></Error>";
  };
  EXPECT_EQ(StatusFromS3Error(404, doc("NoSuchKey"), "b", "k", "GetObject").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(StatusFromS3Error(404, "", "b", "k", "HeadObject").code(), StatusCode::kNotFound);
  EXPECT_EQ(StatusFromS3Error(404, doc("NoSuchBucket"), "b", "", "ListObjectsV2").code(),
            StatusCode::kFailedPrecondition);
  Status denied = StatusFromS3Error(403, doc("InvalidAccessKeyId"), "b", "k", "PutObject");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "S3 denied PutObject on bucket 'b' (InvalidAccessKeyId: m)");
  EXPECT_EQ(StatusFromS3Error(400, doc("AuthorizationHeaderMalformed"), "b", "k", "X").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusFromS3Error(503, doc("SlowDown"), "b", "k", "X").code(),
            StatusCode::kUnavailable);
  // Nothing S3 answers becomes a 500 of ours.
  for (long status : {400, 401, 403, 404, 409, 412, 416, 429, 500, 503}) {
    EXPECT_NE(StatusFromS3Error(status, "", "b", "k", "X").code(), StatusCode::kInternal);
  }
}

}  // namespace
}  // namespace plinth::artifacts
