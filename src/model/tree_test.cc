#include "model/tree.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/guid.h"
#include "model/meta.h"
#include "model/testing/generate.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

Status ApplyOps(Tree& t, std::vector<PatchOp> ops) {
  Patch p;
  p.ops = std::move(ops);
  return t.Apply(p);
}

// A written tree's state, to check that a failed patch changed nothing.
struct Snapshot {
  explicit Snapshot(Tree& t) : json(t.ToJson()), size(t.size()) {
    WriteBatch b;
    root = *t.Write(&b);
  }
  void ExpectSame(Tree& t) const {
    EXPECT_FALSE(t.dirty());
    EXPECT_EQ(t.ToJson(), json);
    EXPECT_EQ(t.size(), size);
    WriteBatch b;
    EXPECT_EQ(*t.Write(&b), root);
    EXPECT_TRUE(b.empty());
  }
  nlohmann::json json;
  size_t size;
  Digest root;
};

class TreeTest : public ::testing::Test {
 protected:
  TreeTest() : t(NewProjectTree()) {
    // base B (color red, pointer ref → x) with children c1 (a=1) and c2.
    Status st = ApplyOps(t, {
                                PatchOp::Create(x, RootGuid(), MetaGuid("FCO"), {{"name", "x"}}),
                                PatchOp::Create(b, RootGuid(), MetaGuid("FCO"),
                                                {{"name", "B"}, {"color", "red"}}, {{"ref", x}}),
                                PatchOp::Create(c1, b, MetaGuid("FCO"), {{"a", 1}}),
                                PatchOp::Create(c2, b, MetaGuid("FCO")),
                                PatchOp::Create(i, RootGuid(), b, {{"name", "I"}}),
                            });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  Tree t;
  std::string x = NewGuid(), b = NewGuid(), c1 = NewGuid(), c2 = NewGuid(), i = NewGuid();
};

TEST_F(TreeTest, InstanceInheritsAttributesAndPointers) {
  auto inst = t.Find(i);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->Attr("color")->as_string(), "red");
  EXPECT_EQ(inst->Name(), "I");
  EXPECT_EQ(**inst->Pointer("ref"), x);
  EXPECT_TRUE(inst->attrs().count("color") == 0);

  ASSERT_TRUE(ApplyOps(t, {PatchOp::SetAttr(i, "color", "blue")}).ok());
  EXPECT_EQ(t.Find(i)->Attr("color")->as_string(), "blue");
  EXPECT_EQ(t.Find(b)->Attr("color")->as_string(), "red");
  ASSERT_TRUE(ApplyOps(t, {PatchOp::DelAttr(i, "color")}).ok());
  EXPECT_EQ(t.Find(i)->Attr("color")->as_string(), "red");

  ASSERT_TRUE(ApplyOps(t, {PatchOp::SetPointer(i, "ref", std::nullopt)}).ok());
  const auto* p = t.Find(i)->Pointer("ref");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->has_value());  // explicit "points nowhere"
  EXPECT_FALSE(t.Find(i)->PointerTarget("ref"));
  ASSERT_TRUE(ApplyOps(t, {PatchOp::DelPointer(i, "ref")}).ok());
  EXPECT_EQ(**t.Find(i)->Pointer("ref"), x);
  EXPECT_EQ(t.Find(i)->PointerTarget("ref")->guid(), x);

  // Base changes show through.
  ASSERT_TRUE(ApplyOps(t, {PatchOp::SetAttr(b, "color", "green")}).ok());
  EXPECT_EQ(t.Find(i)->Attr("color")->as_string(), "green");
  auto eff = t.Find(i)->EffectiveAttrs();
  EXPECT_EQ(eff.at("name").as_string(), "I");
  EXPECT_EQ(eff.at("color").as_string(), "green");
}

TEST_F(TreeTest, ChildrenAreMaterializedAndPropagated) {
  auto inst = t.Find(i);
  ASSERT_EQ(inst->child_count(), 2u);
  EXPECT_EQ(inst->child(0).guid(), DeriveGuid(i, c1));
  EXPECT_EQ(inst->child(0).base()->guid(), c1);
  EXPECT_EQ(inst->child(0).Attr("a")->as_int(), 1);
  EXPECT_EQ(inst->child(1).guid(), DeriveGuid(i, c2));

  // An instance of the instance.
  std::string j = NewGuid();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Create(j, RootGuid(), i)}).ok());
  std::string j1 = DeriveGuid(j, DeriveGuid(i, c1));
  ASSERT_TRUE(t.Find(j1));
  EXPECT_EQ(t.Find(j1)->Attr("a")->as_int(), 1);

  // A child created in the base appears in every instance, recursively.
  std::string c3 = NewGuid();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Create(c3, b, MetaGuid("FCO"), {{"k", "v"}})}).ok());
  std::string i3 = DeriveGuid(i, c3), j3 = DeriveGuid(j, i3);
  ASSERT_TRUE(t.Find(i3));
  ASSERT_TRUE(t.Find(j3));
  EXPECT_EQ(t.Find(j3)->Attr("k")->as_string(), "v");
  EXPECT_EQ(t.Find(i3)->parent()->guid(), i);
  EXPECT_EQ(t.Find(j3)->parent()->guid(), j);

  // Deleting it from the base removes the inherited copies too.
  size_t before = t.size();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Delete(c3)}).ok());
  EXPECT_FALSE(t.Find(c3));
  EXPECT_FALSE(t.Find(i3));
  EXPECT_FALSE(t.Find(j3));
  EXPECT_EQ(t.size(), before - 3);
}

TEST_F(TreeTest, DeletingAnInheritedFromNodeIsRefused) {
  Snapshot snap(t);
  Status st = ApplyOps(t, {PatchOp::Delete(b)});
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find(i), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'I'"), std::string::npos) << st.message();
  snap.ExpectSame(t);
  // Children of an inherited-from node are refused too (their copies live outside).
  st = ApplyOps(t, {PatchOp::Delete(DeriveGuid(i, c1)), PatchOp::Delete(b)});
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  snap.ExpectSame(t);
  // Once the instance is gone, the base can go.
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Delete(i), PatchOp::Delete(b)}).ok());
  EXPECT_FALSE(t.Find(c1));
}

TEST_F(TreeTest, DeleteRemovesPointersIntoTheSubtree) {
  // x is pointed at by B's "ref": deleting x removes that pointer.
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Delete(x)}).ok());
  EXPECT_EQ(t.Find(b)->pointers().count("ref"), 0u);
  EXPECT_EQ(t.Find(i)->Pointer("ref"), nullptr);
}

TEST_F(TreeTest, FailedPatchChangesNothing) {
  Snapshot snap(t);
  std::string n = NewGuid();
  std::vector<std::vector<PatchOp>> bad = {
      {PatchOp::SetAttr(b, "color", "blue"), PatchOp::SetAttr(NewGuid(), "a", 1)},
      {PatchOp::Create(n, RootGuid(), b), PatchOp::Create(n, RootGuid(), std::nullopt)},
      {PatchOp::Create(n, RootGuid(), std::nullopt), PatchOp::Move(RootGuid(), n)},
      {PatchOp::Move(b, c1)},                 // under its own child
      {PatchOp::Move(b, b)},                  // under itself
      {PatchOp::Create(n, c1, b)},            // instance inside its base
      {PatchOp::Move(i, DeriveGuid(i, c1))},  // under its own (inherited) child
      {PatchOp::Move(x, b, 7)},               // index past the end
      {PatchOp::Delete(RootGuid())},
      {PatchOp::SetPointer(b, "ref", NewGuid())},  // no such target
      {PatchOp::Copy(b, RootGuid(), i)},           // guid taken
      {PatchOp::SetAttr("bad", "a", 1)},
  };
  for (size_t k = 0; k < bad.size(); ++k) {
    Status st = ApplyOps(t, bad[k]);
    EXPECT_FALSE(st.ok()) << "case " << k;
    EXPECT_NE(st.message().find("op "), std::string::npos) << st.message();
    snap.ExpectSame(t);
  }
}

TEST_F(TreeTest, MoveReordersAndReparents) {
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Move(c2, b, 0)}).ok());
  EXPECT_EQ(t.Find(b)->child(0).guid(), c2);
  EXPECT_EQ(t.Find(b)->child(1).guid(), c1);
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Move(c2, x)}).ok());
  EXPECT_EQ(t.Find(c2)->parent()->guid(), x);
  EXPECT_EQ(t.Find(b)->child_count(), 1u);
}

TEST_F(TreeTest, CopyRemapsInternalPointersAndBases) {
  // Inside B: c2 points at c1 (internal) and at x (external).
  ASSERT_TRUE(
      ApplyOps(t, {PatchOp::SetPointer(c2, "in", c1), PatchOp::SetPointer(c2, "out", x)}).ok());
  std::string copy = NewGuid();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Copy(b, RootGuid(), copy)}).ok());
  std::string cc1 = DeriveGuid(copy, c1), cc2 = DeriveGuid(copy, c2);
  ASSERT_TRUE(t.Find(cc2));
  EXPECT_EQ(**t.Find(cc2)->Pointer("in"), cc1);
  EXPECT_EQ(**t.Find(cc2)->Pointer("out"), x);
  EXPECT_EQ(t.Find(copy)->Attr("color")->as_string(), "red");
  EXPECT_EQ(t.Find(copy)->base()->guid(), MetaGuid("FCO"));
}

TEST_F(TreeTest, SavepointsNest) {
  Snapshot snap(t);
  t.Begin();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::SetAttr(b, "color", "blue")}).ok());
  t.Begin();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Delete(i), PatchOp::Delete(b)}).ok());
  EXPECT_FALSE(t.Find(b));
  t.Rollback();
  EXPECT_EQ(t.Find(b)->Attr("color")->as_string(), "blue");
  WriteBatch batch;
  ASSERT_TRUE(t.Write(&batch).ok());
  t.Rollback();
  snap.ExpectSame(t);
}

TEST_F(TreeTest, JsonHasTheDocumentedShape) {
  nlohmann::json j = t.ToJson();
  EXPECT_EQ(j["root"], RootGuid());
  const auto& node = j["nodes"][i];
  EXPECT_EQ(node["guid"], i);
  EXPECT_EQ(node["parent"], RootGuid());
  EXPECT_EQ(node["base"], b);
  EXPECT_EQ(node["attrs"]["name"], "I");
  EXPECT_EQ(node["children"].size(), 2u);
  nlohmann::json eff = NodeToJson(*t.Find(i), true);
  EXPECT_EQ(eff["effective_attrs"]["color"], "red");
  EXPECT_EQ(eff["effective_pointers"]["ref"], x);
  EXPECT_EQ(eff["meta"], "FCO");
}

TEST(Tree, NewProjectHasMeta) {
  Tree t = NewProjectTree();
  EXPECT_EQ(t.size(), 2 + CoreMetaNames().size());
  auto conn = t.Find(MetaGuid("Connection"));
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->IsMeta());
  EXPECT_TRUE(conn->IsA("Connection"));
  EXPECT_TRUE(conn->IsA("FCO"));
  EXPECT_FALSE(conn->IsA("Port"));
  EXPECT_EQ(conn->MetaType()->guid(), MetaGuid("Connection"));
  EXPECT_EQ(conn->parent()->guid(), MetaFolderGuid());
}

TEST(Tree, WriteLoadRoundTrip) {
  MemoryStore store;
  auto t = GenerateProjectTree({.nodes = 2000});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  WriteBatch batch;
  auto root = t->Write(&batch);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(batch.objects().size(), t->size());
  ASSERT_TRUE(store.Write(batch).ok());
  auto loaded = Tree::Load(store, *root);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), t->size());
  EXPECT_EQ(*loaded->RootDigest(), *root);
  EXPECT_EQ(loaded->ToJson(), t->ToJson());
  // Same generator options, same bytes.
  auto again = GenerateProjectTree({.nodes = 2000});
  WriteBatch b2;
  EXPECT_EQ(*again->Write(&b2), *root);
}

TEST(Tree, LoadReportsCorruptionAndMissingObjects) {
  MemoryStore store;
  Tree t = NewProjectTree();
  WriteBatch batch;
  Digest root = *t.Write(&batch);
  ASSERT_TRUE(store.Write(batch).ok());
  // Damage a child object: its digest no longer matches.
  Digest child = t.Find(MetaGuid("Port"))->digest();
  store.CorruptForTest(child, "garbage");
  auto loaded = Tree::Load(store, root);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kCorruption);
  EXPECT_EQ(Tree::Load(store, Digest::Of("nothing")).status().code(), Code::kNotFound);
}

TEST(Tree, LoadRefusesObjectsThatAreNotNodes) {
  MemoryStore store;
  WriteBatch batch;
  Digest d = batch.Put("Cjunk");
  ASSERT_TRUE(store.Write(batch).ok());
  EXPECT_EQ(Tree::Load(store, d).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// ToJsonString writes the text directly; it must be exactly ToJson().dump().
TEST(TreeJsonText, MatchesTheDocumentDump) {
  GenerateOptions options;
  options.nodes = 3000;
  auto tree = GenerateProjectTree(options);
  ASSERT_TRUE(tree.ok());
  std::string any = std::string(tree->root().guid());
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(any, "text", Value("quote \" backslash \\ tab \t é ✓")));
  p.ops.push_back(PatchOp::SetAttr(any, "list", Value(Value::List{1, 2.5, nullptr, true})));
  p.ops.push_back(PatchOp::SetRegistry(any, "position", Value(Value::Map{{"x", 1}, {"y", -2}})));
  ASSERT_TRUE(tree->Apply(p).ok());
  EXPECT_EQ(tree->ToJsonString(),
            tree->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace
}  // namespace kiln
