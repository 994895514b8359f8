// S3ArtifactStore: artifacts in an S3-compatible object store (docs/storage.md,
// "S3"). The object key is <prefix><sha256 hex>: the digest stays the
// artifact's identity whatever the part size (never the store's ETag).
//
// Uploads: the bytes are hashed as they arrive and staged in a local file
// (`staging_dir`); only then is the digest known, so an object the store
// already has is not uploaded again (dedup by a HEAD), and the rest goes
// up under its final key — in one PUT up to `part_size`, in parts beyond it
// (up to 10,000 parts: artifacts of tens of GiB). A failed upload aborts its
// multipart upload; one left by a process that died is aborted when a store
// is next opened on the bucket (older than `stale_upload_s`). An object
// exists under its key only once complete, so a failed or interrupted upload
// leaves no artifact listed. Memory is a buffer, whatever the size.
//
// Downloads stream and are verified against the digest as they go
// (Corruption on a mismatch); a job's input is downloaded into its scratch
// folder. Presigned URLs let a browser download from the store directly.
//
// Ownership: owns its S3Client (values). Thread-safety: every method is safe
// from any thread (ArtifactStore's rule); staged files have unique names.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/artifact_store.h"
#include "storage/s3/s3_client.h"

namespace kiln {

struct S3StoreOptions {
  S3Location location;
  std::string prefix = "kiln/artifacts/";
  uint64_t part_size = 64ull << 20;    // at least 5 MiB (S3's minimum part)
  std::filesystem::path staging_dir;   // required: uploads are staged here
  int64_t stale_upload_s = 24 * 3600;  // abort multipart uploads older than this at Open
};

class S3ArtifactStore : public ArtifactStore {
 public:
  // Checks the bucket and the credentials (clear errors for either) and
  // aborts stale multipart uploads under the prefix.
  static Result<std::unique_ptr<S3ArtifactStore>> Open(S3StoreOptions options);

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
  Result<std::string> DownloadUrl(const Digest& digest, int64_t expires_s) override;
  bool IsRemote() const override { return true; }

  // Uploads of new content (not counting dedup hits): tests, /metrics.
  uint64_t uploads() const { return uploads_; }
  uint64_t stale_uploads_aborted() const { return stale_aborted_; }
  std::string KeyOf(const Digest& digest) const { return options_.prefix + digest.Hex(); }

  // Stores a staged file whose digest and size are known (the writer's
  // commit, PutFile, PutStream).
  Result<ArtifactInfo> Upload(const std::filesystem::path& file, const ArtifactInfo& info);

 private:
  explicit S3ArtifactStore(S3StoreOptions options);
  std::filesystem::path StagingPath();

  S3StoreOptions options_;
  S3Client client_;
  std::atomic<uint64_t> uploads_{0}, stale_aborted_{0}, staged_{0};
};

}  // namespace kiln
