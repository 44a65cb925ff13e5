// LocalArtifactStore: artifacts as files under one folder. Writes go to a hidden temporary file
// in the destination folder and are renamed into place once complete, so readers never see a
// partial file and a failed upload leaves nothing behind.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/ids.h"

namespace plinth::artifacts {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTempPrefix = ".plinth-upload-";
constexpr size_t kChunkBytes = 1 << 20;

std::string ErrnoText() { return std::strerror(errno); }

class FileSource final : public ByteSource {
 public:
  // Reads `size` bytes from the descriptor's current offset.
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size), left_(size) {}
  ~FileSource() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, left_));
    if (n == 0) return size_t{0};
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) {
        left_ -= static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) return Internal("artifact read failed: " + ErrnoText());
    }
  }
  std::optional<uint64_t> Size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
  uint64_t left_;
};

class LocalArtifactStore final : public ArtifactStore {
 public:
  explicit LocalArtifactStore(fs::path root) : root_(std::move(root)) {}

  Status Put(const std::string& path, ByteSource& content) override {
    fs::path target = root_ / path;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return InvalidArgument("cannot create folder for artifact '" + path + "': " + ec.message());
    }
    if (fs::is_directory(target, ec)) {
      return InvalidArgument("artifact path '" + path + "' is a folder");
    }
    fs::path temp = target.parent_path() / (std::string(kTempPrefix) + NewRunId());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Internal("cannot write artifact '" + path + "': " + ErrnoText());
    }
    std::vector<char> buf(kChunkBytes);
    Status status;
    for (;;) {
      auto got = content.Read(buf.data(), buf.size());
      if (!got.ok()) {
        status = got.status();
        break;
      }
      if (*got == 0) break;
      size_t off = 0;
      while (off < *got) {
        ssize_t w = ::write(fd, buf.data() + off, *got - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          status = Internal("artifact write failed: " + ErrnoText());
          break;
        }
        off += static_cast<size_t>(w);
      }
      if (!status.ok()) break;
    }
    if (::close(fd) != 0 && status.ok()) {
      status = Internal("artifact write failed: " + ErrnoText());
    }
    if (status.ok() && ::rename(temp.c_str(), target.c_str()) != 0) {
      status = Internal("cannot move artifact into place: " + ErrnoText());
    }
    if (!status.ok()) {
      ::unlink(temp.c_str());
    }
    return status;
  }

  Result<std::unique_ptr<ByteSource>> Get(const std::string& path) override {
    PLINTH_ASSIGN_OR_RETURN(ArtifactRange range, GetRange(path, 0, std::nullopt));
    return std::move(range.content);
  }

  Result<ArtifactRange> GetRange(const std::string& path, uint64_t offset,
                                 std::optional<uint64_t> length) override {
    fs::path target = root_ / path;
    int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return NotFound("Artifact '" + path + "' not found");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return NotFound("Artifact '" + path + "' is not a file");
    }
    auto size = static_cast<uint64_t>(st.st_size);
    if (offset > size) {
      ::close(fd);
      return InvalidArgument("range of artifact '" + path + "' starts past its end");
    }
    if (offset > 0 && ::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
      ::close(fd);
      return Internal("cannot seek in artifact '" + path + "': " + ErrnoText());
    }
    ArtifactRange range;
    range.offset = offset;
    range.total_size = size;
    range.content =
        std::make_unique<FileSource>(fd, std::min(size - offset, length.value_or(size)));
    return range;
  }

  Result<std::vector<FileInfo>> List(const std::string& path) override {
    std::vector<FileInfo> out;
    fs::path dir = path.empty() ? root_ : root_ / path;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return out;
    }
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.rfind(kTempPrefix, 0) == 0) continue;
      FileInfo info;
      info.path = name;
      std::error_code e2;
      info.is_dir = it->is_directory(e2);
      if (!info.is_dir) {
        info.file_size = static_cast<int64_t>(it->file_size(e2));
      }
      out.push_back(std::move(info));
    }
    if (ec) {
      return Internal("cannot list artifacts at '" + path + "': " + ec.message());
    }
    std::sort(out.begin(), out.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return out;
  }

  Status Delete(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(root_ / path, ec);
    if (ec) {
      return Internal("cannot delete artifact '" + path + "': " + ec.message());
    }
    return Status::Ok();
  }

 private:
  fs::path root_;
};

}  // namespace

Result<std::string> NormalizeArtifactPath(std::string_view path, bool allow_empty) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("Invalid artifact path '" + std::string(path) +
                           "': " + std::string(why));
  };
  if (path.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (path.find('\\') != std::string_view::npos) return bad("contains a backslash");
  if (!path.empty() && path.front() == '/') return bad("absolute paths are not allowed");
  if (path.size() >= 2 && path[1] == ':') return bad("drive paths are not allowed");
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") return bad("'..' is not allowed");
    if (!seg.empty() && seg != ".") {
      if (!out.empty()) out += '/';
      out += seg;
    }
    i = j + 1;
  }
  if (out.empty() && !allow_empty) return bad("empty path");
  return out;
}

Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return Unavailable("cannot create artifact folder '" + root +
                       "': " + (ec ? ec.message() : "not a folder"));
  }
  return std::unique_ptr<ArtifactStore>(
      std::make_unique<LocalArtifactStore>(fs::absolute(root, ec)));
}

}  // namespace plinth::artifacts
