#include "compute/slurm/sbatch_plan.h"

#include <cmath>
#include <cstdio>

namespace kiln {

namespace {

// Single quotes for the shell; the paths and names come from the config.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string SlurmJobName(const SlurmSite& site) { return "kiln-" + site.name; }

std::string SlurmTime(double seconds) {
  if (seconds <= 0) return "";
  // Slurm keeps time limits in whole minutes: round up to one.
  auto total = int64_t(std::ceil(seconds / 60.0)) * 60;
  char buf[48];
  int64_t days = total / 86400, h = total / 3600 % 24, m = total / 60 % 60, s = total % 60;
  if (days > 0) {
    std::snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", (long long)days, (long long)h,
                  (long long)m, (long long)s);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", (long long)h, (long long)m,
                  (long long)s);
  }
  return buf;
}

Result<std::vector<std::string>> SbatchOptions(const SlurmSite& site, const JobRequest& request) {
  const JobResources& r = request.resources;
  std::vector<std::string> args;
  std::string partition = r.partition.empty() ? site.partition : r.partition;
  if (!partition.empty()) args.push_back("--partition=" + partition);
  if (r.cpus > 0) args.push_back("--cpus-per-task=" + std::to_string(r.cpus));
  // Only what the operation asked for: the server's default limit is the
  // local machine's share, not the cluster's.
  uint64_t memory_mb = r.memory_mb ? r.memory_mb : site.default_memory_mb;
  if (memory_mb) args.push_back("--mem=" + std::to_string(memory_mb) + "M");
  if (r.gpus > 0) {
    std::string type = r.gpu_type.empty() ? "" : r.gpu_type + ":";
    if (site.gpu_flag == "gpus") {
      args.push_back("--gpus=" + type + std::to_string(r.gpus));
    } else if (site.gpu_flag == "gres") {
      args.push_back("--gres=gpu:" + type + std::to_string(r.gpus));
    } else {
      return InvalidArgument("gpu_flag must be 'gres' or 'gpus', not '" + site.gpu_flag + "'");
    }
  }
  if (std::string t = SlurmTime(request.limits.timeout_s); !t.empty())
    args.push_back("--time=" + t);
  for (const std::string& a : site.sbatch_args) args.push_back(a);
  return args;
}

std::string BatchScript(const SlurmSite& site, const std::filesystem::path& tasks,
                        const std::string& inline_tasks) {
  std::string s = "#!/bin/bash\n";
  s += "# Kiln jobs for backend " + site.name + " (docs/compute.md): task i runs line i+1.\n";
  std::string task = "$(( ${SLURM_ARRAY_TASK_ID:-0} + 1 ))p";
  if (site.fetch_bundles) {
    s += "line=$(sed -n \"" + task + "\" <<'KILN_TASKS'\n" + inline_tasks + "KILN_TASKS\n)\n";
  } else {
    s += "line=$(sed -n \"" + task + "\" " + Quote(tasks.string()) + ")\n";
  }
  s += "IFS=$'\\t' read -r KILN_JOB_ID KILN_BUNDLE KILN_JOB_TOKEN <<< \"$line\"\n";
  s += "if [ -z \"$KILN_BUNDLE\" ]; then echo \"kiln: no task $SLURM_ARRAY_TASK_ID in the task "
       "list\" >&2; exit 2; fi\n";
  s += "export KILN_JOB_ID KILN_JOB_TOKEN\n";
  if (!site.events_url.empty()) {
    s += "export KILN_EVENTS_URL=" + Quote(site.events_url) + "\"/$KILN_JOB_ID/events\"\n";
  }
  if (!site.pythonpath.empty()) {
    s += "export PYTHONPATH=" + Quote(site.pythonpath) + "${PYTHONPATH:+:$PYTHONPATH}\n";
  }
  if (site.fetch_bundles) {
    s += "export KILN_FILES_URL=" + Quote(site.events_url) + "\"/$KILN_JOB_ID\"\n";
    s += "exec " + Quote(site.python) + " -m kiln.remote_bundle\n";
    return s;
  }
  s += "cd \"$KILN_BUNDLE\" || exit 2\n";
  s += "exec " + Quote(site.python) + " -m kiln.job \"$KILN_BUNDLE\"\n";
  return s;
}

}  // namespace kiln
