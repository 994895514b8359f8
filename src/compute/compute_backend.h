// ComputeBackend: where jobs run. A backend takes a job bundle (a folder
// holding spec.json and the operation's code, docs/job-protocol.md), runs it
// with `python3 -m kiln.job` semantics, streams the job's events back as they
// are written, and reports how the process ended. It knows nothing of plans,
// caches or artifacts: the scheduler's Driver does those.
//
// Implementations: LocalBackend (local_backend.h: warm zygote workers on this
// machine), SlurmBackend (slurm/slurm_backend.h: sbatch on a cluster),
// BackendRouter (backend_router.h: several named backends as one, GPU slots),
// FakeBackend (fake_backend.h: for scheduler tests).
//
// Callbacks: for one job, every OnEvents call comes before its OnExit, never
// two at once, and never from inside Submit() or Cancel() (a driver may hold
// its lock while calling those). OnExit is called exactly once per job that
// Submit() accepted. It reports how the job ended: a backend may report a job
// that succeeded (its outputs and result complete) while its process is
// still exiting; the backend still cleans that process up.
//
// Ownership: the backend borrows the sink given to Submit(); it must outlive
// the job's OnExit. Thread-safety: Submit, Cancel and Slots are safe from any
// thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/job_resources.h"
#include "core/status.h"

namespace kiln {

struct JobLimits {
  double timeout_s = 0;       // wall clock; 0 = none
  uint64_t memory_bytes = 0;  // 0 = none
  double cpu_s = 0;           // CPU seconds; 0 = none
};

struct JobRequest {
  std::string job_id;
  std::filesystem::path bundle;  // absolute
  JobLimits limits;
  std::map<std::string, std::string> env;  // added to the job's environment
  // The top-level Python modules the job imports and its inputs need
  // (pipeline/python_imports.h); nullopt when not known. A backend may use it
  // to pick a worker (the local one runs a job needing only the standard
  // library in a worker without torch).
  std::optional<std::vector<std::string>> modules;
  JobResources resources;  // CPUs, GPUs, partition, backend name (docs/compute.md)
};

// Where a job is, as its backend reports it after Submit (or Adopt): which
// backend, on which host, under which id of the backend's own ("1234_7" for
// a Slurm array task), and whether it is running or waiting there (a job
// pending in Slurm's queue, or waiting for a GPU).
struct JobPlacement {
  std::string backend;
  std::string host;
  std::string backend_job;
  bool running = false;
  std::string note;  // why it waits, in words ("" when running)
};

// How a job's process ended, as the backend saw it.
struct JobExit {
  enum class End { kExited, kSignaled, kLost };
  End end = End::kExited;
  int exit_code = 0;  // kExited: 0 succeeded, 1 the operation failed, 2 bad bundle, 143 SIGTERM
  int signal = 0;     // kSignaled
  bool timed_out = false;  // the backend stopped it at limits.timeout_s
  bool cancelled = false;  // stopped by Cancel()
  std::string reason;      // why it did not succeed, in words ("" when it did)
  double wall_s = 0;
  uint64_t max_rss_kb = 0;

  bool succeeded() const { return end == End::kExited && exit_code == 0 && !cancelled; }
};

class JobSink {
 public:
  virtual ~JobSink() = default;
  // Complete JSON lines the job wrote on its event channel, in order.
  virtual void OnEvents(const std::string& job_id, std::vector<std::string> lines) = 0;
  virtual void OnExit(const std::string& job_id, const JobExit& exit) = 0;
  // Optional: where the job is now. Same threading rules as OnEvents.
  virtual void OnPlaced(const std::string& job_id, const JobPlacement& placement) {
    (void)job_id;
    (void)placement;
  }
};

class ComputeBackend {
 public:
  virtual ~ComputeBackend() = default;
  // How many jobs may run at once; the driver submits no more than that.
  virtual size_t Slots() const = 0;
  // Starts the job. An error means it was not started (no OnExit follows).
  virtual Status Submit(const JobRequest& request, JobSink* sink) = 0;
  // Stops the job and everything it started (SIGTERM, then SIGKILL after a
  // grace period); its OnExit follows with cancelled = true. NotFound when
  // the job is not running (it may just have ended).
  virtual Status Cancel(const std::string& job_id) = 0;
  // Whether the job could ever run here: a request for more than the backend
  // can give (GPUs, memory, an unknown backend name) is refused with the
  // reason before the job is queued. Safe from any thread.
  virtual Status Admit(const JobRequest& request) const {
    (void)request;
    return Status::Ok();
  }
  // Counters worth showing (GET /backends): a Slurm backend's controller
  // calls. Safe from any thread.
  virtual std::map<std::string, uint64_t> Stats() const { return {}; }
  // Forgets every job whose sink is `sink`, without stopping them; no call
  // to `sink` begins after it returns, and one in progress has ended. A
  // driver going away calls it last.
  virtual void Unbind(JobSink* sink) { (void)sink; }
  // Whether OnPlaced says when each job really starts (it may wait in the
  // backend first: Slurm's queue, a GPU); else it runs from Submit on.
  virtual bool ReportsPlacement() const { return false; }
  // After a server restart: takes back a job a previous process submitted
  // and that may still run (its OnExit follows, as after Submit). NotFound
  // when the backend does not know it (the driver then fails it).
  virtual Status Adopt(const std::string& job_id, JobSink* sink) {
    (void)job_id;
    (void)sink;
    return NotFound("this backend cannot adopt jobs");
  }
  // A server shutting down: forgets the job without stopping it, so a later
  // process can Adopt it; no callback for it follows. False when the job
  // cannot outlive the server here (the caller cancels it).
  virtual bool Detach(const std::string& job_id) {
    (void)job_id;
    return false;
  }
};

}  // namespace kiln
