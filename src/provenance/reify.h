// Reify: the patch that adds to a branch a pipeline making an artifact again
// from its lineage (docs/provenance.md, "Reify") — ninja's pure Plan: it
// decides from values (the lineage, the branch's tree), the server commits.
//
// Operations are recreated from their snapshots, reusing a definition whose
// code is identical; jobs are wired as they ran; the data the lineage starts
// from becomes Input operations bound to the same artifacts; an Output
// receives the artifact. Same code, attributes, resources and input digests
// as the original jobs: running it hits the cache.
//
// Ownership: values. Thread-safety: reentrant.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/patch.h"
#include "model/tree.h"
#include "provenance/lineage.h"

namespace kiln {

struct ReifyOptions {
  std::string name{};  // the pipeline's name
  // Seeds the new nodes' guids (DeriveGuid(seed, …)): a fresh guid per call
  // in the server, fixed in tests.
  std::string seed{};
  // Artifacts whose bytes are gone: their Input is left unset, with a note.
  std::set<Digest> missing{};
  // What the model calls artifacts and how they load (Artifact nodes).
  std::map<Digest, std::string> names{};
  std::map<Digest, std::string> serializers{};
};

struct ReifyPlan {
  Patch patch;
  std::string pipeline;                     // the new pipeline's guid
  std::map<std::string, std::string> jobs;  // instance guid → the original job
  std::vector<std::string> notes;           // what the user should know
};

// `lineage`: walked up from the artifact with a depth that reaches its data
// (not truncated). FailedPrecondition when no job made the artifact.
Result<ReifyPlan> PlanReify(const LineageGraph& lineage, const Tree& tree,
                            const ReifyOptions& options);

}  // namespace kiln
