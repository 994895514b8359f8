// The artifacts a project lists (GET /projects/{p}/artifacts): the Artifact
// nodes of its model at a ref (uploads, and the outputs of Output
// operations) together with every output its executions' jobs produced or
// took from the cache, each once by digest, with where it came from and,
// for small JSON artifacts, its value — so a scalar result is seen, not
// downloaded.
//
// Ownership: borrows its arguments for the call. Thread-safety: a pure
// function of them, save reads from the artifact store (thread-safe).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/tree.h"
#include "runs/records.h"
#include "storage/artifact_store.h"
#include "storage/storage_set.h"

namespace kiln {

// JSON artifacts up to this size carry their value in the listing.
inline constexpr uint64_t kInlineValueBytes = 4096;

struct ArtifactFilter {
  std::string kind;      // a serializer ("json", "torch", …); "" = every kind
  std::string pipeline;  // a pipeline's guid or name; "" = every origin
};

// Newest job outputs first (as RunsStore::ListProjectOutputs gives them).
// With `stores`, each artifact says which backends hold it ("stores": names;
// one backend: its name, unchecked; none: the bytes are gone).
Result<nlohmann::json> ListArtifacts(const Tree& tree,
                                     const std::vector<ProjectJobOutputs>& outputs,
                                     ArtifactStore& store, const ArtifactFilter& filter = {},
                                     StorageSet* stores = nullptr);

}  // namespace kiln
