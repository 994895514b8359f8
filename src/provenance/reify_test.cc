#include "provenance/reify.h"

#include <gtest/gtest.h>

#include "model/meta.h"
#include "pipeline/plan.h"
#include "pipeline/testing/pipeline_builder.h"
#include "store/object_store.h"

namespace kiln {
namespace {

const char* kScale =
    "class Scale:\n    def __init__(self, factor=2):\n        self.factor = factor\n"
    "    def execute(self, x):\n        y = x * self.factor\n        return y\n";
const char* kSum =
    "class Sum:\n    def execute(self, a, b):\n        total = a + b\n        return total\n";
const RuntimeFingerprint kRuntime{"3.11.2", "1.13.0", "0.1.0"};
const Digest kData = Digest::Of("the data");

// A pipeline data → Scale → Sum(data, scaled) → Output, "run" by recording
// what the driver records, so a lineage can be walked and reified.
class ReifyTest : public ::testing::Test {
 protected:
  ReifyTest() : tree(NewProjectTree()) {
    b.CreatePipeline();
    std::string in_def = b.InputDefinition();
    scale_def = b.Definition("Scale", kScale, {"x"}, {"y"}, {{"factor", 2}});
    std::string sum_def = b.Definition("Sum", kSum, {"a", "b"}, {"total"});
    std::string out_def = b.OutputDefinition();
    std::string in =
        b.Instance(in_def, "data", {{"artifact", kData.Hex()}, {"serializer", "json"}});
    std::string scale = b.Instance(scale_def, "scale", {{"factor", 3}});
    std::string sum = b.Instance(sum_def, "sum");
    std::string out = b.Instance(out_def, "result");
    b.Connect(in, "data", scale, "x").Connect(in, "data", sum, "a");
    b.Connect(scale, "y", sum, "b").Connect(sum, "total", out, "data");
    Patch patch = b.Build();
    // A resource Scale references (as an operation references an architecture).
    patch.ops.push_back(PatchOp::Create(net, RootGuid(), MetaGuid("Folder"), {{"name", "Net"}}));
    patch.ops.push_back(PatchOp::SetPointer(scale, "net", net));
    EXPECT_TRUE(tree.Apply(patch).ok());
    Flush(tree);
    runs = std::move(RunsStore::Open(":memory:").value());
    EXPECT_TRUE(runs->Grant({{"lab", kData, "upload", 1, "ada", "data.json"}}).ok());
    Run();
  }

  // Records every operation job's outputs (digest = hash of its cache key)
  // as the driver would; result = the Sum's output.
  void Run() {
    Result<Plan> plan = CompilePipeline(tree, b.pipeline(), nullptr);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::map<std::pair<size_t, std::string>, Digest> made;
    ExecutionRecord e;
    e.id = "e1";
    e.project = "lab";
    e.pipeline = b.pipeline();
    std::vector<JobRecord> jobs;
    RunsBatch batch;
    for (size_t i = 0; i < plan->jobs.size(); ++i) {
      const PlanJob& pj = plan->jobs[i];
      if (pj.kind == OperationKind::kInput) made[{i, "data"}] = *pj.artifact;
      if (pj.kind != OperationKind::kOperation) continue;
      std::map<std::string, Digest> inputs;
      for (const PlanEdge& edge : plan->edges) {
        if (edge.to == i) inputs[edge.input] = made.at({edge.from, edge.output});
      }
      Digest key = CacheKey(pj, inputs, kRuntime);
      keys[pj.name] = key;
      JobRecord j;
      j.id = "job-" + pj.name;
      j.execution = e.id;
      j.name = pj.name;
      j.node = pj.node;
      j.state = JobState::kSucceeded;
      for (const std::string& o : pj.outputs) {
        Digest d = Digest::Of(key.Hex() + o);
        made[{i, o}] = d;
        j.outputs[o] = {d, "json", 1};
        batch.provenance.push_back({d, o, j.id, e.id, OperationSnapshot(pj), inputs, 2, "lab"});
        if (pj.name == "sum") result = d;
      }
      jobs.push_back(j);
    }
    ASSERT_TRUE(runs->CreateExecution(e, jobs).ok());
    ASSERT_TRUE(runs->Write(batch).ok());
  }

  // Computes the digests (a plan needs its resources' subtree digests).
  static void Flush(Tree& t) {
    WriteBatch batch;
    ASSERT_TRUE(t.Write(&batch).ok());
  }

  Result<ReifyPlan> Reify(ReifyOptions options = {}) {
    options.name = "Again";
    options.seed = "seed";
    auto lineage = WalkLineage(*runs, {"lab", result, LineageDirection::kUp, 100});
    if (!lineage.ok()) return lineage.status();
    return PlanReify(*lineage, tree, options);
  }

  // The reified pipeline's jobs have the original cache keys.
  void ExpectSameCacheKeys(const ReifyPlan& reified) {
    Tree after = tree.Clone();
    Status applied = after.Apply(reified.patch);
    ASSERT_TRUE(applied.ok()) << applied.ToString();
    Flush(after);
    Result<Plan> plan = CompilePipeline(after, reified.pipeline, nullptr);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::map<std::pair<size_t, std::string>, Digest> made;
    size_t operations = 0, outputs = 0;
    for (size_t i = 0; i < plan->jobs.size(); ++i) {
      const PlanJob& pj = plan->jobs[i];
      if (pj.kind == OperationKind::kInput) made[{i, "data"}] = *pj.artifact;
      if (pj.kind == OperationKind::kOutput) ++outputs;
      if (pj.kind != OperationKind::kOperation) continue;
      ++operations;
    }
    // Jobs in dependency order: the plan lists them in child order, which is
    // the reified order (producers first).
    for (size_t i = 0; i < plan->jobs.size(); ++i) {
      const PlanJob& pj = plan->jobs[i];
      if (pj.kind != OperationKind::kOperation) continue;
      std::map<std::string, Digest> inputs;
      for (const PlanEdge& edge : plan->edges) {
        if (edge.to == i) inputs[edge.input] = made.at({edge.from, edge.output});
      }
      Digest key = CacheKey(pj, inputs, kRuntime);
      EXPECT_EQ(key, keys.at(pj.name)) << pj.name;
      for (const std::string& o : pj.outputs) made[{i, o}] = Digest::Of(key.Hex() + o);
    }
    EXPECT_EQ(operations, 2u);
    EXPECT_EQ(outputs, 1u);
  }

  Tree tree;
  PipelineBuilder b;
  const std::string net = "0a0a0a0a-0000-4000-8000-00000000000e";
  std::string scale_def;
  std::unique_ptr<RunsStore> runs;
  std::map<std::string, Digest> keys;
  Digest result;
};

TEST_F(ReifyTest, RebuildsThePipelineWithTheSameCacheKeys) {
  Result<ReifyPlan> r = Reify({.names = {{kData, "data.json"}}, .serializers = {{kData, "json"}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->notes.empty()) << r->notes.front();
  EXPECT_EQ(r->jobs.size(), 2u);
  // Definitions reused: no new folder, no new operation.
  for (const PatchOp& op : r->patch.ops) {
    if (op.kind == OpKind::kCreate) {
      EXPECT_NE(op.base, MetaGuid("Operation"));
    }
  }
  ExpectSameCacheKeys(*r);
}

TEST_F(ReifyTest, RecreatesAnOperationWhoseCodeChangedSince) {
  ASSERT_TRUE(tree.Apply(Patch{std::nullopt,
                               "edit",
                               {PatchOp::SetAttr(scale_def, "code",
                                                 Value(std::string(kScale) + "# edited\n"))}})
                  .ok());
  Result<ReifyPlan> r = Reify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("recreated in the folder Reified"), std::string::npos);
  ExpectSameCacheKeys(*r);
}

TEST_F(ReifyTest, AReferenceChangedSinceIsPointedAtWithANote) {
  ASSERT_TRUE(
      tree.Apply(Patch{std::nullopt, "edit", {PatchOp::SetAttr(net, "name", Value("Net 2"))}})
          .ok());
  Flush(tree);
  Result<ReifyPlan> r = Reify();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("changed since the job ran"), std::string::npos) << r->notes[0];
  bool pointed = false;
  for (const PatchOp& op : r->patch.ops) {
    if (op.kind == OpKind::kCreate && op.pointers.count("net"))
      pointed = op.pointers.at("net") == net;
  }
  EXPECT_TRUE(pointed);
}

TEST_F(ReifyTest, DeletedDataLeavesTheInputUnsetWithANote) {
  ReifyOptions options;
  options.missing = {kData};
  Result<ReifyPlan> r = Reify(options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("was deleted"), std::string::npos);
  Tree after = tree.Clone();
  ASSERT_TRUE(after.Apply(r->patch).ok());
  Result<Plan> plan = CompilePipeline(after, r->pipeline, nullptr);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("names no artifact"), std::string::npos);
}

TEST_F(ReifyTest, AnUploadHasNothingToReify) {
  auto lineage = WalkLineage(*runs, {"lab", kData, LineageDirection::kUp, 100});
  ASSERT_TRUE(lineage.ok());
  Result<ReifyPlan> r = PlanReify(*lineage, tree, {"x", "seed"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("upload"), std::string::npos);
}

TEST_F(ReifyTest, ATruncatedLineageIsRefused) {
  auto lineage = WalkLineage(*runs, {"lab", result, LineageDirection::kUp, 1});
  ASSERT_TRUE(lineage.ok());
  ASSERT_TRUE(lineage->truncated);
  EXPECT_EQ(PlanReify(*lineage, tree, {"x", "seed"}).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace kiln
