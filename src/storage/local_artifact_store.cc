#include "storage/local_artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace kiln {
namespace {

namespace fs = std::filesystem;
constexpr size_t kChunk = 1 << 20;

Status Errno(const std::string& what, const fs::path& path) {
  return IOError(what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes an fd when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Status WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IOError(std::string("write: ") + std::strerror(errno));
    }
    p += w;
    n -= size_t(w);
  }
  return Status::Ok();
}

Status FsyncDir(const fs::path& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0) return Errno("open", dir);
  if (::fsync(d.fd) != 0) return Errno("fsync", dir);
  return Status::Ok();
}

std::string RandomName() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// A temp file in `dir` that is removed unless Commit() renamed it away.
class TempFile {
 public:
  explicit TempFile(const fs::path& dir) : path_(dir / (".tmp-" + RandomName())) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!done_) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }
  // fsyncs, closes and renames onto `dest`, then fsyncs dest's folder.
  Status Commit(const fs::path& dest) {
    if (::fsync(fd_) != 0) return Errno("fsync", path_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      return Errno("close", path_);
    }
    fd_ = -1;
    if (::rename(path_.c_str(), dest.c_str()) != 0) return Errno("rename to", dest);
    done_ = true;
    return FsyncDir(dest.parent_path());
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<LocalArtifactStore>> LocalArtifactStore::Open(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root / "tmp", ec);
  if (ec) return IOError("cannot create " + (root / "tmp").string() + ": " + ec.message());
  // Temp files left by a crash are garbage: nothing refers to them.
  for (const auto& e : fs::directory_iterator(root / "tmp", ec)) fs::remove(e.path(), ec);
  return std::unique_ptr<LocalArtifactStore>(new LocalArtifactStore(fs::absolute(root)));
}

fs::path LocalArtifactStore::PathOf(const Digest& digest) const {
  std::string hex = digest.Hex();
  return root_ / hex.substr(0, 2) / hex;
}

Result<ArtifactInfo> LocalArtifactStore::PutFd(int in) {
  TempFile tmp(root_ / "tmp");
  if (tmp.fd() < 0) return Errno("create", tmp.path());
  Sha256Hasher hasher;
  std::vector<char> buf(kChunk);
  uint64_t size = 0;
  for (;;) {
    ssize_t r = ::read(in, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return IOError(std::string("read: ") + std::strerror(errno));
    }
    if (r == 0) break;
    hasher.Update(buf.data(), size_t(r));
    KILN_RETURN_IF_ERROR(WriteAll(tmp.fd(), buf.data(), size_t(r)));
    size += uint64_t(r);
  }
  ArtifactInfo info{hasher.Finish(), size};
  fs::path dest = PathOf(info.digest);
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return IOError("cannot create " + dest.parent_path().string() + ": " + ec.message());
  KILN_RETURN_IF_ERROR(tmp.Commit(dest));
  return info;
}

namespace {

// Staged in the store's tmp folder (same file system), so Commit is a rename.
class LocalArtifactWriter : public ArtifactWriter {
 public:
  LocalArtifactWriter(fs::path root, std::unique_ptr<TempFile> tmp)
      : root_(std::move(root)), tmp_(std::move(tmp)) {}

  Status Write(const char* data, size_t n) override {
    hasher_.Update(data, n);
    size_ += n;
    return WriteAll(tmp_->fd(), data, n);
  }

  Result<ArtifactInfo> Commit() override {
    ArtifactInfo info{hasher_.Finish(), size_};
    std::string hex = info.digest.Hex();
    fs::path dest = root_ / hex.substr(0, 2) / hex;
    std::error_code ec;
    if (fs::exists(dest, ec)) return info;  // deduplicated: ~TempFile removes the bytes
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return IOError("cannot create " + dest.parent_path().string() + ": " + ec.message());
    KILN_RETURN_IF_ERROR(tmp_->Commit(dest));
    return info;
  }

 private:
  fs::path root_;
  std::unique_ptr<TempFile> tmp_;
  Sha256Hasher hasher_;
  uint64_t size_ = 0;
};

}  // namespace

Result<std::unique_ptr<ArtifactWriter>> LocalArtifactStore::NewWriter() {
  auto tmp = std::make_unique<TempFile>(root_ / "tmp");
  if (tmp->fd() < 0) return Errno("create", tmp->path());
  return std::unique_ptr<ArtifactWriter>(new LocalArtifactWriter(root_, std::move(tmp)));
}

Result<uint64_t> LocalArtifactStore::AvailableBytes() {
  std::error_code ec;
  fs::space_info space = fs::space(root_, ec);
  if (ec) return IOError("cannot read the free space of " + root_.string() + ": " + ec.message());
  return uint64_t(space.available);
}

Result<ArtifactInfo> LocalArtifactStore::PutFile(const fs::path& path) {
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) {
    if (errno == ENOENT) return NotFound("no file " + path.string());
    return Errno("open", path);
  }
  return PutFd(in.fd);
}

Result<ArtifactInfo> LocalArtifactStore::PutStream(std::istream& in) {
  TempFile spool(root_ / "tmp");
  if (spool.fd() < 0) return Errno("create", spool.path());
  // Spool to a file first: the digest (and so the final name) is known only
  // at the end. Hashing happens in PutFd, reading the spool back.
  std::vector<char> buf(kChunk);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    std::streamsize n = in.gcount();
    if (n > 0) KILN_RETURN_IF_ERROR(WriteAll(spool.fd(), buf.data(), size_t(n)));
  }
  if (in.bad()) return IOError("reading the input stream failed");
  Fd back(::open(spool.path().c_str(), O_RDONLY | O_CLOEXEC));
  if (back.fd < 0) return Errno("open", spool.path());
  return PutFd(back.fd);
}

Status LocalArtifactStore::Verify(const Digest& digest, int out_fd) {
  fs::path path = PathOf(digest);
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) {
    if (errno == ENOENT) return NotFound("no artifact " + digest.Hex());
    return Errno("open", path);
  }
  Sha256Hasher hasher;
  std::vector<char> buf(kChunk);
  for (;;) {
    ssize_t r = ::read(in.fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno("read", path);
    }
    if (r == 0) break;
    hasher.Update(buf.data(), size_t(r));
    if (out_fd >= 0) KILN_RETURN_IF_ERROR(WriteAll(out_fd, buf.data(), size_t(r)));
  }
  Digest actual = hasher.Finish();
  if (actual != digest) {
    return Corruption("artifact " + digest.Hex() + " is corrupted on disk: its bytes hash to " +
                      actual.Hex() + " (" + path.string() + ")");
  }
  return Status::Ok();
}

Status LocalArtifactStore::GetToFile(const Digest& digest, const fs::path& dest) {
  fs::path dir = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  TempFile tmp(dir);
  if (tmp.fd() < 0) return Errno("create", tmp.path());
  KILN_RETURN_IF_ERROR(Verify(digest, tmp.fd()));
  return tmp.Commit(dest);
}

Status LocalArtifactStore::GetToStream(const Digest& digest, std::ostream& out) {
  fs::path path = PathOf(digest);
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) {
    if (errno == ENOENT) return NotFound("no artifact " + digest.Hex());
    return Errno("open", path);
  }
  Sha256Hasher hasher;
  std::vector<char> buf(kChunk);
  for (;;) {
    ssize_t r = ::read(in.fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno("read", path);
    }
    if (r == 0) break;
    hasher.Update(buf.data(), size_t(r));
    out.write(buf.data(), r);
    if (!out) return IOError("writing artifact " + digest.Hex() + " to the stream failed");
  }
  Digest actual = hasher.Finish();
  if (actual != digest) {
    return Corruption("artifact " + digest.Hex() + " is corrupted on disk: its bytes hash to " +
                      actual.Hex());
  }
  return Status::Ok();
}

Result<fs::path> LocalArtifactStore::Materialize(const Digest& digest, const fs::path&) {
  fs::path path = PathOf(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("no artifact " + digest.Hex());
    return Errno("stat", path);
  }
  Stamp stamp{uint64_t(st.st_size), uint64_t(st.st_ino),
              int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(digest);
    if (it != verified_.end() && it->second == stamp) return path;
  }
  KILN_RETURN_IF_ERROR(Verify(digest, -1));
  std::lock_guard lock(mu_);
  verified_[digest] = stamp;
  return path;
}

Result<bool> LocalArtifactStore::Exists(const Digest& digest) {
  std::error_code ec;
  bool exists = fs::exists(PathOf(digest), ec);
  if (ec) return IOError("stat " + PathOf(digest).string() + ": " + ec.message());
  return exists;
}

Result<uint64_t> LocalArtifactStore::Size(const Digest& digest) {
  struct stat st;
  fs::path path = PathOf(digest);
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("no artifact " + digest.Hex());
    return Errno("stat", path);
  }
  return uint64_t(st.st_size);
}

Result<std::vector<ArtifactInfo>> LocalArtifactStore::List() {
  std::vector<ArtifactInfo> out;
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(root_, ec)) {
    std::string prefix = shard.path().filename().string();
    if (prefix.size() != 2 || !shard.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(shard.path(), ec)) {
      auto d = Digest::FromHex(f.path().filename().string());
      if (!d.ok() || d->Hex().substr(0, 2) != prefix) continue;  // not ours
      struct stat st;
      if (::stat(f.path().c_str(), &st) != 0) continue;  // deleted meanwhile
      int64_t modified_ms = int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
      out.push_back({*d, uint64_t(st.st_size), modified_ms});
    }
  }
  if (ec) return IOError("listing " + root_.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const ArtifactInfo& a, const ArtifactInfo& b) { return a.digest < b.digest; });
  return out;
}

Status LocalArtifactStore::Delete(const Digest& digest) {
  fs::path path = PathOf(digest);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return NotFound("no artifact " + digest.Hex());
    return Errno("unlink", path);
  }
  std::lock_guard lock(mu_);
  verified_.erase(digest);
  return Status::Ok();
}

}  // namespace kiln
