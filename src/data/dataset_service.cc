#include "data/dataset_service.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "artifacts/sigv4.h"
#include "core/json.h"

namespace plinth::data {
namespace {

constexpr size_t kHashBuffer = 4 << 20;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Hashes what it passes on, so a blob is verified in the same pass that stores it.
class HashingSource final : public ByteSource {
 public:
  explicit HashingSource(ByteSource& inner) : inner_(inner) {}
  Result<size_t> Read(char* buf, size_t n) override {
    PLINTH_ASSIGN_OR_RETURN(size_t got, inner_.Read(buf, n));
    hasher_.Update({buf, got});
    bytes_ += got;
    return got;
  }
  std::optional<uint64_t> Size() const override { return inner_.Size(); }
  std::string FinishHex() { return hasher_.FinishHex(); }
  uint64_t bytes() const { return bytes_; }

 private:
  ByteSource& inner_;
  artifacts::Sha256 hasher_;
  uint64_t bytes_ = 0;
};

std::string SchemaJson(const Table& table) {
  JsonWriter w;
  w.StartArray();
  for (const Column& c : table.columns) {
    w.StartObject();
    w.KeyString("name", c.name());
    w.KeyString("type", DataTypeName(c.type()));
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

}  // namespace

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string DatasetBlobPath(std::string_view digest) {
  return "datasets/sha256/" + std::string(digest.substr(0, 2)) + "/" + std::string(digest);
}

Result<FileDigest> HashFile(const std::string& path) {
  File f(std::fopen(path.c_str(), "rbe"));
  if (!f) return NotFound("cannot open " + path);
  // Double buffering: the reader fills one buffer while this thread hashes the other.
  std::vector<char> buffers[2] = {std::vector<char>(kHashBuffer), std::vector<char>(kHashBuffer)};
  size_t filled[2] = {0, 0};
  bool ready[2] = {false, false};
  bool done = false, failed = false;
  std::mutex mu;
  std::condition_variable cv;
  std::thread reader([&] {
    for (int i = 0;; i ^= 1) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !ready[i]; });
      }
      size_t n = std::fread(buffers[i].data(), 1, kHashBuffer, f.get());
      bool error = std::ferror(f.get()) != 0;
      std::lock_guard lock(mu);
      filled[i] = n;
      ready[i] = true;
      if (n < kHashBuffer) {
        done = true;
        failed = error;
      }
      cv.notify_all();
      if (done) return;
    }
  });
  artifacts::Sha256 hasher;
  FileDigest out;
  for (int i = 0;; i ^= 1) {
    size_t n;
    bool last;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return ready[i]; });
      n = filled[i];
      last = done && n < kHashBuffer;
    }
    hasher.Update({buffers[i].data(), n});
    out.size += n;
    {
      std::lock_guard lock(mu);
      ready[i] = false;
      cv.notify_all();
    }
    if (last || n < kHashBuffer) break;
  }
  reader.join();
  if (failed) return Internal("cannot read " + path);
  out.sha256 = hasher.FinishHex();
  return out;
}

Result<ChunkedProfile> ProfileCsvChunked(const std::string& path, size_t chunk_bytes, int threads) {
  File f(std::fopen(path.c_str(), "rbe"));
  if (!f) return NotFound("cannot open " + path);
  std::string header;
  {
    // The header is the first record (no quoted newlines expected in names).
    int c;
    while ((c = std::fgetc(f.get())) != EOF && c != '\n') header.push_back(static_cast<char>(c));
    if (!header.empty() && header.back() == '\r') header.pop_back();
  }
  if (header.empty()) return InvalidArgument(path + " is empty");
  ChunkedProfile out;
  CsvOptions options;
  options.threads = threads;
  options.bad_rows = BadRowMode::kCollect;
  ProfileOptions profile_options;
  profile_options.threads = threads;
  std::string carry;  // the part of the last read after its last record boundary
  std::vector<char> buf(chunk_bytes);
  bool in_quotes = false;  // quote state at the end of `carry`'s scanned part
  bool first = true;
  auto process = [&](std::string text) -> Status {
    if (text.empty()) return Status();
    auto read = ReadCsvString(header + "\n" + text, options);
    if (!read.ok()) return read.status();
    out.bad_rows += read->bad_rows.size();
    if (first) {
      // Later chunks read with the first chunk's types, so profiles merge column by column.
      for (const Column& c : read->table.columns) options.column_types[c.name()] = c.type();
      out.schema_json = SchemaJson(read->table);
      out.columns = read->table.num_columns();
      out.profile = ProfileTable(read->table, profile_options);
      first = false;
    } else {
      PLINTH_RETURN_IF_ERROR(
          MergeProfiles(&out.profile, ProfileTable(read->table, profile_options)));
    }
    out.rows += read->table.num_rows();
    return Status();
  };
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n == 0) break;
    size_t scan_from = carry.size();
    carry.append(buf.data(), n);
    // The last newline outside quotes ends the part to parse now.
    size_t boundary = std::string::npos;
    for (size_t i = scan_from; i < carry.size(); ++i) {
      char c = carry[i];
      if (c == '"') {
        in_quotes = !in_quotes;
      } else if (c == '\n' && !in_quotes) {
        boundary = i;
      }
    }
    if (boundary == std::string::npos) continue;  // one record longer than a chunk: read on
    std::string rest = carry.substr(boundary + 1);
    carry.resize(boundary + 1);
    PLINTH_RETURN_IF_ERROR(process(std::move(carry)));
    carry = std::move(rest);
    // The quote state at the end of `rest` was counted from `boundary`, which is outside quotes.
    in_quotes = false;
    for (char c : carry) {
      if (c == '"') in_quotes = !in_quotes;
    }
  }
  if (std::ferror(f.get())) return Internal("cannot read " + path);
  PLINTH_RETURN_IF_ERROR(process(std::move(carry)));
  if (first) {
    // A header and no rows: an empty profile of the named columns.
    auto read = ReadCsvString(header + "\n", options);
    if (read.ok()) {
      out.schema_json = SchemaJson(read->table);
      out.columns = read->table.num_columns();
      out.profile = ProfileTable(read->table, profile_options);
    }
  }
  return out;
}

DatasetService::DatasetService(store::DatasetStore* store, artifacts::ArtifactStore* blobs)
    : store_(store), blobs_(blobs) {}

bool DatasetService::HasBlob(const std::string& digest) {
  if (blobs_ == nullptr || !IsSha256Hex(digest)) return false;
  auto got = blobs_->Get(DatasetBlobPath(digest));
  return got.ok();
}

Result<bool> DatasetService::PutBlob(const std::string& digest, ByteSource& body) {
  if (blobs_ == nullptr) {
    return FailedPrecondition(
        "this server keeps no dataset bytes: it runs without an artifact "
        "store (--no-serve-artifacts)");
  }
  if (!IsSha256Hex(digest)) {
    return InvalidArgument("digest must be the SHA-256 of the bytes as 64 lower-case hex digits");
  }
  if (HasBlob(digest)) {
    char drain[1 << 16];
    while (true) {
      PLINTH_ASSIGN_OR_RETURN(size_t n, body.Read(drain, sizeof(drain)));
      if (n == 0) break;
    }
    return false;
  }
  // Upload under a temporary name, verify, then move into place: a half-written or wrong blob
  // never sits at the content address.
  std::random_device rd;
  std::string staging = "datasets/incoming/" + digest + "-" + std::to_string(rd());
  HashingSource hashing(body);
  PLINTH_RETURN_IF_ERROR(blobs_->Put(staging, hashing));
  std::string actual = hashing.FinishHex();
  if (actual != digest) {
    (void)blobs_->Delete(staging);
    return InvalidArgument("the bytes received hash to " + actual + ", not " + digest +
                           " (upload cut short or corrupted); nothing was stored");
  }
  // Copy into place (the ArtifactStore seam has no rename); then drop the staging copy.
  PLINTH_ASSIGN_OR_RETURN(auto staged, blobs_->Get(staging));
  PLINTH_RETURN_IF_ERROR(blobs_->Put(DatasetBlobPath(digest), *staged));
  (void)blobs_->Delete(staging);
  return true;
}

Result<std::unique_ptr<ByteSource>> DatasetService::GetBlob(const std::string& digest) {
  if (blobs_ == nullptr) {
    return FailedPrecondition("this server keeps no dataset bytes (no artifact store)");
  }
  if (!IsSha256Hex(digest)) {
    return InvalidArgument("digest must be 64 lower-case hex digits");
  }
  auto got = blobs_->Get(DatasetBlobPath(digest));
  if (!got.ok() && got.status().code() == StatusCode::kNotFound) {
    return NotFound("no dataset bytes with digest " + digest);
  }
  return got;
}

Result<store::DatasetVersionRecord> DatasetService::AddVersion(store::DatasetVersionRecord record,
                                                               int64_t now, bool* created) {
  if (record.name.empty()) return InvalidArgument("name is required");
  if (record.name.size() > 256 || record.name.find('@') != std::string::npos ||
      record.name.find('/') != std::string::npos) {
    return InvalidArgument("name must be at most 256 characters without '@' or '/'");
  }
  if (!IsSha256Hex(record.digest)) {
    return InvalidArgument("digest must be the SHA-256 of the bytes as 64 lower-case hex digits");
  }
  if (!HasBlob(record.digest)) {
    return FailedPrecondition("the bytes of digest " + record.digest +
                              " are not stored yet: upload them first (PUT "
                              "/api/plinth/v1/datasets/blobs/<digest>)");
  }
  record.storage_uri = DatasetBlobPath(record.digest);
  return store_->AddDatasetVersion(record, now, created);
}

namespace {

constexpr size_t kCachedReferences = 4;

std::string DriftReferencePath(const std::string& digest) {
  return "datasets/drift-references/" + digest;
}

// Bytes held in memory as a ByteSource, for ArtifactStore::Put.
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view bytes) : rest_(bytes), size_(bytes.size()) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min(n, rest_.size());
    std::memcpy(buf, rest_.data(), k);
    rest_.remove_prefix(k);
    return k;
  }
  std::optional<uint64_t> Size() const override { return size_; }

 private:
  std::string_view rest_;
  uint64_t size_;
};

Result<std::string> ReadAll(ByteSource& source) {
  std::string out;
  if (auto size = source.Size()) {
    out.reserve(static_cast<size_t>(*size));
  }
  std::vector<char> buf(1 << 20);
  while (true) {
    PLINTH_ASSIGN_OR_RETURN(size_t n, source.Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

}  // namespace

Result<std::string> DatasetService::LoadOrBuildReference(const store::DatasetVersionRecord& v) {
  if (blobs_ == nullptr) {
    return FailedPrecondition("this server keeps no dataset bytes (no artifact store)");
  }
  if (v.format != "csv") {
    return InvalidArgument("dataset " + v.name + "@" + std::to_string(v.version) +
                           " is not a CSV dataset: drift needs a table");
  }
  auto stored = blobs_->Get(DriftReferencePath(v.digest));
  if (stored.ok()) {
    PLINTH_ASSIGN_OR_RETURN(std::string bytes, ReadAll(**stored));
    if (IsDriftReference(bytes)) {
      return bytes;
    }
    // Anything else at that path is rebuilt below and overwritten.
  }
  PLINTH_ASSIGN_OR_RETURN(CsvReadResult read, ReadVersion(v.name, v.version));
  std::string bytes = EncodeDriftReference(BuildDriftReference(read.table));
  StringSource source(bytes);
  // Not stored is not fatal: the reference is rebuilt next time.
  (void)blobs_->Put(DriftReferencePath(v.digest), source);
  return bytes;
}

Result<std::shared_ptr<const DriftReference>> DatasetService::DriftReferenceOf(
    const std::string& name, std::optional<int64_t> version) {
  PLINTH_ASSIGN_OR_RETURN(store::DatasetVersionRecord v, store_->GetDatasetVersion(name, version));
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    for (auto& [digest, reference] : cache_) {
      if (digest == v.digest) {
        return reference;
      }
    }
  }
  PLINTH_ASSIGN_OR_RETURN(std::string bytes, LoadOrBuildReference(v));
  PLINTH_ASSIGN_OR_RETURN(DriftReference decoded, DecodeDriftReference(bytes));
  auto reference = std::make_shared<const DriftReference>(std::move(decoded));
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.emplace(cache_.begin(), v.digest, reference);
  if (cache_.size() > kCachedReferences) {
    cache_.pop_back();
  }
  return reference;
}

Result<std::string> DatasetService::DriftReferenceBytes(const std::string& name,
                                                        std::optional<int64_t> version) {
  PLINTH_ASSIGN_OR_RETURN(store::DatasetVersionRecord v, store_->GetDatasetVersion(name, version));
  return LoadOrBuildReference(v);
}

Result<CsvReadResult> DatasetService::ReadVersion(const std::string& name,
                                                  std::optional<int64_t> version,
                                                  const CsvOptions& options) {
  PLINTH_ASSIGN_OR_RETURN(store::DatasetVersionRecord v, store_->GetDatasetVersion(name, version));
  PLINTH_ASSIGN_OR_RETURN(auto source, GetBlob(v.digest));
  std::random_device rd;
  std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("plinth-dataset-" + std::to_string(rd()));
  {
    std::ofstream out(tmp, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (true) {
      PLINTH_ASSIGN_OR_RETURN(size_t n, source->Read(buf.data(), buf.size()));
      if (n == 0) break;
      out.write(buf.data(), static_cast<std::streamsize>(n));
    }
    if (!out) {
      std::filesystem::remove(tmp);
      return Internal("cannot write a temporary copy of dataset " + name);
    }
  }
  auto read = ReadCsvFile(tmp.string(), options);
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  return read;
}

}  // namespace plinth::data
