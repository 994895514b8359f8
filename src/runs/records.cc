#include "runs/records.h"

#include <array>

namespace kiln {
namespace {

constexpr std::array<std::pair<JobState, const char*>, 8> kJobStates{{
    {JobState::kPending, "pending"},
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kCached, "cached"},
    {JobState::kFailed, "failed"},
    {JobState::kSkipped, "skipped"},
    {JobState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<ExecutionState, const char*>, 4> kExecutionStates{{
    {ExecutionState::kRunning, "running"},
    {ExecutionState::kSucceeded, "succeeded"},
    {ExecutionState::kFailed, "failed"},
    {ExecutionState::kCancelled, "cancelled"},
}};

}  // namespace

const char* JobStateName(JobState state) {
  for (auto [s, n] : kJobStates)
    if (s == state) return n;
  return "unknown";
}

Result<JobState> ParseJobState(std::string_view name) {
  for (auto [s, n] : kJobStates)
    if (name == n) return s;
  return InvalidArgument("unknown job state '" + std::string(name) + "'");
}

bool IsTerminal(JobState s) {
  return s != JobState::kPending && s != JobState::kQueued && s != JobState::kRunning;
}

const char* ExecutionStateName(ExecutionState state) {
  for (auto [s, n] : kExecutionStates)
    if (s == state) return n;
  return "unknown";
}

Result<ExecutionState> ParseExecutionState(std::string_view name) {
  for (auto [s, n] : kExecutionStates)
    if (name == n) return s;
  return InvalidArgument("unknown execution state '" + std::string(name) + "'");
}

}  // namespace kiln
