// A stand-in for a `kiln serve` process, for ExecutionTest's restart test:
// it starts a pipeline through the real Driver and LocalBackend, writes
// <dir>/ready (the execution id) once part of it is recorded as done and a
// long job is running, then waits to be SIGKILLed.
//
//   quick ──▶ slow (sleeps 300 s; writes its pid to <dir>/slow.pid) ──▶ after
//   other (independent, its own code: quick's would share quick's cache key)
//
// Usage: execution_crash_child <dir>. Exits 1 on any setup failure.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "compute/local_backend.h"
#include "pipeline/testing/pipeline_builder.h"
#include "scheduler/driver.h"
#include "storage/local_artifact_store.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

int Fail(const std::string& what) {
  std::fprintf(stderr, "crash_child: %s\n", what.c_str());
  return 1;
}

int Main(const fs::path& dir) {
  MemoryStore store;
  Repository repo(store, SystemClock::Get());
  if (!repo.CreateProject("p", "", "ada").ok()) return Fail("create project");
  PipelineBuilder b;
  b.CreatePipeline();
  std::string quick = b.Definition(
      "Quick", "class Quick:\n    def execute(self):\n        y = 1\n        return y\n", {},
      {"y"});
  std::string slow = b.Definition("Slow",
                                  "import os, time\n"
                                  "class Slow:\n"
                                  "    def __init__(self, pid_file=''):\n"
                                  "        self.pid_file = pid_file\n"
                                  "    def execute(self, x):\n"
                                  "        with open(self.pid_file + '.tmp', 'w') as f:\n"
                                  "            f.write(str(os.getpid()))\n"
                                  "        os.rename(self.pid_file + '.tmp', self.pid_file)\n"
                                  "        time.sleep(300)\n"
                                  "        y = x\n"
                                  "        return y\n",
                                  {"x"}, {"y"});
  std::string pass = b.Definition(
      "Pass", "class Pass:\n    def execute(self, x):\n        y = x\n        return y\n", {"x"},
      {"y"});
  std::string q = b.Instance(quick, "quick");
  std::string s = b.Instance(slow, "slow", {{"pid_file", (dir / "slow.pid").string()}});
  std::string a = b.Instance(pass, "after");
  // Its own code: a job with quick's cache key would wait for quick and be
  // cached, not run (the driver computes one key once at a time).
  std::string other = b.Definition(
      "Other", "class Other:\n    def execute(self):\n        y = 2\n        return y\n", {},
      {"y"});
  b.Instance(other, "other");
  b.Connect(q, "y", s, "x").Connect(s, "y", a, "x");
  if (!repo.Commit({"p", "main", "ada", "pipeline", std::nullopt}, b.Build()).ok()) {
    return Fail("commit");
  }

  LocalBackendOptions bo;
  bo.preload = "numpy";
  bo.slots = 2;
  auto backend = LocalBackend::Start(bo);
  if (!backend.ok()) return Fail(backend.status().ToString());
  auto artifacts = LocalArtifactStore::Open(dir / "artifacts");
  auto runs = RunsStore::Open((dir / "runs.db").string());
  if (!artifacts.ok() || !runs.ok()) return Fail("open stores");
  DriverOptions o;
  o.work_dir = dir / "work";
  auto driver = Driver::Open(repo, **runs, **artifacts, **backend, o);
  if (!driver.ok()) return Fail(driver.status().ToString());
  StartRequest req;
  req.project = "p";
  req.pipeline = b.pipeline();
  req.user = "ada";
  auto id = (*driver)->Start(req);
  if (!id.ok()) return Fail(id.status().ToString());

  // Ready once the slow job runs and the quick ones are recorded as done.
  for (int i = 0; i < 1200; ++i) {
    bool done = fs::exists(dir / "slow.pid");
    auto jobs = (*runs)->ListJobs(*id);
    if (!jobs.ok()) return Fail(jobs.status().ToString());
    for (const JobRecord& j : *jobs) {
      if (j.name == "quick" || j.name == "other") done = done && j.state == JobState::kSucceeded;
    }
    if (done) {
      std::ofstream(dir / "ready.tmp") << *id;
      fs::rename(dir / "ready.tmp", dir / "ready");
      for (;;) ::pause();  // until SIGKILL
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Fail("the pipeline did not get going in 60 s");
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  if (argc != 2) return kiln::Fail("usage: execution_crash_child <dir>");
  return kiln::Main(argv[1]);
}
