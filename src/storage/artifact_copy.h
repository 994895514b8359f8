// CopyArtifact: one artifact from one store to another (a local folder to
// S3 and back; docs/storage.md, "Moving artifacts"), verified on the way:
// the copy is read back from where the source keeps it (or downloaded into
// `scratch_dir`, verified), stored, and its digest compared. A move is a
// copy, then a delete from the source, by the caller.
//
// Thread-safety: as the stores'.
#pragma once

#include <filesystem>

#include "storage/artifact_store.h"

namespace kiln {

Result<ArtifactInfo> CopyArtifact(ArtifactStore& from, ArtifactStore& to, const Digest& digest,
                                  const std::filesystem::path& scratch_dir);

}  // namespace kiln
