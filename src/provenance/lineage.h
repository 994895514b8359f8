// Lineage: the graph of how an artifact was made (walking up through the
// jobs that produced it to the data they started from) or of what was made
// from it (walking down), bounded by depth, within ONE project
// (docs/provenance.md, "Lineage").
//
// Isolation is part of the walk, not of its callers: it only reads records
// of the project's own executions (RunsStore::Producers, JobsUsing) and the
// project's grants, so equal bytes made or uploaded in another project never
// lead there. A cache hit's original producer in another project is reported
// as "another project's", nothing more.
//
// Ownership: WalkLineage borrows the store for the call; the graph is a value.
// Thread-safety: reentrant (the store is thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/status.h"
#include "runs/runs_store.h"

namespace kiln {

enum class LineageDirection { kUp, kDown, kBoth };
Result<LineageDirection> ParseLineageDirection(std::string_view name);
const char* LineageDirectionName(LineageDirection direction);

struct LineageQuery {
  std::string project;
  Digest artifact;
  LineageDirection direction = LineageDirection::kUp;
  int64_t depth = 100;  // job levels to walk each way
};

struct LineageArtifact {
  Digest digest;
  // Levels count jobs away from the root: 0 for the root, > 0 up (its
  // producer is 1, that job's inputs too), < 0 down.
  int64_t level = 0;
  // Its producer in the graph (or beyond the depth) and the output it came
  // from; "" when no job of the project made it (see grant).
  std::string job;
  std::string output;
  std::optional<ArtifactGrant> grant;  // how the project got it
  std::optional<OutputRef> ref;        // serializer and size, when a job's outputs say
};

struct LineageJob {
  // The job, with the record of one of its outputs (shared with the store's
  // cache of first producers: never changed).
  std::shared_ptr<const Producer> producer;
  int64_t level = 0;
  size_t operation = 0;  // index into LineageGraph::operations
  // For a cache hit: the original producer's execution when it is a job of
  // this project; other_project when it is not (nothing more is said).
  std::string cached_from_execution;
  bool cached_from_other_project = false;
};

struct LineageEdge {
  std::string job;
  std::string port;  // input or output name
  Digest artifact;
};

struct LineageGraph {
  LineageQuery query;
  bool truncated = false;                  // the walk stopped at the depth with more beyond
  std::vector<LineageArtifact> artifacts;  // the root first, then by level
  std::vector<LineageJob> jobs;
  std::vector<std::string> operations;  // distinct operation snapshots (JSON)
  std::vector<LineageEdge> used;        // artifact → job (input)
  std::vector<LineageEdge> generated;   // job → artifact (output)
};

// Walks the lineage. The caller has checked that the project may read the
// artifact (RunsStore::ProjectHasArtifact); an artifact with no record and no
// grant in the project is still a one-node graph (origin unknown).
Result<LineageGraph> WalkLineage(RunsStore& runs, const LineageQuery& query);

}  // namespace kiln
