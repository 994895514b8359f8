#include "gc/gc_plan.h"

#include <algorithm>

namespace kiln {

GcPlan PlanGc(const GcInputs& in) {
  GcPlan plan;
  for (const ArtifactInfo& a : in.stored) {
    plan.stored_bytes += a.size;
    if (in.named_by_history.count(a.digest)) {
      plan.kept_by_history++;
      continue;
    }
    if (in.named_by_runs.count(a.digest)) {
      plan.kept_by_runs++;
      continue;
    }
    int64_t newest = a.modified_ms;
    if (auto it = in.newest_grant_ms.find(a.digest); it != in.newest_grant_ms.end()) {
      newest = std::max(newest, it->second);
    }
    // Unknown age (0) counts as young: never delete what cannot be dated.
    if (newest == 0 || in.now_ms - newest < in.grace_ms) {
      plan.kept_young++;
      continue;
    }
    GcCandidate c{a, {}};
    if (auto it = in.granted_to.find(a.digest); it != in.granted_to.end()) c.projects = it->second;
    plan.garbage_bytes += a.size;
    plan.garbage.push_back(std::move(c));
  }
  std::sort(plan.garbage.begin(), plan.garbage.end(),
            [](const GcCandidate& x, const GcCandidate& y) {
              return x.artifact.digest < y.artifact.digest;
            });
  return plan;
}

}  // namespace kiln
