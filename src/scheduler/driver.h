// Driver: runs executions. It compiles a pipeline at a commit into a Plan
// (pipeline/plan.h), tags the commit run/<execution id>, walks the plan's
// state machine (execution_plan.h), serves jobs from the action cache when
// their cache key is known, hands the others to a ComputeBackend up to its
// slots, streams their events into the runs store and to subscribers,
// stores their outputs in the ArtifactStore with provenance, and when an
// execution ends commits its Output artifacts to the branch in ONE commit.
//
// This is the surface the server wires to REST and WebSocket
// (docs/execution.md, "Driver API"):
//   (a) Start(StartRequest) → execution id; Cancel, CancelJob, Rerun, RerunJob;
//   (b) Subscribe(execution or "", ExecutionListener*) for live job state
//       changes, log lines, metrics, progress and figures;
//   (c) queries through runs(): executions, jobs, events by offset, metric
//       series, figures, provenance.
//
// Restart: Open() reconciles executions that runs.db says were running when
// the previous process died: their jobs cannot be resumed (the zygote killed
// them when the server's pipe closed), so running/queued jobs become failed
// and pending ones skipped, all with reason "server restarted", and the
// execution fails with that reason. Re-running it is cheap: every job that
// had finished is served from the action cache.
//
// Ownership: borrows the repository, runs store, artifact store and backend
// (they must outlive the driver); owns the executions in flight and their
// bundles under options.work_dir. The destructor cancels what is running
// and waits for the backend to report it.
// Records: the driver never writes runs.db with its lock held. Changes are
// queued in a RunsBatch with the listeners' notices; whichever thread leaves
// a public method or callback last writes the batch in one transaction, then
// notifies (Deliver). So records lag the in-memory state by at most one batch
// (what a restart's reconciliation sees), and a listener that queries runs()
// finds what it was told about.
// Thread-safety: every public method is safe from any thread. Listeners are
// called from backend and caller threads, never with the driver's lock held,
// in the order the changes happened; a listener must not block for long.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compute/compute_backend.h"
#include "core/clock.h"
#include "model/repository.h"
#include "pipeline/bundle.h"
#include "pipeline/plan.h"
#include "runs/runs_store.h"
#include "scheduler/execution_plan.h"
#include "storage/artifact_store.h"

namespace kiln {

struct DriverOptions {
  // Job bundles live in <work_dir>/jobs/<job id>; kept when a job fails.
  std::filesystem::path work_dir;
  // Enters every cache key (ProbeRuntime() once at start-up).
  RuntimeFingerprint runtime;
  JobLimits default_limits;
  // Added to every job's environment.
  std::map<std::string, std::string> env;
  bool keep_bundles = false;  // keep succeeded jobs' bundles too
  // What one job's logs, figures and progress may add to runs.db; past it
  // they are dropped, with one note in the job's console saying so.
  // Metrics are all kept; past kLiveMetricPoints of one metric, only a
  // thinning of them is sent live (the full series stays on disk).
  uint64_t max_log_bytes = 256ull << 20;
  ResourceCodeGenerator* generator = nullptr;
  // Where jobs run, for provenance records' runtime (docs/provenance.md).
  std::string backend_name = "local";
  std::string host;  // "" = this machine's host name
  // This server's name in a runs store shared by several servers: the
  // executions it starts carry it, and a restart reconciles only those.
  std::string server_id;
  // Provenance records for every output (docs/provenance.md). Off only to
  // measure what recording costs (bench/exec_bench --no-provenance).
  bool record_provenance = true;
  // Routing (the config file's [routing]): operation name / pipeline name or
  // guid → backend name, for jobs whose operation and execution name none.
  std::map<std::string, std::string> route_operations, route_pipelines;
  const Clock* clock = &SystemClock::Get();
  // Called (outside the driver's lock) after the driver committed to a
  // branch, so a server can tell the branch's subscribers (Hub::BranchMoved).
  // Stores a job's output file for the execution's project (the project's
  // choice of storage backend; docs/storage.md). Unset: the driver's
  // ArtifactStore's PutFile.
  std::function<Result<ArtifactInfo>(const std::string& project, const std::filesystem::path& file)>
      store_output;
  std::function<void(const std::string& project, const std::string& branch, const Digest& commit)>
      on_commit;
};

struct StartRequest {
  std::string project;
  std::string pipeline;          // guid of the pipeline node
  std::string ref = "main";      // branch, tag or commit; a branch receives the artifacts commit
  std::optional<Digest> commit;  // run this commit instead of ref's head (re-runs)
  std::string user;
  bool force = false;                 // ignore the action cache for every job
  std::set<std::string> force_nodes;  // ignore it for these operation instances
  std::optional<JobLimits> limits;    // else options.default_limits
  AttributeOverrides overrides;       // attribute values over the pipeline's
  std::string backend;                // where its jobs run ("" = routing, then the default)
  std::string sweep;                  // the sweep this is a trial of (docs/sweeps.md)
  int64_t sweep_trial = -1;
};

// Live notifications. Called without the driver's lock; may call back into
// the driver's queries, not into Start/Cancel from OnEvents.
class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void OnExecution(const ExecutionRecord& execution) { (void)execution; }
  virtual void OnJob(const JobRecord& job) { (void)job; }
  virtual void OnEvents(const std::string& execution, const std::vector<EventRecord>& events) {
    (void)execution;
    (void)events;
  }
};

class Driver : private JobSink {
 public:
  // Reconciles what the previous process left in flight, then serves.
  static Result<std::unique_ptr<Driver>> Open(Repository& repo, RunsStore& runs,
                                              ArtifactStore& artifacts, ComputeBackend& backend,
                                              DriverOptions options);
  ~Driver() override;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Starts an execution; returns its id once its records exist and its
  // commit is tagged. Errors: NotFound (project, ref, pipeline),
  // InvalidArgument / FailedPrecondition (the pipeline cannot run).
  Result<std::string> Start(const StartRequest& request);
  // Cancels every job of the execution that has not finished; running ones
  // are killed with their whole process tree. NotFound when it is not in flight.
  Status Cancel(const std::string& execution, const std::string& user);
  // Cancels one job (its dependents are skipped).
  Status CancelJob(const std::string& job, const std::string& user);
  // A new execution of the same pipeline at the same commit: force=false
  // reuses every cached result (re-runs only what failed or was cancelled).
  Result<std::string> Rerun(const std::string& execution, const std::string& user, bool force);
  // A new execution of the job's pipeline at the same commit that re-runs
  // that job even if cached (and whatever its new outputs change downstream).
  Result<std::string> RerunJob(const std::string& job, const std::string& user);

  // Blocks until the execution is no longer in flight and listeners have
  // been told (or timeout); returns
  // its record. DeadlineExceeded is reported as ResourceExhausted.
  Result<ExecutionRecord> Wait(const std::string& execution, int timeout_ms);
  bool InFlight(const std::string& execution);

  // execution "" = every execution. Returns an id for Unsubscribe.
  uint64_t Subscribe(const std::string& execution, ExecutionListener* listener);
  void Unsubscribe(uint64_t id);

  RunsStore& runs() { return runs_; }
  ArtifactStore& artifacts() { return artifacts_; }

 private:
  struct Execution;
  struct Notice;

  Driver(Repository& repo, RunsStore& runs, ArtifactStore& artifacts, ComputeBackend& backend,
         DriverOptions options);
  Status Reconcile();

  // JobSink (backend threads).
  void OnEvents(const std::string& job_id, std::vector<std::string> lines) override;
  void OnExit(const std::string& job_id, const JobExit& exit) override;
  void OnPlaced(const std::string& job_id, const JobPlacement& placement) override;
  // Restart: takes an execution whose jobs the backend still runs back in
  // flight (false when it has none of them; the execution then fails).
  Result<bool> Resume(const ExecutionRecord& rec, const std::vector<JobRecord>& jobs);
  // A job whose upstream jobs are done: cached, waiting or queued (mu_ held).
  void Ready(Execution& e, size_t job);

  // All below run with mu_ held.
  void Advance(Execution& e);
  void Dispatch();
  void Launch(Execution& e, size_t job);
  void SetJob(Execution& e, size_t job, JobState state, std::string reason);
  void ApplyTransition(Execution& e, size_t job, JobState state, const std::string& reason);
  void FailJob(Execution& e, size_t job, const std::string& reason);
  // A job whose cache key another job is computing waits for it; else it
  // queues, and computes the key for those that come after (docs/sweeps.md).
  void QueueOrWait(Execution& e, size_t job, bool forced);
  // The job takes outputs made by `from_job` (the cache entry's, or an
  // in-flight job's with the same key): grants, provenance, state cached.
  void TakeCached(Execution& e, size_t job, const Outputs& outputs, const std::string& from_job);
  // Hands the outputs of jobs that ended to the jobs waiting on them (or
  // queues those again when the job failed).
  void ReleaseWaiters();
  Status CollectOutputs(Execution& e, size_t job);
  Result<ArtifactInfo> StoreOutput(const std::string& project, const ResultOutput& output);
  std::map<std::string, Digest> InputDigests(const Execution& e, size_t job) const;
  void MaybeFinish(Execution& e);
  Status CommitArtifacts(Execution& e);
  std::string FailureReason(const Execution& e, size_t job, const JobExit& exit);
  // The execution's limits with the operation's own over them.
  static JobLimits LimitsOf(const Execution& e, size_t job);
  // The operation's resources; its backend chosen by job_backend, the
  // execution's backend, then the routing tables.
  JobResources ResourcesOf(const Execution& e, size_t job) const;
  std::string RuntimeJson(const JobRecord& job) const;
  void Push(Notice notice);

  // Delivers queued notices in order, without mu_.
  void Deliver();

  Repository& repo_;
  RunsStore& runs_;
  ArtifactStore& artifacts_;
  ComputeBackend& backend_;
  DriverOptions options_;
  std::string runtime_json_;  // provenance records' runtime, made once

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Execution>> active_;   // by execution id
  std::map<std::string, std::pair<Execution*, size_t>> jobs_;  // job id → where
  std::deque<std::pair<std::string, size_t>> queue_;           // ready jobs waiting for a slot
  // Cache keys being computed: key → the job computing it (queued or
  // running), and back; the jobs waiting for each such job (execution id,
  // index); jobs that ended while computing a key, to release.
  std::map<Digest, std::string> computing_;
  std::map<std::string, Digest> computing_key_;
  std::map<std::string, std::vector<std::pair<std::string, size_t>>> waiters_;
  struct Ended {
    std::string job;
    JobState state;
    Outputs outputs;
  };
  std::vector<Ended> ended_;
  size_t running_ = 0;
  size_t removing_ = 0;  // succeeded jobs' bundles being deleted (Wait waits for them)

  // Backend threads inside OnExit/OnEvents; the destructor waits for zero.
  std::atomic<int> callbacks_{0};
  struct CallbackGuard {
    explicit CallbackGuard(std::atomic<int>& n) : n_(n) { n_++; }
    ~CallbackGuard() { n_--; }  // the last thing a callback does with the driver
    std::atomic<int>& n_;
  };

  // What changed since the last delivery, guarded by mu_: runs.db writes
  // (one transaction per delivery) and the notices for listeners. Deliver()
  // swaps both out and writes, then notifies, without mu_.
  RunsBatch writes_;
  std::deque<Notice> notices_;  // guarded by mu_
  bool delivering_ = false;     // guarded by mu_: one thread delivers at a time, in order
  bool shutting_down_ = false;  // guarded by mu_: the destructor began; nothing is launched
  // Cache entries made but perhaps not yet in runs.db (still in writes_, or
  // swapped out and being written): a job readied in that window must hit
  // them, or it computes the same key again. Guarded by mu_; an entry goes
  // once the batch it was put in (numbered by batches_swapped_) is written.
  struct UnwrittenCache {
    Outputs outputs;
    std::string job;
    uint64_t batch;
  };
  std::map<Digest, UnwrittenCache> unwritten_cache_;
  uint64_t batches_swapped_ = 0;
  std::mutex listeners_mu_;
  uint64_t next_listener_ = 1;
  std::map<uint64_t, std::pair<std::string, ExecutionListener*>> listeners_;
};

}  // namespace kiln
