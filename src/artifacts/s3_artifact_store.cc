#include "artifacts/s3_artifact_store.h"

#include <algorithm>

namespace plinth::artifacts {
namespace {

constexpr int kMaxParts = 10000;       // S3's limit per multipart upload
constexpr size_t kDeleteBatch = 1000;  // S3's limit per DeleteObjects request

// Reads from `src` until `buf` holds `want` bytes or the source ends.
Status Fill(ByteSource& src, std::string& buf, size_t want) {
  buf.resize(want);
  size_t have = 0;
  while (have < want) {
    auto got = src.Read(buf.data() + have, want - have);
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    have += *got;
  }
  buf.resize(have);
  return Status::Ok();
}

class S3ArtifactStore final : public ArtifactStore {
 public:
  S3ArtifactStore(std::shared_ptr<S3Client> client, S3Location root)
      : client_(std::move(client)), root_(std::move(root)) {}

  Status Put(const std::string& path, ByteSource& content) override {
    std::string key = KeyOf(path);
    uint64_t part_size = client_->options().part_size;
    if (auto size = content.Size()) {
      // Grow parts so that a known size fits S3's 10,000-part limit.
      part_size = std::max<uint64_t>(part_size, (*size + kMaxParts - 1) / kMaxParts);
    }
    std::string buf;
    PLINTH_RETURN_IF_ERROR(Fill(content, buf, part_size));
    if (buf.size() < part_size) {
      return client_->PutObject(root_.bucket, key, buf);
    }
    PLINTH_ASSIGN_OR_RETURN(std::string upload_id,
                            client_->CreateMultipartUpload(root_.bucket, key));
    Status s = UploadParts(key, upload_id, content, part_size, buf);
    if (!s.ok()) {
      // Best effort: an upload left open would keep its parts (and their cost) until a bucket
      // lifecycle rule removes them; the object itself never appears either way.
      Status aborted = client_->AbortMultipartUpload(root_.bucket, key, upload_id);
      (void)aborted;
    }
    return s;
  }

  Result<std::unique_ptr<ByteSource>> Get(const std::string& path) override {
    PLINTH_ASSIGN_OR_RETURN(ArtifactRange range, GetRange(path, 0, std::nullopt));
    return std::move(range.content);
  }

  Result<ArtifactRange> GetRange(const std::string& path, uint64_t offset,
                                 std::optional<uint64_t> length) override {
    auto object = client_->GetObject(root_.bucket, KeyOf(path), offset, length);
    if (!object.ok()) {
      if (object.status().code() == StatusCode::kNotFound) {
        return NotFound("Artifact '" + path + "' not found");
      }
      return object.status();
    }
    ArtifactRange range;
    range.offset = object->offset;
    range.total_size = object->total_size;
    range.content = std::move(object->body);
    return range;
  }

  Result<std::vector<FileInfo>> List(const std::string& path) override {
    std::string prefix = FolderPrefixOf(path);
    std::vector<FileInfo> out;
    std::string token;
    do {
      PLINTH_ASSIGN_OR_RETURN(S3ListPage page,
                              client_->ListObjectsV2(root_.bucket, prefix, "/", token));
      for (const std::string& p : page.common_prefixes) {
        std::string name = p.substr(prefix.size());
        if (!name.empty() && name.back() == '/') name.pop_back();
        if (!name.empty()) out.push_back(FileInfo{name, true, std::nullopt});
      }
      for (const S3ListedObject& o : page.objects) {
        std::string name = o.key.substr(prefix.size());
        // Skip folder markers ("dir/" objects some tools create) and the prefix itself.
        if (name.empty() || name.back() == '/') continue;
        out.push_back(FileInfo{name, false, o.size});
      }
      token = page.is_truncated ? page.next_continuation_token : "";
    } while (!token.empty());
    std::sort(out.begin(), out.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return out;
  }

  Status Delete(const std::string& path) override {
    if (path.empty() && root_.prefix.empty()) {
      return InvalidArgument("refusing to delete every object of bucket '" + root_.bucket + "'");
    }
    std::vector<std::string> batch;
    if (!path.empty()) batch.push_back(KeyOf(path));  // the file itself, if it is one
    std::string prefix = FolderPrefixOf(path);
    std::string token;
    do {
      PLINTH_ASSIGN_OR_RETURN(S3ListPage page,
                              client_->ListObjectsV2(root_.bucket, prefix, "", token));
      for (S3ListedObject& o : page.objects) {
        batch.push_back(std::move(o.key));
        if (batch.size() == kDeleteBatch) {
          PLINTH_RETURN_IF_ERROR(client_->DeleteObjects(root_.bucket, batch));
          batch.clear();
        }
      }
      token = page.is_truncated ? page.next_continuation_token : "";
    } while (!token.empty());
    return client_->DeleteObjects(root_.bucket, batch);
  }

 private:
  std::string KeyOf(const std::string& path) const {
    if (root_.prefix.empty()) return path;
    if (path.empty()) return root_.prefix;
    return root_.prefix + "/" + path;
  }
  // The key prefix of the folder `path`: "" for the bucket's root, else ending in '/'.
  std::string FolderPrefixOf(const std::string& path) const {
    std::string key = KeyOf(path);
    return key.empty() ? key : key + "/";
  }

  // Parts 1..N of an upload whose first part is in `buf`.
  Status UploadParts(const std::string& key, const std::string& upload_id, ByteSource& content,
                     uint64_t part_size, std::string& buf) {
    std::vector<std::string> etags;
    while (!buf.empty()) {
      if (etags.size() == kMaxParts) {
        return Status(StatusCode::kPayloadTooLarge, "artifact too large for S3: more than " +
                                                        std::to_string(kMaxParts) + " parts of " +
                                                        std::to_string(part_size) + " bytes");
      }
      PLINTH_ASSIGN_OR_RETURN(std::string etag,
                              client_->UploadPart(root_.bucket, key, upload_id,
                                                  static_cast<int>(etags.size()) + 1, buf));
      etags.push_back(std::move(etag));
      PLINTH_RETURN_IF_ERROR(Fill(content, buf, part_size));
    }
    return client_->CompleteMultipartUpload(root_.bucket, key, upload_id, etags);
  }

  std::shared_ptr<S3Client> client_;
  S3Location root_;
};

}  // namespace

std::unique_ptr<ArtifactStore> NewS3ArtifactStore(std::shared_ptr<S3Client> client,
                                                  S3Location root) {
  return std::make_unique<S3ArtifactStore>(std::move(client), std::move(root));
}

Result<std::unique_ptr<ArtifactStore>> OpenS3ArtifactStore(const std::string& uri,
                                                           const EnvLookup& env) {
  PLINTH_ASSIGN_OR_RETURN(S3Location root, ParseS3Uri(uri));
  PLINTH_ASSIGN_OR_RETURN(S3Options options, S3OptionsFromEnvironment(env));
  options.list_page_size = 1;
  PLINTH_ASSIGN_OR_RETURN(auto probe, S3Client::Create(options));
  auto reachable = probe->ListObjectsV2(root.bucket, root.prefix, "", "");
  if (!reachable.ok()) {
    return Status(reachable.status().code(),
                  "artifact store " + uri + ": " + reachable.status().message());
  }
  options.list_page_size = 1000;
  PLINTH_ASSIGN_OR_RETURN(auto client, S3Client::Create(options));
  return NewS3ArtifactStore(std::move(client), std::move(root));
}

}  // namespace plinth::artifacts
