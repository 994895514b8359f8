#include "compute/remote/remote_backend.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kiln {
namespace {

namespace fs = std::filesystem;

class Recorder : public JobSink {
 public:
  void OnEvents(const std::string& id, std::vector<std::string> lines) override {
    std::lock_guard lock(mu_);
    for (auto& l : lines) events_[id].push_back(l);
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
  std::optional<JobExit> WaitExit(const std::string& id) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return exits_.count(id) > 0; });
    if (!exits_.count(id)) return std::nullopt;
    return exits_[id];
  }
  std::vector<JobPlacement> Placed(const std::string& id) {
    std::lock_guard lock(mu_);
    return placed_[id];
  }
  std::vector<std::string> Events(const std::string& id) {
    std::lock_guard lock(mu_);
    return events_[id];
  }
  bool Ended(const std::string& id) {
    std::lock_guard lock(mu_);
    return exits_.count(id) > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<std::string>> events_;
  std::map<std::string, JobExit> exits_;
  std::map<std::string, std::vector<JobPlacement>> placed_;
};

class RemoteBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln-remote-" + PushedEvents::NewToken().substr(0, 12));
    fs::create_directories(dir_ / "artifacts");
    input_ = dir_ / "artifacts" / std::string(64, 'a');
    std::ofstream(input_) << "input bytes";
    RemoteBackendOptions o;
    o.name = "lab";
    o.worker_timeout_s = 30;
    o.events = &events_;
    o.files = &gate_;
    o.now = [this] { return now_.load(); };
    backend_ = std::move(RemoteBackend::Start(o)).value();
  }
  void TearDown() override {
    backend_.reset();
    fs::remove_all(dir_);
  }

  JobRequest Job(const std::string& id, int gpus = 0) {
    fs::path bundle = dir_ / "jobs" / id;
    fs::create_directories(bundle / "outputs");
    std::ofstream(bundle / "operation.py") << "class Op: pass\n";
    nlohmann::json spec = {
        {"job_id", id}, {"inputs", {{"data", {{"path", input_.string()}, {"serializer", "raw"}}}}}};
    std::ofstream(bundle / "spec.json") << spec.dump();
    JobRequest r;
    r.job_id = id;
    r.bundle = bundle;
    r.resources.gpus = gpus;
    return r;
  }
  LeaseReply Lease(const std::string& worker, std::vector<std::string> holding, size_t slots = 1,
                   int gpus = 0) {
    WorkerHello h{worker, slots, gpus, "", std::move(holding)};
    auto r = backend_->Lease(h);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LeaseReply{};
  }

  fs::path dir_, input_;
  std::atomic<double> now_{1000};
  PushedEvents events_;
  JobFileGate gate_;
  Recorder sink_;
  std::unique_ptr<RemoteBackend> backend_;
};

TEST_F(RemoteBackendTest, AWorkerLeasesWhatFitsItsSlotsAndReportsTheExit) {
  ASSERT_TRUE(backend_->Submit(Job("j1"), &sink_).ok());
  ASSERT_TRUE(backend_->Submit(Job("j2"), &sink_).ok());
  LeaseReply first = Lease("a", {});
  ASSERT_EQ(first.jobs.size(), 1u);  // one slot
  const LeasedJob& j = first.jobs[0];
  EXPECT_EQ(j.job_id, "j1");
  ASSERT_EQ(j.manifest.files.size(), 2u);  // operation.py, spec.json
  ASSERT_EQ(j.manifest.inputs.size(), 1u);
  EXPECT_EQ(j.manifest.inputs[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(j.manifest.inputs[0].size, 11u);

  // Files by the job's token, only those listed.
  EXPECT_EQ(gate_.FileToSend("j1", "wrong", "spec.json").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(gate_.FileToSend("j1", j.token, "../../etc/passwd").status().code(), Code::kNotFound);
  EXPECT_EQ(*gate_.FileToSend("j1", j.token, "spec.json"), dir_ / "jobs/j1/spec.json");
  EXPECT_EQ(*gate_.InputToSend("j1", j.token, "data"), input_);
  EXPECT_EQ(gate_.FileToReceive("j1", j.token, "outputs/../spec.json").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(gate_.FileToReceive("j1", j.token, "spec.json").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(*gate_.FileToReceive("j1", j.token, "outputs/loss"), dir_ / "jobs/j1/outputs/loss");
  // j2 is not offered yet: its files are not reachable with any token.
  EXPECT_EQ(gate_.FileToSend("j2", j.token, "spec.json").status().code(), Code::kNotFound);

  // The next lease lists j1: it runs on a, as the placement says.
  EXPECT_TRUE(Lease("a", {"j1"}).jobs.empty());
  auto placed = sink_.Placed("j1");
  ASSERT_FALSE(placed.empty());
  EXPECT_TRUE(placed.back().running);
  EXPECT_EQ(placed.back().host, "a");

  // Exit before its events all arrived: push the rest first.
  uint64_t next = 99;
  Status early = backend_->Exit("j1", j.token, JobExit{}, 2, &next);
  EXPECT_EQ(early.code(), Code::kFailedPrecondition);
  EXPECT_EQ(next, 0u);
  ASSERT_TRUE(events_.Receive("j1", j.token, 0, "{\"a\":1}\n{\"b\":2}\n", nullptr).ok());
  ASSERT_TRUE(backend_->Exit("j1", j.token, JobExit{}, 2, &next).ok());
  auto exit = sink_.WaitExit("j1");
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->succeeded());
  EXPECT_EQ(sink_.Events("j1").size(), 2u);
  EXPECT_EQ(gate_.FileToSend("j1", j.token, "spec.json").status().code(), Code::kNotFound);
  // A retried exit report finds no such job.
  EXPECT_EQ(backend_->Exit("j1", j.token, JobExit{}, 2, &next).code(), Code::kNotFound);
  // The slot is free: j2 goes out.
  LeaseReply second = Lease("a", {});
  ASSERT_EQ(second.jobs.size(), 1u);
  EXPECT_EQ(second.jobs[0].job_id, "j2");
}

TEST_F(RemoteBackendTest, AnOfferTheWorkerNeverListedIsOfferedAgainWithTheSameToken) {
  ASSERT_TRUE(backend_->Submit(Job("j1"), &sink_).ok());
  LeaseReply first = Lease("a", {});
  ASSERT_EQ(first.jobs.size(), 1u);
  LeaseReply again = Lease("a", {});  // the first answer was lost on the way
  ASSERT_EQ(again.jobs.size(), 1u);
  EXPECT_EQ(again.jobs[0].token, first.jobs[0].token);
  // Another worker does not get it meanwhile.
  EXPECT_TRUE(Lease("b", {}).jobs.empty());
}

TEST_F(RemoteBackendTest, ALostWorkersJobGoesElsewhereWithANewTokenAndItsEventsContinue) {
  ASSERT_TRUE(backend_->Submit(Job("j1"), &sink_).ok());
  LeaseReply first = Lease("a", {});
  ASSERT_EQ(first.jobs.size(), 1u);
  std::string old_token = first.jobs[0].token;
  Lease("a", {"j1"});
  ASSERT_TRUE(events_.Receive("j1", old_token, 0, "{\"epoch\":0}\n", nullptr).ok());
  Lease("b", {});  // b is alive
  now_ = now_ + 31;
  Lease("b", {});  // b keeps in touch; a does not
  backend_->CheckWorkers();
  auto placed = sink_.Placed("j1");
  ASSERT_FALSE(placed.empty());
  EXPECT_FALSE(placed.back().running);
  EXPECT_NE(placed.back().note.find("worker 'a' was lost"), std::string::npos)
      << placed.back().note;

  LeaseReply retry = Lease("b", {});
  ASSERT_EQ(retry.jobs.size(), 1u);
  EXPECT_NE(retry.jobs[0].token, old_token);
  EXPECT_EQ(retry.jobs[0].events_from, 1u);  // the line a pushed arrived once
  // The old holder can neither push nor fetch.
  EXPECT_FALSE(events_.Receive("j1", old_token, 1, "{\"epoch\":1}\n", nullptr).ok());
  EXPECT_EQ(gate_.FileToSend("j1", old_token, "spec.json").status().code(),
            Code::kPermissionDenied);
  // a comes back still holding it: it is told to cancel it.
  LeaseReply back = Lease("a", {"j1"});
  EXPECT_EQ(back.cancel, std::vector<std::string>{"j1"});
  EXPECT_TRUE(back.jobs.empty());

  std::string token = retry.jobs[0].token;
  Lease("b", {"j1"});
  ASSERT_TRUE(events_.Receive("j1", token, 1, "{\"epoch\":1}\n", nullptr).ok());
  ASSERT_TRUE(backend_->Exit("j1", token, JobExit{}, 2, nullptr).ok());
  ASSERT_TRUE(sink_.WaitExit("j1"));
  EXPECT_EQ(sink_.Events("j1"), (std::vector<std::string>{"{\"epoch\":0}", "{\"epoch\":1}"}));
}

TEST_F(RemoteBackendTest, AWorkerThatRestartedLosesItsJobsAndAJobLostTooOftenFails) {
  ASSERT_TRUE(backend_->Submit(Job("j1"), &sink_).ok());
  for (int attempt = 0; attempt < 3; ++attempt) {
    LeaseReply r = Lease("a", {});
    ASSERT_EQ(r.jobs.size(), 1u) << attempt;
    Lease("a", {"j1"});
    Lease("a", {});            // restarted: it no longer has the job
    backend_->CheckWorkers();  // runs the callbacks that requeue it
  }
  auto exit = sink_.WaitExit("j1");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->end, JobExit::End::kLost);
  EXPECT_NE(exit->reason.find("lost with its worker 3 times"), std::string::npos) << exit->reason;
}

TEST_F(RemoteBackendTest, CancelEndsAQueuedJobAtOnceAndTellsTheWorkerOfARunningOne) {
  ASSERT_TRUE(backend_->Submit(Job("queued"), &sink_).ok());
  ASSERT_TRUE(backend_->Cancel("queued").ok());
  auto exit = sink_.WaitExit("queued");
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->cancelled);

  ASSERT_TRUE(backend_->Submit(Job("j1"), &sink_).ok());
  LeaseReply r = Lease("a", {});
  ASSERT_EQ(r.jobs.size(), 1u);
  ASSERT_TRUE(backend_->Cancel("j1").ok());
  EXPECT_FALSE(sink_.Ended("j1"));  // until the worker says it stopped
  EXPECT_EQ(Lease("a", {"j1"}).cancel, std::vector<std::string>{"j1"});
  JobExit stopped;
  stopped.exit_code = 143;
  ASSERT_TRUE(backend_->Exit("j1", r.jobs[0].token, stopped, 0, nullptr).ok());
  exit = sink_.WaitExit("j1");
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->cancelled);
  EXPECT_EQ(backend_->Cancel("j1").code(), Code::kNotFound);
}

TEST_F(RemoteBackendTest, GpuJobsGoToWorkersWithFreeGpus) {
  ASSERT_TRUE(backend_->Submit(Job("g1", 1), &sink_).ok());
  ASSERT_TRUE(backend_->Submit(Job("g2", 1), &sink_).ok());
  ASSERT_TRUE(backend_->Submit(Job("cpu"), &sink_).ok());
  EXPECT_EQ(Lease("no-gpu", {}, 4, 0).jobs.size(), 1u);  // only the CPU job
  LeaseReply r = Lease("one-gpu", {}, 4, 1);
  ASSERT_EQ(r.jobs.size(), 1u);
  EXPECT_EQ(r.jobs[0].job_id, "g1");
  EXPECT_EQ(r.jobs[0].gpus, 1);
  EXPECT_TRUE(Lease("one-gpu", {"g1"}, 4, 1).jobs.empty());  // its GPU is taken
}

TEST_F(RemoteBackendTest, BadHellosAreRefused) {
  EXPECT_EQ(backend_->Lease({"", 1, 0, "", {}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(backend_->Lease({"../x", 1, 0, "", {}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(backend_->Lease({"a", 0, 0, "", {}}).status().code(), Code::kInvalidArgument);
  // Unknown jobs a worker holds (a previous server's) are cancelled.
  EXPECT_EQ(Lease("a", {"ghost"}).cancel, std::vector<std::string>{"ghost"});
}

}  // namespace
}  // namespace kiln
