// Diff: the patch operations that turn one tree into another.
//
// Only subtrees whose digests differ are visited (digests cover whole
// subtrees, see node.h), so the cost follows the size of the change, not of
// the tree. The ops are found by replaying them on `from` inside a savepoint
// (creates materialize inherited children, deletes cascade; replaying keeps
// the ops exact), checked to reproduce `to`'s root digest, and undone.
//
// Ownership: borrows both trees. Thread-safety: needs exclusive access to
// `from` for the duration of the call (it is changed and restored).
#pragma once

#include <vector>

#include "core/status.h"
#include "model/patch.h"
#include "model/tree.h"

namespace kiln {

// Both trees must be written (not dirty) and share their root guid. Applying
// the result to `from` (Tree::Apply) yields a tree with `to`'s root digest.
Result<std::vector<PatchOp>> Diff(Tree& from, const Tree& to);

// Guids of nodes whose own content, children or existence differ between the
// trees: nodes of `to` in changed subtrees, and nodes of `from` that `to`
// lacks (their descendants are not listed). Pre-order of `to`, then `from`.
std::vector<std::string> ChangedNodes(const Tree& from, const Tree& to);

}  // namespace kiln
