// What Kiln makes of a Slurm job's state (docs/compute.md, "States"): a pure
// mapping from what `squeue --json` says of one job to waiting, running or
// ended-with-this-exit. Tested by the case file testdata/slurm_states.txt.
#pragma once

#include <string>

#include "compute/compute_backend.h"

namespace kiln {

struct SlurmJobStatus {
  std::string id;      // "1234", or "1234_7" for an array task
  std::string state;   // job_state: "RUNNING", "OUT_OF_MEMORY", …
  std::string reason;  // state_reason: "None", "Priority", "NonZeroExitCode", …
  int exit_code = 0;   // the batch script's return code
  int exit_signal = 0;
  std::string nodes;  // "" while pending
};

struct SlurmOutcome {
  enum class Kind { kWaiting, kRunning, kEnded };
  Kind kind = Kind::kWaiting;
  JobExit exit;      // kEnded
  std::string note;  // kWaiting: why, in words ("pending in Slurm: Priority")
};

// `cancel_requested`: Kiln itself ran scancel on it (then CANCELLED is a
// cancel, not a failure). `memory_mb`, `time_s`: what the job asked for, for
// the reasons' wording (0 = unknown).
SlurmOutcome MapSlurmState(const SlurmJobStatus& status, bool cancel_requested, uint64_t memory_mb,
                           double time_s);

}  // namespace kiln
