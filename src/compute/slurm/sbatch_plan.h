// How Kiln jobs become sbatch calls (docs/compute.md, "The Slurm backend"),
// decided without running anything: the options a job's resources map to
// (its "shape": jobs of one shape can share a job array) and the batch script
// that runs task i of an array from a task list. Pure; tested in
// slurm_test.cc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "compute/compute_backend.h"

namespace kiln {

// What a site's [backends.X] section says about its cluster.
struct SlurmSite {
  std::string name = "slurm";               // the backend's name; Slurm jobs are named kiln-<name>
  std::string partition;                    // default partition ("" = the cluster's default)
  std::vector<std::string> sbatch_args;     // added to every sbatch
  std::string gpu_flag = "gres";            // "gres": --gres=gpu[:type]:N; "gpus": --gpus=[type:]N
  std::string python = "/usr/bin/python3";  // on the nodes
  std::string pythonpath;                   // the kiln package's folder on the nodes
  uint64_t default_memory_mb = 0;  // --mem when the operation sets none (0 = the cluster's)
  std::string events_url;          // <public_url>/api/v1/jobs (a job appends /<id>/events)
  // The nodes do not see the server's folders: a job fetches its bundle
  // and inputs from the server and uploads its outputs (kiln.remote_bundle).
  bool fetch_bundles = false;
};

std::string SlurmJobName(const SlurmSite& site);

// sbatch options for one job (not the array, output or script): partition,
// CPUs, memory, GPUs, time limit, then the site's own. Equal vectors = one
// shape. InvalidArgument for values sbatch would misread.
Result<std::vector<std::string>> SbatchOptions(const SlurmSite& site, const JobRequest& request);

// "--time" for a limit in seconds, rounded up: 90 → "00:01:30"; 0 → "".
std::string SlurmTime(double seconds);

// The batch script for a task list: line i+1 of `tasks` (tab separated:
// job id, bundle folder, token) is array task i (task 0 for a plain job).
// With site.fetch_bundles the list is `inline_tasks`, inside the script
// (Slurm copies the script to the node; no file of the server's is read
// there), and the task runs `python3 -m kiln.remote_bundle`.
std::string BatchScript(const SlurmSite& site, const std::filesystem::path& tasks,
                        const std::string& inline_tasks = "");

}  // namespace kiln
