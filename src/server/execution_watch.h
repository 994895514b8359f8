// ExecutionWatch: streams live executions to the WebSocket clients watching
// them ({"type":"watch","execution":id}, docs/protocol.md): first the
// execution and its jobs as they are, then every job state change and every
// batch of events (logs, metrics, progress, figures) as the Driver reports
// them. A watcher whose queue is full is told to resynchronise (re-watch and
// fetch what it missed by offset from the REST API) and dropped.
//
// Ownership: borrows the Driver and Access; holds connections weakly.
// Thread-safety: safe from any thread; Driver callbacks arrive on its threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "access/access.h"
#include "scheduler/driver.h"
#include "server/http_server.h"
#include "server/runs_follower.h"

namespace kiln {

class ExecutionWatch : public ExecutionListener {
 public:
  ExecutionWatch(Driver& driver, Access& access);
  ~ExecutionWatch() override;

  // Executions that another server drives (several servers on one runs
  // store) are followed through `follower` while someone watches them;
  // `server_id` is this server's. Set before the first Watch.
  void set_follower(RunsFollower* follower, std::string server_id) {
    follower_ = follower;
    server_id_ = std::move(server_id);
  }

  void Watch(const std::shared_ptr<WebSocketConnection>& conn, const std::string& execution);
  void Unwatch(uint64_t conn_id, const std::string& execution);
  void Closed(uint64_t conn_id);

  void OnExecution(const ExecutionRecord& execution) override;
  void OnJob(const JobRecord& job) override;
  void OnEvents(const std::string& execution, const std::vector<EventRecord>& events) override;

 private:
  void Send(const std::string& execution, const std::string& message);

  Driver& driver_;
  Access& access_;
  RunsFollower* follower_ = nullptr;
  std::string server_id_;
  uint64_t subscription_;
  std::mutex mu_;
  // execution id → connection id → connection
  std::map<std::string, std::map<uint64_t, std::weak_ptr<WebSocketConnection>>> watchers_;
};

}  // namespace kiln
