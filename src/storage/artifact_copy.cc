#include "storage/artifact_copy.h"

namespace kiln {

namespace fs = std::filesystem;

Result<ArtifactInfo> CopyArtifact(ArtifactStore& from, ArtifactStore& to, const Digest& digest,
                                  const fs::path& scratch_dir) {
  KILN_ASSIGN_OR_RETURN(uint64_t size, from.Size(digest));
  KILN_ASSIGN_OR_RETURN(bool there, to.Exists(digest));
  if (there) return ArtifactInfo{digest, size};
  KILN_ASSIGN_OR_RETURN(fs::path path, from.Materialize(digest, scratch_dir));
  Result<ArtifactInfo> put = to.PutFile(path);
  // A download made for the copy goes; a local store's own file stays.
  std::error_code ec;
  if (path.parent_path() == scratch_dir) fs::remove(path, ec);
  KILN_RETURN_IF_ERROR(put.status());
  if (put->digest != digest) {
    return Corruption("the copy of " + digest.Hex() + " hashed to " + put->digest.Hex());
  }
  return put;
}

}  // namespace kiln
