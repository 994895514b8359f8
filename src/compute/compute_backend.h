// ComputeBackend: where jobs run. A backend takes a job bundle (a folder
// holding spec.json and the operation's code, docs/job-protocol.md), runs it
// with `python3 -m kiln.job` semantics, streams the job's events back as they
// are written, and reports how the process ended. It knows nothing of plans,
// caches or artifacts: the scheduler's Driver does those.
//
// Implementations: LocalBackend (local_backend.h: warm zygote workers on this
// machine), FakeBackend (fake_backend.h: for scheduler tests); later Slurm.
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
};

}  // namespace kiln
