// RunsFollower: brings the executions another server drives to this
// server's watchers, when several servers share one runs store on
// PostgreSQL (docs/execution.md, "Several servers"). The server that started
// an execution is the only one whose Driver runs it and reports it live;
// the others learn of its changes from the runs store.
//
// Woken by Poke() (each NOTIFY kiln_runs, sent when a server's write
// commits) and every `poll` as a fallback for a lost notice, it reads each
// followed execution, its jobs and their events after the last seq it
// passed on, and hands what changed to the listener exactly as the Driver
// would (OnExecution, OnJob, OnEvents), so ExecutionWatch sends the same
// messages whichever server a browser is connected to. An execution that
// ended is followed until its last events are passed on, then dropped.
// At each look it also takes the cancels other servers left for this one.
//
// Ownership: borrows the runs store and the listener (both outlive it).
// Thread-safety: Follow/Unfollow/Poke from any thread; the listener is
// called on the follower's own thread, never with its lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runs/runs_store.h"
#include "scheduler/driver.h"

namespace kiln {

class RunsFollower {
 public:
  RunsFollower(RunsStore& runs, ExecutionListener& listener, std::chrono::milliseconds poll);
  ~RunsFollower();
  RunsFollower(const RunsFollower&) = delete;
  RunsFollower& operator=(const RunsFollower&) = delete;

  // Passes on changes from now on: what the store holds now is taken as
  // already known (the watcher was sent it).
  void Follow(const std::string& execution);
  void Unfollow(const std::string& execution);
  // Something changed in the store: look now.
  void Poke();
  // Cancels other servers asked of this one (`server_id`) are taken from
  // the store at each look and handed to `handler` (on the follower's
  // thread).
  void set_cancel_handler(std::string server_id, std::function<void(const CancelRequest&)> handler);

 private:
  struct Followed {
    std::string execution;                    // its record as JSON text
    std::map<std::string, std::string> jobs;  // job id → record as JSON text
    std::map<std::string, int64_t> last_seq;  // job id → last event passed on
  };
  void Loop();
  // Reads one execution and passes on what changed; false once it ended
  // and everything was passed on.
  bool Refresh(const std::string& id, Followed& f);

  RunsStore& runs_;
  ExecutionListener& listener_;
  std::string server_id_;                                     // guarded by mu_
  std::function<void(const CancelRequest&)> cancel_handler_;  // guarded by mu_
  const std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;                                         // guarded by mu_
  bool stop_ = false;                                          // guarded by mu_
  std::map<std::string, std::shared_ptr<Followed>> followed_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kiln
