// FakeBackend: a ComputeBackend for tests of the scheduler. Jobs do not run
// Python: a handler the test installs plays each job (writes the outputs and
// result.json a real job would, returns the events and the exit), or, with
// no handler, jobs stay running until the test finishes them by hand.
//
// Callbacks come from the backend's own thread (as a real backend's do), so
// the driver's locking is exercised.
//
// Ownership: owns its thread; borrows sinks. Thread-safety: all methods are
// safe from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "compute/compute_backend.h"

namespace kiln {

struct FakeOutcome {
  std::vector<std::string> events;  // JSON lines
  JobExit exit;
};

class FakeBackend : public ComputeBackend {
 public:
  using Handler = std::function<FakeOutcome(const JobRequest&)>;

  explicit FakeBackend(size_t slots = 2);
  ~FakeBackend() override;

  // Plays every job submitted from now on (on the backend's thread).
  void SetHandler(Handler handler);

  size_t Slots() const override { return slots_; }
  Status Submit(const JobRequest& request, JobSink* sink) override;
  Status Cancel(const std::string& job_id) override;

  // Finishes a job that is waiting (no handler); NotFound if there is none.
  Status Finish(const std::string& job_id, FakeOutcome outcome);
  // Jobs submitted and not yet finished, in submission order.
  std::vector<JobRequest> Running() const;
  // Every request ever submitted.
  std::vector<JobRequest> Submitted() const;
  // Most jobs ever running at once.
  size_t MaxConcurrent() const;
  // Waits until `n` jobs are running (or the timeout passes); true on success.
  bool WaitRunning(size_t n, int timeout_ms = 5000);

  // Writes what a succeeded job leaves behind: each output's bytes at
  // <bundle>/outputs/<name> and a result.json naming them (json serializer).
  static Status WriteSucceeded(const JobRequest& request,
                               const std::map<std::string, std::string>& outputs);
  // A failed job's result.json with an error of `type` and `message`.
  static Status WriteFailed(const JobRequest& request, const std::string& type,
                            const std::string& message);

 private:
  struct Job {
    JobRequest request;
    JobSink* sink;
  };
  struct Delivery {
    std::string job_id;
    JobSink* sink;
    FakeOutcome outcome;
  };
  void Loop();

  const size_t slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Handler handler_;
  std::vector<Job> running_;         // guarded by mu_
  std::deque<std::string> to_play_;  // job ids waiting for the handler
  std::deque<Delivery> deliveries_;  // outcomes waiting to be reported
  std::vector<JobRequest> submitted_;
  size_t max_concurrent_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kiln
