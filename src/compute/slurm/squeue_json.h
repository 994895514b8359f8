// Reads `squeue --json` (Slurm 22.05 and later) into one SlurmJobStatus per
// Kiln-visible job id: plain jobs as "1234", array tasks as "1234_7" —
// including each task of a still-pending array, which squeue lists as one
// record with a task range ("0-49%10"). Only jobs named `name` are kept.
// Pure; tested against real squeue output (testdata/).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "compute/slurm/slurm_states.h"
#include "core/status.h"

namespace kiln {

Result<std::map<std::string, SlurmJobStatus>> ParseSqueueJson(std::string_view json,
                                                              std::string_view name);

// "0-3,7,9-10%2" → {0,1,2,3,7,9,10}; an error for anything else. At most
// `limit` ids (a range past it is an error: squeue never lists that many).
Result<std::vector<int64_t>> ExpandArrayTasks(std::string_view spec, size_t limit = 1000000);

}  // namespace kiln
