#include "compute/local_backend.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include "compute/process_tree.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// A file's whole content ("" when it cannot be read).
std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class Sink : public JobSink {
 public:
  void OnEvents(const std::string& id, std::vector<std::string> lines) override {
    std::lock_guard lock(mu_);
    for (auto& l : lines) events_[id].push_back(std::move(l));
  }
  void OnExit(const std::string& id, const JobExit& exit) override {
    std::lock_guard lock(mu_);
    exits_[id] = exit;
    cv_.notify_all();
  }
  std::optional<JobExit> Wait(const std::string& id, int timeout_ms = 20000) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return exits_.count(id) > 0; }))
      return std::nullopt;
    return exits_[id];
  }
  std::vector<std::string> Events(const std::string& id) {
    std::lock_guard lock(mu_);
    return events_[id];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<std::string>> events_;
  std::map<std::string, JobExit> exits_;
};

// One zygote for the whole binary: starting one costs the preload.
LocalBackend* backend = nullptr;

class LocalBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (backend) return;
    LocalBackendOptions o;
    o.preload = "numpy";
    o.slots = 2;
    o.kill_grace_s = 1;
    auto b = LocalBackend::Start(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend = b->release();
  }

  void SetUp() override {
    root = fs::temp_directory_path() / ("kiln-local-" + std::to_string(getpid()));
    fs::create_directories(root);
  }

  // A bundle with `code` as operation.py.
  JobRequest Bundle(const std::string& name, const std::string& code) {
    JobRequest r;
    r.job_id = name;
    r.bundle = root / name;
    fs::remove_all(r.bundle);
    fs::create_directories(r.bundle / "outputs");
    std::ofstream(r.bundle / "operation.py") << code;
    std::ofstream(r.bundle / "spec.json")
        << R"({"job_id": ")" << name << R"(", "events": "events.jsonl"})";
    return r;
  }

  fs::path root;
  Sink sink;
};

TEST_F(LocalBackendTest, RunsAJobAndStreamsItsEvents) {
  JobRequest r = Bundle("hello", R"(import kiln, os
class Hello(kiln.Operation):
    def execute(self):
        print("hello from the job")
        kiln.log_metric("loss", 0.25)
        threads = os.environ.get("OMP_NUM_THREADS")
        return threads
)");
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  auto exit = sink.Wait("hello");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->succeeded()) << exit->reason;
  std::string all;
  for (const auto& e : sink.Events("hello")) all += e + "\n";
  EXPECT_NE(all.find("hello from the job"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("type":"metric")"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("state":"succeeded")"), std::string::npos) << all;
  // 2 slots on this machine's cores: threads = cores / slots, at least 1.
  std::string threads = ReadFile(r.bundle / "outputs" / "threads");
  size_t expect = std::max<size_t>(1, std::thread::hardware_concurrency() / 2);
  EXPECT_EQ(threads, "\"" + std::to_string(expect) + "\"");
}

TEST_F(LocalBackendTest, SuccessIsReportedFromTheFinalEventAndLeftoversStillDie) {
  // The job leaves a child in its process group and returns; its end is
  // reported from its final event, and the zygote still kills the child
  // when it reaps the job.
  JobRequest r = Bundle("leaves", R"(import subprocess
class Leaves:
    def execute(self):
        p = subprocess.Popen(["sleep", "300"])
        pid = p.pid
        return pid
)");
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  auto exit = sink.Wait("leaves");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->succeeded()) << exit->reason;
  // The final event and result.json were there when the sink heard of it.
  EXPECT_TRUE(fs::exists(r.bundle / "result.json"));
  auto events = sink.Events("leaves");
  ASSERT_FALSE(events.empty());
  EXPECT_NE(events.back().find(R"("state":"succeeded")"), std::string::npos);
  // It has ended: nothing to cancel.
  EXPECT_EQ(backend->Cancel("leaves").code(), Code::kNotFound);
  std::ifstream out(r.bundle / "outputs" / "pid");
  int pid = 0;
  out >> pid;
  ASSERT_GT(pid, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(pid, 0) != 0 && errno == ESRCH;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the job's leftover child outlived it";
  // The backend forgot the job once the zygote reaped it: the slot is reusable.
  JobRequest again = Bundle("after-leaves", "class A:\n    def execute(self):\n        pass\n");
  ASSERT_TRUE(backend->Submit(again, &sink).ok());
  auto second = sink.Wait("after-leaves");
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->succeeded()) << second->reason;
}

TEST_F(LocalBackendTest, CancelKillsTheWholeProcessTree) {
  JobRequest r = Bundle("tree", R"(import subprocess, time, os
class Tree:
    def execute(self):
        a = subprocess.Popen(["sleep", "300"])
        b = subprocess.Popen(["sleep", "300"], start_new_session=True)  # leaves the group
        with open("pids.tmp", "w") as f:
            f.write(f"{os.getpid()} {a.pid} {b.pid}")
        os.rename("pids.tmp", "pids")
        time.sleep(300)
)");
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  std::vector<int> pids;
  for (int i = 0; i < 1000 && pids.empty(); ++i) {
    std::ifstream in(r.bundle / "pids");
    for (int p; in >> p;) pids.push_back(p);
    if (pids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(pids.size(), 3u);
  auto tree = ProcessTree(pids[0]);
  EXPECT_GE(tree.size(), 3u);
  ASSERT_TRUE(backend->Cancel("tree").ok());
  auto exit = sink.Wait("tree");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->cancelled);
  EXPECT_FALSE(exit->succeeded());
  // No process of the job survives (the zygote reaps them: not even zombies).
  for (int i = 0; i < 200; ++i) {
    bool any = false;
    for (const auto& p : tree) any |= Alive(p) || fs::exists("/proc/" + std::to_string(p.pid));
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const auto& p : tree) {
    EXPECT_FALSE(fs::exists("/proc/" + std::to_string(p.pid))) << "pid " << p.pid << " survived";
  }
  EXPECT_EQ(backend->Cancel("tree").code(), Code::kNotFound);
}

TEST_F(LocalBackendTest, TimeoutFailsTheJobWithAMessage) {
  JobRequest r = Bundle("slow",
                        "import time\nclass Slow:\n    def execute(self):\n"
                        "        time.sleep(60)\n");
  r.limits.timeout_s = 0.5;
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  auto exit = sink.Wait("slow");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->timed_out);
  EXPECT_FALSE(exit->cancelled);
  EXPECT_FALSE(exit->succeeded());
  EXPECT_NE(exit->reason.find("timed out after 0.5 s"), std::string::npos) << exit->reason;
}

TEST_F(LocalBackendTest, MemoryLimitStopsAGreedyJob) {
  JobRequest r = Bundle("greedy", R"(import numpy as np
class Greedy:
    def execute(self):
        x = np.ones(1 << 30)  # 8 GiB
        return x
)");
  r.limits.memory_bytes = 256ull << 20;
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  auto exit = sink.Wait("greedy");
  ASSERT_TRUE(exit.has_value());
  EXPECT_FALSE(exit->succeeded());
  EXPECT_EQ(exit->exit_code, 1);
  std::string result = ReadFile(r.bundle / "result.json");
  EXPECT_NE(result.find("MemoryError"), std::string::npos) << result;
}

TEST_F(LocalBackendTest, ALightWorkerAlsoTakesJobsNeedingWhatItPreloads) {
  LocalBackendOptions o;
  o.preload = "numpy";
  o.light_preload = "numpy";  // say, a site whose operations mostly use numpy alone
  o.slots = 1;
  auto b = LocalBackend::Start(o);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  JobRequest r = Bundle("np",
                        "import numpy, time\nclass N:\n    def execute(self):\n"
                        "        time.sleep(0.3)\n        n = int(numpy.ones(3).sum())\n"
                        "        return n\n");
  r.modules = std::vector<std::string>{"numpy", "time"};
  ASSERT_TRUE((*b)->Submit(r, &sink).ok());
  EXPECT_EQ((*b)->zygote_pid_of("np"), (*b)->light_zygote_pid());
  auto exit = sink.Wait("np");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->succeeded()) << exit->reason;
  // torch is preloaded by neither here: unknown to the light one, full worker.
  JobRequest t = Bundle("t",
                        "import time\nclass T:\n    def execute(self):\n"
                        "        time.sleep(0.3)\n");
  t.modules = std::vector<std::string>{"numpy", "torch"};
  ASSERT_TRUE((*b)->Submit(t, &sink).ok());
  EXPECT_EQ((*b)->zygote_pid_of("t"), (*b)->zygote_pid());
  ASSERT_TRUE(sink.Wait("t").has_value());
}

TEST_F(LocalBackendTest, ALightJobHasTheSameLimits) {
  // The memory limit is what the job may add to its worker's own size: a
  // light job may use most of it, and no more.
  const std::string code =
      "class Alloc:\n    def __init__(self, mb=1):\n        self.mb = mb\n"
      "    def execute(self):\n        x = bytearray(self.mb << 20)\n"
      "        n = len(x)\n        return n\n";
  for (auto [name, mb, ok] :
       {std::tuple{"light-fits", 160, true}, std::tuple{"light-greedy", 8192, false}}) {
    JobRequest r = Bundle(name, code);
    std::ofstream(r.bundle / "spec.json")
        << R"({"job_id": ")" << name << R"(", "events": "events.jsonl", "attributes": {"mb": )"
        << mb << "}}";
    r.modules = std::vector<std::string>{};
    r.limits.memory_bytes = 256ull << 20;
    ASSERT_TRUE(backend->Submit(r, &sink).ok());
    auto exit = sink.Wait(name);
    ASSERT_TRUE(exit.has_value()) << name;
    EXPECT_EQ(exit->succeeded(), ok) << name << ": " << exit->reason;
    if (!ok) {
      std::string result = ReadFile(r.bundle / "result.json");
      EXPECT_NE(result.find("MemoryError"), std::string::npos) << result;
    }
  }
}

TEST_F(LocalBackendTest, ZygoteDeathFailsJobsInFlightAndIsRepaired) {
  JobRequest r = Bundle("victim",
                        "import time\nclass V:\n    def execute(self):\n"
                        "        time.sleep(60)\n");
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int starts = backend->zygote_starts();
  int zygote = backend->zygote_pid_of("victim");
  ASSERT_GT(zygote, 0);
  ASSERT_EQ(::kill(zygote, SIGKILL), 0);
  auto exit = sink.Wait("victim");
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->end, JobExit::End::kLost);
  EXPECT_NE(exit->reason.find("zygote"), std::string::npos) << exit->reason;
  EXPECT_EQ(backend->zygote_starts(), starts + 1);
  // The next job runs on the new worker.
  JobRequest next = Bundle("after", "class A:\n    def execute(self):\n        pass\n");
  ASSERT_TRUE(backend->Submit(next, &sink).ok());
  auto ok = sink.Wait("after");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->succeeded()) << ok->reason;
}

TEST_F(LocalBackendTest, AJobNeedingOnlyTheStandardLibraryRunsInALightWorker) {
  ASSERT_GT(backend->light_zygote_pid(), 0);
  ASSERT_NE(backend->light_zygote_pid(), backend->zygote_pid());
  // Reports which preloads its process has: the light worker has no numpy.
  const std::string code =
      "import sys, json\nclass Which:\n    def execute(self):\n"
      "        numpy = 'numpy' in sys.modules\n        return numpy\n";
  struct Case {
    std::string name;
    std::optional<std::vector<std::string>> modules;
    bool light;
  };
  for (const Case& c : {Case{"stdlib", std::vector<std::string>{"json", "sys"}, true},
                        Case{"nothing", std::vector<std::string>{}, true},
                        Case{"numpy", std::vector<std::string>{"json", "numpy"}, false},
                        Case{"unknown", std::nullopt, false}}) {
    JobRequest r = Bundle(c.name, code);
    r.modules = c.modules;
    ASSERT_TRUE(backend->Submit(r, &sink).ok());
    auto exit = sink.Wait(c.name);
    ASSERT_TRUE(exit.has_value()) << c.name;
    EXPECT_TRUE(exit->succeeded()) << c.name << ": " << exit->reason;
    std::string numpy = ReadFile(r.bundle / "outputs" / "numpy");
    EXPECT_EQ(numpy, c.light ? "false" : "true") << c.name;
  }
  // A job that imports more than it said still runs there (only slower).
  JobRequest r = Bundle("more",
                        "class M:\n    def execute(self):\n        import numpy\n"
                        "        n = int(numpy.arange(4).sum())\n        return n\n");
  r.modules = std::vector<std::string>{};
  ASSERT_TRUE(backend->Submit(r, &sink).ok());
  auto exit = sink.Wait("more");
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->succeeded()) << exit->reason;
  EXPECT_EQ(ReadFile(r.bundle / "outputs" / "n"), "6");
}

}  // namespace
}  // namespace kiln
