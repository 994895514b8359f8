// GcPlan: which stored artifacts nothing references any more, decided
// without I/O from what the collectors found (gc.h; docs/storage.md,
// "Collecting garbage"). An artifact is kept when
//   - a commit of any branch or tag of any project names it (its whole
//     history, not only the heads: any of those states can be run again),
//   - a run names it (an output or input of a job, a provenance record, an
//     action-cache entry: what made a result is never collected), or
//   - it, or its newest grant to a project, is younger than the grace
//     period (an upload between its store commit and the patch that names
//     it; a job's output between the store and the runs record).
// Everything else in the store is garbage, and only that.
//
// Values in, values out; PlanGc is a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storage/artifact_store.h"

namespace kiln {

struct GcInputs {
  std::vector<ArtifactInfo> stored;  // the store's List()
  std::set<Digest> named_by_history;
  std::set<Digest> named_by_runs;
  std::map<Digest, int64_t> newest_grant_ms;
  std::map<Digest, std::vector<std::string>> granted_to;  // for the report
  int64_t now_ms = 0;
  int64_t grace_ms = 3600 * 1000;
};

struct GcCandidate {
  ArtifactInfo artifact;
  std::vector<std::string> projects;  // that were granted it ("" none: never granted)
};

struct GcPlan {
  std::vector<GcCandidate> garbage;  // in digest order
  uint64_t garbage_bytes = 0;
  size_t kept_by_history = 0, kept_by_runs = 0, kept_young = 0;
  uint64_t stored_bytes = 0;
};

GcPlan PlanGc(const GcInputs& in);

}  // namespace kiln
