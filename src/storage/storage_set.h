// StorageSet: the server's artifact backends by name (docs/storage.md,
// "Several backends"): the default one ([storage]) and any others
// ([storage.NAME]). It is itself an ArtifactStore, so everything that took
// the one store (the driver's inputs, downloads, previews, provenance, gc)
// works unchanged across all of them:
//   - reads (Exists, Size, GetTo*, Materialize, DownloadUrl) go to the first
//     backend, in declaration order (the default first), that holds the digest;
//   - Put*, NewWriter and AvailableBytes are the default backend's;
//   - List is the union (each digest once), Delete deletes from every backend
//     that holds it (so gc collects garbage wherever it lives).
// Beyond the interface: Where(digest) (the names of the backends holding it),
// puts into a named backend (a project's choice of where new artifacts go),
// and Copy/Move between backends, verified (artifact_copy.h): a move copies,
// checks the destination's size against the source's, then deletes from
// every other backend. The digest never changes, so nothing naming the
// artifact changes either.
//
// Ownership: owns its backends. The set of backends is fixed at construction.
// Thread-safety: every method may be called from any thread concurrently (the
// backends are; the set has no mutable state besides a mutex that makes
// copies and moves one at a time, so a move never deletes the source a
// concurrent copy is reading).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/artifact_store.h"

namespace kiln {

struct StorageBackend {
  std::string name;
  std::string kind;  // "local" | "s3"
  std::unique_ptr<ArtifactStore> store;
  // Downloads of what this backend holds may redirect to it (DownloadUrl),
  // with URLs valid this long; 0 = the server streams the bytes itself.
  int64_t presign_expiry_s = 0;
};

struct StorageBackendInfo {
  std::string name;
  std::string kind;
  bool is_default = false;
};

// Where an artifact is after a copy or move, and whether anything changed
// (false: it already was where asked; both are idempotent).
struct StorageChange {
  std::vector<std::string> stores;
  bool changed = false;
  uint64_t size = 0;
};

class StorageSet : public ArtifactStore {
 public:
  // The first backend is the default. InvalidArgument for no backends, an
  // empty or repeated name, or a null store.
  static Result<std::unique_ptr<StorageSet>> Create(std::vector<StorageBackend> backends,
                                                    std::filesystem::path scratch_dir);

  std::vector<StorageBackendInfo> Backends() const;
  const std::string& DefaultName() const { return backends_.front().name; }
  bool Has(const std::string& name) const { return Find(name) != nullptr; }
  // The backend named `name`; InvalidArgument naming it and the known ones
  // when there is none.
  Result<ArtifactStore*> Backend(const std::string& name) const;

  // The names of the backends that hold the artifact, in declaration order
  // (empty when none does).
  Result<std::vector<std::string>> Where(const Digest& digest);
  // Where, for many digests at once (an artifact list): asked of the
  // backends from up to `parallel` threads when one is remote, since each
  // question to S3 is a round trip (a HEAD); in this thread when all are
  // local folders. The answers are in the order of `digests`.
  Result<std::vector<std::vector<std::string>>> WhereMany(const std::vector<Digest>& digests,
                                                          size_t parallel = 16);

  // Puts into the backend named `name` (a project's choice).
  Result<ArtifactInfo> PutFileTo(const std::string& name, const std::filesystem::path& path);
  Result<std::unique_ptr<ArtifactWriter>> NewWriterTo(const std::string& name);
  Result<uint64_t> AvailableBytesOf(const std::string& name);

  // Copies the artifact into backend `to` from a backend that holds it,
  // verified. NotFound when no backend holds it; InvalidArgument for an
  // unknown name.
  Result<StorageChange> Copy(const Digest& digest, const std::string& to);
  // Copy, then check the copy's size, then delete from every other backend:
  // afterwards it lives in `to` only.
  Result<StorageChange> Move(const Digest& digest, const std::string& to);

  // ArtifactStore.
  Result<ArtifactInfo> PutFile(const std::filesystem::path& path) override;
  Result<ArtifactInfo> PutStream(std::istream& in) override;
  Result<std::unique_ptr<ArtifactWriter>> NewWriter() override;
  Result<uint64_t> AvailableBytes() override;
  Status GetToFile(const Digest& digest, const std::filesystem::path& dest) override;
  Status GetToStream(const Digest& digest, std::ostream& out) override;
  Result<std::filesystem::path> Materialize(const Digest& digest,
                                            const std::filesystem::path& scratch_dir) override;
  Result<bool> Exists(const Digest& digest) override;
  Result<uint64_t> Size(const Digest& digest) override;
  Result<std::vector<ArtifactInfo>> List() override;
  Status Delete(const Digest& digest) override;
  // Whether any backend is remote; IsRemoteFor says it of one artifact.
  bool IsRemote() const override;
  Result<bool> IsRemoteFor(const Digest& digest) override;
  // The holder's URL, valid for the holder's presign_expiry_s (`expires_s`
  // is ignored); FailedPrecondition when the holder has none.
  Result<std::string> DownloadUrl(const Digest& digest, int64_t expires_s) override;

 private:
  StorageSet(std::vector<StorageBackend> backends, std::filesystem::path scratch_dir)
      : backends_(std::move(backends)), scratch_dir_(std::move(scratch_dir)) {}
  const StorageBackend* Find(const std::string& name) const;
  // The first backend holding the digest; NotFound naming it when none does.
  Result<const StorageBackend*> Holder(const Digest& digest);

  std::vector<StorageBackend> backends_;  // fixed: read without a lock
  std::filesystem::path scratch_dir_;     // downloads made for a copy
  std::mutex moves_;                      // one copy or move at a time
};

}  // namespace kiln
