// ExecutionPlan: the pure state machine of one execution, like ninja's Plan.
// It knows the jobs, which needs which, and each job's state; it answers
// "what is ready now" and applies started/finished/failed/cancelled. It does
// no I/O and knows nothing of bundles, caches or backends: the Driver
// (driver.h) does those and tells the plan what happened.
//
// States (runs/records.h): a job starts pending; TakeReady() moves the jobs
// whose upstream jobs are all done (succeeded or cached) to queued and returns
// them; the driver then marks each Started → Succeeded, or Cached/Failed
// directly from queued (a cache hit, a bundle that could not be made). A
// failed or cancelled job marks every job downstream of it skipped, with a
// reason naming it. Every transition is checked: a wrong one is
// FailedPrecondition and changes nothing.
//
// Ownership: a value type. Thread-safety: none; the driver holds its lock.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runs/records.h"

namespace kiln {

class ExecutionPlan {
 public:
  // `names` (for reasons) gives the number of jobs; an edge (from, to) means
  // `to` reads an output of `from`. InvalidArgument on an index out of range,
  // a self-edge or a cycle.
  static Result<ExecutionPlan> Create(std::vector<std::string> names,
                                      const std::vector<std::pair<size_t, size_t>>& edges);

  size_t size() const { return jobs_.size(); }
  JobState state(size_t job) const { return jobs_[job].state; }
  const std::string& reason(size_t job) const { return jobs_[job].reason; }
  const std::string& name(size_t job) const { return jobs_[job].name; }
  const std::vector<size_t>& upstream(size_t job) const { return jobs_[job].in; }
  const std::vector<size_t>& downstream(size_t job) const { return jobs_[job].out; }

  // The pending jobs whose upstream jobs are all done, now queued, in index
  // order. Each job is returned once.
  std::vector<size_t> TakeReady();

  // queued → running.
  Status Start(size_t job);
  // running → succeeded.
  Status Succeed(size_t job);
  // queued → cached (a cache hit: the job never ran).
  Status Cache(size_t job);
  // queued or running → failed; returns the jobs it skipped.
  Result<std::vector<size_t>> Fail(size_t job, std::string reason);
  // queued or running → cancelled; returns the jobs it skipped.
  Result<std::vector<size_t>> Cancel(size_t job, std::string reason);

  struct CancelOutcome {
    std::vector<size_t> cancelled;  // pending or queued jobs, now cancelled
    std::vector<size_t> running;    // still running: the driver kills them, then Cancel()s each
  };
  // Cancels everything that has not started.
  CancelOutcome CancelAll(const std::string& reason);

  // Every job is in a terminal state.
  bool Done() const { return terminal_ == jobs_.size(); }
  size_t CountIn(JobState state) const;

 private:
  struct Job {
    std::string name;
    JobState state = JobState::kPending;
    std::string reason;
    std::vector<size_t> in, out;
    size_t waiting = 0;  // upstream jobs not yet done
  };

  Status Check(size_t job, std::initializer_list<JobState> from, const char* what) const;
  void Set(size_t job, JobState state, std::string reason);
  std::vector<size_t> SkipDownstream(size_t job, const std::string& reason);

  std::vector<Job> jobs_;
  std::vector<size_t> ready_;  // pending jobs with waiting == 0, not yet taken
  size_t terminal_ = 0;
};

}  // namespace kiln
