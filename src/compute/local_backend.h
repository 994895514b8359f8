// LocalBackend: runs jobs on this machine through a warm Python worker, the
// zygote (`python3 -m kiln.zygote`, docs/job-protocol.md): it has imported
// torch, numpy and matplotlib once and forks a child per job, so a job
// starts in milliseconds. The backend speaks the zygote's JSON-lines
// protocol over its stdin/stdout, tails each job's events file and reports
// events and exits to the job's sink. It runs `zygotes` of them (default
// two) and hands jobs to them in turn: a zygote is single-threaded and
// blocked for ~10 ms each time it forks a spare child (the page tables of a
// torch-loaded process), so a job never waits for the fork that followed
// the job before it.
//
// Two kinds of worker: `preload` ones (torch, numpy, matplotlib) and, unless
// `light_zygotes` is 0, light ones that preload only Kiln's own modules
// (and `light_preload`, empty by default). A job whose JobRequest::modules
// are all in the standard library (or preloaded by the light ones) goes to a
// light one: forking a ~25 MB process and tearing its copy down costs ~3 ms
// of CPU where a torch-loaded one costs ~20 (page tables, copy-on-write
// faults), which is most of a trivial job's cost. Every other job (and one
// whose modules are unknown) goes to a full one.
//
// Limits: timeout_s is enforced by the zygote (SIGTERM to the job's process
// group, SIGKILL after the grace period); memory_bytes becomes RLIMIT_AS of
// the job, raised by the zygote's own virtual size (a forked child starts
// with the zygote's address space: ~1-2 GB with torch mapped), so the limit
// is what the job may add; cpu_s becomes RLIMIT_CPU. OMP_NUM_THREADS (and
// MKL/OpenBLAS) default to cores / slots, so N parallel jobs do not
// oversubscribe the cores.
//
// Safety: a job can neither crash nor hang the server. Jobs are separate
// processes in their own session; cancel kills the job's process group and
// every process that descends from it (found through /proc at cancel time,
// so children that called setsid die too). If a zygote dies, every job in
// flight on it fails with a reason saying so (their process groups are
// killed) and a new zygote is started. When the backend is destroyed, the
// zygotes kill every job and exit.
//
// Latency: the reader thread sleeps in poll() on the zygotes' stdout and an
// inotify descriptor watching running jobs' bundle folders, so a job's events
// are read as they are written (no polling interval). A job whose final event
// says it succeeded is reported ended (OnExit) then, before its process has
// finished exiting; the zygote reaps it and the backend kills what it left.
//
// Ownership: owns the zygote processes and the reader thread; borrows sinks.
// Thread-safety: Submit, Cancel, Slots are safe from any thread; callbacks
// come from the reader thread only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "compute/compute_backend.h"

namespace kiln {

struct LocalBackendOptions {
  std::string python = "/usr/bin/python3";
  // The folder holding the `kiln` package; default: <source dir>/python.
  std::filesystem::path python_path;
  size_t slots = 0;  // 0 = the number of cores
  std::string preload = "torch,numpy,matplotlib.pyplot";
  // Zygotes (warm workers) jobs are handed to in turn; 0 = min(slots, 2).
  // A zygote is single-threaded and busy for ~10 ms while it forks a spare:
  // with two, a job never waits for the fork of the one before it.
  int zygotes = 0;
  // Modules the light workers import (besides Kiln's own: a job importing
  // only these and the standard library goes there), and how many of them
  // run; 0 = none (every job goes to a full worker).
  std::string light_preload = "";
  int light_zygotes = 1;
  // Children each zygote keeps forked ahead of demand; -1 = its share of
  // the slots (at most 4), so jobs that become ready together each find one.
  int prefork = -1;
  double kill_grace_s = 2;
  // How often running jobs' event files are read without a change seen;
  // with inotify (the normal case) they are read as soon as they change, and
  // this is a safety net (at least 100 ms).
  int poll_ms = 10;
  int ready_timeout_s = 120;  // for the zygote's first line
};

class LocalBackend : public ComputeBackend {
 public:
  // Starts the zygote and waits for it to be ready.
  static Result<std::unique_ptr<LocalBackend>> Start(LocalBackendOptions options);
  ~LocalBackend() override;

  size_t Slots() const override { return slots_; }
  Status Submit(const JobRequest& request, JobSink* sink) override;
  Status Cancel(const std::string& job_id) override;

  // For tests and diagnostics: the first (full) zygote's pid, the first light
  // one's (-1 if none), the pid of the one running `job_id` (-1 if none),
  // how many zygotes were started in all.
  int zygote_pid() const;
  int light_zygote_pid() const;
  int zygote_pid_of(const std::string& job_id) const;
  int zygote_starts() const;
  // The default source of the kiln package (KILN_PYTHON_DIR at build time).
  static std::filesystem::path DefaultPythonPath();

 private:
  struct Job;
  struct Proc;
  explicit LocalBackend(LocalBackendOptions options);
  Status SpawnZygote(Proc& proc);  // with mu_ held
  Status WaitReady(Proc& proc);    // with mu_ held
  Status SendLocked(Proc& proc, const std::string& line);
  void Loop();
  void HandleLine(const std::string& line, std::vector<std::function<void()>>* out);
  // Reads what the job appended to its events since the last look, at most a
  // bounded amount; true when there is more to read.
  bool TailLocked(Job& job, std::vector<std::string>* lines);
  void ZygoteDied(size_t proc, std::vector<std::function<void()>>* out);
  void ReportSuccessLocked(Job& job, std::vector<std::function<void()>>* out);
  void ForgetLocked(std::map<int64_t, std::unique_ptr<Job>>::iterator it);

  LocalBackendOptions options_;
  size_t slots_;
  mutable std::mutex mu_;
  std::vector<Proc> procs_;  // the zygotes: the full ones, then the light ones
  size_t full_count_ = 0;
  size_t next_full_ = 0, next_light_ = 0;  // the next job of each kind goes to it
  // What a light zygote imports cheaply: the standard library (as it reported
  // when ready) and Kiln.
  std::set<std::string, std::less<>> light_modules_;
  int starts_ = 0;
  int64_t next_rid_ = 1;
  std::map<int64_t, std::unique_ptr<Job>> jobs_;  // by request id
  std::map<std::string, int64_t> by_job_id_;
  bool stop_ = false;
  int wake_r_ = -1, wake_w_ = -1;
  int inotify_ = -1;  // watches running jobs' bundle folders; -1: poll instead
  std::thread thread_;
};

}  // namespace kiln
