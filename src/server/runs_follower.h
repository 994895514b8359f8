// RunsFollower: brings the executions another server drives to this
// server's watchers, when several servers share one runs store on
// PostgreSQL (docs/execution.md, "Several servers"). The server that started
// an execution is the only one whose Driver runs it and reports it live;
// the others learn of its changes from the runs store.
//
// Woken by Poke() (each NOTIFY kiln_runs, sent when a server's write
// commits; at most one look per kMinInterval) and every `poll` as a
// fallback for a lost notice, it reads each followed execution, its jobs
// and their events after the last seq it passed on, and hands what changed
// to the listener exactly as the Driver would (OnExecution, OnJob,
// OnEvents), so ExecutionWatch sends the same messages whichever server a
// browser is connected to. An execution that ended is followed until its
// last events are passed on, then dropped.
// It also takes the cancels other servers left for this one: when a notice
// names this server ("cancel <server id>"), and at each fallback poll.
//
// Ownership: borrows the runs store and the listener (both outlive it).
// Thread-safety: every method from any thread; the listener and the cancel
// handler are called on the follower's own thread, never with its lock
// held. Follow and Unfollow take only the follower's lock (a caller may
// hold its own around them).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runs/runs_store.h"
#include "scheduler/driver.h"

namespace kiln {

class RunsFollower {
 public:
  static constexpr std::chrono::milliseconds kMinInterval{250};

  RunsFollower(RunsStore& runs, ExecutionListener& listener, std::chrono::milliseconds poll);
  ~RunsFollower();
  RunsFollower(const RunsFollower&) = delete;
  RunsFollower& operator=(const RunsFollower&) = delete;

  // What a watcher was sent (the execution and its jobs) and the jobs'
  // last event seqs now: changes after it are passed on. Reads the store.
  struct Baseline {
    std::string execution;                    // its record as JSON text
    std::map<std::string, std::string> jobs;  // job id → record as JSON text
    std::map<std::string, int64_t> last_seq;  // job id → last event passed on
  };
  Baseline BaselineOf(const ExecutionRecord& sent, const std::vector<JobRecord>& jobs);
  // Starts passing on the execution's changes after `baseline` (kept as it
  // is when the execution is already followed).
  void Follow(const std::string& execution, Baseline baseline);
  void Unfollow(const std::string& execution);
  // Something changed in the store (a notice's payload): look now.
  void Poke(const std::string& payload);
  // Cancels other servers asked of this one (`server_id`) are handed to
  // `handler`.
  void set_cancel_handler(std::string server_id, std::function<void(const CancelRequest&)> handler);

 private:
  void Loop();
  // Reads one execution and passes on what changed; false once it ended
  // and everything was passed on.
  bool Refresh(const std::string& id, Baseline& f);

  RunsStore& runs_;
  ExecutionListener& listener_;
  const std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;        // guarded by mu_
  bool cancels_due_ = false;  // a notice named this server; guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::map<std::string, std::shared_ptr<Baseline>> followed_;  // guarded by mu_
  std::string server_id_;                                      // guarded by mu_
  std::function<void(const CancelRequest&)> cancel_handler_;   // guarded by mu_
  std::thread thread_;
};

}  // namespace kiln
