#include "gc/gc.h"

#include <chrono>
#include <limits>

namespace kiln {

namespace {

void ScanValue(const Value& v, std::set<Digest>* out) {
  if (v.is_string()) {
    const std::string& s = v.as_string();
    // An artifact's digest, as Artifact nodes and Inputs keep it (hex).
    if (s.size() == 64) {
      Result<Digest> d = Digest::FromHex(s);
      if (d.ok()) out->insert(*d);
    }
  } else if (v.is_bytes()) {
    Result<Digest> d = Digest::FromBytes(std::string_view(v.as_bytes().data));
    if (d.ok()) out->insert(*d);
  } else if (v.is_list()) {
    for (const Value& item : v.as_list()) ScanValue(item, out);
  } else if (v.is_map()) {
    for (const auto& [k, item] : v.as_map()) ScanValue(item, out);
  }
}

void ScanTree(const NodeRef& node, std::set<Digest>* seen_subtrees, std::set<Digest>* out) {
  if (!node.dirty() && !seen_subtrees->insert(node.digest()).second) return;  // read before
  for (const auto& [name, value] : node.attrs()) ScanValue(value, out);
  for (const auto& [name, value] : node.registry()) ScanValue(value, out);
  for (size_t i = 0; i < node.child_count(); ++i) ScanTree(node.child(i), seen_subtrees, out);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status CollectNamedByHistory(Repository& repo, std::set<Digest>* out) {
  KILN_ASSIGN_OR_RETURN(auto projects, repo.ListProjects());
  std::set<Digest> seen_commits, seen_subtrees;
  for (const ProjectInfo& p : projects) {
    KILN_ASSIGN_OR_RETURN(auto branches, repo.ListBranches(p.name));
    KILN_ASSIGN_OR_RETURN(auto tags, repo.ListTags(p.name));
    branches.insert(branches.end(), tags.begin(), tags.end());
    for (const auto& [name, head] : branches) {
      LogOptions all;
      all.limit = std::numeric_limits<size_t>::max();
      KILN_ASSIGN_OR_RETURN(auto log, repo.Log(head, all));
      for (const LogEntry& entry : log) {
        if (!seen_commits.insert(entry.digest).second) continue;
        KILN_ASSIGN_OR_RETURN(auto tree, repo.LoadTree(entry.digest));
        ScanTree(tree->root(), &seen_subtrees, out);
      }
    }
  }
  return Status::Ok();
}

Result<GcPlan> PlanGarbage(Repository& repo, RunsStore& runs, ArtifactStore& artifacts,
                           const GcOptions& options) {
  GcInputs in;
  in.now_ms = options.now_ms ? options.now_ms : NowMs();
  in.grace_ms = options.grace_ms;
  // The store first: what is stored after this is not a candidate at all,
  // and references found later only keep more.
  KILN_ASSIGN_OR_RETURN(in.stored, artifacts.List());
  KILN_ASSIGN_OR_RETURN(auto grants, runs.GrantSummaries());
  for (auto& [digest, g] : grants) {
    in.newest_grant_ms[digest] = g.newest_ms;
    in.granted_to[digest] = std::move(g.projects);
  }
  KILN_ASSIGN_OR_RETURN(in.named_by_runs, runs.ArtifactsNamedByRuns());
  KILN_RETURN_IF_ERROR(CollectNamedByHistory(repo, &in.named_by_history));
  return PlanGc(in);
}

Result<GcDeleted> DeleteGarbage(Repository& repo, RunsStore& runs, ArtifactStore& artifacts,
                                const std::set<Digest>& digests, const GcOptions& options,
                                const std::function<void(size_t, size_t)>& progress) {
  // Plan again: something may reference an artifact since it was listed.
  KILN_ASSIGN_OR_RETURN(GcPlan plan, PlanGarbage(repo, runs, artifacts, options));
  GcDeleted result;
  std::vector<const GcCandidate*> doomed;
  for (const GcCandidate& c : plan.garbage) {
    if (digests.count(c.artifact.digest)) doomed.push_back(&c);
  }
  result.skipped = digests.size() - doomed.size();
  for (size_t i = 0; i < doomed.size(); ++i) {
    const ArtifactInfo& a = doomed[i]->artifact;
    Status st = artifacts.Delete(a.digest);
    if (st.ok()) {
      KILN_RETURN_IF_ERROR(runs.RevokeGrants(a.digest));
      result.deleted++;
      result.bytes += a.size;
    } else if (st.code() == Code::kNotFound) {
      result.skipped++;
    } else {
      return st;
    }
    if (progress) progress(i + 1, doomed.size());
  }
  return result;
}

}  // namespace kiln
