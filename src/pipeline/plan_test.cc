#include "pipeline/plan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/meta.h"
#include "pipeline/bundle.h"
#include "pipeline/testing/pipeline_builder.h"

namespace kiln {
namespace {

const char* kLoad = "class Load:\n    def execute(self):\n        x = 1\n        return x\n";
const char* kScale =
    "class Scale:\n    def __init__(self, factor=2):\n        self.factor = factor\n"
    "    def execute(self, x):\n        y = x * self.factor\n        return y\n";

const RuntimeFingerprint kRuntime{"3.11.2", "1.13.0", "0.1.0"};

class PlanTest : public ::testing::Test {
 protected:
  PlanTest() : tree(NewProjectTree()) {
    b.CreatePipeline();
    load_def = b.Definition("Load", kLoad, {}, {"x"});
    scale_def = b.Definition("Scale", kScale, {"x"}, {"y"}, {{"factor", 2}});
    out_def = b.OutputDefinition();
    load = b.Instance(load_def, "load");
    scale = b.Instance(scale_def, "scale", {{"factor", 3}});
    save = b.Instance(out_def, "result");
    b.Connect(load, "x", scale, "x").Connect(scale, "y", save, "data");
  }

  void Apply(const Patch& p) {
    Status st = tree.Apply(p);
    ASSERT_TRUE(st.ok()) << st.ToString();
    WriteBatch batch;
    ASSERT_TRUE(tree.Write(&batch).ok());
  }

  Plan Compile() {
    auto plan = CompilePipeline(tree, b.pipeline(), nullptr);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? *plan : Plan{};
  }

  Tree tree;
  PipelineBuilder b;
  std::string load_def, scale_def, out_def, load, scale, save;
};

TEST_F(PlanTest, CompilesJobsEdgesAndCode) {
  Apply(b.Build());
  Plan plan = Compile();
  ASSERT_EQ(plan.jobs.size(), 3u);
  const PlanJob& s = plan.jobs[1];
  EXPECT_EQ(s.node, scale);
  EXPECT_EQ(s.name, "scale");
  EXPECT_EQ(s.definition, scale_def);
  EXPECT_EQ(s.kind, OperationKind::kOperation);
  EXPECT_EQ(s.code, kScale);
  // The instance's own value wins over the definition's; reserved names are not attributes.
  EXPECT_EQ(s.attributes, (Value::Map{{"factor", 3}}));
  EXPECT_EQ(s.inputs, (std::vector<std::string>{"x"}));
  EXPECT_EQ(s.outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(plan.jobs[2].kind, OperationKind::kOutput);
  ASSERT_EQ(plan.edges.size(), 2u);
  EXPECT_EQ(plan.edges[0].from, 0u);
  EXPECT_EQ(plan.edges[0].output, "x");
  EXPECT_EQ(plan.edges[0].to, 1u);
  EXPECT_EQ(plan.edges[0].input, "x");
  EXPECT_EQ(plan.edges[1].to, 2u);
  EXPECT_EQ(plan.edges[1].input, "data");
}

TEST_F(PlanTest, RefusesPipelinesThatCannotRun) {
  Apply(b.Build());
  EXPECT_EQ(CompilePipeline(tree, "00000000-0000-4000-8000-000000000000", nullptr).status().code(),
            Code::kNotFound);
  EXPECT_EQ(CompilePipeline(tree, load_def, nullptr).status().code(), Code::kInvalidArgument);

  // An unconnected input.
  PipelineBuilder more = b;
  std::string lonely = b.Instance(scale_def, "lonely");
  Patch p;
  p.ops.push_back(PatchOp::Create(lonely, b.pipeline(), scale_def, {{"name", "lonely"}}));
  Apply(p);
  auto r = CompilePipeline(tree, b.pipeline(), nullptr);
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("input 'x' of operation 'lonely'"), std::string::npos)
      << r.status().ToString();
  Patch del;
  del.ops.push_back(PatchOp::Delete(lonely));
  Apply(del);

  // An operation without code.
  Patch nocode;
  nocode.ops.push_back(PatchOp::SetAttr(scale, "code", ""));
  Apply(nocode);
  r = CompilePipeline(tree, b.pipeline(), nullptr);
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("has no code"), std::string::npos);
}

TEST_F(PlanTest, InputOperationsNameAnArtifact) {
  std::string in_def = b.InputDefinition();
  std::string in = b.Instance(in_def, "dataset", {{"serializer", "numpy"}});
  std::string sink = b.Instance(out_def, "copy");
  b.Connect(in, "data", sink, "data");
  Apply(b.Build());
  auto r = CompilePipeline(tree, b.pipeline(), nullptr);
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("names no artifact"), std::string::npos);
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(in, "artifact", Digest::Of("data").Hex()));
  Apply(p);
  Plan plan = Compile();
  const PlanJob& job = plan.jobs[3];
  EXPECT_EQ(job.kind, OperationKind::kInput);
  EXPECT_EQ(job.artifact, Digest::Of("data"));
  EXPECT_EQ(job.serializer, "numpy");
  EXPECT_TRUE(job.attributes.empty());
}

TEST_F(PlanTest, CacheKeyChangesWithWhatTheResultDependsOnAndOnlyThen) {
  Apply(b.Build());
  const std::map<std::string, Digest> inputs{{"x", Digest::Of("input")}};
  auto key = [&] { return CacheKey(Compile().jobs[1], inputs, kRuntime); };
  Digest base = key();
  EXPECT_EQ(key(), base);  // deterministic

  // Renaming, moving on the canvas, or editing another operation: same key.
  Patch cosmetic;
  cosmetic.ops.push_back(PatchOp::SetAttr(scale, "name", "renamed"));
  cosmetic.ops.push_back(PatchOp::SetRegistry(scale, "position", Value::Map{{"x", 10}}));
  cosmetic.ops.push_back(PatchOp::SetAttr(load, "other", 1));
  Apply(cosmetic);
  EXPECT_EQ(key(), base);

  // An attribute.
  Patch attr;
  attr.ops.push_back(PatchOp::SetAttr(scale, "factor", 4));
  Apply(attr);
  Digest k_attr = key();
  EXPECT_NE(k_attr, base);
  // An int and a float are different values.
  Patch f;
  f.ops.push_back(PatchOp::SetAttr(scale, "factor", 4.0));
  Apply(f);
  EXPECT_NE(key(), k_attr);
  Patch back;
  back.ops.push_back(PatchOp::SetAttr(scale, "factor", 3));
  Apply(back);
  EXPECT_EQ(key(), base);

  // The code (edited on the definition, inherited by the instance).
  Patch code;
  code.ops.push_back(PatchOp::SetAttr(scale_def, "code", std::string(kScale) + "# v2\n"));
  Apply(code);
  EXPECT_NE(key(), base);
  Patch code_back;
  code_back.ops.push_back(PatchOp::SetAttr(scale_def, "code", kScale));
  Apply(code_back);
  EXPECT_EQ(key(), base);

  // An input's digest, the runtime.
  PlanJob job = Compile().jobs[1];
  EXPECT_NE(CacheKey(job, {{"x", Digest::Of("other input")}}, kRuntime), base);
  RuntimeFingerprint newer = kRuntime;
  newer.torch = "2.0.0";
  EXPECT_NE(CacheKey(job, inputs, newer), base);
}

TEST_F(PlanTest, ReferencedResourcesEnterTheKey) {
  std::string arch = PipelineBuilder::GuidOf("arch");
  b.ops();
  Apply(b.Build());
  Patch p;
  p.ops.push_back(PatchOp::Create(arch, RootGuid(), MetaGuid("FCO"), {{"name", "mlp"}}));
  p.ops.push_back(PatchOp::SetPointer(scale, "architecture", arch));
  Apply(p);
  const std::map<std::string, Digest> inputs{{"x", Digest::Of("input")}};
  Plan plan = Compile();
  ASSERT_EQ(plan.jobs[1].resources.size(), 1u);
  EXPECT_EQ(plan.jobs[1].resources[0].pointer, "architecture");
  Digest before = CacheKey(plan.jobs[1], inputs, kRuntime);
  Patch edit;
  edit.ops.push_back(PatchOp::SetAttr(arch, "layers", 3));
  Apply(edit);
  EXPECT_NE(CacheKey(Compile().jobs[1], inputs, kRuntime), before);

  // With a generator, its code stands for the resource.
  struct Gen : ResourceCodeGenerator {
    std::string text = "class Net: pass\n";
    Result<std::optional<GeneratedCode>> Generate(const NodeRef&) override {
      return std::optional<GeneratedCode>(GeneratedCode{{{"net.py", text}}, "net.py", "Net"});
    }
  } gen;
  auto with_gen = [&] {
    auto plan = CompilePipeline(tree, b.pipeline(), &gen);
    EXPECT_TRUE(plan.ok());
    return CacheKey(plan->jobs[1], inputs, kRuntime);
  };
  Digest g1 = with_gen();
  Patch edit2;
  edit2.ops.push_back(PatchOp::SetRegistry(arch, "position", 1));
  Apply(edit2);
  EXPECT_EQ(with_gen(), g1);  // same generated code: same key
  gen.text = "class Net: x = 1\n";
  EXPECT_NE(with_gen(), g1);
}

TEST_F(PlanTest, WritesABundleTheJobRunnerReads) {
  Apply(b.Build());
  Plan plan = Compile();
  auto dir = std::filesystem::temp_directory_path() / ("kiln-bundle-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteBundle(dir, "job-1", plan.jobs[1], {{"x", {"/tmp/in", "json"}}},
                          {{"OMP_NUM_THREADS", "1"}})
                  .ok());
  std::ifstream in(dir / "spec.json");
  auto spec = nlohmann::json::parse(in);
  EXPECT_EQ(spec["job_id"], "job-1");
  EXPECT_EQ(spec["attributes"]["factor"], 3);
  EXPECT_EQ(spec["inputs"]["x"]["path"], "/tmp/in");
  EXPECT_EQ(spec["env"]["OMP_NUM_THREADS"], "1");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "outputs"));
  std::ifstream code(dir / "operation.py");
  std::string text((std::istreambuf_iterator<char>(code)), {});
  EXPECT_EQ(text, kScale);
  // A bundle is never written over.
  EXPECT_FALSE(WriteBundle(dir, "job-1", plan.jobs[1], {}, {}).ok());
  EXPECT_EQ(ReadResult(dir).status().code(), Code::kNotFound);
  // A result may name only files in the bundle's outputs folder (one
  // uploaded from another machine must not reach the server's other files).
  auto result = [&](const std::string& path) {
    std::ofstream(dir / "result.json")
        << nlohmann::json{{"status", "succeeded"}, {"outputs", {{"y", {{"path", path}}}}}}.dump();
    return ReadResult(dir);
  };
  EXPECT_TRUE(result("outputs/y").ok());
  EXPECT_TRUE(result((dir / "outputs" / "y").string()).ok());
  for (std::string bad : {"/etc/passwd", "../../etc/passwd", "outputs/../spec.json", "spec.json"}) {
    auto r = result(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("outside the job's outputs folder"), std::string::npos);
  }
  std::filesystem::create_symlink("/etc/passwd", dir / "outputs" / "link");
  EXPECT_EQ(result("outputs/link").status().code(), Code::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST_F(PlanTest, TheProjectsRequirementsReachEveryOperationItsKeyAndItsBundle) {
  Apply(b.Build());
  const std::map<std::string, Digest> inputs{{"x", Digest::Of("input")}};
  Plan before = Compile();
  EXPECT_EQ(before.jobs[1].requirements, "");
  Digest key = CacheKey(before.jobs[1], inputs, kRuntime);

  Patch p;
  p.ops.push_back(PatchOp::SetAttr(RootGuid(), "requirements", "--no-index\nastropy==5.2\n"));
  Apply(p);
  Plan plan = Compile();
  EXPECT_EQ(plan.jobs[0].requirements, "--no-index\nastropy==5.2\n");
  EXPECT_EQ(plan.jobs[1].requirements, "--no-index\nastropy==5.2\n");
  EXPECT_EQ(plan.jobs[2].requirements, "");  // the Output runs no code
  EXPECT_NE(CacheKey(plan.jobs[1], inputs, kRuntime), key);

  auto dir =
      std::filesystem::temp_directory_path() / ("kiln-req-bundle-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteBundle(dir, "job-1", plan.jobs[1], {{"x", {"/tmp/in", "json"}}}, {}).ok());
  std::ifstream in(dir / "spec.json");
  EXPECT_EQ(nlohmann::json::parse(in)["requirements"], "--no-index\nastropy==5.2\n");
  std::filesystem::remove_all(dir);
}

TEST(RuntimeTest, ProbesPythonOnce) {
  auto r = ProbeRuntime("/usr/bin/python3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->python.substr(0, 2), "3.");
  EXPECT_FALSE(r->torch.empty());
  EXPECT_FALSE(r->kiln.empty());
  EXPECT_FALSE(ProbeRuntime("/nonexistent/python").ok());
}

}  // namespace
}  // namespace kiln
