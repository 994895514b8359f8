// Random patches against a generated project: whatever is applied, a failed
// patch leaves the tree exactly as it was, and a written tree loads back
// equal (indexes, digests and JSON). Deterministic seed; no timing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/guid.h"
#include "model/diff.h"
#include "model/meta.h"
#include "model/testing/generate.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

class RandomEdits : public ::testing::Test {
 protected:
  std::string Pick(const Tree& t) {
    std::vector<NodeId> ids = t.NodeIds();
    return std::string(t.Get(ids[rng() % ids.size()]).guid());
  }

  PatchOp RandomOp(const Tree& t) {
    std::string a = Pick(t), b = Pick(t);
    switch (rng() % 10) {
      case 0:
        return PatchOp::Create(NewGuid(), a,
                               rng() % 2 ? std::optional<std::string>(b) : std::nullopt,
                               {{"name", "n"}});
      case 1:
        return PatchOp::SetAttr(a, "k" + std::to_string(rng() % 3), int64_t(rng() % 5));
      case 2:
        return PatchOp::DelAttr(a, "k" + std::to_string(rng() % 3));
      case 3:
        return PatchOp::SetPointer(a, "p" + std::to_string(rng() % 2),
                                   rng() % 3 ? std::optional<std::string>(b) : std::nullopt);
      case 4:
        return PatchOp::DelPointer(a, "p" + std::to_string(rng() % 2));
      case 5:
        return PatchOp::SetRegistry(a, "position", Value::Map{{"x", int64_t(rng() % 100)}});
      case 6:
        return PatchOp::Move(a, b, rng() % 2 ? std::optional<uint32_t>(0) : std::nullopt);
      case 7:
        return PatchOp::Copy(a, b, NewGuid());
      case 8:
        return PatchOp::Delete(a);
      default:
        return PatchOp::SetAttr(a, "direction", rng() % 2 ? "input" : "output");
    }
  }

  std::mt19937 rng{12345};
};

TEST_F(RandomEdits, FailuresChangeNothingAndWritesLoadBack) {
  GeneratedProject g;
  Tree t = GenerateProjectTree({.nodes = 400, .fanout = 4, .ops_per_pipeline = 3}, &g).value();
  MemoryStore store;
  WriteBatch first;
  Digest root = *t.Write(&first);
  ASSERT_TRUE(store.Write(first).ok());
  int applied = 0, refused = 0;
  for (int round = 0; round < 250; ++round) {
    nlohmann::json before = t.ToJson();
    Patch p;
    size_t n = 1 + rng() % 3;
    for (size_t i = 0; i < n; ++i) p.ops.push_back(RandomOp(t));
    Tree previous = t.Clone();
    Status st = t.Apply(p);
    if (!st.ok()) {
      ++refused;
      ASSERT_FALSE(t.dirty()) << st.ToString();
      ASSERT_EQ(t.ToJson(), before) << st.ToString();
      continue;
    }
    ++applied;
    WriteBatch batch;
    auto new_root = t.Write(&batch);
    ASSERT_TRUE(new_root.ok());
    ASSERT_TRUE(store.Write(batch).ok());
    ASSERT_TRUE(CheckAllRules(t).ok()) << "round " << round;
    auto loaded = Tree::Load(store, *new_root);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(loaded->ToJson(), t.ToJson()) << "round " << round;
    ASSERT_EQ(loaded->size(), t.size());
    // Indexes agree with a fresh load: instances and referrers.
    for (NodeId id : loaded->NodeIds()) {
      NodeRef l = loaded->Get(id);
      NodeRef m = *t.Find(l.guid());
      ASSERT_EQ(l.instances().size(), m.instances().size()) << l.guid();
      ASSERT_EQ(l.referrers().size(), m.referrers().size()) << l.guid();
    }
    // The diff from the previous state reproduces this one.
    auto ops = Diff(previous, *loaded);
    ASSERT_TRUE(ops.ok()) << "round " << round << ": " << ops.status().ToString();
    root = *new_root;
  }
  EXPECT_GT(applied, 40);
  EXPECT_GT(refused, 40);
}

}  // namespace
}  // namespace kiln
