#include "scheduler/execution_plan.h"

#include <algorithm>

namespace kiln {

Result<ExecutionPlan> ExecutionPlan::Create(std::vector<std::string> names,
                                            const std::vector<std::pair<size_t, size_t>>& edges) {
  ExecutionPlan plan;
  plan.jobs_.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i) plan.jobs_[i].name = std::move(names[i]);
  for (auto [from, to] : edges) {
    if (from >= plan.jobs_.size() || to >= plan.jobs_.size()) {
      return InvalidArgument("edge " + std::to_string(from) + " → " + std::to_string(to) +
                             " names a job out of range");
    }
    if (from == to) return InvalidArgument("job '" + plan.jobs_[from].name + "' needs itself");
    auto& out = plan.jobs_[from].out;
    if (std::find(out.begin(), out.end(), to) != out.end()) continue;  // two ports, one edge
    out.push_back(to);
    plan.jobs_[to].in.push_back(from);
    plan.jobs_[to].waiting++;
  }
  // Kahn's algorithm: every job must be reachable in topological order.
  std::vector<size_t> waiting(plan.jobs_.size());
  std::vector<size_t> queue;
  for (size_t i = 0; i < plan.jobs_.size(); ++i) {
    waiting[i] = plan.jobs_[i].waiting;
    if (waiting[i] == 0) queue.push_back(i);
  }
  size_t seen = 0;
  while (!queue.empty()) {
    size_t j = queue.back();
    queue.pop_back();
    ++seen;
    for (size_t d : plan.jobs_[j].out)
      if (--waiting[d] == 0) queue.push_back(d);
  }
  if (seen != plan.jobs_.size()) return InvalidArgument("the jobs' dependencies form a cycle");
  for (size_t i = 0; i < plan.jobs_.size(); ++i)
    if (plan.jobs_[i].waiting == 0) plan.ready_.push_back(i);
  return plan;
}

std::vector<size_t> ExecutionPlan::TakeReady() {
  std::vector<size_t> out;
  out.swap(ready_);
  std::sort(out.begin(), out.end());
  for (size_t j : out) Set(j, JobState::kQueued, "");
  return out;
}

Status ExecutionPlan::Check(size_t job, std::initializer_list<JobState> from,
                            const char* what) const {
  if (job >= jobs_.size()) return InvalidArgument("no job " + std::to_string(job));
  for (JobState s : from)
    if (jobs_[job].state == s) return Status::Ok();
  return FailedPrecondition(std::string("cannot ") + what + " job '" + jobs_[job].name +
                            "': it is " + JobStateName(jobs_[job].state));
}

void ExecutionPlan::Set(size_t job, JobState state, std::string reason) {
  Job& j = jobs_[job];
  if (!IsTerminal(j.state) && IsTerminal(state)) ++terminal_;
  j.state = state;
  j.reason = std::move(reason);
  if (IsDone(state)) {
    for (size_t d : j.out)
      if (--jobs_[d].waiting == 0 && jobs_[d].state == JobState::kPending) ready_.push_back(d);
  }
}

std::vector<size_t> ExecutionPlan::SkipDownstream(size_t job, const std::string& reason) {
  std::vector<size_t> skipped;
  std::vector<size_t> stack(jobs_[job].out.begin(), jobs_[job].out.end());
  while (!stack.empty()) {
    size_t d = stack.back();
    stack.pop_back();
    // Only pending jobs can be downstream of an unfinished one.
    if (jobs_[d].state != JobState::kPending) continue;
    Set(d, JobState::kSkipped, reason);
    skipped.push_back(d);
    stack.insert(stack.end(), jobs_[d].out.begin(), jobs_[d].out.end());
  }
  std::sort(skipped.begin(), skipped.end());
  return skipped;
}

Status ExecutionPlan::Start(size_t job) {
  KILN_RETURN_IF_ERROR(Check(job, {JobState::kQueued}, "start"));
  Set(job, JobState::kRunning, "");
  return Status::Ok();
}

Status ExecutionPlan::Succeed(size_t job) {
  KILN_RETURN_IF_ERROR(Check(job, {JobState::kRunning}, "finish"));
  Set(job, JobState::kSucceeded, "");
  return Status::Ok();
}

Status ExecutionPlan::Cache(size_t job) {
  KILN_RETURN_IF_ERROR(Check(job, {JobState::kQueued}, "serve from the cache"));
  Set(job, JobState::kCached, "");
  return Status::Ok();
}

Result<std::vector<size_t>> ExecutionPlan::Fail(size_t job, std::string reason) {
  KILN_RETURN_IF_ERROR(Check(job, {JobState::kQueued, JobState::kRunning}, "fail"));
  Set(job, JobState::kFailed, std::move(reason));
  return SkipDownstream(job, "upstream job '" + jobs_[job].name + "' failed");
}

Result<std::vector<size_t>> ExecutionPlan::Cancel(size_t job, std::string reason) {
  KILN_RETURN_IF_ERROR(Check(job, {JobState::kQueued, JobState::kRunning}, "cancel"));
  Set(job, JobState::kCancelled, std::move(reason));
  return SkipDownstream(job, "upstream job '" + jobs_[job].name + "' was cancelled");
}

ExecutionPlan::CancelOutcome ExecutionPlan::CancelAll(const std::string& reason) {
  CancelOutcome out;
  ready_.clear();
  for (size_t i = 0; i < jobs_.size(); ++i) {
    JobState s = jobs_[i].state;
    if (s == JobState::kPending || s == JobState::kQueued) {
      Set(i, JobState::kCancelled, reason);
      out.cancelled.push_back(i);
    } else if (s == JobState::kRunning) {
      out.running.push_back(i);
    }
  }
  return out;
}

size_t ExecutionPlan::CountIn(JobState state) const {
  return size_t(
      std::count_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.state == state; }));
}

}  // namespace kiln
