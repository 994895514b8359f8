#include "scheduler/driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "compute/fake_backend.h"
#include "model/meta.h"
#include "pipeline/testing/pipeline_builder.h"
#include "storage/local_artifact_store.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Plays a job the way the Python runner would: every output is a JSON
// string made of the attributes and the inputs' bytes, so outputs change
// exactly when what the job depends on changes. An attribute "fail" makes
// the job fail like a raising operation.
FakeOutcome Play(const JobRequest& r) {
  auto spec = nlohmann::json::parse(Slurp(r.bundle / "spec.json"));
  FakeOutcome out;
  std::string job = r.job_id;
  out.events.push_back(R"({"seq":1,"time":1.0,"job":")" + job +
                       R"(","type":"state","state":"running"})");
  out.events.push_back(R"({"seq":2,"time":1.1,"job":")" + job +
                       R"(","type":"log","stream":"stdout","line":"hello"})");
  out.events.push_back(R"({"seq":3,"time":1.2,"job":")" + job +
                       R"(","type":"metric","name":"loss","value":0.5,"step":0})");
  if (spec["attributes"].contains("fail")) {
    EXPECT_TRUE(FakeBackend::WriteFailed(r, "ValueError", "boom").ok());
    out.exit.exit_code = 1;
    return out;
  }
  std::string value = spec["attributes"].dump();
  for (const auto& [name, in] : spec["inputs"].items()) {
    value += "|" + name + "=" + Slurp(in["path"].get<std::string>());
  }
  std::map<std::string, std::string> outputs;
  std::string code = Slurp(r.bundle / "operation.py");
  // The test's operations name their outputs in the first line: "# outputs: a b".
  std::istringstream first(code.substr(code.find(':') + 1, code.find('\n') - code.find(':') - 1));
  for (std::string o; first >> o;) outputs[o] = nlohmann::json(value + "/" + o).dump();
  EXPECT_TRUE(FakeBackend::WriteSucceeded(r, outputs).ok());
  return out;
}

class Recorder : public ExecutionListener {
 public:
  void OnExecution(const ExecutionRecord& e) override {
    std::lock_guard lock(mu);
    log.push_back(std::string("execution ") + ExecutionStateName(e.state));
  }
  void OnJob(const JobRecord& j) override {
    std::lock_guard lock(mu);
    log.push_back(j.name + " " + JobStateName(j.state));
  }
  void OnEvents(const std::string&, const std::vector<EventRecord>& events) override {
    std::lock_guard lock(mu);
    for (const auto& e : events) kinds.push_back(e.kind);
  }
  std::mutex mu;
  std::vector<std::string> log, kinds;
};

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("kiln-driver-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    repo = std::make_unique<Repository>(store, clock);
    ASSERT_TRUE(repo->CreateProject("p", "", "ada").ok());
    auto a = LocalArtifactStore::Open(dir / "artifacts");
    ASSERT_TRUE(a.ok());
    artifacts = std::move(*a);
    auto r = RunsStore::Open((dir / "runs.db").string());
    ASSERT_TRUE(r.ok());
    runs = std::move(*r);
    backend.SetHandler(Play);

    // load → scale → save, and an independent side job.
    b.CreatePipeline();
    std::string load_def = b.Definition("Load", "# outputs: x\n", {}, {"x"});
    scale_def = b.Definition("Scale", "# outputs: y\n", {"x"}, {"y"}, {{"factor", 2}});
    std::string out_def = b.OutputDefinition("Save");
    load = b.Instance(load_def, "load", {{"n", 1}});
    scale = b.Instance(scale_def, "scale");
    save = b.Instance(out_def, "result");
    side = b.Instance(load_def, "side");
    b.Connect(load, "x", scale, "x").Connect(scale, "y", save, "data");
    Commit(b.Build());
    OpenDriver();
  }

  void TearDown() override {
    driver.reset();
    fs::remove_all(dir);
  }

  void OpenDriver() {
    driver.reset();
    DriverOptions o;
    o.work_dir = dir / "work";
    o.runtime = {"3.11", "1.13", "0.1.0"};
    o.on_commit = [this](const std::string&, const std::string& branch, const Digest&) {
      commits_seen.push_back(branch);
    };
    auto d = Driver::Open(*repo, *runs, *artifacts, backend, o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    driver = std::move(*d);
  }

  void Commit(const Patch& p) {
    auto c = repo->Commit({"p", "main", "ada", "edit", std::nullopt}, p);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }

  // Runs the pipeline to the end; returns the execution id.
  std::string Run(StartRequest req = {}) {
    req.project = "p";
    req.pipeline = b.pipeline();
    if (req.user.empty()) req.user = "ada";
    auto id = driver->Start(req);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    auto e = driver->Wait(*id, 10000);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return *id;
  }

  std::map<std::string, JobRecord> Jobs(const std::string& execution) {
    std::map<std::string, JobRecord> out;
    auto jobs = runs->ListJobs(execution);
    EXPECT_TRUE(jobs.ok());
    for (auto& j : *jobs) out[j.name] = j;
    return out;
  }

  std::map<std::string, JobState> States(const std::string& execution) {
    std::map<std::string, JobState> out;
    for (auto& [name, j] : Jobs(execution)) out[name] = j.state;
    return out;
  }

  fs::path dir;
  MemoryStore store;
  FakeClock clock;
  std::unique_ptr<Repository> repo;
  std::unique_ptr<LocalArtifactStore> artifacts;
  std::unique_ptr<RunsStore> runs;
  FakeBackend backend{2};
  std::unique_ptr<Driver> driver;
  PipelineBuilder b;
  std::string load, scale, save, side, scale_def;
  std::vector<std::string> commits_seen;
};

using S = JobState;

TEST_F(DriverTest, RunsThePipelineRecordsEverythingAndCommitsArtifactsOnce) {
  Recorder rec;
  driver->Subscribe("", &rec);
  Digest head_before = *repo->BranchHead("p", "main");
  std::string id = Run();
  auto e = runs->GetExecution(id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state, ExecutionState::kSucceeded) << e->reason;
  EXPECT_EQ(e->commit, head_before);
  EXPECT_EQ(States(id), (std::map<std::string, S>{{"load", S::kSucceeded},
                                                  {"scale", S::kSucceeded},
                                                  {"result", S::kSucceeded},
                                                  {"side", S::kSucceeded}}));
  EXPECT_EQ(backend.Submitted().size(), 3u);  // the Output operation runs no code

  // The run is tagged; the branch got exactly one more commit, with the artifact.
  EXPECT_EQ(*repo->Resolve("p", "run/" + id), head_before);
  ASSERT_TRUE(e->artifacts.has_value());
  Digest head = *repo->BranchHead("p", "main");
  EXPECT_EQ(head, *e->artifacts);
  EXPECT_EQ(repo->ReadCommit(head)->parents, (std::vector<Digest>{head_before}));
  EXPECT_EQ(commits_seen, (std::vector<std::string>{"main"}));
  auto tree = *repo->LoadTree(head);
  JobRecord scale_job = Jobs(id)["scale"];
  Digest y = scale_job.outputs.at("y").digest;
  bool found = false;
  for (NodeId n : tree->NodeIds()) {
    NodeRef node = tree->Get(n);
    if (node.IsMeta() || !node.IsA("Artifact")) continue;
    found = true;
    EXPECT_EQ(node.Name(), "result");
    EXPECT_EQ(node.Attr("digest")->as_string(), y.Hex());
    EXPECT_EQ(node.Attr("job")->as_string(), scale_job.id);
    EXPECT_EQ(node.Attr("serializer")->as_string(), "json");
  }
  EXPECT_TRUE(found);

  // Outputs are in the artifact store, with provenance.
  EXPECT_TRUE(*artifacts->Exists(y));
  auto prov = runs->GetProvenance(y);
  ASSERT_EQ(prov->size(), 1u);
  EXPECT_EQ((*prov)[0].job, scale_job.id);
  EXPECT_EQ((*prov)[0].inputs.at("x"), Jobs(id)["load"].outputs.at("x").digest);
  EXPECT_NE((*prov)[0].operation.find("# outputs: y"), std::string::npos);

  // Events: the job's own, and the driver's state changes, in one sequence.
  auto logs = runs->Events(scale_job.id, {.after_seq = 0, .kind = "log", .limit = 10});
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_NE((*logs)[0].payload.find("hello"), std::string::npos);
  EXPECT_EQ(runs->MetricSeries(scale_job.id, "loss")->size(), 1u);
  auto states = runs->Events(scale_job.id, {.after_seq = 0, .kind = "state", .limit = 10});
  ASSERT_GE(states->size(), 3u);
  EXPECT_NE(states->front().payload.find("queued"), std::string::npos);
  EXPECT_NE(states->back().payload.find("succeeded"), std::string::npos);
  // Succeeded bundles are removed.
  EXPECT_FALSE(fs::exists(dir / "work" / "jobs" / scale_job.id));

  // Listeners saw it all, in order.
  std::lock_guard lock(rec.mu);
  ASSERT_FALSE(rec.log.empty());
  EXPECT_EQ(rec.log.front(), "execution running");
  EXPECT_EQ(rec.log.back(), "execution succeeded");
  auto pos = [&](const std::string& s) {
    return std::find(rec.log.begin(), rec.log.end(), s) - rec.log.begin();
  };
  EXPECT_LT(pos("load succeeded"), pos("scale running"));
  EXPECT_NE(std::find(rec.kinds.begin(), rec.kinds.end(), "metric"), rec.kinds.end());
}

TEST_F(DriverTest, SecondRunIsServedFromTheCache) {
  std::string first = Run();
  Digest head = *repo->BranchHead("p", "main");
  std::string second = Run();
  EXPECT_EQ(backend.Submitted().size(), 3u);  // nothing ran again
  auto states = States(second);
  EXPECT_EQ(states["load"], S::kCached);
  EXPECT_EQ(states["scale"], S::kCached);
  EXPECT_EQ(states["side"], S::kCached);
  EXPECT_EQ(Jobs(second)["scale"].outputs, Jobs(first)["scale"].outputs);
  EXPECT_EQ(runs->GetExecution(second)->state, ExecutionState::kSucceeded);
  // Same artifacts: no new commit.
  EXPECT_EQ(*repo->BranchHead("p", "main"), head);
  EXPECT_FALSE(runs->GetExecution(second)->artifacts.has_value());
  // But a new tag for the run.
  EXPECT_TRUE(repo->Resolve("p", "run/" + second).ok());

  // force re-runs everything that has code.
  StartRequest force;
  force.force = true;
  std::string third = Run(force);
  EXPECT_EQ(backend.Submitted().size(), 6u);
  EXPECT_EQ(States(third)["scale"], S::kSucceeded);
}

TEST_F(DriverTest, ChangingAnAttributeRerunsExactlyWhatIsDownstream) {
  Run();
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(load, "n", 2));
  Commit(p);
  size_t before = backend.Submitted().size();
  std::string id = Run();
  auto states = States(id);
  EXPECT_EQ(states["load"], S::kSucceeded);
  EXPECT_EQ(states["scale"], S::kSucceeded);  // its input changed
  EXPECT_EQ(states["side"], S::kCached);      // same definition, its own attributes
  EXPECT_EQ(backend.Submitted().size(), before + 2);
  // The new result is a new artifact: one more commit.
  auto e = runs->GetExecution(id);
  EXPECT_TRUE(e->artifacts.has_value());
}

TEST_F(DriverTest, TellsTheBackendWhichModulesEachJobNeeds) {
  // The backend picks a worker by them (a light one for the standard library).
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(scale_def, "code", "# outputs: y\nimport numpy as np, json\n"));
  Commit(p);
  std::string id = Run();
  std::map<std::string, std::string> name_of;
  for (const auto& [name, j] : Jobs(id)) name_of[j.id] = name;
  std::map<std::string, std::optional<std::vector<std::string>>> modules;
  for (const JobRequest& r : backend.Submitted()) modules[name_of[r.job_id]] = r.modules;
  using M = std::vector<std::string>;
  EXPECT_EQ(modules["load"], M{});
  EXPECT_EQ(modules["side"], M{});
  EXPECT_EQ(modules["scale"], (M{"json", "numpy"}));  // its input is JSON: nothing more
}

TEST_F(DriverTest, AFailureSkipsDependentsAndIsNeverCached) {
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(load, "fail", true));
  Commit(p);
  std::string id = Run();
  auto e = runs->GetExecution(id);
  EXPECT_EQ(e->state, ExecutionState::kFailed);
  EXPECT_EQ(e->reason, "1 job failed");
  auto jobs = Jobs(id);
  EXPECT_EQ(jobs["load"].state, S::kFailed);
  EXPECT_EQ(jobs["load"].reason, "ValueError: boom");
  EXPECT_EQ(jobs["load"].exit_code, 1);
  EXPECT_EQ(jobs["scale"].state, S::kSkipped);
  EXPECT_EQ(jobs["scale"].reason, "upstream job 'load' failed");
  EXPECT_EQ(jobs["result"].state, S::kSkipped);
  EXPECT_EQ(jobs["side"].state, S::kSucceeded);
  EXPECT_FALSE(runs->GetCache(*jobs["load"].cache_key)->has_value());
  // The failed bundle is kept for inspection.
  EXPECT_TRUE(fs::exists(dir / "work" / "jobs" / jobs["load"].id / "result.json"));
  EXPECT_FALSE(runs->GetExecution(id)->artifacts.has_value());

  // Running again runs the failing job again.
  size_t before = backend.Submitted().size();
  std::string again = Run();
  EXPECT_EQ(States(again)["load"], S::kFailed);
  EXPECT_EQ(States(again)["side"], S::kCached);
  EXPECT_EQ(backend.Submitted().size(), before + 1);
}

TEST_F(DriverTest, RespectsSlotsAndCancels) {
  backend.SetHandler(nullptr);  // jobs run until the test says
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  auto id = driver->Start(req);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(backend.WaitRunning(2));
  auto running = backend.Running();
  ASSERT_EQ(running.size(), 2u);  // load and side
  EXPECT_EQ(States(*id)["scale"], S::kPending);
  ASSERT_TRUE(driver->Cancel(*id, "bob").ok());
  auto e = driver->Wait(*id, 5000);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state, ExecutionState::kCancelled);
  EXPECT_EQ(e->reason, "cancelled by bob");
  auto jobs = Jobs(*id);
  EXPECT_EQ(jobs["load"].state, S::kCancelled);
  EXPECT_EQ(jobs["scale"].state, S::kCancelled);
  EXPECT_EQ(jobs["side"].state, S::kCancelled);
  EXPECT_TRUE(backend.Running().empty());
  EXPECT_EQ(driver->Cancel(*id, "bob").code(), Code::kNotFound);
  EXPECT_LE(backend.MaxConcurrent(), 2u);
}

TEST_F(DriverTest, QueuesBeyondTheSlots) {
  backend.SetHandler(nullptr);
  // Three independent runs of two ready jobs each: at most 2 at a time.
  std::vector<std::string> ids;
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  req.force = true;
  for (int i = 0; i < 3; ++i) ids.push_back(*driver->Start(req));
  size_t finished = 0;
  while (finished < 12) {
    ASSERT_TRUE(backend.WaitRunning(1)) << finished;
    auto r = backend.Running();
    ASSERT_LE(r.size(), 2u);
    FakeOutcome o = Play(r[0]);
    ASSERT_TRUE(backend.Finish(r[0].job_id, o).ok());
    ++finished;
    if (finished == 9) break;  // 3 runs × (load, scale, side)
  }
  for (const auto& id : ids) {
    auto e = driver->Wait(id, 5000);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->state, ExecutionState::kSucceeded);
  }
  EXPECT_EQ(backend.MaxConcurrent(), 2u);
}

// docs/sweeps.md: trials started together run each shared job once; a job
// whose key is being computed waits for it and takes its outputs.
TEST_F(DriverTest, ExecutionsStartedTogetherRunEachSharedJobOnce) {
  backend.SetHandler(nullptr);
  StartRequest base;
  base.project = "p";
  base.pipeline = b.pipeline();
  base.user = "ada";
  std::vector<std::string> ids;
  for (int factor : {3, 4, 5}) {
    StartRequest req = base;
    req.overrides[scale] = {{"factor", factor}};
    req.sweep = "s1";
    req.sweep_trial = factor - 3;
    auto id = driver->Start(req);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  // load and side once each, then scale three times (three factors).
  size_t finished = 0;
  while (finished < 5) {
    ASSERT_TRUE(backend.WaitRunning(1)) << finished;
    auto r = backend.Running();
    ASSERT_TRUE(backend.Finish(r[0].job_id, Play(r[0])).ok());
    ++finished;
  }
  std::set<std::string> outputs;
  for (const auto& id : ids) {
    auto e = driver->Wait(id, 5000);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->state, ExecutionState::kSucceeded) << e->reason;
    EXPECT_EQ(e->sweep, "s1");
    outputs.insert(Jobs(id)["scale"].outputs.at("y").digest.Hex());
  }
  EXPECT_EQ(backend.Submitted().size(), 5u);
  EXPECT_EQ(outputs.size(), 3u);  // each factor its own result
  // The later trials took load from the first, and say where it came from.
  EXPECT_EQ(States(ids[1])["load"], S::kCached);
  EXPECT_EQ(States(ids[2])["side"], S::kCached);
  auto prov = runs->GetProvenance(Jobs(ids[1])["load"].outputs.at("x").digest);
  ASSERT_TRUE(prov.ok());
  bool linked = false;
  for (const auto& r : *prov)
    linked |= r.job == Jobs(ids[1])["load"].id && r.cached_from == Jobs(ids[0])["load"].id;
  EXPECT_TRUE(linked);
  // The overrides are the execution's: a re-run applies them again.
  EXPECT_EQ(runs->GetExecution(ids[2])->overrides, "{\"" + scale + "\":{\"factor\":5}}");
  backend.SetHandler(Play);
  auto again = driver->Rerun(ids[2], "ada", false);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(driver->Wait(*again, 5000).ok());
  EXPECT_EQ(States(*again)["scale"], S::kCached);
  EXPECT_EQ(Jobs(*again)["scale"].outputs, Jobs(ids[2])["scale"].outputs);
}

TEST_F(DriverTest, AJobWaitingOnAFailedOneRunsItself) {
  backend.SetHandler(nullptr);
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  std::string first = *driver->Start(req);
  std::string second = *driver->Start(req);
  ASSERT_TRUE(backend.WaitRunning(2));
  // The first execution's load fails: the second's, which waited, runs.
  for (const auto& r : backend.Running()) {
    if (Jobs(first)["load"].id != r.job_id) continue;
    FakeOutcome o;
    ASSERT_TRUE(FakeBackend::WriteFailed(r, "ValueError", "boom").ok());
    o.exit.exit_code = 1;
    ASSERT_TRUE(backend.Finish(r.job_id, o).ok());
  }
  backend.SetHandler(Play);
  for (const auto& r : backend.Running()) ASSERT_TRUE(backend.Finish(r.job_id, Play(r)).ok());
  EXPECT_EQ(driver->Wait(first, 5000)->state, ExecutionState::kFailed);
  auto e = driver->Wait(second, 5000);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state, ExecutionState::kSucceeded) << e->reason;
  EXPECT_EQ(States(second)["load"], S::kSucceeded);
}

TEST_F(DriverTest, OverridesNameRealAttributes) {
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  req.overrides[scale] = {{"nope", 1}};
  EXPECT_EQ(driver->Start(req).status().code(), Code::kInvalidArgument);
  req.overrides = {{"not-a-node", {{"factor", 1}}}};
  EXPECT_EQ(driver->Start(req).status().code(), Code::kInvalidArgument);
  req.overrides = {{scale, {{"code", "x"}}}};
  EXPECT_EQ(driver->Start(req).status().code(), Code::kInvalidArgument);
}

TEST_F(DriverTest, RerunJobForcesOnlyThatJob) {
  std::string first = Run();
  auto jobs = Jobs(first);
  size_t before = backend.Submitted().size();
  auto id = driver->RerunJob(jobs["scale"].id, "bob");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(driver->Wait(*id, 5000).ok());
  auto states = States(*id);
  EXPECT_EQ(states["load"], S::kCached);
  EXPECT_EQ(states["scale"], S::kSucceeded);
  EXPECT_EQ(states["side"], S::kCached);
  EXPECT_EQ(backend.Submitted().size(), before + 1);
  EXPECT_EQ(runs->GetExecution(*id)->commit, runs->GetExecution(first)->commit);
  EXPECT_EQ(runs->GetExecution(*id)->user, "bob");

  auto again = driver->Rerun(first, "bob", /*force=*/false);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(driver->Wait(*again, 5000).ok());
  EXPECT_EQ(backend.Submitted().size(), before + 1);
}

TEST_F(DriverTest, RefusesWhatCannotRun) {
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  req.ref = "nope";
  EXPECT_EQ(driver->Start(req).status().code(), Code::kNotFound);
  req.ref = "main";
  req.pipeline = load;
  EXPECT_EQ(driver->Start(req).status().code(), Code::kInvalidArgument);
  req.project = "missing";
  EXPECT_FALSE(driver->Start(req).ok());
}

TEST_F(DriverTest, RestartReconcilesExecutionsLeftInFlight) {
  // What a crash leaves behind: an execution marked running, one job
  // running, one queued, one pending, one done.
  ExecutionRecord e;
  e.id = "crashed";
  e.project = "p";
  e.pipeline = b.pipeline();
  e.commit = *repo->BranchHead("p", "main");
  e.user = "ada";
  e.created_ms = 1;
  std::vector<JobRecord> jobs(4);
  const char* names[] = {"a", "b", "c", "d"};
  S states[] = {S::kRunning, S::kQueued, S::kPending, S::kSucceeded};
  for (int i = 0; i < 4; ++i) {
    jobs[i].id = std::string("job-") + names[i];
    jobs[i].execution = "crashed";
    jobs[i].name = names[i];
    jobs[i].state = states[i];
  }
  ASSERT_TRUE(runs->CreateExecution(e, jobs).ok());
  OpenDriver();  // the "restart"
  auto after = runs->GetExecution("crashed");
  EXPECT_EQ(after->state, ExecutionState::kFailed);
  EXPECT_EQ(after->reason, "server restarted");
  EXPECT_GT(after->finished_ms, 0);
  auto st = Jobs("crashed");
  EXPECT_EQ(st["a"].state, S::kFailed);
  EXPECT_EQ(st["a"].reason, "server restarted");
  EXPECT_EQ(st["b"].state, S::kFailed);
  EXPECT_EQ(st["c"].state, S::kSkipped);
  EXPECT_EQ(st["d"].state, S::kSucceeded);
  EXPECT_TRUE(runs->ListRunningExecutions()->empty());
}

}  // namespace
}  // namespace kiln
