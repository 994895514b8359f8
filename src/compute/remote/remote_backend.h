// RemoteBackend: runs jobs on `kiln worker` processes that connect out to the
// server (machines behind NAT: a lab workstation with a GPU; docs/compute.md,
// "Remote workers"). The server never connects to a worker. A worker asks
// for work with Lease() every poll interval (the POST /workers/lease route),
// listing the jobs it holds; the answer hands it jobs that fit its free
// slots and GPUs, and names jobs it must cancel. The worker fetches each
// job's bundle files and inputs with the job's token (FileToSend,
// InputToSend), runs it with its own warm zygotes, pushes its events
// (PushedEvents), uploads result.json and the outputs into the job's bundle
// here (FileToReceive), and reports the exit (Exit). The driver then
// collects outputs from the bundle exactly as for a local job.
//
// A job's life here: queued → offered (in a lease answer to worker W) →
// running (W listed it in a later lease) → ended (W reported its exit). An
// offer W never listed (the answer was lost) is offered again. A worker
// that has not leased for worker_timeout_s is lost; so is a job it ran and
// stopped listing (it restarted): such a job goes back to the queue with a
// new token, so the old holder, should it come back, can neither push nor
// report for it, and is told to cancel it. A job lost max_attempts times
// fails. Its pushed events continue at the line count the server had, so
// nothing arrives twice.
//
// Ownership: borrows the PushedEvents gateway and the JobFileGate (they must
// outlive the backend) and the sinks given to Submit. Owns one thread that finds lost workers and
// makes the callbacks Submit and Cancel may not make themselves.
// Thread-safety: every public method is safe from any thread; sinks are
// never called with the backend's lock held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compute/compute_backend.h"
#include "compute/job_file_gate.h"
#include "compute/pushed_events.h"

namespace kiln {

struct RemoteBackendOptions {
  std::string name = "workers";    // the backend's name (placements, messages)
  double worker_timeout_s = 30;    // no lease for this long: the worker is lost
  double poll_s = 0.5;             // how often a worker should lease (told in each answer)
  size_t max_jobs = 1000;          // jobs queued or running at once (Slots)
  int max_attempts = 3;            // a job lost with its worker this often fails
  PushedEvents* events = nullptr;  // borrowed; required
  JobFileGate* files = nullptr;    // borrowed; required
  // Steady seconds; tests pass a clock of their own and call CheckWorkers.
  std::function<double()> now;
};

// What a worker says when it leases.
struct WorkerHello {
  std::string name;  // unique per worker ("gpu-box-1")
  size_t slots = 1;
  int gpus = 0;
  std::string gpu_type;
  std::vector<std::string> holding;  // ids of the jobs it has (fetching, running, uploading)
};

// A job handed to a worker: what it needs to run it.
struct LeasedJob {
  std::string job_id;
  std::string token;         // the job's own; for its file, events and exit routes
  uint64_t events_from = 0;  // the offset of the job's first event line (lines of
                             // an earlier attempt already arrived)
  JobManifest manifest;      // what it fetches
  JobLimits limits;
  std::map<std::string, std::string> env;
  std::optional<std::vector<std::string>> modules;
  int gpus = 0;
};

struct LeaseReply {
  std::vector<LeasedJob> jobs;
  std::vector<std::string> cancel;  // jobs the worker holds and must stop and forget
  double poll_s = 0.5;
};

struct WorkerInfo {
  std::string name;
  size_t slots = 0;
  int gpus = 0;
  std::string gpu_type;
  size_t jobs = 0;
  double seen_s_ago = 0;
};

class RemoteBackend : public ComputeBackend {
 public:
  static Result<std::unique_ptr<RemoteBackend>> Start(RemoteBackendOptions options);
  ~RemoteBackend() override;

  size_t Slots() const override { return options_.max_jobs; }
  Status Submit(const JobRequest& request, JobSink* sink) override;
  Status Cancel(const std::string& job_id) override;
  bool ReportsPlacement() const override { return true; }
  void Unbind(JobSink* sink) override;
  std::map<std::string, uint64_t> Stats() const override;

  // The worker routes. Lease also counts as the worker's heartbeat.
  Result<LeaseReply> Lease(const WorkerHello& hello);
  // The worker's report that the job ended, after it pushed `lines` event
  // lines in all (counting from 0, across attempts). FailedPrecondition with
  // *next set when fewer arrived: push from *next, then report again.
  Status Exit(const std::string& job_id, std::string_view token, const JobExit& exit,
              uint64_t lines, uint64_t* next);
  bool Has(const std::string& job_id) const;
  std::vector<WorkerInfo> Workers() const;
  const std::string& name() const { return options_.name; }
  // Finds lost workers and requeues their jobs; the thread calls it every
  // ~worker_timeout_s / 4 (at most 1 s apart).
  void CheckWorkers();
  // The server stopped listening (its HTTP server is down): workers cannot
  // report any more, so Cancel ends a job on a worker at once instead of
  // waiting for its report. A worker that reaches the next server holding
  // it is told to cancel it there (that server does not know it).
  void ServerStopping();
  // Stops the thread: no callback from it after this returns (a server
  // shutting down calls it before the router it calls goes away).
  void Stop();

 private:
  explicit RemoteBackend(RemoteBackendOptions options);
  // kRequeued: back from a lost worker, waiting for its new token.
  enum class State { kQueued, kRequeued, kOffered, kRunning };
  struct Job {
    JobRequest request;
    JobSink* sink = nullptr;
    State state = State::kQueued;
    std::string token;
    std::string worker;
    int attempts = 0;  // leases to a worker that was lost with it
    uint64_t events_from = 0;
    bool cancel_requested = false;
    uint64_t seq = 0;  // queue order
  };
  struct Worker {
    WorkerHello hello;
    double last_seen = 0;
  };
  struct Callback {
    std::string job_id;
    JobSink* sink = nullptr;
    std::optional<JobPlacement> placed;
    std::optional<JobExit> exit;
    std::optional<std::string> rekey = std::nullopt;  // give the job this token, then queue it
  };

  double Now() const { return options_.now(); }
  Result<const Job*> Authorized(const std::string& job_id, std::string_view token) const;
  // Opens the job's files to its token (if not yet) and describes it (lock held).
  Result<LeasedJob> Offer(Job& job, const std::string& worker);
  // A job whose worker lost it: back to the queue with a new token, or
  // failed after max_attempts (lock held).
  void Requeue(const std::string& job_id, const std::string& why, std::vector<Callback>& out);
  void EndLocked(const std::string& job_id, const JobExit& exit, std::vector<Callback>& out);
  void Run(std::vector<Callback>& callbacks);
  void Loop();

  RemoteBackendOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, Worker> workers_;
  std::vector<Callback> pending_;  // made under the lock by Submit/Cancel; run by the thread
  uint64_t next_seq_ = 0;
  uint64_t retried_ = 0, lost_workers_ = 0, leases_ = 0;
  bool stop_ = false;
  bool server_stopping_ = false;
  std::atomic<int> calling_{0};  // Run()s in progress (Unbind waits for them)
  std::thread thread_;
};

}  // namespace kiln
