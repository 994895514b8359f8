#include "gc/gc_plan.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kNow = 1'800'000'000'000;

// One case per rule of gc_plan.h: what keeps an artifact, and what does not.
TEST(GcPlan, EachRuleKeepsOrCollects) {
  struct Case {
    const char* rule;
    bool history, runs;
    int64_t modified_ms, grant_ms;
    bool garbage;
  } cases[] = {
      {"named by a commit of some branch or tag", true, false, kNow - 9 * kHour, 0, false},
      {"named by a run (output, input, cache)", false, true, kNow - 9 * kHour, 0, false},
      {"stored within the grace period", false, false, kNow - kHour / 2, 0, false},
      {"granted within the grace period", false, false, kNow - 9 * kHour, kNow - 60'000, false},
      {"of unknown age", false, false, 0, 0, false},
      {"old and named by nothing", false, false, kNow - 9 * kHour, kNow - 2 * kHour, true},
      {"old, never granted, named by nothing", false, false, kNow - 9 * kHour, 0, true},
  };
  for (const Case& c : cases) {
    GcInputs in;
    in.now_ms = kNow;
    in.grace_ms = kHour;
    Digest d = Digest::Of(c.rule);
    in.stored = {{d, 100, c.modified_ms}};
    if (c.history) in.named_by_history.insert(d);
    if (c.runs) in.named_by_runs.insert(d);
    if (c.grant_ms) {
      in.newest_grant_ms[d] = c.grant_ms;
      in.granted_to[d] = {"lab"};
    }
    GcPlan plan = PlanGc(in);
    EXPECT_EQ(plan.garbage.size(), c.garbage ? 1u : 0u) << c.rule;
    EXPECT_EQ(plan.garbage_bytes, c.garbage ? 100u : 0u) << c.rule;
    EXPECT_EQ(plan.stored_bytes, 100u);
    if (c.garbage && c.grant_ms) {
      EXPECT_EQ(plan.garbage[0].projects, std::vector<std::string>{"lab"});
    }
  }
}

TEST(GcPlan, CountsWhyEachArtifactIsKept) {
  GcInputs in;
  in.now_ms = kNow;
  Digest a = Digest::Of("a"), b = Digest::Of("b"), c = Digest::Of("c"), d = Digest::Of("d");
  in.stored = {
      {a, 1, kNow - 5 * kHour}, {b, 2, kNow - 5 * kHour}, {c, 4, kNow}, {d, 8, kNow - 5 * kHour}};
  in.named_by_history = {a};
  in.named_by_runs = {a, b};  // history is counted first
  GcPlan plan = PlanGc(in);
  EXPECT_EQ(plan.kept_by_history, 1u);
  EXPECT_EQ(plan.kept_by_runs, 1u);
  EXPECT_EQ(plan.kept_young, 1u);
  ASSERT_EQ(plan.garbage.size(), 1u);
  EXPECT_EQ(plan.garbage[0].artifact.digest, d);
  EXPECT_EQ(plan.stored_bytes, 15u);
}

}  // namespace
}  // namespace kiln
