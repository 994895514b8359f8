// SlurmBackend: runs Kiln's jobs on a Slurm cluster (docs/compute.md, "The
// Slurm backend"). Each job runs `python3 -m kiln.job <bundle>` on a node;
// its bundle folder must be visible there at the same path (a shared
// folder), unless the site fetches bundles (SlurmSite::fetch_bundles): then
// the job downloads its bundle and inputs from the server and uploads its
// outputs (JobFileGate), and the nodes need only the network. The job pushes its events to the
// server (PushedEvents); Slurm is only asked for states, with ONE `squeue --json` call per interval
// for all of this backend's jobs, the interval backing off from poll_min_s to poll_max_s while
// nothing changes. Ready jobs of one shape (sbatch_plan.h) that arrive within array_window_ms go in
// as one job array.
//
// Restart: every submitted job is written to <state_dir>/slurm-<name>.jsonl
// (job id, Slurm id, token, bundle), so a new process can Adopt() the jobs
// the previous one left in Slurm.
//
// Ownership: borrows the commands (the real programs or a fake) and the
// PushedEvents gateway; both must outlive the backend. Owns one thread that
// submits, polls and cancels; sinks are called from it (and from the
// gateway's callers for pushed events), never with the backend's lock held.
// Thread-safety: every public method is safe from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "compute/compute_backend.h"
#include "compute/job_file_gate.h"
#include "compute/pushed_events.h"
#include "compute/slurm/sbatch_plan.h"
#include "compute/slurm/slurm_commands.h"

namespace kiln {

struct SlurmBackendOptions {
  SlurmSite site;
  // Task lists and Slurm's own output files go to <shared_dir>/slurm (the
  // nodes read the task lists). Required.
  std::filesystem::path shared_dir;
  std::filesystem::path state_dir;  // the adoption journal; default shared_dir
  size_t max_jobs = 1000;           // jobs in Slurm at once (Slots)
  double poll_min_s = 2;
  double poll_max_s = 30;
  int array_window_ms = 200;
  // false: one sbatch per job, never an array (to compare; sites that
  // forbid arrays).
  bool arrays = true;
  // How long transient sbatch failures (controller down, rate limits) are
  // retried before the job fails; backoff 1 s doubling to 60 s.
  double retry_for_s = 600;
  SlurmCommands* commands = nullptr;  // borrowed
  PushedEvents* events = nullptr;     // borrowed
  // Borrowed; required with site.fetch_bundles: opened for each job while
  // it is in Slurm, so it can fetch its bundle and upload its outputs.
  JobFileGate* files = nullptr;
};

class SlurmBackend : public ComputeBackend {
 public:
  static Result<std::unique_ptr<SlurmBackend>> Start(SlurmBackendOptions options);
  ~SlurmBackend() override;

  size_t Slots() const override { return options_.max_jobs; }
  Status Submit(const JobRequest& request, JobSink* sink) override;
  Status Cancel(const std::string& job_id) override;
  Status Adopt(const std::string& job_id, JobSink* sink) override;
  bool Detach(const std::string& job_id) override;

  // Polls at once (a job pushed its final state; tests).
  void Nudge();
  // Stops the backend's thread: no callback after it returns (a server
  // shutting down calls it before the sinks go away). Jobs stay in Slurm.
  void Stop();
  uint64_t squeue_calls() const { return squeue_calls_; }
  uint64_t sbatch_calls() const { return sbatch_calls_; }
  // sbatch, squeue, scancel and all of them ("slurm_calls").
  std::map<std::string, uint64_t> Stats() const override;

 private:
  explicit SlurmBackend(SlurmBackendOptions options);

  struct Job {
    JobRequest request;
    JobSink* sink = nullptr;
    std::string token;
    std::string slurm_id;                // "" until sbatch accepted it
    double first_try = 0, next_try = 0;  // steady seconds
    double backoff = 1;
    bool cancel_requested = false, cancel_sent = false;
    bool running = false;
    bool announced_waiting = false;
    std::string last_note;
    int missing = 0;  // polls in a row that did not list it
  };
  // What the loop decided under the lock, done after releasing it.
  struct Callback {
    std::string job_id;
    JobSink* sink;
    std::optional<JobPlacement> placed;
    std::optional<JobExit> exit;
    std::filesystem::path bundle;  // exit: where its events file is
  };

  void Loop();
  void SubmitDue(std::unique_lock<std::mutex>& lock, double now);
  void Poll(std::unique_lock<std::mutex>& lock);
  void SendCancels(std::unique_lock<std::mutex>& lock);
  // Ends a job (lock held): forgets it and queues its last lines and exit.
  void End(const std::string& job_id, JobExit exit, std::vector<Callback>& out);
  void Run(std::vector<Callback>& callbacks);  // without the lock
  void Journal(const std::string& line);
  Status LoadJournal();

  SlurmBackendOptions options_;
  std::filesystem::path journal_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Job> jobs_;  // by Kiln job id
  std::deque<std::string> unsubmitted_;
  // Adoptable jobs a previous process left (by Kiln job id).
  struct Known {
    std::string slurm_id, token, bundle;
    uint64_t memory_mb = 0;
    double time_s = 0;
  };
  std::map<std::string, Known> known_;
  std::vector<Callback> pending_callbacks_;  // queued by Submit/Cancel for the loop
  double next_poll_ = 0;
  double interval_ = 0;
  bool stop_ = false;
  bool poll_now_ = false;
  std::atomic<uint64_t> squeue_calls_{0}, sbatch_calls_{0};
  std::thread thread_;
};

}  // namespace kiln
