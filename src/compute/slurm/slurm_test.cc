// The Slurm backend's decisions, against a fake cluster (FakeSlurm): state
// mapping (testdata/slurm_states.txt), squeue parsing (real 22.05 output,
// tests/slurm/squeue_sample.json), sbatch options, job arrays, one squeue
// call per poll, retries, cancel, adoption. tests/slurm runs the real one.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "compute/backend_router.h"
#include "compute/fake_backend.h"
#include "compute/pushed_events.h"
#include "compute/slurm/sbatch_plan.h"
#include "compute/slurm/slurm_backend.h"
#include "compute/slurm/slurm_states.h"
#include "compute/slurm/squeue_json.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

std::vector<std::string> Split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(Trim(s.substr(start, p == std::string::npos ? std::string::npos : p - start)));
    if (p == std::string::npos) return out;
    start = p + sep.size();
  }
}

TEST(SlurmStates, CaseFile) {
  std::ifstream in(fs::path(KILN_SOURCE_DIR) / "src/compute/slurm/testdata/slurm_states.txt");
  ASSERT_TRUE(in) << "missing case file";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto halves = Split(line, "=>");
    ASSERT_EQ(halves.size(), 2u) << line;
    auto in_f = Split(halves[0], "|");
    auto out_f = Split(halves[1], "|");
    ASSERT_EQ(in_f.size(), 7u) << line;
    ASSERT_EQ(out_f.size(), 4u) << line;
    SlurmJobStatus s{"1", in_f[0], in_f[1], std::stoi(in_f[2]), std::stoi(in_f[3]), ""};
    SlurmOutcome o = MapSlurmState(s, in_f[4] == "yes", std::stoull(in_f[5]), std::stod(in_f[6]));
    std::string kind;
    switch (o.kind) {
      case SlurmOutcome::Kind::kWaiting:
        kind = "waiting";
        break;
      case SlurmOutcome::Kind::kRunning:
        kind = "running";
        break;
      case SlurmOutcome::Kind::kEnded:
        kind = o.exit.end == JobExit::End::kExited ? "exited " + std::to_string(o.exit.exit_code)
               : o.exit.end == JobExit::End::kSignaled ? "signaled " + std::to_string(o.exit.signal)
                                                       : "lost";
    }
    EXPECT_EQ(kind, out_f[0]) << line;
    EXPECT_EQ(o.exit.cancelled, out_f[1] == "yes") << line;
    EXPECT_EQ(o.exit.timed_out, out_f[2] == "yes") << line;
    EXPECT_EQ(o.kind == SlurmOutcome::Kind::kWaiting ? o.note : o.exit.reason, out_f[3]) << line;
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

TEST(SqueueJson, RealOutputOfSlurm2205) {
  std::ifstream in(fs::path(KILN_SOURCE_DIR) / "tests/slurm/squeue_sample.json");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str());
  auto all = ParseSqueueJson(text.str(), "kiln-cluster");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  // Every job of that name in the sample is there, arrays task by task.
  size_t expected = 0;
  for (const auto& j : doc["jobs"]) {
    if (j["name"] != "kiln-cluster") continue;
    if (j["array_task_id"].is_null() && j["array_task_string"].is_string() &&
        !j["array_task_string"].get<std::string>().empty()) {
      expected += ExpandArrayTasks(j["array_task_string"].get<std::string>())->size();
    } else {
      expected += 1;
    }
  }
  EXPECT_EQ(all->size(), expected);
  EXPECT_GT(expected, 0u);
  for (const auto& [id, s] : *all) {
    EXPECT_FALSE(s.state.empty()) << id;
    if (s.state == "RUNNING") {
      EXPECT_FALSE(s.nodes.empty()) << id;
    }
  }
  auto none = ParseSqueueJson(text.str(), "kiln-other");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SqueueJson, ArraysTasksAndErrors) {
  std::string json = R"({"jobs": [
    {"job_id": 10, "array_job_id": 10, "array_task_id": null, "array_task_string": "2-4,7%2",
     "name": "kiln-c", "job_state": "PENDING", "state_reason": "Resources", "exit_code": 0,
     "nodes": ""},
    {"job_id": 11, "array_job_id": 10, "array_task_id": 0, "array_task_string": "",
     "name": "kiln-c", "job_state": "RUNNING", "state_reason": "None", "exit_code": 0,
     "nodes": "n01"},
    {"job_id": 12, "array_job_id": 10, "array_task_id": 1, "name": "kiln-c",
     "job_state": "FAILED", "state_reason": "NonZeroExitCode", "exit_code": 768, "nodes": "n01"},
    {"job_id": 20, "array_job_id": 0, "array_task_id": null, "name": "kiln-c",
     "job_state": ["OUT_OF_MEMORY"], "state_reason": "OutOfMemory",
     "exit_code": {"status": ["SIGNALED"], "return_code": {"set": true, "number": 0},
                   "signal": {"id": {"set": true, "number": 9}}}, "nodes": "n02"},
    {"job_id": 30, "array_job_id": 0, "name": "someone-else", "job_state": "RUNNING"}]})";
  auto r = ParseSqueueJson(json, "kiln-c");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> ids;
  for (const auto& [id, s] : *r) ids.push_back(id);
  EXPECT_EQ(ids, (std::vector<std::string>{"10_0", "10_1", "10_2", "10_3", "10_4", "10_7", "20"}));
  EXPECT_EQ(r->at("10_0").nodes, "n01");
  EXPECT_EQ(r->at("10_1").exit_code, 3);  // 22.05 writes the wait() status: 3 << 8
  EXPECT_EQ(r->at("10_3").reason, "Resources");
  EXPECT_EQ(r->at("20").state, "OUT_OF_MEMORY");
  EXPECT_EQ(r->at("20").exit_signal, 9);
  EXPECT_FALSE(ParseSqueueJson("squeue: error: Unable to contact slurm controller", "x").ok());
  // The controller down: exit 0, errors and no jobs. Not "every job is gone".
  auto down = ParseSqueueJson(
      R"J({"errors": [{"error": "Unable to contact slurm controller (connect failure)",
                       "error_number": 1}], "jobs": []})J",
      "kiln-c");
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_FALSE(ExpandArrayTasks("3-1").ok());
  EXPECT_FALSE(ExpandArrayTasks("a").ok());
  EXPECT_EQ(*ExpandArrayTasks("0-6:3"), (std::vector<int64_t>{0, 3, 6}));
}

TEST(SbatchPlan, ResourcesMapToOptions) {
  SlurmSite site;
  site.partition = "debug";
  site.sbatch_args = {"--account=lab"};
  JobRequest r;
  r.resources.cpus = 4;
  r.resources.memory_mb = 2048;
  r.resources.gpus = 2;
  r.resources.gpu_type = "a100";
  r.limits.timeout_s = 3700.5;
  r.limits.memory_bytes = 12ull << 30;  // the server's local default: not the cluster's
  auto o = SbatchOptions(site, r);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o,
            (std::vector<std::string>{"--partition=debug", "--cpus-per-task=4", "--mem=2048M",
                                      "--gres=gpu:a100:2", "--time=01:02:00", "--account=lab"}));
  site.gpu_flag = "gpus";
  r.resources.partition = "gpu";
  r.resources.gpu_type = "";
  r.resources.memory_mb = 0;
  site.default_memory_mb = 500;
  o = SbatchOptions(site, r);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (std::vector<std::string>{"--partition=gpu", "--cpus-per-task=4", "--mem=500M",
                                          "--gpus=2", "--time=01:02:00", "--account=lab"}));
  EXPECT_EQ(SlurmTime(0), "");
  EXPECT_EQ(SlurmTime(2 * 86400 + 5), "2-00:01:00");
  EXPECT_EQ(SlurmTime(30), "00:01:00");
  site.gpu_flag = "tres";
  EXPECT_FALSE(SbatchOptions(site, r).ok());
}

// ---------------------------------------------------------------- fake cluster

// Plays Slurm: sbatch assigns ids and records the call; the test sets each
// job's squeue state.
class FakeSlurm : public SlurmCommands {
 public:
  Result<std::string> Sbatch(const std::vector<std::string>& args,
                             const std::string& script) override {
    std::lock_guard lock(mu_);
    calls_++;
    if (!fail_.empty()) {
      std::string f = fail_.front();
      fail_.erase(fail_.begin());
      if (f.rfind("transient:", 0) == 0) return Unavailable(f.substr(10));
      return InvalidArgument(f);
    }
    std::string id = std::to_string(next_id_++);
    sbatches_.push_back({args, script, id});
    size_t tasks = 1;
    for (const auto& a : args) {
      if (a.rfind("--array=0-", 0) == 0) tasks = std::stoul(a.substr(10)) + 1;
    }
    for (size_t i = 0; i < tasks; ++i) {
      states_[tasks > 1 ? id + "_" + std::to_string(i) : id] = {"PENDING", "Priority", 0, ""};
    }
    return id;
  }
  Result<std::string> SqueueJson() override {
    std::lock_guard lock(mu_);
    calls_++;
    squeues_++;
    if (down_) return Unavailable("squeue failed: Unable to contact slurm controller");
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& [id, s] : states_) {
      auto us = id.find('_');
      int64_t job = std::stoll(id.substr(0, us));
      nlohmann::json j = {{"job_id", job},
                          {"name", "kiln-cluster"},
                          {"job_state", s.state},
                          {"state_reason", s.reason},
                          {"exit_code", s.exit << 8},
                          {"nodes", s.nodes}};
      if (us != std::string::npos) {
        j["array_job_id"] = job;
        j["array_task_id"] = std::stoll(id.substr(us + 1));
      } else {
        j["array_job_id"] = 0;
        j["array_task_id"] = nullptr;
      }
      jobs.push_back(j);
    }
    return nlohmann::json{{"jobs", jobs}}.dump();
  }
  Status Scancel(const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    calls_++;
    for (const auto& id : ids) {
      cancelled_.push_back(id);
      if (states_.count(id)) states_[id] = {"CANCELLED", "None", 0, ""};
    }
    return Status::Ok();
  }
  uint64_t calls() const override { return calls_; }

  struct State {
    std::string state, reason;
    int exit = 0;
    std::string nodes;
  };
  struct Call {
    std::vector<std::string> args;
    std::string script, id;
  };
  void Set(const std::string& id, State s) {
    std::lock_guard lock(mu_);
    states_[id] = std::move(s);
  }
  void Forget(const std::string& id) {
    std::lock_guard lock(mu_);
    states_.erase(id);
  }
  std::vector<Call> sbatches() {
    std::lock_guard lock(mu_);
    return sbatches_;
  }
  std::vector<std::string> cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  void FailNext(std::string how) {
    std::lock_guard lock(mu_);
    fail_.push_back(std::move(how));
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  uint64_t squeues() {
    std::lock_guard lock(mu_);
    return squeues_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, State> states_;
  std::vector<Call> sbatches_;
  std::vector<std::string> cancelled_, fail_;
  int next_id_ = 100;
  uint64_t calls_ = 0, squeues_ = 0;
  bool down_ = false;
};

// Records callbacks; waits for them.
class Recorder : public JobSink {
 public:
  void OnEvents(const std::string& id, std::vector<std::string> lines) override {
    std::lock_guard lock(mu_);
    for (auto& l : lines) events_[id].push_back(l);
    cv_.notify_all();
  }
  void OnExit(const std::string& id, const JobExit& exit) override {
    std::lock_guard lock(mu_);
    exits_[id] = exit;
    cv_.notify_all();
  }
  void OnPlaced(const std::string& id, const JobPlacement& p) override {
    std::lock_guard lock(mu_);
    placed_[id].push_back(p);
    cv_.notify_all();
  }
  // Copies, taken under the lock (the backend may still be calling).
  std::vector<JobPlacement> Placed(const std::string& id) {
    std::lock_guard lock(mu_);
    return placed_[id];
  }
  JobExit Exit(const std::string& id) {
    std::lock_guard lock(mu_);
    return exits_[id];
  }
  std::vector<std::string> Events(const std::string& id) {
    std::lock_guard lock(mu_);
    return events_[id];
  }
  template <typename F>
  bool WaitFor(F done, int ms = 5000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return done(); });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<std::string>> events_;
  std::map<std::string, JobExit> exits_;
  std::map<std::string, std::vector<JobPlacement>> placed_;
};

class SlurmBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln-slurm-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }
  // `window_ms`: the array window; tests that count sbatch calls widen it,
  // so a loaded machine cannot split their submissions into two arrays.
  void Start(bool fetch = false, int window_ms = 50) {
    SlurmBackendOptions o;
    o.site.name = "cluster";
    o.site.fetch_bundles = fetch;
    o.files = &gate_;
    o.site.events_url = "http://127.0.0.1:1/api/v1/jobs";
    o.shared_dir = dir_;
    o.poll_min_s = 0.02;
    o.poll_max_s = 0.1;
    o.array_window_ms = window_ms;
    o.retry_for_s = 600;
    o.commands = &slurm_;
    o.events = &events_;
    auto b = SlurmBackend::Start(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(*b);
  }
  JobRequest Job(const std::string& id, int cpus = 0) {
    JobRequest r;
    r.job_id = id;
    r.bundle = dir_ / "jobs" / id;
    fs::create_directories(r.bundle);
    std::ofstream(r.bundle / "spec.json") << R"({"job_id": ")" << id << R"("})";
    r.resources.cpus = cpus;
    r.env = {{"OMP_NUM_THREADS", "1"}};
    return r;
  }
  fs::path dir_;
  FakeSlurm slurm_;
  PushedEvents events_;
  JobFileGate gate_;
  Recorder sink_;
  std::unique_ptr<SlurmBackend> backend_;
};

TEST_F(SlurmBackendTest, ReadyJobsOfOneShapeGoInAsOneArray) {
  Start(/*fetch=*/false, /*window_ms=*/1000);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(backend_->Submit(Job("a" + std::to_string(i)), &sink_).ok());
  ASSERT_TRUE(backend_->Submit(Job("big", 8), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.placed_.size() == 6; }));
  auto calls = slurm_.sbatches();
  ASSERT_EQ(calls.size(), 2u);  // one array of five, one plain job with another shape
  std::vector<std::string> arrays;
  for (const auto& c : calls) {
    for (const auto& a : c.args) {
      if (a.rfind("--array", 0) == 0) arrays.push_back(a);
    }
    EXPECT_NE(std::find(c.args.begin(), c.args.end(), "--job-name=kiln-cluster"), c.args.end());
    EXPECT_NE(c.script.find("-m kiln.job"), std::string::npos);
  }
  EXPECT_EQ(arrays, std::vector<std::string>{"--array=0-4"});
  // Task i of the array is job a<i>; its placement names the array task.
  std::string array_id = calls[0].args.back().rfind("--array", 0) == 0 ? calls[0].id : calls[0].id;
  std::lock_guard lock(sink_.mu_);
  std::set<std::string> slurm_ids;
  for (const auto& [id, p] : sink_.placed_) slurm_ids.insert(p.front().backend_job);
  EXPECT_EQ(slurm_ids.size(), 6u);
  EXPECT_EQ(sink_.placed_["a3"].front().backend_job.substr(
                sink_.placed_["a3"].front().backend_job.find('_')),
            "_3");
  // The job's environment went into its spec (kiln.job applies it).
  std::ifstream spec(dir_ / "jobs" / "a0" / "spec.json");
  EXPECT_EQ(nlohmann::json::parse(spec)["env"]["OMP_NUM_THREADS"], "1");
}

// Without a shared folder: the task list is inside the script (no file of
// the server's is read on the node), the task runs kiln.remote_bundle, and
// the job's files are open to its token while it is in Slurm.
TEST_F(SlurmBackendTest, WithoutASharedFolderJobsFetchTheirBundles) {
  Start(/*fetch=*/true, /*window_ms=*/1000);
  ASSERT_TRUE(backend_->Submit(Job("f0"), &sink_).ok());
  ASSERT_TRUE(backend_->Submit(Job("f1"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.placed_.size() == 2; }));
  auto calls = slurm_.sbatches();
  ASSERT_EQ(calls.size(), 1u);
  const std::string& script = calls[0].script;
  EXPECT_NE(script.find("-m kiln.remote_bundle"), std::string::npos) << script;
  EXPECT_EQ(script.find("-m kiln.job"), std::string::npos) << script;
  EXPECT_FALSE(fs::exists(dir_ / "slurm") && !fs::is_empty(dir_ / "slurm"));  // no task file
  for (const auto& a : calls[0].args) {
    if (a.rfind("--output=", 0) == 0) {
      EXPECT_EQ(a, "--output=/tmp/%A_%a.out");
    }
  }
  // Task 1 reads its own line out of the script: run it with a "python"
  // that prints what the job would see.
  fs::path python = dir_ / "python";
  std::ofstream(python)
      << "#!/bin/bash\necho \"$KILN_JOB_ID $KILN_FILES_URL $KILN_JOB_TOKEN $*\"\n";
  fs::permissions(python, fs::perms::owner_all);
  std::string patched = script;
  patched.replace(patched.find("'/usr/bin/python3'"), 18, "'" + python.string() + "'");
  fs::path file = dir_ / "script.sh";
  std::ofstream(file) << patched;
  FILE* p = ::popen(("SLURM_ARRAY_TASK_ID=1 bash " + file.string()).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buffer[512] = {0};
  size_t n = fread(buffer, 1, sizeof buffer - 1, p);
  ::pclose(p);
  std::string out(buffer, n);
  ASSERT_GT(out.size(), 64u) << out;
  EXPECT_EQ(out.substr(0, 3), "f1 ") << out;
  EXPECT_NE(out.find(" http://127.0.0.1:1/api/v1/jobs/f1 "), std::string::npos) << out;
  std::string token = out.substr(out.find("/f1 ") + 4, 64);
  EXPECT_NE(out.find("-m kiln.remote_bundle"), std::string::npos) << out;
  // That token opens f1's files, and nothing else.
  auto manifest = gate_.Manifest("f1", token);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->files.size(), 1u);  // spec.json
  EXPECT_EQ(gate_.Manifest("f0", token).status().code(), Code::kPermissionDenied);
  slurm_.Set(calls[0].id + "_1", {"COMPLETED", "None", 0, "n01"});
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("f1") > 0; }));
  EXPECT_EQ(gate_.Manifest("f1", token).status().code(), Code::kNotFound);
}

TEST_F(SlurmBackendTest, StatesArriveByOneSqueuePerPollAndJobsEnd) {
  Start();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(backend_->Submit(Job("j" + std::to_string(i)), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.placed_.size() == 20; }));
  // Each job's Slurm id as its placement gave it: on a loaded machine the 20
  // submissions may straddle the array window and go in as two arrays.
  std::map<int, std::string> slurm_id;
  for (int i = 0; i < 20; ++i)
    slurm_id[i] = sink_.Placed("j" + std::to_string(i)).front().backend_job;
  for (int i = 0; i < 20; ++i) slurm_.Set(slurm_id[i], {"RUNNING", "None", 0, "n01"});
  ASSERT_TRUE(sink_.WaitFor([&] {
    for (auto& [j, p] : sink_.placed_) {
      if (!p.back().running) return false;
    }
    return true;
  }));
  EXPECT_EQ(sink_.Placed("j5").back().host, "n01");
  uint64_t polls_before = slurm_.squeues();
  for (int i = 0; i < 20; ++i) {
    slurm_.Set(slurm_id[i], i == 7 ? FakeSlurm::State{"FAILED", "NonZeroExitCode", 3, "n01"}
                                   : FakeSlurm::State{"COMPLETED", "None", 0, "n01"});
  }
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.size() == 20; }));
  // Twenty jobs ended, seen by a poll or two: never one call per job.
  EXPECT_LE(slurm_.squeues() - polls_before, 3u);
  EXPECT_TRUE(sink_.Exit("j0").succeeded());
  EXPECT_EQ(sink_.Exit("j7").exit_code, 3);
  EXPECT_EQ(sink_.Exit("j7").reason, "exit code 3 (Slurm FAILED)");
}

TEST_F(SlurmBackendTest, PollingBacksOffWhileNothingChanges) {
  Start();
  ASSERT_TRUE(backend_->Submit(Job("idle"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_.empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  // Floor 0.02 s, ceiling 0.1 s: about 10 polls in a second, never 50.
  uint64_t polls = slurm_.squeues();
  EXPECT_LE(polls, 20u);
  EXPECT_GE(polls, 5u);
}

TEST_F(SlurmBackendTest, TransientSbatchFailuresAreRetriedOthersFailTheJob) {
  Start();
  slurm_.FailNext("transient:Unable to contact slurm controller (connect failure)");
  ASSERT_TRUE(backend_->Submit(Job("retry"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor(
      [&] {
        auto& p = sink_.placed_["retry"];
        return p.size() >= 2 && !p.back().backend_job.empty();
      },
      8000));
  EXPECT_NE(
      sink_.Placed("retry").front().note.find("sbatch failed (Unable to contact slurm controller"),
      std::string::npos);
  slurm_.FailNext("Batch job submission failed: Invalid partition name specified");
  ASSERT_TRUE(backend_->Submit(Job("bad"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("bad") > 0; }));
  EXPECT_EQ(sink_.Exit("bad").reason,
            "Slurm refused the job: Batch job submission failed: Invalid partition name specified");
  EXPECT_FALSE(sink_.Exit("bad").succeeded());
}

TEST_F(SlurmBackendTest, CancelRunsScancelAndEndsOnConfirmation) {
  Start();
  ASSERT_TRUE(backend_->Submit(Job("c"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_["c"].empty(); }));
  ASSERT_TRUE(backend_->Cancel("c").ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("c") > 0; }));
  EXPECT_TRUE(sink_.Exit("c").cancelled);
  EXPECT_EQ(slurm_.cancelled().size(), 1u);
  EXPECT_EQ(backend_->Cancel("c").code(), Code::kNotFound);
}

TEST_F(SlurmBackendTest, ControllerDownLosesNothing) {
  Start();
  ASSERT_TRUE(backend_->Submit(Job("d"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_["d"].empty(); }));
  std::string id = slurm_.sbatches().front().id;
  slurm_.SetDown(true);
  slurm_.Set(id, {"COMPLETED", "None", 0, "n01"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard lock(sink_.mu_);
    EXPECT_EQ(sink_.exits_.count("d"), 0u);
  }
  slurm_.SetDown(false);
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("d") > 0; }));
  EXPECT_TRUE(sink_.Exit("d").succeeded());
}

TEST_F(SlurmBackendTest, AJobSlurmForgotEndsByItsResult) {
  Start();
  JobRequest r = Job("gone");
  ASSERT_TRUE(backend_->Submit(r, &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_["gone"].empty(); }));
  std::ofstream(r.bundle / "result.json") << R"({"exit_code": 0, "status": "succeeded"})";
  slurm_.Forget(slurm_.sbatches().front().id);
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("gone") > 0; }));
  EXPECT_TRUE(sink_.Exit("gone").succeeded());
}

TEST_F(SlurmBackendTest, PushedEventsArriveOnceInOrderAndTheRestComeFromTheFile) {
  Start();
  JobRequest r = Job("ev");
  ASSERT_TRUE(backend_->Submit(r, &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_["ev"].empty(); }));
  // The token is in the task list the batch script reads.
  std::string token;
  for (const auto& entry : fs::directory_iterator(dir_ / "slurm")) {
    if (entry.path().extension() != ".tasks") continue;
    std::ifstream in(entry.path());
    std::string id, bundle;
    std::getline(in, id, '\t');
    std::getline(in, bundle, '\t');
    std::getline(in, token);
  }
  ASSERT_EQ(token.size(), 64u);
  EXPECT_EQ(events_.Receive("ev", "wrong", 0, "{}\n", nullptr).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(*events_.Receive("ev", token, 0, "{\"a\":1}\n{\"a\":2}\n", nullptr), 2u);
  EXPECT_EQ(*events_.Receive("ev", token, 1, "{\"a\":2}\n{\"a\":3}\n", nullptr), 3u);  // a retry
  uint64_t next = 0;
  auto ahead = events_.Receive("ev", token, 5, "{\"a\":6}\n", &next);
  EXPECT_EQ(ahead.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(next, 3u);
  EXPECT_EQ(events_.Receive("ev", token, 3, "{\"a\":4", nullptr).status().code(),
            Code::kInvalidArgument);
  // The job wrote two more lines it could not push before it ended.
  std::ofstream(r.bundle / "events.jsonl")
      << "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n{\"a\":5}\n{\"a\":6";
  slurm_.Set(slurm_.sbatches().front().id, {"COMPLETED", "None", 0, "n01"});
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.exits_.count("ev") > 0; }));
  EXPECT_EQ(sink_.Events("ev"), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}",
                                                          "{\"a\":4}", "{\"a\":5}"}));
  EXPECT_EQ(events_.Receive("ev", token, 5, "{}\n", nullptr).status().code(), Code::kNotFound);
}

TEST_F(SlurmBackendTest, ANewProcessAdoptsWhatThePreviousLeftInSlurm) {
  Start();
  ASSERT_TRUE(backend_->Submit(Job("kept"), &sink_).ok());
  ASSERT_TRUE(sink_.WaitFor([&] { return !sink_.placed_["kept"].empty(); }));
  ASSERT_TRUE(backend_->Detach("kept"));
  backend_.reset();  // the server stops; the job runs on in Slurm
  Recorder second;
  Start();
  EXPECT_EQ(backend_->Adopt("unknown", &second).code(), Code::kNotFound);
  ASSERT_TRUE(backend_->Adopt("kept", &second).ok());
  slurm_.Set(slurm_.sbatches().front().id, {"RUNNING", "None", 0, "n03"});
  // A poll that ran before the state changed may place it waiting first.
  ASSERT_TRUE(second.WaitFor([&] {
    auto& p = second.placed_["kept"];
    return !p.empty() && p.back().running;
  }));
  EXPECT_EQ(second.Placed("kept").back().host, "n03");
  slurm_.Set(slurm_.sbatches().front().id, {"COMPLETED", "None", 0, "n03"});
  ASSERT_TRUE(second.WaitFor([&] { return second.exits_.count("kept") > 0; }));
  EXPECT_TRUE(second.Exit("kept").succeeded());
  EXPECT_EQ(slurm_.sbatches().size(), 1u);  // adopted, not submitted again
}

// ---------------------------------------------------------------- router

TEST(BackendRouter, GpuSlotsAreHandedOutAndAThirdJobWaits) {
  // Destroyed in reverse: the router (and its posted callbacks) before the
  // sink it calls, the backend it borrows last.
  FakeBackend local(4);
  Recorder sink;
  BackendRouter router({{"local", "local", &local, 2, "", 0, "host1"}}, "");
  auto job = [](const std::string& id, int gpus) {
    JobRequest r;
    r.job_id = id;
    r.resources.gpus = gpus;
    return r;
  };
  JobRequest too_many = job("x", 3);
  EXPECT_EQ(router.Admit(too_many).message(), "asks for 3 GPUs but backend 'local' has 2");
  ASSERT_TRUE(router.Submit(job("g1", 1), &sink).ok());
  ASSERT_TRUE(router.Submit(job("g2", 1), &sink).ok());
  ASSERT_TRUE(router.Submit(job("g3", 1), &sink).ok());
  ASSERT_TRUE(router.Submit(job("cpu", 0), &sink).ok());
  ASSERT_TRUE(local.WaitRunning(3));
  std::map<std::string, std::string> visible;
  for (const JobRequest& r : local.Running()) visible[r.job_id] = r.env.at("CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(visible, (std::map<std::string, std::string>{{"g1", "0"}, {"g2", "1"}, {"cpu", ""}}));
  ASSERT_TRUE(
      sink.WaitFor([&] { return !sink.placed_["g3"].empty() && !sink.placed_["g1"].empty(); }));
  EXPECT_FALSE(sink.Placed("g3").front().running);
  EXPECT_EQ(sink.Placed("g3").front().note, "waiting for 1 free GPU on local");
  EXPECT_EQ(sink.Placed("g1").front().host, "host1");
  ASSERT_TRUE(local.Finish("g2", FakeOutcome{}).ok());
  ASSERT_TRUE(local.WaitRunning(3));
  ASSERT_TRUE(sink.WaitFor([&] {
    for (const JobRequest& r : local.Running()) {
      if (r.job_id == "g3") return true;
    }
    return false;
  }));
  for (const JobRequest& r : local.Running()) {
    if (r.job_id == "g3") {
      EXPECT_EQ(r.env.at("CUDA_VISIBLE_DEVICES"), "1");
    }
  }
}

TEST(BackendRouter, NoGpusConfiguredRefusesWithTheReasonAndUnknownBackends) {
  FakeBackend local(2);
  FakeBackend cluster(10);
  BackendRouter router({{"local", "local", &local, 0, "", 4096ull << 20, ""},
                        {"cluster", "slurm", &cluster, -1, "", 0, ""}},
                       "local");
  JobRequest r;
  r.resources.gpus = 1;
  EXPECT_EQ(router.Admit(r).message(),
            "asks for 1 GPU but backend 'local' has 0 (configure gpus = N under "
            "[backends.local] if this machine has GPUs)");
  r.resources.backend = "cluster";
  EXPECT_TRUE(router.Admit(r).ok());  // Slurm schedules GPUs itself
  r.resources.backend = "gpu-box";
  EXPECT_EQ(router.Admit(r).message(),
            "no compute backend named 'gpu-box' (this server has: local, cluster)");
  JobRequest big;
  big.limits.memory_bytes = 8192ull << 20;
  EXPECT_EQ(router.Admit(big).message(),
            "asks for 8192 MiB of memory but backend 'local' gives at most 4096 MiB");
  EXPECT_EQ(router.Slots(), 12u);
  auto info = router.Backends();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_TRUE(info[0].is_default);
  EXPECT_EQ(info[1].gpus, -1);
}

}  // namespace
}  // namespace kiln
