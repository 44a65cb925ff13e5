#include "artifacts/artifact_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace plinth::artifacts {
namespace {

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

class FailingSource : public ByteSource {
 public:
  Result<size_t> Read(char*, size_t) override { return BadRequest("client went away"); }
  std::optional<uint64_t> Size() const override { return std::nullopt; }
};

std::string ReadAll(ByteSource& src) {
  std::string out;
  char buf[7];
  for (;;) {
    auto got = src.Read(buf, sizeof buf);
    EXPECT_TRUE(got.ok());
    if (*got == 0) break;
    out.append(buf, *got);
  }
  return out;
}

TEST(NormalizeArtifactPathTest, AcceptsAndCanonicalises) {
  EXPECT_EQ(*NormalizeArtifactPath("a/b/c.txt", false), "a/b/c.txt");
  EXPECT_EQ(*NormalizeArtifactPath("a//./b/", false), "a/b");
  EXPECT_EQ(*NormalizeArtifactPath("", true), "");
}

TEST(NormalizeArtifactPathTest, RejectsEscapes) {
  for (const char* p : {"../x", "a/../../x", "/etc/passwd", "a\\..\\b", "C:/x", ".."}) {
    auto r = NormalizeArtifactPath(p, true);
    EXPECT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << p;
  }
  EXPECT_FALSE(NormalizeArtifactPath(std::string("a\0b", 3), true).ok());
  EXPECT_FALSE(NormalizeArtifactPath("", false).ok());
}

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("plinth-artifacts-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    store_ = std::move(OpenLocalArtifactStore(root_.string()).value());
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, PutGetListDelete) {
  StringSource src("hello artifacts");
  ASSERT_TRUE(store_->Put("1/run/artifacts/dir/a.txt", src).ok());
  auto got = store_->Get("1/run/artifacts/dir/a.txt");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->Size(), 15u);
  EXPECT_EQ(ReadAll(**got), "hello artifacts");

  auto listing = store_->List("1/run/artifacts");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 1u);
  EXPECT_EQ((*listing)[0].path, "dir");
  EXPECT_TRUE((*listing)[0].is_dir);
  EXPECT_FALSE((*listing)[0].file_size.has_value());

  listing = store_->List("1/run/artifacts/dir");
  ASSERT_EQ(listing->size(), 1u);
  EXPECT_EQ((*listing)[0].file_size, 15);

  EXPECT_TRUE(store_->List("nope")->empty());
  ASSERT_TRUE(store_->Delete("1/run/artifacts/dir").ok());
  EXPECT_EQ(store_->Get("1/run/artifacts/dir/a.txt").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalArtifactStoreTest, FailedUploadLeavesNothing) {
  FailingSource src;
  Status s = store_->Put("x/y.bin", src);
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_EQ(store_->Get("x/y.bin").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->List("x")->empty());
}

TEST_F(LocalArtifactStoreTest, ReplaceKeepsLatest) {
  StringSource a("first"), b("second");
  ASSERT_TRUE(store_->Put("f.txt", a).ok());
  ASSERT_TRUE(store_->Put("f.txt", b).ok());
  EXPECT_EQ(ReadAll(*store_->Get("f.txt").value()), "second");
}

}  // namespace
}  // namespace plinth::artifacts
