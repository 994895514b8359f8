// Repository: projects, commits, branches, tags, history, diff and merge on
// top of an ObjectStore — Kiln's git-like versioning of models.
//
// Refs (all under projects/<name>/):
//   project        → the project object (commit.h)
//   heads/<branch> → a commit;   tags/<tag> → a commit (tags never move)
// A commit is written with its node objects and the compare-and-swap of its
// branch ref in ONE WriteBatch, so a commit is all there or not at all, and a
// stale expected head is a Conflict that changes nothing.
//
// A project sees only its own history: a commit digest (full or a prefix)
// is a ref of project P only when the commit belongs to P — reachable from
// one of P's branches or tags (run tags included). Content addressing would
// otherwise let anyone who learns a digest read another project's tree
// through their own. Membership is an index per project (every commit
// reachable from its refs), built on first use, extended by this
// repository's own commits, and refreshed from the refs on a miss (commits
// made by another process on the same store) — never a history walk per
// request. Deleting a ref or a project drops the project's index. See
// docs/access.md.
//
// The repository caches written Trees per commit digest (a few, LRU) and
// commits on a cached head in place (Tree savepoints undo a failed commit),
// so a commit costs the patch plus the path to the root, not a tree load.
// A server that keeps its own Tree per branch head uses CommitOnTree.
//
// Ownership: borrows the store and the clock, which must outlive it; trees
// handed out are shared and never changed afterwards.
// Thread-safety: every method is safe from any thread (one mutex); several
// Repository objects (or processes) on one store are safe too, through the
// store's compare-and-swap.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/digest.h"
#include "core/status.h"
#include "model/commit.h"
#include "model/merge.h"
#include "model/patch.h"
#include "model/tree.h"
#include "store/object_store.h"

namespace kiln {

// 1–64 characters of [A-Za-z0-9_.-], not starting with '.'.
Status ValidateProjectName(std::string_view name);
// A branch or tag name: a valid ref path (store/object_store.h) of at most
// 128 bytes, not starting with '.'.
Status ValidateBranchName(std::string_view name);

struct ProjectInfo {
  std::string name;
  std::string description;
  int64_t created_ms = 0;
};

struct LogEntry {
  Digest digest;
  CommitObject commit;
};

struct LogOptions {
  bool first_parent = false;  // else every ancestor, newest first
  size_t limit = 100;
};

struct CommitRequest {
  std::string project;
  std::string branch;
  std::string author;
  std::string message;
  // The head the author saw; Conflict when the branch has moved since.
  std::optional<Digest> expected_head;
};

struct MergeOutcome {
  std::optional<Digest> commit;  // the merge commit (or the unchanged head)
  bool up_to_date = false;       // theirs was already in ours: nothing done
  std::vector<MergeConflict> conflicts;
};

class Repository {
 public:
  Repository(ObjectStore& store, const Clock& clock, size_t tree_cache_size = 4);
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  // ---- projects
  // Creates the project with branch "main" at an initial commit holding the
  // core meta types; returns that commit. AlreadyExists if the name is taken.
  Result<Digest> CreateProject(std::string_view name, std::string_view description,
                               std::string_view author);
  // Creates the project with branch "main" at a new parentless commit whose
  // tree is `source_commit`'s (a fork of project `source` at that commit);
  // returns that commit. Atomic: the project appears whole or not at all.
  Result<Digest> ForkProject(std::string_view name, std::string_view description,
                             std::string_view author, std::string_view source,
                             const Digest& source_commit);
  Result<ProjectInfo> GetProject(std::string_view name);
  Result<std::vector<ProjectInfo>> ListProjects();
  // Removes the project's refs (objects stay; they may be shared).
  Status DeleteProject(std::string_view name);

  // ---- commits
  // Applies the patch to the branch head and commits it. FailedPrecondition
  // or InvalidArgument from the patch, Conflict on a moved head. patch.base
  // is not looked at: rebasing a stale patch is the caller's policy.
  Result<Digest> Commit(const CommitRequest& request, const Patch& patch);
  // Same, on a tree the caller keeps at the branch head (written, not dirty).
  // On success the tree is at the new commit; on failure it is unchanged.
  Result<Digest> CommitOnTree(const CommitRequest& request, Tree& tree, const Patch& patch);
  Result<CommitObject> ReadCommit(const Digest& commit);

  // One patch of a chain, with who made it.
  struct ChainItem {
    const Patch* patch;
    std::string author;
    std::string message;
  };
  // Applies the patches in turn to `tree` (the caller's, at `expected_head`
  // of the branch) and writes each one that applies as its own commit, each
  // the parent of the next, in ONE store write with one compare-and-swap of
  // the branch: N patches cost one fsync. results[i] is patch i's commit, or
  // why it was rejected (it changed nothing). When the write itself fails
  // (Conflict on a moved branch, I/O), that is the returned status and the
  // tree is unchanged.
  Result<std::vector<Result<Digest>>> CommitChainOnTree(std::string_view project,
                                                        std::string_view branch,
                                                        const Digest& expected_head, Tree& tree,
                                                        std::span<const ChainItem> items);

  // ---- refs
  // A branch, tag ("run/..." tags too), "heads/<b>", "tags/<t>", or a full or
  // unique-prefix (at least 6 hex digits) commit digest.
  // A digest of another project's commit is NotFound, exactly like one that
  // does not exist.
  Result<Digest> Resolve(std::string_view project, std::string_view ref);
  // Whether `commit` belongs to the project (see above).
  Result<bool> ContainsCommit(std::string_view project, const Digest& commit);
  Result<Digest> BranchHead(std::string_view project, std::string_view branch);
  Status CreateBranch(std::string_view project, std::string_view name, const Digest& commit);
  Result<std::vector<std::pair<std::string, Digest>>> ListBranches(std::string_view project);
  Status DeleteBranch(std::string_view project, std::string_view name);
  // Tags are immutable: AlreadyExists when the tag exists. Branches and tags
  // are created only at commits of the project (NotFound otherwise).
  Status CreateTag(std::string_view project, std::string_view name, const Digest& commit);
  Result<std::vector<std::pair<std::string, Digest>>> ListTags(std::string_view project);
  Status DeleteTag(std::string_view project, std::string_view name);

  // ---- history
  Result<std::vector<LogEntry>> Log(const Digest& start, const LogOptions& options = {});
  Result<bool> IsAncestor(const Digest& ancestor, const Digest& descendant);
  // A common ancestor (the newest found); NotFound when there is none.
  Result<Digest> MergeBase(const Digest& a, const Digest& b);

  // ---- trees, diff, merge
  // The tree of a commit, shared; it never changes.
  Result<std::shared_ptr<const Tree>> LoadTree(const Digest& commit);
  // Ops that turn the tree of `from` into the tree of `to`.
  Result<std::vector<PatchOp>> Diff(const Digest& from, const Digest& to);
  // Merges `source` (any ref) into `branch`: a merge commit with parents
  // (head, source) moved in by compare-and-swap. Conflict (with
  // out->conflicts filled) when fields clash; nothing changes then.
  Status Merge(const CommitRequest& request, std::string_view source, MergeOutcome* out);

 private:
  std::string Ref(std::string_view project, std::string_view kind, std::string_view name) const;
  Status CheckProject(std::string_view project);
  // Writes `batch` plus the commit, the project object and both refs in one
  // store write (refs must not exist yet); caches `tree` (may be null) as
  // the commit's tree.
  Result<Digest> NewProject(std::string_view name, std::string_view description, WriteBatch batch,
                            const CommitObject& commit, std::shared_ptr<Tree> tree);
  // Called with `lock` held on mu_; releases it while the patch is applied
  // and written (the tree must be the caller's alone), and holds it again on
  // return.
  Result<Digest> CommitLocked(std::unique_lock<std::mutex>& lock, const CommitRequest& request,
                              Tree& tree, std::span<const PatchOp> ops,
                              std::vector<Digest> extra_parents, bool check_rules);
  Result<CommitObject> ReadCommitLocked(const Digest& commit);
  Result<Digest> ResolveLocked(std::string_view project, std::string_view ref);
  Result<Digest> BranchHeadLocked(std::string_view project, std::string_view branch);
  Result<bool> IsAncestorLocked(const Digest& ancestor, const Digest& descendant);
  Result<Digest> MergeBaseLocked(const Digest& a, const Digest& b);
  // A cached tree for exclusive use: removed from the cache (cloned if it is
  // shared); the caller puts it back with CacheTree.
  Result<std::shared_ptr<Tree>> TakeTree(const Digest& commit);
  Result<std::shared_ptr<Tree>> GetTreeLocked(const Digest& commit);
  void CacheTree(const Digest& commit, std::shared_ptr<Tree> tree);
  Status CreateRef(std::string_view project, std::string_view kind, std::string_view name,
                   const Digest& commit);
  Result<std::vector<std::pair<std::string, Digest>>> ListRefsOf(std::string_view project,
                                                                 std::string_view kind);
  Status DeleteRef(std::string_view project, std::string_view kind, std::string_view name);

  // The commits that belong to one project (a sorted set: prefixes are
  // looked up by lower_bound).
  struct ProjectCommits {
    std::set<Digest> commits;
  };
  // The project's index, built when missing; with `refresh`, first extended
  // by walking back from every current ref until a known commit. mu_ held.
  Result<ProjectCommits*> MembersLocked(std::string_view project, bool refresh);
  Result<bool> ContainsCommitLocked(std::string_view project, const Digest& commit);
  // Adds commits this repository just wrote to the project's index, if built.
  void AddMembersLocked(std::string_view project, std::span<const Digest> commits);

  ObjectStore& store_;
  const Clock& clock_;
  size_t cache_size_;
  std::mutex mu_;
  // Most recently used first.
  std::list<std::pair<Digest, std::shared_ptr<Tree>>> trees_;
  std::unordered_map<Digest, CommitObject> commits_;
  std::unordered_map<std::string, ProjectCommits> members_;  // by project name
};

}  // namespace kiln
