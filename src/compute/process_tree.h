// Process trees from /proc: the processes descending from a pid, so that
// cancelling a job can kill everything it started, including children that
// left its process group or session.
//
// Thread-safety: reentrant (reads /proc).
#pragma once

#include <cstdint>
#include <vector>

namespace kiln {

struct ProcessId {
  int pid = 0;
  uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat: tells a reused pid apart
  bool operator==(const ProcessId&) const = default;
};

// `root` and every live process below it, plus every process whose process
// group or session is `root` (they may have been reparented already).
std::vector<ProcessId> ProcessTree(int root);
// True while the process exists with the same start time (zombies count as gone).
bool Alive(const ProcessId& p);
// SIGKILLs each process still alive (and the same process).
void KillAll(const std::vector<ProcessId>& processes);

}  // namespace kiln
