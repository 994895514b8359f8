#include "server/runs_follower.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "server/api_runs.h"

namespace kiln {

RunsFollower::RunsFollower(RunsStore& runs, ExecutionListener& listener,
                           std::chrono::milliseconds poll)
    : runs_(runs), listener_(listener), poll_(poll), thread_([this] { Loop(); }) {}

RunsFollower::~RunsFollower() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RunsFollower::Follow(const std::string& execution) {
  auto f = std::make_shared<Followed>();
  Result<ExecutionRecord> e = runs_.GetExecution(execution);
  if (!e.ok()) return;
  f->execution = ExecutionJson(*e).dump();
  if (Result<std::vector<JobRecord>> jobs = runs_.ListJobs(execution); jobs.ok()) {
    for (const JobRecord& j : *jobs) {
      f->jobs[j.id] = JobJson(j).dump();
      Result<int64_t> seq = runs_.LastSeq(j.id);
      f->last_seq[j.id] = seq.ok() ? *seq : 0;
    }
  }
  std::lock_guard lock(mu_);
  followed_.emplace(execution, std::move(f));
}

void RunsFollower::Unfollow(const std::string& execution) {
  std::lock_guard lock(mu_);
  followed_.erase(execution);
}

void RunsFollower::set_cancel_handler(std::string server_id,
                                      std::function<void(const CancelRequest&)> handler) {
  std::lock_guard lock(mu_);
  server_id_ = std::move(server_id);
  cancel_handler_ = std::move(handler);
}

void RunsFollower::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void RunsFollower::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, poll_, [this] { return poked_ || stop_; });
    if (stop_) break;
    poked_ = false;
    auto followed = followed_;
    auto cancel = cancel_handler_;
    std::string server = server_id_;
    lock.unlock();
    if (cancel) {
      Result<std::vector<CancelRequest>> asked = runs_.TakeCancelRequests(server);
      if (asked.ok()) {
        for (const CancelRequest& r : *asked) cancel(r);
      }
    }
    std::vector<std::string> ended;
    for (auto& [id, f] : followed) {
      if (!Refresh(id, *f)) ended.push_back(id);
    }
    lock.lock();
    for (const std::string& id : ended) followed_.erase(id);
  }
}

bool RunsFollower::Refresh(const std::string& id, Followed& f) {
  Result<ExecutionRecord> e = runs_.GetExecution(id);
  if (!e.ok()) return e.status().code() != Code::kNotFound;  // a store hiccup: try again later
  Result<std::vector<JobRecord>> jobs = runs_.ListJobs(id);
  if (!jobs.ok()) return true;
  // Events before the state that ended their job, as the Driver sends them.
  constexpr size_t kPage = 1000;
  for (const JobRecord& j : *jobs) {
    int64_t& last = f.last_seq[j.id];
    for (;;) {
      EventQuery q;
      q.after_seq = last;
      q.limit = kPage;
      Result<std::vector<EventRecord>> events = runs_.Events(j.id, q);
      if (!events.ok() || events->empty()) break;
      last = events->back().seq;
      listener_.OnEvents(id, *events);
      if (events->size() < kPage) break;
    }
  }
  for (const JobRecord& j : *jobs) {
    std::string text = JobJson(j).dump();
    std::string& known = f.jobs[j.id];
    if (known == text) continue;
    known = std::move(text);
    listener_.OnJob(j);
  }
  std::string text = ExecutionJson(*e).dump();
  if (text != f.execution) {
    f.execution = std::move(text);
    listener_.OnExecution(*e);
  }
  return e->state == ExecutionState::kRunning;
}

}  // namespace kiln
