#include "model/repository.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_set>

#include "model/diff.h"
#include "model/meta.h"

namespace kiln {
namespace {

constexpr size_t kMaxCachedCommits = 100'000;
constexpr size_t kMinPrefix = 6;

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = char(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Status ValidateProjectName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("a project name has 1 to 64 characters");
  }
  if (name[0] == '.') return InvalidArgument("a project name must not start with '.'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) {
      return InvalidArgument("project name '" + std::string(name) +
                             "' has a character outside [A-Za-z0-9_.-]");
    }
  }
  return Status::Ok();
}

Status ValidateBranchName(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgument("a branch or tag name has 1 to 128 characters");
  }
  if (name[0] == '.') return InvalidArgument("a branch or tag name must not start with '.'");
  Status st = ValidateRefName(name);
  if (!st.ok()) return InvalidArgument("bad branch or tag name: " + st.message());
  return Status::Ok();
}

Repository::Repository(ObjectStore& store, const Clock& clock, size_t tree_cache_size)
    : store_(store), clock_(clock), cache_size_(std::max<size_t>(tree_cache_size, 1)) {}

std::string Repository::Ref(std::string_view project, std::string_view kind,
                            std::string_view name) const {
  std::string ref = "projects/";
  ref.append(project).append("/").append(kind);
  if (!name.empty()) ref.append("/").append(name);
  return ref;
}

Status Repository::CheckProject(std::string_view project) {
  KILN_RETURN_IF_ERROR(ValidateProjectName(project));
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(Ref(project, "project", "")));
  if (!ref) return NotFound("no project named '" + std::string(project) + "'");
  return Status::Ok();
}

// ---------------------------------------------------------------- projects

Result<Digest> Repository::CreateProject(std::string_view name, std::string_view description,
                                         std::string_view author) {
  auto tree = std::make_shared<Tree>(NewProjectTree());
  WriteBatch batch;
  KILN_ASSIGN_OR_RETURN(Digest root, tree->Write(&batch));
  CommitObject commit{
      root, {}, std::string(author), "Create project " + std::string(name), clock_.NowMillis()};
  return NewProject(name, description, std::move(batch), commit, std::move(tree));
}

Result<Digest> Repository::ForkProject(std::string_view name, std::string_view description,
                                       std::string_view author, std::string_view source,
                                       const Digest& source_commit) {
  KILN_ASSIGN_OR_RETURN(CommitObject from, ReadCommit(source_commit));
  // Objects are content-addressed in one store: the fork's first commit
  // shares the source's root tree, nothing is copied. History starts anew.
  CommitObject commit{from.root,
                      {},
                      std::string(author),
                      "Fork of " + std::string(source) + " at " + source_commit.Hex().substr(0, 12),
                      clock_.NowMillis()};
  return NewProject(name, description, WriteBatch(), commit, nullptr);
}

Result<Digest> Repository::NewProject(std::string_view name, std::string_view description,
                                      WriteBatch batch, const CommitObject& commit,
                                      std::shared_ptr<Tree> tree) {
  KILN_RETURN_IF_ERROR(ValidateProjectName(name));
  std::lock_guard lock(mu_);
  std::string project_ref = Ref(name, "project", "");
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> existing, store_.GetRef(project_ref));
  if (existing) return AlreadyExists("project '" + std::string(name) + "' exists");

  Digest commit_digest = batch.Put(EncodeCommit(commit));
  Digest project_digest =
      batch.Put(EncodeProject({std::string(name), std::string(description), commit.time_ms}));
  batch.UpdateRef({project_ref, std::nullopt, project_digest});
  batch.UpdateRef({Ref(name, "heads", "main"), std::nullopt, commit_digest});
  Status st = store_.Write(batch);
  if (st.code() == Code::kConflict) {
    return AlreadyExists("project '" + std::string(name) + "' exists");
  }
  KILN_RETURN_IF_ERROR(st);
  commits_[commit_digest] = commit;
  // A project of this name may have existed before: its index is not this one's.
  members_.erase(std::string(name));
  if (tree) CacheTree(commit_digest, std::move(tree));
  return commit_digest;
}

Result<ProjectInfo> Repository::GetProject(std::string_view name) {
  KILN_RETURN_IF_ERROR(ValidateProjectName(name));
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> ref, store_.GetRef(Ref(name, "project", "")));
  if (!ref) return NotFound("no project named '" + std::string(name) + "'");
  KILN_ASSIGN_OR_RETURN(std::string bytes, store_.Get(*ref));
  KILN_ASSIGN_OR_RETURN(ProjectObject p, DecodeProject(bytes));
  return ProjectInfo{p.name, p.description, p.created_ms};
}

Result<std::vector<ProjectInfo>> Repository::ListProjects() {
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs("projects/"));
  std::vector<ProjectInfo> out;
  for (const auto& [name, digest] : refs) {
    std::string_view rest = std::string_view(name).substr(std::string_view("projects/").size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash) != "/project") continue;
    KILN_ASSIGN_OR_RETURN(std::string bytes, store_.Get(digest));
    KILN_ASSIGN_OR_RETURN(ProjectObject p, DecodeProject(bytes));
    out.push_back({p.name, p.description, p.created_ms});
  }
  return out;
}

Status Repository::DeleteProject(std::string_view name) {
  KILN_RETURN_IF_ERROR(CheckProject(name));
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs("projects/" + std::string(name) + "/"));
  WriteBatch batch;
  for (const auto& [ref, digest] : refs) batch.UpdateRef({ref, digest, std::nullopt});
  members_.erase(std::string(name));
  return store_.Write(batch);
}

// ---------------------------------------------------------------- commits

Result<CommitObject> Repository::ReadCommit(const Digest& commit) {
  std::lock_guard lock(mu_);
  return ReadCommitLocked(commit);
}

Result<CommitObject> Repository::ReadCommitLocked(const Digest& commit) {
  auto it = commits_.find(commit);
  if (it != commits_.end()) return it->second;
  KILN_ASSIGN_OR_RETURN(std::string bytes, store_.Get(commit));
  Result<CommitObject> c = DecodeCommit(bytes);
  if (!c.ok()) return c.status().WithContext("commit " + commit.Hex());
  if (commits_.size() >= kMaxCachedCommits) commits_.clear();
  commits_.emplace(commit, *c);
  return c;
}

Result<Digest> Repository::Commit(const CommitRequest& request, const Patch& patch) {
  KILN_RETURN_IF_ERROR(CheckProject(request.project));
  std::unique_lock lock(mu_);
  KILN_ASSIGN_OR_RETURN(Digest head, BranchHeadLocked(request.project, request.branch));
  if (request.expected_head && *request.expected_head != head) {
    return Conflict("branch '" + request.branch + "' is at " + head.Hex() + ", not " +
                    request.expected_head->Hex());
  }
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Tree> tree, TakeTree(head));
  Result<Digest> commit = CommitLocked(lock, request, *tree, patch.ops, {}, true);
  CacheTree(commit.ok() ? *commit : head, std::move(tree));
  return commit;
}

Result<Digest> Repository::CommitOnTree(const CommitRequest& request, Tree& tree,
                                        const Patch& patch) {
  KILN_RETURN_IF_ERROR(CheckProject(request.project));
  std::unique_lock lock(mu_);
  return CommitLocked(lock, request, tree, patch.ops, {}, true);
}

Result<Digest> Repository::CommitLocked(std::unique_lock<std::mutex>& lock,
                                        const CommitRequest& request, Tree& tree,
                                        std::span<const PatchOp> ops,
                                        std::vector<Digest> extra_parents, bool check_rules) {
  KILN_RETURN_IF_ERROR(ValidateBranchName(request.branch));
  std::string ref = Ref(request.project, "heads", request.branch);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> head, store_.GetRef(ref));
  if (!head) return NotFound("no branch '" + request.branch + "' in " + request.project);
  if (request.expected_head && *request.expected_head != *head) {
    return Conflict("branch '" + request.branch + "' is at " + head->Hex() + ", not " +
                    request.expected_head->Hex());
  }
  KILN_ASSIGN_OR_RETURN(CommitObject parent, ReadCommitLocked(*head));
  Result<Digest> tree_root = tree.RootDigest();
  if (!tree_root.ok() || *tree_root != parent.root) {
    return FailedPrecondition("the tree is not at the head of branch '" + request.branch + "'");
  }
  // Commit times never go backwards along parents, so time order is also
  // topological order in Log.
  int64_t time = std::max(clock_.NowMillis(), parent.time_ms);
  std::vector<Digest> parents{*head};
  for (const Digest& p : extra_parents) {
    KILN_ASSIGN_OR_RETURN(CommitObject other, ReadCommitLocked(p));
    time = std::max(time, other.time_ms);
    parents.push_back(p);
  }

  // The tree is the caller's alone (taken out of the cache, or the caller's
  // own), so the patch, the encoding and the durable write run without the
  // repository lock: commits to other branches proceed meanwhile and share
  // the store's group commit. The branch's compare-and-swap keeps it right.
  lock.unlock();
  tree.Begin();
  Status st = tree.Apply(ops, ApplyOptions{.check_rules = check_rules});
  WriteBatch batch;
  CommitObject commit;
  Digest commit_digest;
  if (st.ok()) {
    Result<Digest> root = tree.Write(&batch);
    if (root.ok()) {
      commit = CommitObject{*root, std::move(parents), request.author, request.message, time};
      commit_digest = batch.Put(EncodeCommit(commit));
      batch.UpdateRef({ref, *head, commit_digest});
      st = store_.Write(batch);
    } else {
      st = root.status();
    }
  }
  if (!st.ok()) {
    tree.Rollback();
    lock.lock();
    return st;
  }
  tree.Release();
  lock.lock();
  if (commits_.size() >= kMaxCachedCommits) commits_.clear();
  commits_.emplace(commit_digest, std::move(commit));
  AddMembersLocked(request.project, std::span(&commit_digest, 1));
  return commit_digest;
}

Result<std::vector<Result<Digest>>> Repository::CommitChainOnTree(
    std::string_view project, std::string_view branch, const Digest& expected_head, Tree& tree,
    std::span<const ChainItem> items) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  KILN_RETURN_IF_ERROR(ValidateBranchName(branch));
  std::unique_lock lock(mu_);
  std::string ref = Ref(project, "heads", branch);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> head, store_.GetRef(ref));
  if (!head) return NotFound("no branch '" + std::string(branch) + "' in " + std::string(project));
  if (*head != expected_head) {
    return Conflict("branch '" + std::string(branch) + "' is at " + head->Hex() + ", not " +
                    expected_head.Hex());
  }
  KILN_ASSIGN_OR_RETURN(CommitObject parent, ReadCommitLocked(*head));
  Result<Digest> tree_root = tree.RootDigest();
  if (!tree_root.ok() || *tree_root != parent.root) {
    return FailedPrecondition("the tree is not at the head of branch '" + std::string(branch) +
                              "'");
  }
  int64_t time = std::max(clock_.NowMillis(), parent.time_ms);
  // As in CommitLocked: the tree is the caller's, so the work runs unlocked.
  lock.unlock();
  tree.Begin();
  WriteBatch batch;
  std::vector<Result<Digest>> results;
  std::vector<std::pair<Digest, CommitObject>> made;
  Digest previous = *head;
  Status failure;
  for (const ChainItem& item : items) {
    Status applied = tree.Apply(*item.patch);  // atomic: a rejected patch changes nothing
    if (!applied.ok()) {
      results.push_back(applied);
      continue;
    }
    Result<Digest> root = tree.Write(&batch);
    if (!root.ok()) {
      failure = root.status();
      break;
    }
    CommitObject commit{*root, {previous}, item.author, item.message, time};
    previous = batch.Put(EncodeCommit(commit));
    made.emplace_back(previous, std::move(commit));
    results.push_back(previous);
  }
  if (failure.ok() && !made.empty()) {
    batch.UpdateRef({ref, *head, previous});
    failure = store_.Write(batch);
  }
  if (!failure.ok()) {
    tree.Rollback();
    lock.lock();
    return failure;
  }
  tree.Release();
  lock.lock();
  if (commits_.size() + made.size() >= kMaxCachedCommits) commits_.clear();
  std::vector<Digest> new_commits;
  for (auto& [d, c] : made) {
    new_commits.push_back(d);
    commits_.emplace(d, std::move(c));
  }
  AddMembersLocked(project, new_commits);
  return results;
}

// ---------------------------------------------------------------- refs

Result<Digest> Repository::BranchHead(std::string_view project, std::string_view branch) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  std::lock_guard lock(mu_);
  return BranchHeadLocked(project, branch);
}

Result<Digest> Repository::BranchHeadLocked(std::string_view project, std::string_view branch) {
  KILN_RETURN_IF_ERROR(ValidateBranchName(branch));
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> head, store_.GetRef(Ref(project, "heads", branch)));
  if (!head) {
    return NotFound("no branch '" + std::string(branch) + "' in " + std::string(project));
  }
  return *head;
}

Result<Digest> Repository::Resolve(std::string_view project, std::string_view ref) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  std::lock_guard lock(mu_);
  return ResolveLocked(project, ref);
}

Result<Digest> Repository::ResolveLocked(std::string_view project, std::string_view ref) {
  if (ref.empty()) return InvalidArgument("empty ref");
  std::vector<std::string> candidates;
  if (ref.starts_with("heads/") || ref.starts_with("tags/")) {
    candidates.push_back(Ref(project, ref, ""));
  } else {
    candidates.push_back(Ref(project, "heads", ref));
    candidates.push_back(Ref(project, "tags", ref));
  }
  for (const std::string& name : candidates) {
    if (!ValidateRefName(name).ok()) continue;
    KILN_ASSIGN_OR_RETURN(std::optional<Digest> d, store_.GetRef(name));
    if (d) return *d;
  }
  if (ref.size() < kMinPrefix || ref.size() > 64 || !IsHex(ref)) {
    return NotFound("no branch, tag or commit '" + std::string(ref.substr(0, 80)) + "' in " +
                    std::string(project));
  }
  auto not_found = [&] {
    return NotFound("no branch, tag or commit '" + std::string(ref) + "' in " +
                    std::string(project));
  };
  if (ref.size() == 64) {
    KILN_ASSIGN_OR_RETURN(Digest d, Digest::FromHex(ref));
    KILN_ASSIGN_OR_RETURN(bool member, ContainsCommitLocked(project, d));
    if (!member) return not_found();
    return d;
  }
  // A prefix: the project's own commits in digest order, from the first one
  // at or after the prefix padded with zeros.
  std::string prefix = Lower(ref);
  KILN_ASSIGN_OR_RETURN(Digest low, Digest::FromHex(prefix + std::string(64 - prefix.size(), '0')));
  KILN_ASSIGN_OR_RETURN(ProjectCommits * members, MembersLocked(project, true));
  std::vector<Digest> matches;
  for (auto it = members->commits.lower_bound(low);
       it != members->commits.end() && matches.size() < 2 && it->Hex().starts_with(prefix); ++it) {
    matches.push_back(*it);
  }
  if (matches.empty()) return not_found();
  if (matches.size() > 1) {
    return InvalidArgument("commit prefix " + prefix + " is ambiguous in " + std::string(project));
  }
  return matches.front();
}

Result<bool> Repository::ContainsCommit(std::string_view project, const Digest& commit) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  std::lock_guard lock(mu_);
  return ContainsCommitLocked(project, commit);
}

Result<bool> Repository::ContainsCommitLocked(std::string_view project, const Digest& commit) {
  KILN_ASSIGN_OR_RETURN(ProjectCommits * members, MembersLocked(project, false));
  if (members->commits.contains(commit)) return true;
  // A miss may be a commit another process made since: extend from the refs.
  KILN_ASSIGN_OR_RETURN(members, MembersLocked(project, true));
  return members->commits.contains(commit);
}

Result<Repository::ProjectCommits*> Repository::MembersLocked(std::string_view project,
                                                              bool refresh) {
  auto it = members_.find(std::string(project));
  bool fresh = it == members_.end();
  if (!fresh && !refresh) return &it->second;
  ProjectCommits scratch;
  ProjectCommits& members = fresh ? scratch : it->second;
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs(Ref(project, "", "")));
  std::vector<Digest> stack;
  for (const auto& [name, d] : refs) {
    if (name.starts_with(Ref(project, "heads", "") + "/") ||
        name.starts_with(Ref(project, "tags", "") + "/")) {
      stack.push_back(d);
    }
  }
  // Walks back only through commits not indexed yet: their ancestors are.
  while (!stack.empty()) {
    Digest d = stack.back();
    stack.pop_back();
    if (members.commits.contains(d)) continue;
    KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(d));
    members.commits.insert(d);
    for (const Digest& p : c.parents) stack.push_back(p);
  }
  if (fresh) it = members_.emplace(std::string(project), std::move(scratch)).first;
  return &it->second;
}

void Repository::AddMembersLocked(std::string_view project, std::span<const Digest> commits) {
  auto it = members_.find(std::string(project));
  if (it == members_.end()) return;  // built from the refs on first use
  it->second.commits.insert(commits.begin(), commits.end());
}

Status Repository::CreateRef(std::string_view project, std::string_view kind, std::string_view name,
                             const Digest& commit) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  KILN_RETURN_IF_ERROR(ValidateBranchName(name));
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(bool member, ContainsCommitLocked(project, commit));
  if (!member) {
    return NotFound("no commit " + commit.Hex() + " in " + std::string(project));
  }
  std::string ref = Ref(project, kind, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> existing, store_.GetRef(ref));
  std::string what = kind == "tags" ? "tag" : "branch";
  if (existing) return AlreadyExists(what + " '" + std::string(name) + "' exists");
  WriteBatch batch;
  batch.UpdateRef({ref, std::nullopt, commit});
  Status st = store_.Write(batch);
  if (st.code() == Code::kConflict) {
    return AlreadyExists(what + " '" + std::string(name) + "' exists");
  }
  return st;
}

Result<std::vector<std::pair<std::string, Digest>>> Repository::ListRefsOf(std::string_view project,
                                                                           std::string_view kind) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  std::string prefix = Ref(project, kind, "") + "/";
  KILN_ASSIGN_OR_RETURN(auto refs, store_.ListRefs(prefix));
  for (auto& [name, d] : refs) name.erase(0, prefix.size());
  return refs;
}

Status Repository::DeleteRef(std::string_view project, std::string_view kind,
                             std::string_view name) {
  KILN_RETURN_IF_ERROR(CheckProject(project));
  KILN_RETURN_IF_ERROR(ValidateBranchName(name));
  std::lock_guard lock(mu_);
  std::string ref = Ref(project, kind, name);
  KILN_ASSIGN_OR_RETURN(std::optional<Digest> existing, store_.GetRef(ref));
  if (!existing) {
    return NotFound(std::string(kind == "tags" ? "tag" : "branch") + " '" + std::string(name) +
                    "' does not exist");
  }
  WriteBatch batch;
  batch.UpdateRef({ref, *existing, std::nullopt});
  // Commits only that ref reached no longer belong to the project.
  members_.erase(std::string(project));
  return store_.Write(batch);
}

Status Repository::CreateBranch(std::string_view project, std::string_view name,
                                const Digest& commit) {
  return CreateRef(project, "heads", name, commit);
}
Result<std::vector<std::pair<std::string, Digest>>> Repository::ListBranches(
    std::string_view project) {
  return ListRefsOf(project, "heads");
}
Status Repository::DeleteBranch(std::string_view project, std::string_view name) {
  return DeleteRef(project, "heads", name);
}
Status Repository::CreateTag(std::string_view project, std::string_view name,
                             const Digest& commit) {
  return CreateRef(project, "tags", name, commit);
}
Result<std::vector<std::pair<std::string, Digest>>> Repository::ListTags(std::string_view project) {
  return ListRefsOf(project, "tags");
}
Status Repository::DeleteTag(std::string_view project, std::string_view name) {
  return DeleteRef(project, "tags", name);
}

// ---------------------------------------------------------------- history

Result<std::vector<LogEntry>> Repository::Log(const Digest& start, const LogOptions& options) {
  std::lock_guard lock(mu_);
  std::vector<LogEntry> out;
  if (options.first_parent) {
    std::optional<Digest> d = start;
    while (d && out.size() < options.limit) {
      KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(*d));
      std::optional<Digest> next;
      if (!c.parents.empty()) next = c.parents[0];
      out.push_back({*d, std::move(c)});
      d = next;
    }
    return out;
  }
  // Newest first; commit times never decrease along parents, so every
  // commit comes before its parents.
  using Item = std::pair<int64_t, Digest>;
  std::priority_queue<Item> queue;
  std::unordered_set<Digest> seen{start};
  KILN_ASSIGN_OR_RETURN(CommitObject first, ReadCommitLocked(start));
  queue.push({first.time_ms, start});
  while (!queue.empty() && out.size() < options.limit) {
    Digest d = queue.top().second;
    queue.pop();
    KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(d));
    for (const Digest& p : c.parents) {
      if (!seen.insert(p).second) continue;
      KILN_ASSIGN_OR_RETURN(CommitObject pc, ReadCommitLocked(p));
      queue.push({pc.time_ms, p});
    }
    out.push_back({d, std::move(c)});
  }
  return out;
}

Result<bool> Repository::IsAncestor(const Digest& ancestor, const Digest& descendant) {
  std::lock_guard lock(mu_);
  return IsAncestorLocked(ancestor, descendant);
}

Result<bool> Repository::IsAncestorLocked(const Digest& ancestor, const Digest& descendant) {
  KILN_ASSIGN_OR_RETURN(CommitObject a, ReadCommitLocked(ancestor));
  std::unordered_set<Digest> seen;
  std::vector<Digest> stack{descendant};
  while (!stack.empty()) {
    Digest d = stack.back();
    stack.pop_back();
    if (d == ancestor) return true;
    if (!seen.insert(d).second) continue;
    KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(d));
    if (c.time_ms < a.time_ms) continue;  // older than the ancestor: not above it
    for (const Digest& p : c.parents) stack.push_back(p);
  }
  return false;
}

Result<Digest> Repository::MergeBase(const Digest& a, const Digest& b) {
  std::lock_guard lock(mu_);
  return MergeBaseLocked(a, b);
}

Result<Digest> Repository::MergeBaseLocked(const Digest& a, const Digest& b) {
  std::unordered_set<Digest> ancestors_of_a;
  std::vector<Digest> stack{a};
  while (!stack.empty()) {
    Digest d = stack.back();
    stack.pop_back();
    if (!ancestors_of_a.insert(d).second) continue;
    KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(d));
    for (const Digest& p : c.parents) stack.push_back(p);
  }
  // Newest-first walk from b: the first commit a also reaches.
  using Item = std::pair<int64_t, Digest>;
  std::priority_queue<Item> queue;
  std::unordered_set<Digest> seen{b};
  KILN_ASSIGN_OR_RETURN(CommitObject cb, ReadCommitLocked(b));
  queue.push({cb.time_ms, b});
  while (!queue.empty()) {
    Digest d = queue.top().second;
    queue.pop();
    if (ancestors_of_a.count(d)) return d;
    KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(d));
    for (const Digest& p : c.parents) {
      if (!seen.insert(p).second) continue;
      KILN_ASSIGN_OR_RETURN(CommitObject pc, ReadCommitLocked(p));
      queue.push({pc.time_ms, p});
    }
  }
  return NotFound("commits " + a.Hex() + " and " + b.Hex() + " have no common ancestor");
}

// ---------------------------------------------------------------- trees

Result<std::shared_ptr<Tree>> Repository::GetTreeLocked(const Digest& commit) {
  for (auto it = trees_.begin(); it != trees_.end(); ++it) {
    if (it->first == commit) {
      trees_.splice(trees_.begin(), trees_, it);
      return trees_.front().second;
    }
  }
  KILN_ASSIGN_OR_RETURN(CommitObject c, ReadCommitLocked(commit));
  KILN_ASSIGN_OR_RETURN(Tree tree, Tree::Load(store_, c.root));
  auto shared = std::make_shared<Tree>(std::move(tree));
  CacheTree(commit, shared);
  return shared;
}

Result<std::shared_ptr<Tree>> Repository::TakeTree(const Digest& commit) {
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Tree> tree, GetTreeLocked(commit));
  // Held by the cache, `tree`, and perhaps readers outside.
  if (tree.use_count() > 2) return std::make_shared<Tree>(tree->Clone());
  trees_.pop_front();  // GetTreeLocked left it first
  return tree;
}

void Repository::CacheTree(const Digest& commit, std::shared_ptr<Tree> tree) {
  for (auto it = trees_.begin(); it != trees_.end(); ++it) {
    if (it->first == commit) {
      trees_.erase(it);
      break;
    }
  }
  trees_.emplace_front(commit, std::move(tree));
  while (trees_.size() > cache_size_) trees_.pop_back();
}

Result<std::shared_ptr<const Tree>> Repository::LoadTree(const Digest& commit) {
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Tree> tree, GetTreeLocked(commit));
  return std::shared_ptr<const Tree>(std::move(tree));
}

Result<std::vector<PatchOp>> Repository::Diff(const Digest& from, const Digest& to) {
  std::lock_guard lock(mu_);
  if (from == to) return std::vector<PatchOp>{};
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Tree> a, TakeTree(from));
  Result<std::shared_ptr<Tree>> b = GetTreeLocked(to);
  Result<std::vector<PatchOp>> ops = b.ok() ? kiln::Diff(*a, **b) : b.status();
  CacheTree(from, std::move(a));
  return ops;
}

Status Repository::Merge(const CommitRequest& request, std::string_view source, MergeOutcome* out) {
  *out = MergeOutcome();
  KILN_RETURN_IF_ERROR(CheckProject(request.project));
  std::unique_lock lock(mu_);
  KILN_ASSIGN_OR_RETURN(Digest head, BranchHeadLocked(request.project, request.branch));
  if (request.expected_head && *request.expected_head != head) {
    return Conflict("branch '" + request.branch + "' is at " + head.Hex() + ", not " +
                    request.expected_head->Hex());
  }
  KILN_ASSIGN_OR_RETURN(Digest theirs, ResolveLocked(request.project, source));
  KILN_ASSIGN_OR_RETURN(bool contained, IsAncestorLocked(theirs, head));
  if (contained) {
    out->commit = head;
    out->up_to_date = true;
    return Status::Ok();
  }
  KILN_ASSIGN_OR_RETURN(Digest base, MergeBaseLocked(head, theirs));
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Tree> base_tree, TakeTree(base));
  Result<std::shared_ptr<Tree>> ours =
      base == head ? Result<std::shared_ptr<Tree>>(std::make_shared<Tree>(base_tree->Clone()))
                   : TakeTree(head);
  if (!ours.ok()) {
    CacheTree(base, std::move(base_tree));
    return ours.status();
  }
  Result<std::shared_ptr<Tree>> theirs_tree = GetTreeLocked(theirs);
  Result<TreeMerge> merged = theirs_tree.ok() ? MergeTrees(*base_tree, **ours, **theirs_tree)
                                              : Result<TreeMerge>(theirs_tree.status());
  CacheTree(base, std::move(base_tree));
  if (!merged.ok()) {
    CacheTree(head, std::move(*ours));
    return merged.status();
  }
  if (!merged->conflicts.empty()) {
    CacheTree(head, std::move(*ours));
    out->conflicts = std::move(merged->conflicts);
    const MergeConflict& c = out->conflicts.front();
    return Conflict("merge of " + std::string(source) + " into " + request.branch + ": " +
                    std::to_string(out->conflicts.size()) + " conflict(s), first on node " +
                    c.node + " field " + c.field);
  }
  CommitRequest req = request;
  req.expected_head = head;
  Result<Digest> commit = CommitLocked(lock, req, **ours, merged->ops, {theirs}, true);
  CacheTree(commit.ok() ? *commit : head, std::move(*ours));
  KILN_RETURN_IF_ERROR(commit.status());
  out->commit = *commit;
  return Status::Ok();
}

}  // namespace kiln
