// ArtifactStore: where the data that jobs read and write lives, addressed by
// the SHA-256 of its bytes (a "digest"). Datasets, trained weights, figures:
// every output of a job is put here and named by its digest everywhere else
// (runs, provenance, Artifact nodes of the model).
//
// The interface is what every backend offers: the local content-addressed
// folder (local_artifact_store.h) and an S3-compatible object store
// (s3/s3_artifact_store.h).
// It therefore speaks only in whole objects (put a file or a stream, get to a
// file or a stream) and never hands out a writable location. A backend
// verifies the digest of what it returns: bytes that do not hash to their
// name are reported as Corruption, never served silently.
//
// Ownership: callers own the files and streams they pass in.
// Thread-safety: every method of every implementation is safe to call from
// any thread concurrently (puts of the same content are idempotent).
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <ostream>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace kiln {

struct ArtifactInfo {
  Digest digest;
  uint64_t size = 0;
  int64_t modified_ms = 0;  // when it was stored (List only; 0 where not known)
};

// A new artifact written in pieces as its bytes arrive (an HTTP upload),
// hashed as they go by, then committed into the store — moved into place,
// never copied or hashed again — or, when destroyed uncommitted, discarded
// without a trace. Memory is one piece, whatever the artifact's size.
// Thread-safety: one thread at a time.
class ArtifactWriter {
 public:
  virtual ~ArtifactWriter() = default;
  virtual Status Write(const char* data, size_t n) = 0;
  // Makes the artifact durable under its digest. Content already in the
  // store is not stored twice (the staged bytes are dropped).
  virtual Result<ArtifactInfo> Commit() = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // Stores the bytes of the file at `path` (unchanged) and returns their
  // digest and size. Storing content that is already there is a no-op.
  virtual Result<ArtifactInfo> PutFile(const std::filesystem::path& path) = 0;
  // Same, reading `in` to its end.
  virtual Result<ArtifactInfo> PutStream(std::istream& in) = 0;
  // A writer for an artifact whose bytes arrive in pieces.
  virtual Result<std::unique_ptr<ArtifactWriter>> NewWriter() = 0;
  // Bytes a new artifact may still take (free space where they are staged
  // and stored); an upload larger than this is refused before it is read.
  virtual Result<uint64_t> AvailableBytes() = 0;

  // Writes the artifact to `dest` (replaced atomically; on any error `dest`
  // is left as it was). NotFound, Corruption, IOError.
  virtual Status GetToFile(const Digest& digest, const std::filesystem::path& dest) = 0;
  // Streams the artifact into `out`. The digest is checked as the bytes go
  // by: on Corruption the bytes already written must be discarded by the
  // caller (an HTTP download is aborted, for instance).
  virtual Status GetToStream(const Digest& digest, std::ostream& out) = 0;

  // A readable local file holding the verified bytes of the artifact, for a
  // job to read as an input: the store's own file for a local backend (never
  // to be written to), a download into `scratch_dir` for a remote one.
  virtual Result<std::filesystem::path> Materialize(const Digest& digest,
                                                    const std::filesystem::path& scratch_dir) = 0;

  virtual Result<bool> Exists(const Digest& digest) = 0;
  // NotFound when absent.
  virtual Result<uint64_t> Size(const Digest& digest) = 0;
  // Every artifact, in digest order.
  virtual Result<std::vector<ArtifactInfo>> List() = 0;
  // NotFound when absent.
  virtual Status Delete(const Digest& digest) = 0;
  // Whether the bytes live elsewhere (S3): Materialize then downloads a copy.
  virtual bool IsRemote() const { return false; }
  // Whether this artifact's bytes live elsewhere (a set of backends answers
  // for the one holding it; docs/storage.md, "Several backends").
  virtual Result<bool> IsRemoteFor(const Digest& digest) {
    (void)digest;
    return IsRemote();
  }
  // A URL that downloads the artifact straight from where it is stored,
  // valid for `expires_s` (an S3 presigned URL); FailedPrecondition for a
  // backend that has none (the server then streams the bytes itself).
  virtual Result<std::string> DownloadUrl(const Digest& digest, int64_t expires_s) {
    (void)digest;
    (void)expires_s;
    return FailedPrecondition("this artifact store has no download URLs");
  }
};

// Incremental SHA-256, for backends that hash while they copy.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(const void* data, size_t n);
  Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace kiln
