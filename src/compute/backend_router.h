// BackendRouter: several named compute backends (the config file's
// [backends.*], docs/compute.md) as one ComputeBackend for the driver. A job
// goes to the backend its request names (JobResources::backend), else to the
// default. The router also owns the GPU slots of backends that do not
// schedule GPUs themselves (the local one): a job asking for N GPUs waits
// until N are free, then runs with CUDA_VISIBLE_DEVICES naming exactly those.
// Jobs that wait (their backend full, or no free GPU) are reported through
// JobSink::OnPlaced with the reason.
//
// Ownership: borrows the backends (they must outlive the router) and the
// sinks given to Submit/Adopt. Thread-safety: every method is safe from any
// thread; callbacks to sinks come from the backends' threads or the router's
// own task thread, never with the router's lock held.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compute/compute_backend.h"
#include "core/task_queue.h"

namespace kiln {

struct RoutedBackend {
  std::string name;  // as in the config file ("local", "cluster")
  std::string kind;  // "local", "slurm"
  ComputeBackend* backend = nullptr;
  // GPU slots the router hands out through CUDA_VISIBLE_DEVICES; -1 = the
  // backend schedules GPUs itself (Slurm) and the router does not count them.
  int gpus = -1;
  std::string gpu_type;           // what those GPUs are ("" = unknown: any type matches)
  uint64_t max_memory_bytes = 0;  // a job asking for more is refused; 0 = no bound known
  std::string host;               // reported as the placement's host for local kinds
};

// What GET /backends shows of one backend.
struct BackendInfo {
  std::string name, kind;
  size_t slots = 0;
  int gpus = -1;
  bool is_default = false;
  std::map<std::string, uint64_t> stats;
};

class BackendRouter : public ComputeBackend, private JobSink {
 public:
  // `fallback`: the backend of requests that name none ("" = the first).
  BackendRouter(std::vector<RoutedBackend> backends, std::string fallback);
  ~BackendRouter() override;

  size_t Slots() const override;
  Status Submit(const JobRequest& request, JobSink* sink) override;
  Status Cancel(const std::string& job_id) override;
  Status Admit(const JobRequest& request) const override;
  Status Adopt(const std::string& job_id, JobSink* sink) override;
  bool Detach(const std::string& job_id) override;
  bool ReportsPlacement() const override { return true; }
  void Unbind(JobSink* sink) override;

  std::vector<BackendInfo> Backends() const;
  bool Has(const std::string& name) const;
  const std::string& default_backend() const { return fallback_; }

 private:
  struct Slot;  // one backend's state
  struct Job {
    JobRequest request;
    JobSink* sink = nullptr;
    Slot* slot = nullptr;
    std::vector<int> gpus;          // the GPU indices it holds
    bool started = false;           // claimed a slot (else waiting here)
    bool handed = false;            // submitted to its backend
    bool cancel_requested = false;  // cancelled after its claim, before Hand
    // A local job's placement, known when it is handed over and delivered
    // once: by a task, or by OnExit first when the job ends before that task
    // runs (a quick job must still say where it ran).
    std::optional<JobPlacement> placement_due;
    // DeliverPlacement is handing it over right now: an exit arriving
    // meanwhile waits its turn on tasks_ (it must not overtake it).
    bool placing = false;
  };
  struct Slot {
    RoutedBackend config;
    size_t in_flight = 0;
    std::vector<bool> gpu_busy;
    std::deque<std::string> waiting;  // job ids, in arrival order
  };

  const Slot* Find(const std::string& name) const;
  bool Fits(const Slot& slot, const Job& job) const;
  std::vector<std::string> Release(Slot& slot, Job& left);  // mu_ held
  void HandAll(const std::vector<std::string>& ids);
  void PostCancelled(JobSink* sink, const std::string& job_id);
  void DeliverPlacement(const std::string& job_id);
  bool HasWaitingGpuJob(const Slot& slot) const;
  void Claim(Job& job);                  // mu_ held
  void Hand(const std::string& job_id);  // mu_ not held

  void OnEvents(const std::string& job_id, std::vector<std::string> lines) override;
  void OnExit(const std::string& job_id, const JobExit& exit) override;
  void OnPlaced(const std::string& job_id, const JobPlacement& placement) override;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::string fallback_;
  mutable std::mutex mu_;
  std::map<std::string, Job> jobs_;
  std::atomic<int> forwarding_{0};     // calls to sinks in progress (Unbind waits for them)
  TaskQueue tasks_{1, "kiln-router"};  // last member: joined first
};

}  // namespace kiln
