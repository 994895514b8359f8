// Worker: `kiln worker --server URL --token T`, a machine that runs a Kiln
// server's jobs without accepting connections (a lab workstation behind NAT;
// docs/compute.md, "Remote workers"). It connects out only:
//
//   lease loop   POST /workers/lease every poll_s with the jobs it holds;
//                takes the jobs offered, cancels the jobs named.
//   one thread   per job: fetch the bundle's files and inputs (inputs are
//                cached by SHA-256, so a fan-out over one data set fetches it
//                once), run it with warm zygotes (LocalBackend; GPUs handed
//                out by a BackendRouter through CUDA_VISIBLE_DEVICES), push
//                its events from the events file as they are written, then
//                upload result.json and the outputs and report the exit.
//
// Nothing is lost or done twice across a network drop: events are pushed
// with offsets (the server skips lines it has), the exit is reported only
// after the server has every line, and every call is retried with backoff
// until it gets an answer. A job the server took back meanwhile (this worker
// was silent longer than the server's worker_timeout_s: it went to another
// worker) answers 401/404 to its old token; the worker stops and forgets it.
//
// Ownership: owns the zygotes, the router and its threads. Thread-safety:
// Run() from one thread; Stop() from any (a signal handler's thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "compute/backend_router.h"
#include "compute/local_backend.h"
#include "core/status.h"
#include "worker/worker_client.h"

namespace kiln {

struct WorkerOptions {
  std::string server;   // "http://host:8080"
  std::string token;    // a worker token (kiln workers token NAME); "" without sign-in
  std::string name;     // "" = the host name
  std::string backend;  // the server's remote backend to serve ("" = its first)
  size_t slots = 0;     // jobs at once; 0 = the number of cores
  int gpus = -1;        // -1 = detect (nvidia-smi -L)
  std::string gpu_type;
  std::filesystem::path work_dir;      // bundles and the input cache; required
  uint64_t cache_bytes = 20ull << 30;  // inputs kept for later jobs, oldest removed first
  LocalBackendOptions local;           // python, preload, light workers
};

class Worker : private JobSink {
 public:
  // Starts the zygotes; the server is not contacted yet.
  static Result<std::unique_ptr<Worker>> Start(WorkerOptions options);
  ~Worker() override;

  // Leases until Stop(). Returns an error only for what retrying cannot fix
  // (the token refused, no remote backend on the server).
  Status Run();
  // Stops leasing, kills the jobs and gives them back to the server (one
  // last lease without them), so they run elsewhere at once.
  void Stop();

  bool stopped() const { return stop_; }
  const std::string& name() const { return options_.name; }
  size_t slots() const { return options_.slots; }
  int gpus() const { return options_.gpus; }

 private:
  struct Job;
  explicit Worker(WorkerOptions options);

  Result<nlohmann::json> Lease(bool final);
  void Take(const nlohmann::json& leased);
  void RunJob(std::shared_ptr<Job> job);
  // Each step returns false when the job is over for this worker (done,
  // taken back by the server, or the worker stops).
  bool Fetch(Job& job);
  bool Launch(Job& job);
  bool PushEvents(Job& job, bool until_end);
  bool UploadAndReport(Job& job);
  // Waits `seconds` or until the job has news (lines, exit, cancel).
  void Pause(Job& job, double seconds);
  void TrimCache();

  void Notify(const std::string& job_id, const std::function<void(Job&)>& change);
  void OnEvents(const std::string& job_id, std::vector<std::string> lines) override;
  void OnExit(const std::string& job_id, const JobExit& exit) override;

  std::atomic<bool> stop_{false};  // before client_, which watches it
  WorkerOptions options_;
  WorkerClient client_;
  std::unique_ptr<LocalBackend> local_;
  std::unique_ptr<BackendRouter> router_;
  std::mutex mu_;
  std::condition_variable cv_;  // the lease loop waits on it between leases
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  // One lock per input digest being fetched into the cache (mu_ guards the map).
  std::map<std::string, std::shared_ptr<std::mutex>> downloading_;
};

}  // namespace kiln
