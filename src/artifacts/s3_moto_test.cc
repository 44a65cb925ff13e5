// S3ArtifactStore against a real S3-compatible server: moto in server mode, started by
// scripts/s3-server.sh, whose env file sets PLINTH_TEST_S3_ENDPOINT, PLINTH_TEST_S3_BUCKET and
// the AWS_* variables the store reads. Without PLINTH_TEST_S3_ENDPOINT every test skips.
//   env_file=$(bash scripts/s3-server.sh start); set -a; . "$env_file"; set +a
//   build-s3/src/plinth_artifacts_test --gtest_filter='S3Moto*'
// PLINTH_TEST_S3_LARGE_MB (default 128) sizes the large-file test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "artifacts/artifact_store.h"
#include "artifacts/s3_artifact_store.h"
#include "artifacts/s3_client.h"
#include "artifacts/sigv4.h"

namespace plinth::artifacts {
namespace {

// Byte i of a test file: varies with position so that misplaced chunks are caught.
char PatternByte(uint64_t i) { return static_cast<char>((i * 31 + i / 4093) % 253); }

class PatternSource : public ByteSource {
 public:
  PatternSource(uint64_t size, uint64_t fail_at = UINT64_MAX) : size_(size), fail_at_(fail_at) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_at_) return BadRequest("client went away");
    size_t k = static_cast<size_t>(std::min<uint64_t>({n, size_ - pos_, fail_at_ - pos_}));
    for (size_t i = 0; i < k; ++i) buf[i] = PatternByte(pos_ + i);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override { return std::nullopt; }  // like a chunked body

 private:
  uint64_t size_;
  uint64_t fail_at_;
  uint64_t pos_ = 0;
};

class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string s) : s_(std::move(s)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    std::copy_n(s_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  std::optional<uint64_t> Size() const override { return s_.size(); }

 private:
  std::string s_;
  size_t pos_ = 0;
};

std::string ReadAll(ByteSource& src) {
  std::string out;
  char buf[65536];
  for (;;) {
    auto got = src.Read(buf, sizeof buf);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || *got == 0) return out;
    out.append(buf, *got);
  }
}

// Peak resident set of this process in KiB since the last ResetPeakRss().
int64_t PeakRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}
int64_t RssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}
bool ResetPeakRss() { return static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5"); }

class S3MotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* endpoint = std::getenv("PLINTH_TEST_S3_ENDPOINT");
    if (endpoint == nullptr || *endpoint == '\0') {
      GTEST_SKIP() << "no S3-compatible server: start one with scripts/s3-server.sh and source "
                      "its env file (sets PLINTH_TEST_S3_ENDPOINT)";
    }
    const char* bucket = std::getenv("PLINTH_TEST_S3_BUCKET");
    bucket_ = bucket != nullptr ? bucket : "plinth-test";
    prefix_ = "gtest-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::random_device{}() % 1000000);
    auto options = S3OptionsFromEnvironment(ProcessEnv());
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    options_ = *options;
    auto client = S3Client::Create(options_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = *client;
    store_ = NewS3ArtifactStore(client_, {bucket_, prefix_});
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Delete("").ok());
    }
  }
  std::string Uri() const { return "s3://" + bucket_ + "/" + prefix_; }

  std::string bucket_;
  std::string prefix_;
  S3Options options_;
  std::shared_ptr<S3Client> client_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(S3MotoTest, RoundTripListPagingAndRecursiveDelete) {
  options_.list_page_size = 2;  // force continuation tokens
  auto paged_client = S3Client::Create(options_);
  ASSERT_TRUE(paged_client.ok());
  auto store = NewS3ArtifactStore(*paged_client, {bucket_, prefix_});
  for (int i = 0; i < 5; ++i) {
    StringSource a("file " + std::to_string(i));
    ASSERT_TRUE(store->Put("run/f" + std::to_string(i) + ".txt", a).ok());
    StringSource b("nested");
    ASSERT_TRUE(store->Put("run/d" + std::to_string(i) + "/x y+z.json", b).ok());
  }
  StringSource empty("");
  ASSERT_TRUE(store->Put("run/empty", empty).ok());
  auto listed = store->List("run");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 11u);
  EXPECT_EQ((*listed)[0].path, "d0");
  EXPECT_TRUE((*listed)[0].is_dir);
  EXPECT_EQ((*listed)[5].path, "empty");
  EXPECT_EQ((*listed)[5].file_size, 0);
  EXPECT_EQ((*listed)[6].path, "f0.txt");
  EXPECT_EQ((*listed)[6].file_size, 6);
  auto nested = store->List("run/d3");
  ASSERT_TRUE(nested.ok());
  ASSERT_EQ(nested->size(), 1u);
  EXPECT_EQ((*nested)[0].path, "x y+z.json");
  auto got = store->Get("run/d3/x y+z.json");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(ReadAll(**got), "nested");
  EXPECT_EQ(ReadAll(**store->Get("run/empty")), "");

  ASSERT_TRUE(store->Delete("run/d3").ok());
  EXPECT_EQ(store->List("run")->size(), 10u);
  ASSERT_TRUE(store->Delete("run").ok());
  EXPECT_TRUE(store->List("run")->empty());
  EXPECT_EQ(store->Get("run/f1.txt").status().code(), StatusCode::kNotFound);
}

TEST_F(S3MotoTest, LargeFileStreamsBothWaysWithBoundedMemory) {
  const char* mb_env = std::getenv("PLINTH_TEST_S3_LARGE_MB");
  const uint64_t mb = mb_env != nullptr ? std::strtoull(mb_env, nullptr, 10) : 128;
  const uint64_t size = mb << 20;
  ASSERT_TRUE(ResetPeakRss()) << "cannot reset VmHWM (/proc/self/clear_refs)";
  const int64_t base_kb = RssKb();
  PatternSource src(size);
  Status put = store_->Put("large/big.bin", src);
  ASSERT_TRUE(put.ok()) << put.ToString();
  const int64_t upload_peak_mb = (PeakRssKb() - base_kb) / 1024;

  auto head = client_->HeadObject(bucket_, prefix_ + "/large/big.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, size);
  // A multipart object's ETag ends in "-<parts>".
  EXPECT_NE(
      head->etag.find("-" + std::to_string((size + options_.part_size - 1) / options_.part_size)),
      std::string::npos)
      << head->etag;

  ASSERT_TRUE(ResetPeakRss());
  auto got = store_->Get("large/big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)->Size(), size);
  uint64_t pos = 0;
  bool same = true;
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = (*got)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    for (size_t i = 0; i < *n && same; ++i) same = buf[i] == PatternByte(pos + i);
    pos += *n;
  }
  const int64_t download_peak_mb = (PeakRssKb() - base_kb) / 1024;
  EXPECT_EQ(pos, size);
  EXPECT_TRUE(same);
  std::printf("[s3 large] %llu MiB: peak RSS growth upload %lld MiB, download %lld MiB\n",
              static_cast<unsigned long long>(mb), static_cast<long long>(upload_peak_mb),
              static_cast<long long>(download_peak_mb));
  // One 8 MiB part buffered for upload (plus its hash and libcurl's buffers); ~256 KiB for
  // download. Far below the file, whatever its size.
  EXPECT_LT(upload_peak_mb, 48);
  EXPECT_LT(download_peak_mb, 32);
}

TEST_F(S3MotoTest, RangedReads) {
  PatternSource src(100000);
  ASSERT_TRUE(store_->Put("r.bin", src).ok());
  auto r = store_->GetRange("r.bin", 1000, 5000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->total_size, 100000u);
  std::string data = ReadAll(*r->content);
  ASSERT_EQ(data.size(), 5000u);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], PatternByte(1000 + i)) << i;
  auto tail = store_->GetRange("r.bin", 99990, std::nullopt);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(ReadAll(*tail->content).size(), 10u);
  auto at_end = store_->GetRange("r.bin", 100000, std::nullopt);
  ASSERT_TRUE(at_end.ok()) << at_end.status().ToString();
  EXPECT_EQ(ReadAll(*at_end->content), "");
  EXPECT_EQ(store_->GetRange("r.bin", 100001, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3MotoTest, FailedUploadLeavesNoObject) {
  PatternSource src(20ull << 20, /*fail_at=*/(12ull << 20));  // dies in the second part
  Status s = store_->Put("broken.bin", src);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest) << s.ToString();
  EXPECT_EQ(store_->Get("broken.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->List("")->empty());
}

TEST_F(S3MotoTest, OpenFromUriChecksTheBucket) {
  auto opened = OpenArtifactStoreFromUri(Uri() + "/opened");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  StringSource src("via uri");
  ASSERT_TRUE((*opened)->Put("a.txt", src).ok());
  EXPECT_EQ(ReadAll(**store_->Get("opened/a.txt")), "via uri");

  auto missing = OpenArtifactStoreFromUri("s3://no-such-bucket-" + prefix_ + "/x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos)
      << missing.status().message();
  EXPECT_EQ(store_->Get("nope.txt").status().code(), StatusCode::kNotFound);

  ArtifactStoreCache cache;
  auto loc = cache.Resolve(Uri() + "/opened");
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->path, prefix_ + "/opened");
  auto files = loc->store->List(loc->path);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "a.txt");
  auto again = cache.Resolve("s3://" + bucket_ + "/other");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->store.get(), loc->store.get());  // one store per bucket
  EXPECT_EQ(cache.Resolve("mlflow-artifacts:/1/x").status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace plinth::artifacts
