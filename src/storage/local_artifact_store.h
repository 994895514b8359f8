// LocalArtifactStore: the ArtifactStore of the embedded deployment, a folder
// of files named by their digest: <root>/<first two hex digits>/<digest hex>.
//
// Writes go to <root>/tmp/<random> first, are fsynced, then renamed into
// place (and the directory fsynced), so a crash leaves either the whole file
// or none; a half-written file never carries a digest name. Reads re-hash the
// bytes: a file whose content no longer matches its name (disk corruption, a
// hand edit) is Corruption. Materialize verifies once per (size, mtime,
// inode) of the file and remembers it, so a job reading the same dataset
// again does not pay the hash twice; any change to the file re-verifies.
//
// Ownership: owns the folder's layout; nothing else should write there.
// Thread-safety: all methods are safe from any thread; concurrent puts of
// the same content both succeed (rename is atomic, the bytes are equal).
#pragma once

#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "storage/artifact_store.h"

namespace kiln {

class LocalArtifactStore : public ArtifactStore {
 public:
  // Creates `root` (and its tmp/ folder) when missing.
  static Result<std::unique_ptr<LocalArtifactStore>> Open(const std::filesystem::path& root);

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

  // Where the artifact's file is (whether or not it exists).
  std::filesystem::path PathOf(const Digest& digest) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit LocalArtifactStore(std::filesystem::path root) : root_(std::move(root)) {}
  // Copies `in` (an fd) to a temp file while hashing, then renames it into place.
  Result<ArtifactInfo> PutFd(int fd);
  // Hashes the stored file; Corruption on a mismatch. Writes the bytes to
  // `out_fd` as they are read when it is >= 0.
  Status Verify(const Digest& digest, int out_fd);

  struct Stamp {
    uint64_t size = 0, ino = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };

  std::filesystem::path root_;
  std::mutex mu_;
  std::unordered_map<Digest, Stamp> verified_;  // guarded by mu_
};

}  // namespace kiln
