// Three-way merge of trees, field by field.
//
// Fields of a node: its existence, its parent, each attribute, each pointer
// and each registry entry. A field that only one side changed (relative to
// the merge base) takes that side's value; a field both sides changed to the
// same value is fine; a field both changed to different values is a
// conflict. Deleting a node on one side while the other changed anything in
// its subtree is a conflict on "exists". Child order follows ours, with
// theirs' moves applied where they do not conflict.
//
// Ownership: borrows the trees. Thread-safety: needs exclusive access to
// `base` and `ours` (both are changed inside savepoints and restored).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "model/patch.h"
#include "model/tree.h"

namespace kiln {

struct MergeConflict {
  std::string node;   // guid
  std::string field;  // "exists", "parent", "attrs/<name>", "pointers/<name>", "registry/<name>"
  // Values on each side; nullopt = absent. "exists" uses the strings
  // "present", "deleted" and "modified"; pointers use a guid string or null.
  std::optional<Value> base, ours, theirs;

  bool operator==(const MergeConflict&) const = default;
};

nlohmann::json MergeConflictToJson(const MergeConflict& c);

struct TreeMerge {
  // Ops that bring theirs' changes onto ours (empty when there are conflicts).
  std::vector<PatchOp> ops;
  std::vector<MergeConflict> conflicts;
};

// All trees must be written (not dirty) and share their root guid.
Result<TreeMerge> MergeTrees(Tree& base, Tree& ours, const Tree& theirs);

}  // namespace kiln
