#include "server/runs_follower.h"

#include <nlohmann/json.hpp>

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

RunsFollower::Baseline RunsFollower::BaselineOf(const ExecutionRecord& sent,
                                                const std::vector<JobRecord>& jobs) {
  Baseline b;
  b.execution = ExecutionJson(sent).dump();
  for (const JobRecord& j : jobs) {
    b.jobs[j.id] = JobJson(j).dump();
    Result<int64_t> seq = runs_.LastSeq(j.id);
    b.last_seq[j.id] = seq.ok() ? *seq : 0;
  }
  return b;
}

void RunsFollower::Follow(const std::string& execution, Baseline baseline) {
  std::lock_guard lock(mu_);
  followed_.emplace(execution, std::make_shared<Baseline>(std::move(baseline)));
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

void RunsFollower::Poke(const std::string& payload) {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
    if (!server_id_.empty() && payload == "cancel " + server_id_) cancels_due_ = true;
  }
  cv_.notify_all();
}

void RunsFollower::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    bool woken = cv_.wait_for(lock, poll_, [this] { return poked_ || stop_; });
    if (stop_) break;
    poked_ = false;
    // A lost notice may have named this server: the fallback poll looks too.
    bool take_cancels = cancel_handler_ && (cancels_due_ || !woken);
    cancels_due_ = false;
    auto followed = followed_;
    auto cancel = cancel_handler_;
    std::string server = server_id_;
    lock.unlock();
    if (take_cancels) {
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
    for (const std::string& id : ended) {
      // Only the entry read above: a new Follow meanwhile has its own.
      auto it = followed_.find(id);
      if (it != followed_.end() && it->second == followed[id]) followed_.erase(it);
    }
    // Notices come with every write of every server: one look per
    // kMinInterval at most (what arrives meanwhile is read at the next).
    cv_.wait_for(lock, kMinInterval, [this] { return stop_; });
  }
}

bool RunsFollower::Refresh(const std::string& id, Baseline& f) {
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
