#include "model/diff.h"

#include <gtest/gtest.h>

#include "core/guid.h"
#include "model/merge.h"
#include "model/meta.h"
#include "model/testing/generate.h"

namespace kiln {
namespace {

Digest Written(Tree& t) {
  WriteBatch b;
  return *t.Write(&b);
}

// Applies `ops` to a copy of `base`, diffs base → copy, and checks that the
// diff applied to base reproduces the copy.
void ExpectDiffReproduces(Tree& base, std::vector<PatchOp> ops) {
  Written(base);
  Tree changed = base.Clone();
  Patch p;
  p.ops = std::move(ops);
  ASSERT_TRUE(changed.Apply(p).ok());
  Digest want = Written(changed);
  Digest before = *base.RootDigest();
  auto diff = Diff(base, changed);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_EQ(*base.RootDigest(), before);  // Diff left `from` alone
  Tree replay = base.Clone();
  Patch d;
  d.ops = *diff;
  Status st = replay.Apply(d);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Written(replay), want);
  // Round trip through JSON too.
  auto parsed = ParsePatchJson(PatchToJson(d));
  ASSERT_TRUE(parsed.ok());
  Tree replay2 = base.Clone();
  ASSERT_TRUE(replay2.Apply(*parsed).ok());
  EXPECT_EQ(Written(replay2), want);
}

class DiffTest : public ::testing::Test {
 protected:
  DiffTest() : t(GenerateProjectTree({.nodes = 3000, .ops_per_pipeline = 4}, &g).value()) {}
  GeneratedProject g;
  Tree t;
};

TEST_F(DiffTest, EqualTreesHaveNoDiff) {
  Written(t);
  Tree same = t.Clone();
  EXPECT_TRUE(Diff(t, same)->empty());
}

TEST_F(DiffTest, AttributeEdits) {
  ExpectDiffReproduces(
      t, {PatchOp::SetAttr(g.operations[5], "name", "x"), PatchOp::DelAttr(g.pipelines[2], "name"),
          PatchOp::SetRegistry(g.operations[7], "position", Value::Map{}),
          PatchOp::SetAttr(g.step_definition, "code", "pass")});
}

TEST_F(DiffTest, CreatesWithInheritanceAndPropagation) {
  std::string op = NewGuid(), port = NewGuid(), inst = NewGuid();
  ExpectDiffReproduces(
      t, {PatchOp::Create(op, g.pipelines[0], g.step_definition, {{"name", "new"}}),
          // A new port on the definition reaches every instance.
          PatchOp::Create(port, g.step_definition, MetaGuid("Port"),
                          {{"direction", "input"}, {"dataType", "tensor"}}),
          PatchOp::SetAttr(DeriveGuid(op, port), "dataType", "any"),
          // An instance of a whole pipeline, with one inherited child removed.
          PatchOp::Create(inst, g.pipelines[1], std::nullopt), PatchOp::Move(inst, RootGuid()),
          PatchOp::Delete(DeriveGuid(g.operations[0], port))});
}

TEST_F(DiffTest, PipelineInstance) {
  std::string inst = NewGuid();
  ExpectDiffReproduces(t, {PatchOp::Create(inst, RootGuid(), g.pipelines[3])});
}

TEST_F(DiffTest, MovesCopiesAndDeletes) {
  std::string copy = NewGuid();
  ExpectDiffReproduces(t, {PatchOp::Move(g.operations[1], g.pipelines[0], 0),
                           PatchOp::Copy(g.pipelines[4], RootGuid(), copy, 0),
                           PatchOp::Delete(g.pipelines[5]), PatchOp::Move(g.pipelines[6], copy),
                           PatchOp::Delete(g.operations[9]),  // takes its connections along
                           PatchOp::SetPointer(g.operations[10], "ref", g.pipelines[7])});
}

TEST_F(DiffTest, ChangedNodesFollowsDigests) {
  Written(t);
  Tree other = t.Clone();
  Patch p;
  p.ops = {PatchOp::SetAttr(g.operations.back(), "name", "z")};
  ASSERT_TRUE(other.Apply(p).ok());
  Written(other);
  std::vector<std::string> changed = ChangedNodes(t, other);
  size_t depth = 0;
  for (auto n = other.Find(g.operations.back()); n; n = n->parent()) ++depth;
  EXPECT_EQ(changed.size(), depth);  // the path from the root, nothing else
}

TEST_F(DiffTest, MergeTreesCombinesAndDetectsConflicts) {
  Written(t);
  Tree ours = t.Clone(), theirs = t.Clone();
  Patch a, b;
  a.ops = {PatchOp::SetAttr(g.operations[0], "name", "ours"),
           PatchOp::SetAttr(g.operations[1], "lr", 0.1)};
  b.ops = {PatchOp::SetAttr(g.operations[0], "epochs", 3),
           PatchOp::SetAttr(g.operations[1], "lr", 0.1),  // same change: fine
           PatchOp::Delete(g.pipelines[9])};
  ASSERT_TRUE(ours.Apply(a).ok());
  ASSERT_TRUE(theirs.Apply(b).ok());
  Written(ours);
  Written(theirs);
  auto m = MergeTrees(t, ours, theirs);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->conflicts.empty());
  Patch merged;
  merged.ops = m->ops;
  ASSERT_TRUE(ours.Apply(merged).ok());
  EXPECT_EQ(ours.Find(g.operations[0])->Attr("name")->as_string(), "ours");
  EXPECT_EQ(ours.Find(g.operations[0])->Attr("epochs")->as_int(), 3);
  EXPECT_FALSE(ours.Find(g.pipelines[9]));

  // Now a clash on one pointer.
  Written(ours);
  Tree ours2 = t.Clone(), theirs2 = t.Clone();
  a.ops = {PatchOp::SetPointer(g.operations[2], "ref", g.pipelines[0])};
  b.ops = {PatchOp::SetPointer(g.operations[2], "ref", std::nullopt)};
  ASSERT_TRUE(ours2.Apply(a).ok());
  ASSERT_TRUE(theirs2.Apply(b).ok());
  Written(ours2);
  Written(theirs2);
  m = MergeTrees(t, ours2, theirs2);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->conflicts.size(), 1u);
  const MergeConflict& c = m->conflicts[0];
  EXPECT_EQ(c.node, g.operations[2]);
  EXPECT_EQ(c.field, "pointers/ref");
  EXPECT_FALSE(c.base.has_value());
  EXPECT_EQ(c.ours->as_string(), g.pipelines[0]);
  EXPECT_TRUE(c.theirs->is_null());
  EXPECT_TRUE(m->ops.empty());
}

}  // namespace
}  // namespace kiln
