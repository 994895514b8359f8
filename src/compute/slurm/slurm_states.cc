#include "compute/slurm/slurm_states.h"

#include <cstdio>
#include <set>
#include <string_view>

namespace kiln {

namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

std::string WaitingNote(const SlurmJobStatus& s) {
  std::string note = "pending in Slurm";
  if (s.state != "PENDING") note = std::string("Slurm state ") + s.state;
  if (!s.reason.empty() && s.reason != "None") note += " (" + s.reason + ")";
  return note;
}

}  // namespace

SlurmOutcome MapSlurmState(const SlurmJobStatus& s, bool cancel_requested, uint64_t memory_mb,
                           double time_s) {
  static const std::set<std::string_view> waiting = {
      "PENDING",   "CONFIGURING", "REQUEUED",  "REQUEUE_HOLD", "REQUEUE_FED",  "RESIZING",
      "SUSPENDED", "STOPPED",     "SIGNALING", "STAGE_OUT",    "RESV_DEL_HOLD"};
  SlurmOutcome out;
  if (waiting.count(s.state)) {
    out.kind = SlurmOutcome::Kind::kWaiting;
    out.note = WaitingNote(s);
    return out;
  }
  if (s.state == "RUNNING" || s.state == "COMPLETING") {
    out.kind = SlurmOutcome::Kind::kRunning;
    return out;
  }
  // PREEMPTED without requeue ends the job; a partition that requeues
  // shows it PENDING/REQUEUED again, which is waiting above.
  out.kind = SlurmOutcome::Kind::kEnded;
  JobExit& e = out.exit;
  e.end = JobExit::End::kExited;
  e.exit_code = s.exit_code;
  if (s.state == "COMPLETED") {
    e.exit_code = 0;
    return out;
  }
  if (s.state == "FAILED") {
    if (s.exit_signal) {
      e.end = JobExit::End::kSignaled;
      e.signal = s.exit_signal;
      e.reason = "killed by signal " + std::to_string(s.exit_signal) + " (Slurm FAILED)";
    } else {
      if (e.exit_code == 0) e.exit_code = 1;
      e.reason = "exit code " + std::to_string(e.exit_code) + " (Slurm FAILED";
      e.reason += s.reason.empty() || s.reason == "None" || s.reason == "NonZeroExitCode"
                      ? ")"
                      : ": " + s.reason + ")";
    }
    return out;
  }
  if (s.state == "CANCELLED") {
    e.end = JobExit::End::kSignaled;
    e.signal = 15;
    e.cancelled = cancel_requested;
    e.reason =
        cancel_requested ? "cancelled" : "cancelled in Slurm (by an administrator or scancel)";
    return out;
  }
  if (s.state == "TIMEOUT" || s.state == "DEADLINE") {
    e.end = JobExit::End::kSignaled;
    e.signal = 15;
    e.timed_out = true;
    e.reason = s.state == "DEADLINE" ? "Slurm stopped the job at its deadline"
               : time_s > 0
                   ? "timed out: Slurm stopped the job at its time limit of " + Seconds(time_s)
                   : "timed out: Slurm stopped the job at its partition's time limit";
    return out;
  }
  if (s.state == "OUT_OF_MEMORY") {
    e.end = JobExit::End::kSignaled;
    e.signal = 9;
    e.reason = memory_mb ? "out of memory: the job went over its Slurm memory of " +
                               std::to_string(memory_mb) + " MiB"
                         : "out of memory: the job went over its Slurm memory";
    return out;
  }
  e.end = JobExit::End::kLost;
  std::string where = s.nodes.empty() ? "" : " on " + s.nodes;
  if (s.state == "NODE_FAIL" || s.state == "BOOT_FAIL") {
    e.reason = "node failure" + where + " (Slurm " + s.state + ")";
  } else if (s.state == "PREEMPTED") {
    e.reason = "preempted" + where + " and not requeued (Slurm PREEMPTED)";
  } else {
    e.reason = "Slurm ended the job in state " + s.state;
  }
  return out;
}

}  // namespace kiln
