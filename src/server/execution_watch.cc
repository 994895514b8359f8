#include "server/execution_watch.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/api_runs.h"
#include "server/hub_messages.h"

namespace kiln {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ExecutionWatch::ExecutionWatch(Driver& driver, Access& access)
    : driver_(driver), access_(access), subscription_(driver.Subscribe("", this)) {}

ExecutionWatch::~ExecutionWatch() { driver_.Unsubscribe(subscription_); }

void ExecutionWatch::Watch(const std::shared_ptr<WebSocketConnection>& conn,
                           const std::string& execution) {
  Result<ExecutionRecord> e = driver_.runs().GetExecution(execution);
  Status allowed = e.ok() ? access_.Check(conn->user(), e->project, Role::kRead) : e.status();
  if (!allowed.ok()) {
    // Same answer for "does not exist" and "not yours".
    return conn->SendControl(ErrorMessage(NotFound("no execution '" + execution + "'")));
  }
  // Register first, then send the current state: a change in between is
  // sent twice at worst, never lost.
  {
    std::lock_guard lock(mu_);
    watchers_[execution][conn->id()] = conn;
  }
  Result<std::vector<JobRecord>> jobs = driver_.runs().ListJobs(execution);
  // Another server drives it: its changes after what is sent now come from
  // the runs store (events from the seqs read before sending: twice at
  // worst, never lost).
  bool follow = follower_ && jobs.ok() && DrivenByAnotherServer(*e, server_id_);
  RunsFollower::Baseline sent;
  if (follow) sent = follower_->BaselineOf(*e, *jobs);
  conn->SendControl(Dump({{"type", "execution"}, {"execution", ExecutionJson(*e)}}));
  if (jobs.ok()) {
    for (const JobRecord& j : *jobs)
      conn->SendControl(Dump({{"type", "job"}, {"job", JobJson(j)}}));
  }
  conn->SendControl(Dump({{"type", "watching"}, {"execution", execution}}));
  if (follow) {
    // Followed while someone watches it: decided under mu_, as Unwatch
    // decides to stop.
    std::lock_guard lock(mu_);
    auto it = watchers_.find(execution);
    if (it != watchers_.end() && !it->second.empty()) follower_->Follow(execution, std::move(sent));
  }
}

void ExecutionWatch::Unwatch(uint64_t conn_id, const std::string& execution) {
  {
    std::lock_guard lock(mu_);
    auto it = watchers_.find(execution);
    if (it == watchers_.end()) return;
    it->second.erase(conn_id);
    if (!it->second.empty()) return;
    watchers_.erase(it);
    if (follower_) follower_->Unfollow(execution);
  }
}

void ExecutionWatch::Closed(uint64_t conn_id) {
  std::lock_guard lock(mu_);
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    it->second.erase(conn_id);
    if (!it->second.empty()) {
      ++it;
      continue;
    }
    if (follower_) follower_->Unfollow(it->first);
    it = watchers_.erase(it);
  }
}

void ExecutionWatch::Send(const std::string& execution, const std::string& message) {
  std::lock_guard lock(mu_);
  auto it = watchers_.find(execution);
  if (it == watchers_.end()) return;
  for (auto c = it->second.begin(); c != it->second.end();) {
    auto conn = c->second.lock();
    if (conn && conn->Send(message)) {
      ++c;
      continue;
    }
    if (conn) {
      conn->SendControl(
          Dump({{"type", "resync"},
                {"execution", execution},
                {"reason", "too far behind; watch again and read events by offset"}}));
    }
    c = it->second.erase(c);
  }
}

void ExecutionWatch::OnExecution(const ExecutionRecord& execution) {
  Send(execution.id, Dump({{"type", "execution"}, {"execution", ExecutionJson(execution)}}));
}

void ExecutionWatch::OnJob(const JobRecord& job) {
  Send(job.execution, Dump({{"type", "job"}, {"job", JobJson(job)}}));
}

void ExecutionWatch::OnEvents(const std::string& execution,
                              const std::vector<EventRecord>& events) {
  {
    // Nobody watching: nothing to build (a job printing millions of lines
    // would otherwise cost their JSON here for no one).
    std::lock_guard lock(mu_);
    auto it = watchers_.find(execution);
    if (it == watchers_.end() || it->second.empty()) return;
  }
  // One message per job keeps clients' bookkeeping (offset per job) simple;
  // at most kEventsPerMessage events a message, so what is built at once
  // stays small however many events arrive together.
  constexpr size_t kEventsPerMessage = 500;
  std::map<std::string, std::vector<const EventRecord*>> by_job;
  for (const EventRecord& e : events) by_job[e.job].push_back(&e);
  for (auto& [job, list] : by_job) {
    for (size_t start = 0; start < list.size(); start += kEventsPerMessage) {
      nlohmann::json slice = nlohmann::json::array();
      for (size_t i = start; i < std::min(list.size(), start + kEventsPerMessage); ++i) {
        slice.push_back(EventJson(*list[i]));
      }
      Send(execution,
           Dump({{"type", "events"}, {"execution", execution}, {"job", job}, {"events", slice}}));
    }
  }
}

}  // namespace kiln
