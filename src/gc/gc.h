// Garbage collection of artifacts (`kiln gc`, POST /api/v1/admin/gc;
// docs/storage.md, "Collecting garbage"): the collectors that find what
// references an artifact — every commit of every branch and tag of every
// project, and the runs store — and the step that deletes the garbage
// GcPlan (gc_plan.h) decides. Deleting plans again first and deletes only
// artifacts that are still garbage, so it is safe while executions run.
//
// Ownership: borrows the repository, runs store and artifact store.
// Thread-safety: as theirs (all are safe for concurrent use).
#pragma once

#include <functional>
#include <set>

#include "gc/gc_plan.h"
#include "model/repository.h"
#include "runs/runs_store.h"
#include "storage/artifact_store.h"

namespace kiln {

// Every digest named by an attribute (or registry value) of a node of a
// commit reachable from any branch or tag of any project. Node objects are
// a Merkle tree: a subtree already read (same digest) is not read again.
Status CollectNamedByHistory(Repository& repo, std::set<Digest>* out);

struct GcOptions {
  int64_t grace_ms = 3600 * 1000;
  int64_t now_ms = 0;  // 0 = the system clock
};

Result<GcPlan> PlanGarbage(Repository& repo, RunsStore& runs, ArtifactStore& artifacts,
                           const GcOptions& options);

struct GcDeleted {
  size_t deleted = 0;
  uint64_t bytes = 0;
  size_t skipped = 0;  // asked for, but no longer garbage (or gone)
};

// Deletes the artifacts of `digests` that a fresh plan still calls garbage,
// and their grants. `progress` (optional) is called after each one.
Result<GcDeleted> DeleteGarbage(
    Repository& repo, RunsStore& runs, ArtifactStore& artifacts, const std::set<Digest>& digests,
    const GcOptions& options, const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace kiln
