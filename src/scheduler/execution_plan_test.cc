#include "scheduler/execution_plan.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using V = std::vector<size_t>;

// a → b → d, a → c → d, e alone.
ExecutionPlan Diamond() {
  auto p = ExecutionPlan::Create({"a", "b", "c", "d", "e"}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

TEST(ExecutionPlanTest, ReadyFollowsDependencies) {
  ExecutionPlan p = Diamond();
  EXPECT_EQ(p.TakeReady(), (V{0, 4}));
  EXPECT_EQ(p.state(0), JobState::kQueued);
  EXPECT_EQ(p.state(1), JobState::kPending);
  EXPECT_TRUE(p.TakeReady().empty());  // each job once
  ASSERT_TRUE(p.Start(0).ok());
  EXPECT_TRUE(p.TakeReady().empty());  // running is not done
  ASSERT_TRUE(p.Succeed(0).ok());
  EXPECT_EQ(p.TakeReady(), (V{1, 2}));
  ASSERT_TRUE(p.Cache(1).ok());
  EXPECT_TRUE(p.TakeReady().empty());  // d still waits for c
  ASSERT_TRUE(p.Start(2).ok());
  ASSERT_TRUE(p.Succeed(2).ok());
  EXPECT_EQ(p.TakeReady(), (V{3}));
  EXPECT_FALSE(p.Done());
  ASSERT_TRUE(p.Cache(3).ok());
  ASSERT_TRUE(p.Cache(4).ok());
  EXPECT_TRUE(p.Done());
  EXPECT_EQ(p.CountIn(JobState::kCached), 3u);
  EXPECT_EQ(p.CountIn(JobState::kSucceeded), 2u);
}

TEST(ExecutionPlanTest, FailureSkipsEverythingDownstream) {
  ExecutionPlan p = Diamond();
  p.TakeReady();
  ASSERT_TRUE(p.Start(0).ok());
  auto skipped = p.Fail(0, "ValueError: bad input");
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(*skipped, (V{1, 2, 3}));
  EXPECT_EQ(p.state(0), JobState::kFailed);
  EXPECT_EQ(p.reason(0), "ValueError: bad input");
  EXPECT_EQ(p.state(3), JobState::kSkipped);
  EXPECT_EQ(p.reason(3), "upstream job 'a' failed");
  EXPECT_EQ(p.state(4), JobState::kQueued);  // independent work goes on
  EXPECT_FALSE(p.Done());
  ASSERT_TRUE(p.Start(4).ok());
  ASSERT_TRUE(p.Succeed(4).ok());
  EXPECT_TRUE(p.Done());
}

TEST(ExecutionPlanTest, FailureInOneBranchOfADiamond) {
  ExecutionPlan p = Diamond();
  p.TakeReady();
  ASSERT_TRUE(p.Cache(0).ok());
  EXPECT_EQ(p.TakeReady(), (V{1, 2}));
  ASSERT_TRUE(p.Start(1).ok());
  ASSERT_TRUE(p.Start(2).ok());
  EXPECT_EQ(*p.Fail(1, "boom"), (V{3}));
  EXPECT_EQ(p.reason(3), "upstream job 'b' failed");
  // c finishing later does not resurrect d.
  ASSERT_TRUE(p.Succeed(2).ok());
  EXPECT_TRUE(p.TakeReady().empty());
  EXPECT_EQ(p.state(3), JobState::kSkipped);
}

TEST(ExecutionPlanTest, CancelAllLeavesRunningJobsToTheDriver) {
  ExecutionPlan p = Diamond();
  p.TakeReady();
  ASSERT_TRUE(p.Start(0).ok());
  auto out = p.CancelAll("cancelled by ada");
  EXPECT_EQ(out.cancelled, (V{1, 2, 3, 4}));
  EXPECT_EQ(out.running, (V{0}));
  EXPECT_EQ(p.reason(4), "cancelled by ada");
  EXPECT_FALSE(p.Done());
  ASSERT_TRUE(p.Cancel(0, "cancelled by ada").ok());
  EXPECT_TRUE(p.Done());
  EXPECT_TRUE(p.TakeReady().empty());
}

TEST(ExecutionPlanTest, CancelOneJobSkipsItsDependents) {
  ExecutionPlan p = Diamond();
  p.TakeReady();
  ASSERT_TRUE(p.Start(0).ok());
  EXPECT_EQ(*p.Cancel(0, "cancelled"), (V{1, 2, 3}));
  EXPECT_EQ(p.reason(1), "upstream job 'a' was cancelled");
}

TEST(ExecutionPlanTest, WrongTransitionsAreRefusedAndChangeNothing) {
  ExecutionPlan p = Diamond();
  EXPECT_EQ(p.Start(1).code(), Code::kFailedPrecondition);    // pending
  EXPECT_EQ(p.Succeed(0).code(), Code::kFailedPrecondition);  // not running
  p.TakeReady();
  EXPECT_EQ(p.Succeed(0).code(), Code::kFailedPrecondition);  // queued, not running
  ASSERT_TRUE(p.Start(0).ok());
  EXPECT_EQ(p.Cache(0).code(), Code::kFailedPrecondition);  // already running
  EXPECT_EQ(p.Start(0).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(p.Succeed(0).ok());
  EXPECT_EQ(p.Fail(0, "late").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(p.state(0), JobState::kSucceeded);
  EXPECT_EQ(p.Start(99).code(), Code::kInvalidArgument);
}

TEST(ExecutionPlanTest, RefusesBadGraphs) {
  EXPECT_EQ(ExecutionPlan::Create({"a", "b"}, {{0, 1}, {1, 0}}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ExecutionPlan::Create({"a"}, {{0, 0}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ExecutionPlan::Create({"a"}, {{0, 3}}).status().code(), Code::kInvalidArgument);
  // Two connections between the same operations are one dependency.
  auto p = ExecutionPlan::Create({"a", "b"}, {{0, 1}, {0, 1}});
  ASSERT_TRUE(p.ok());
  p->TakeReady();
  ASSERT_TRUE(p->Cache(0).ok());
  EXPECT_EQ(p->TakeReady(), (V{1}));
  auto empty = ExecutionPlan::Create({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->Done());
}

TEST(ExecutionPlanTest, LongChainIsLinear) {
  std::vector<std::string> names;
  std::vector<std::pair<size_t, size_t>> edges;
  const size_t n = 20000;
  for (size_t i = 0; i < n; ++i) {
    names.push_back("j" + std::to_string(i));
    if (i) edges.emplace_back(i - 1, i);
  }
  auto p = ExecutionPlan::Create(names, edges);
  ASSERT_TRUE(p.ok());
  for (size_t i = 0; i < n; ++i) {
    auto r = p->TakeReady();
    ASSERT_EQ(r, (V{i}));
    ASSERT_TRUE(p->Cache(i).ok());
  }
  EXPECT_TRUE(p->Done());
  // And a failure at the head skips the whole chain without recursion.
  auto q = ExecutionPlan::Create(names, edges);
  q->TakeReady();
  EXPECT_EQ(q->Fail(0, "x")->size(), n - 1);
}

}  // namespace
}  // namespace kiln
