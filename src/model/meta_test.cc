#include "model/meta.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/guid.h"

namespace kiln {
namespace {

Status ApplyOps(Tree& t, std::vector<PatchOp> ops) {
  Patch p;
  p.ops = std::move(ops);
  return t.Apply(p);
}

PatchOp Port(const std::string& guid, const std::string& op, const char* name, const char* dir,
             const char* type) {
  return PatchOp::Create(guid, op, MetaGuid("Port"),
                         {{"name", name}, {"direction", dir}, {"dataType", type}});
}

PatchOp Connect(const std::string& guid, const std::string& parent, const std::string& src,
                const std::string& dst) {
  return PatchOp::Create(guid, parent, MetaGuid("Connection"), {}, {{"src", src}, {"dst", dst}});
}

// Pipeline P: operation A (in a_in:any, out a_out:image), operation B
// (in b_in:image, in b_lbl:int, out b_out:image), connection a_out → b_in.
// Pipeline Q: operation C (in c_in:image).
class MetaRules : public ::testing::Test {
 protected:
  MetaRules() : t(NewProjectTree()) {
    Status st =
        ApplyOps(t, {
                        PatchOp::Create(p, RootGuid(), MetaGuid("Pipeline"), {{"name", "P"}}),
                        PatchOp::Create(a, p, MetaGuid("Operation"), {{"name", "A"}}),
                        Port(a_in, a, "a_in", "input", "any"),
                        Port(a_out, a, "images", "output", "image"),
                        PatchOp::Create(b, p, MetaGuid("Operation"), {{"name", "B"}}),
                        Port(b_in, b, "b_in", "input", "image"),
                        Port(b_lbl, b, "labels", "input", "int"),
                        Port(b_out, b, "b_out", "output", "image"),
                        Connect(ab, p, a_out, b_in),
                        PatchOp::Create(q, RootGuid(), MetaGuid("Pipeline"), {{"name", "Q"}}),
                        PatchOp::Create(c, q, MetaGuid("Operation"), {{"name", "C"}}),
                        Port(c_in, c, "c_in", "input", "image"),
                    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    WriteBatch batch;
    root = *t.Write(&batch);
    json = t.ToJson();
  }

  // Applies ops that must break `rule`; checks the message and that the
  // tree did not change.
  void ExpectViolation(std::vector<PatchOp> ops, const std::string& rule,
                       const std::vector<std::string>& mentions = {}) {
    Status st = ApplyOps(t, std::move(ops));
    EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
    EXPECT_NE(st.message().find("rule " + rule + ":"), std::string::npos) << st.message();
    for (const std::string& m : mentions) {
      EXPECT_NE(st.message().find(m), std::string::npos) << st.message() << " lacks " << m;
    }
    EXPECT_FALSE(t.dirty());
    EXPECT_EQ(t.ToJson(), json);
    WriteBatch batch;
    EXPECT_EQ(*t.Write(&batch), root);
    EXPECT_TRUE(batch.empty());
  }

  Tree t;
  std::string p = NewGuid(), a = NewGuid(), a_in = NewGuid(), a_out = NewGuid(), b = NewGuid(),
              b_in = NewGuid(), b_lbl = NewGuid(), b_out = NewGuid(), ab = NewGuid(), q = NewGuid(),
              c = NewGuid(), c_in = NewGuid(), n = NewGuid();
  Digest root;
  nlohmann::json json;
};

TEST_F(MetaRules, ValidPipelinePasses) {
  EXPECT_TRUE(CheckAllRules(t).ok());
  EXPECT_TRUE(t.Find(ab)->IsA("Connection"));
  EXPECT_EQ(t.Find(ab)->MetaType()->Name(), "Connection");
}

TEST_F(MetaRules, ConnectionOutsidePipeline) {
  ExpectViolation({Connect(n, RootGuid(), a_out, b_in)}, "connection-in-pipeline", {n});
  ExpectViolation({PatchOp::Move(ab, RootGuid())}, "connection-in-pipeline", {ab});
}

TEST_F(MetaRules, SourceMustBeAnOutput) {
  ExpectViolation({Connect(n, p, a_in, b_in)}, "connection-src-output", {n, "'a_in'"});
  ExpectViolation({Connect(n, p, a, b_in)}, "connection-src-output", {n});
  // Changing the port after the fact is caught through the connection.
  ExpectViolation({PatchOp::SetAttr(a_out, "direction", "input")}, "connection-src-output", {ab});
  ExpectViolation({PatchOp::SetPointer(ab, "src", std::nullopt)}, "connection-src-output", {ab});
}

TEST_F(MetaRules, DestinationMustBeAnInput) {
  ExpectViolation({Connect(n, p, a_out, b_out)}, "connection-dst-input", {n, "'b_out'"});
  ExpectViolation({PatchOp::SetAttr(b_in, "direction", "output")}, "connection-dst-input", {ab});
}

TEST_F(MetaRules, TypesMustMatch) {
  ExpectViolation({Connect(n, p, a_out, b_lbl)}, "connection-types",
                  {n, "('images') of type image", "('labels') of type int", "incompatible"});
  ExpectViolation({PatchOp::SetAttr(b_in, "dataType", "text")}, "connection-types", {ab});
  // "any" matches anything.
  EXPECT_TRUE(
      ApplyOps(t, {PatchOp::SetAttr(b_lbl, "dataType", "any"), Connect(n, p, a_out, b_lbl)}).ok());
}

TEST_F(MetaRules, PortsMustBelongToOperationsOfThePipeline) {
  ExpectViolation({Connect(n, p, a_out, c_in)}, "connection-same-pipeline", {n, c_in});
  // Moving an operation away breaks its connections.
  ExpectViolation({PatchOp::Move(b, q)}, "connection-same-pipeline", {ab});
}

TEST_F(MetaRules, PipelinesStayAcyclic) {
  ExpectViolation({Connect(n, p, b_out, a_in)}, "pipeline-acyclic", {"'A'", "'B'", "'P'"});
  // A self-loop is a cycle too.
  ExpectViolation({Connect(n, p, b_out, b_in)}, "pipeline-acyclic", {"'B'"});
}

TEST_F(MetaRules, DeletingAPortDeletesItsConnections) {
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Delete(b_in)}).ok());
  EXPECT_FALSE(t.Find(ab));
  EXPECT_TRUE(CheckAllRules(t).ok());
}

TEST_F(MetaRules, BaseChangesAreCheckedOnInstances) {
  // An operation definition with a port; an instance in P connected to A.
  std::string def = NewGuid(), def_in = NewGuid(), inst = NewGuid(), conn = NewGuid();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Create(def, RootGuid(), MetaGuid("Operation")),
                           Port(def_in, def, "x", "input", "image"), PatchOp::Create(inst, p, def),
                           Connect(conn, p, a_out, DeriveGuid(inst, def_in))})
                  .ok());
  WriteBatch batch;
  root = *t.Write(&batch);
  json = t.ToJson();
  // The definition's port type changes under the instance's connection.
  ExpectViolation({PatchOp::SetAttr(def_in, "dataType", "int")}, "connection-types", {conn});
}

TEST_F(MetaRules, PipelineInstancesConnectTheirOwnOperations) {
  std::string pi = NewGuid();
  ASSERT_TRUE(ApplyOps(t, {PatchOp::Create(pi, RootGuid(), p)}).ok());
  std::string copy = DeriveGuid(pi, ab);
  auto conn = t.Find(copy);
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->PointerTarget("src")->guid(), DeriveGuid(DeriveGuid(pi, a), a_out));
  EXPECT_EQ(conn->PointerTarget("dst")->guid(), DeriveGuid(DeriveGuid(pi, b), b_in));
  EXPECT_TRUE(CheckAllRules(t).ok());
  // A connection added to the base pipeline later reaches the instance too.
  std::string n2 = NewGuid();
  ASSERT_TRUE(
      ApplyOps(t, {PatchOp::SetAttr(b_lbl, "dataType", "image"), Connect(n2, p, a_out, b_lbl)})
          .ok());
  auto conn2 = t.Find(DeriveGuid(pi, n2));
  ASSERT_TRUE(conn2);
  EXPECT_EQ(conn2->PointerTarget("dst")->guid(), DeriveGuid(DeriveGuid(pi, b), b_lbl));
  EXPECT_TRUE(CheckAllRules(t).ok());
}

}  // namespace
}  // namespace kiln
