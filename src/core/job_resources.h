// JobResources: what a job asks of where it runs, beyond its limits
// (JobLimits: memory, wall clock): CPU threads, GPUs, a partition and the
// backend by name (docs/compute.md, "Resources per operation"). A plain
// value: the pipeline compiler fills it from an operation's reserved
// attributes, the driver and the backends read it.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

struct JobResources {
  int cpus = 0;            // 0 = the backend's default
  uint64_t memory_mb = 0;  // what the operation asked for (job_memory_mb); 0 = not set
  int gpus = 0;            // GPUs it needs
  std::string gpu_type;    // "" = any
  std::string partition;   // Slurm partition; "" = the backend's default
  std::string backend;     // backend name; "" = the execution's or the default

  bool operator==(const JobResources&) const = default;
};

}  // namespace kiln
