#include "storage/s3/s3_artifact_store.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

namespace kiln {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMinPart = 5ull << 20;
constexpr uint64_t kMaxParts = 10000;

// "2026-12-05T03:12:00.000Z" → seconds since the epoch (0 when unreadable).
std::time_t ParseIso8601(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return timegm(&tm);
}

// Hashes and stages bytes into a file; the file is removed unless released.
class StagedFile {
 public:
  explicit StagedFile(fs::path path) : path_(std::move(path)) {}
  ~StagedFile() {
    if (file_) std::fclose(file_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  Status Open() {
    file_ = std::fopen(path_.c_str(), "wbx");
    if (!file_) return IOError("cannot create the staging file " + path_.string());
    return Status::Ok();
  }
  Status Write(const char* data, size_t n) {
    if (std::fwrite(data, 1, n, file_) != n) {
      return Status(Code::kInsufficientStorage,
                    "cannot stage the upload in " + path_.parent_path().string() + " (disk full?)");
    }
    hasher_.Update(data, n);
    size_ += n;
    return Status::Ok();
  }
  Result<ArtifactInfo> Close() {
    int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) return IOError("cannot write the staging file " + path_.string());
    return ArtifactInfo{hasher_.Finish(), size_};
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  FILE* file_ = nullptr;
  Sha256Hasher hasher_;
  uint64_t size_ = 0;
};

class S3Writer : public ArtifactWriter {
 public:
  S3Writer(S3ArtifactStore& store, fs::path path) : store_(store), staged_(std::move(path)) {}
  Status Open() { return staged_.Open(); }
  Status Write(const char* data, size_t n) override { return staged_.Write(data, n); }
  Result<ArtifactInfo> Commit() override {
    KILN_ASSIGN_OR_RETURN(ArtifactInfo info, staged_.Close());
    return store_.Upload(staged_.path(), info);
  }

 private:
  S3ArtifactStore& store_;
  StagedFile staged_;
};

}  // namespace

S3ArtifactStore::S3ArtifactStore(S3StoreOptions options)
    : options_(std::move(options)), client_(options_.location) {}

Result<std::unique_ptr<S3ArtifactStore>> S3ArtifactStore::Open(S3StoreOptions options) {
  if (options.location.endpoint.empty() || options.location.bucket.empty()) {
    return InvalidArgument("an S3 store needs an endpoint and a bucket");
  }
  if (options.part_size < kMinPart) {
    return InvalidArgument("the S3 part size must be at least 5 MiB (S3's minimum part)");
  }
  if (options.staging_dir.empty()) return InvalidArgument("an S3 store needs a staging folder");
  std::error_code ec;
  fs::create_directories(options.staging_dir, ec);
  if (ec) return IOError("cannot create " + options.staging_dir.string() + ": " + ec.message());
  std::unique_ptr<S3ArtifactStore> s(new S3ArtifactStore(std::move(options)));
  KILN_RETURN_IF_ERROR(s->client_.CheckBucket());
  // Uploads a process began and never finished (it was killed): their parts
  // take space in the store and are listed nowhere else.
  KILN_ASSIGN_OR_RETURN(auto uploads, s->client_.ListUploads(s->options_.prefix));
  std::time_t now = s->options_.location.now ? s->options_.location.now() : std::time(nullptr);
  for (const S3Client::Upload& u : uploads) {
    if (now - ParseIso8601(u.initiated) < s->options_.stale_upload_s) continue;
    if (s->client_.AbortMultipart(u.key, u.upload_id).ok()) s->stale_aborted_++;
  }
  return s;
}

fs::path S3ArtifactStore::StagingPath() {
  return options_.staging_dir /
         ("upload-" + std::to_string(::getpid()) + "-" + std::to_string(staged_++));
}

Result<ArtifactInfo> S3ArtifactStore::Upload(const fs::path& file, const ArtifactInfo& info) {
  std::string key = KeyOf(info.digest);
  KILN_ASSIGN_OR_RETURN(std::optional<uint64_t> there, client_.Head(key));
  if (there) return info;  // the store has these bytes already
  if (info.size <= options_.part_size) {
    KILN_RETURN_IF_ERROR(client_.PutFile(key, file, 0, info.size));
    uploads_++;
    return info;
  }
  uint64_t part = options_.part_size;
  if ((info.size + part - 1) / part > kMaxParts) part = (info.size + kMaxParts - 1) / kMaxParts;
  KILN_ASSIGN_OR_RETURN(std::string upload_id, client_.CreateMultipart(key));
  std::vector<std::string> etags;
  Status st = Status::Ok();
  for (uint64_t offset = 0; offset < info.size && st.ok(); offset += part) {
    Result<std::string> etag = client_.UploadPart(key, upload_id, int(etags.size() + 1), file,
                                                  offset, std::min(part, info.size - offset));
    if (etag.ok()) {
      etags.push_back(*etag);
    } else {
      st = etag.status();
    }
  }
  if (st.ok()) st = client_.CompleteMultipart(key, upload_id, etags);
  if (!st.ok()) {
    (void)client_.AbortMultipart(key, upload_id);  // its parts go; nothing is listed
    return st;
  }
  uploads_++;
  return info;
}

Result<ArtifactInfo> S3ArtifactStore::PutFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot read " + path.string());
  Sha256Hasher hasher;
  uint64_t size = 0;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    hasher.Update(buf.data(), size_t(in.gcount()));
    size += uint64_t(in.gcount());
  }
  if (in.bad()) return IOError("cannot read " + path.string());
  return Upload(path, ArtifactInfo{hasher.Finish(), size});
}

Result<ArtifactInfo> S3ArtifactStore::PutStream(std::istream& in) {
  StagedFile staged(StagingPath());
  KILN_RETURN_IF_ERROR(staged.Open());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    KILN_RETURN_IF_ERROR(staged.Write(buf.data(), size_t(in.gcount())));
  }
  if (in.bad()) return IOError("cannot read the stream to store");
  KILN_ASSIGN_OR_RETURN(ArtifactInfo info, staged.Close());
  return Upload(staged.path(), info);
}

Result<std::unique_ptr<ArtifactWriter>> S3ArtifactStore::NewWriter() {
  auto w = std::make_unique<S3Writer>(*this, StagingPath());
  KILN_RETURN_IF_ERROR(w->Open());
  return std::unique_ptr<ArtifactWriter>(std::move(w));
}

Result<uint64_t> S3ArtifactStore::AvailableBytes() {
  std::error_code ec;
  fs::space_info space = fs::space(options_.staging_dir, ec);
  if (ec) return IOError("cannot read the free space of " + options_.staging_dir.string());
  return uint64_t(space.available);
}

Status S3ArtifactStore::GetToStream(const Digest& digest, std::ostream& out) {
  Sha256Hasher hasher;
  Status st = client_.Get(KeyOf(digest), [&](const char* data, size_t n) {
    hasher.Update(data, n);
    out.write(data, std::streamsize(n));
    return out ? Status::Ok() : IOError("cannot write the artifact out");
  });
  if (st.code() == Code::kNotFound) return NotFound("no artifact " + digest.Hex());
  KILN_RETURN_IF_ERROR(st);
  if (hasher.Finish() != digest) {
    return Corruption("the S3 object " + KeyOf(digest) + " does not hash to its name");
  }
  return Status::Ok();
}

Status S3ArtifactStore::GetToFile(const Digest& digest, const fs::path& dest) {
  fs::path temp =
      dest.string() + ".part-" + std::to_string(::getpid()) + "-" + std::to_string(staged_++);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return IOError("cannot write " + temp.string());
    Status st = GetToStream(digest, out);
    out.close();
    if (st.ok() && !out) st = IOError("cannot write " + temp.string());
    if (!st.ok()) {
      ::unlink(temp.c_str());
      return st;
    }
  }
  std::error_code ec;
  fs::rename(temp, dest, ec);
  if (ec) {
    ::unlink(temp.c_str());
    return IOError("cannot move the artifact to " + dest.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Result<fs::path> S3ArtifactStore::Materialize(const Digest& digest, const fs::path& scratch_dir) {
  std::error_code ec;
  fs::create_directories(scratch_dir, ec);
  fs::path path = scratch_dir / digest.Hex();
  if (fs::exists(path, ec)) return path;  // downloaded and verified before
  KILN_RETURN_IF_ERROR(GetToFile(digest, path));
  return path;
}

Result<bool> S3ArtifactStore::Exists(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(std::optional<uint64_t> size, client_.Head(KeyOf(digest)));
  return size.has_value();
}

Result<uint64_t> S3ArtifactStore::Size(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(std::optional<uint64_t> size, client_.Head(KeyOf(digest)));
  if (!size) return NotFound("no artifact " + digest.Hex());
  return *size;
}

Result<std::vector<ArtifactInfo>> S3ArtifactStore::List() {
  KILN_ASSIGN_OR_RETURN(auto objects, client_.List(options_.prefix));
  std::vector<ArtifactInfo> out;
  for (const S3Client::Object& o : objects) {
    Result<Digest> d = Digest::FromHex(o.key.substr(options_.prefix.size()));
    if (d.ok()) out.push_back({*d, o.size, o.modified_ms});  // other keys are not artifacts
  }
  return out;
}

Status S3ArtifactStore::Delete(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(bool there, Exists(digest));
  if (!there) return NotFound("no artifact " + digest.Hex());
  return client_.Delete(KeyOf(digest));
}

Result<std::string> S3ArtifactStore::DownloadUrl(const Digest& digest, int64_t expires_s) {
  return client_.Presign(KeyOf(digest), expires_s);
}

}  // namespace kiln
