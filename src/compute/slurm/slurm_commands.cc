#include "compute/slurm/slurm_commands.h"

#include "core/child_process.h"

namespace kiln {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

bool IsTransientSlurmError(const std::string& m) {
  for (const char* transient :
       {"Unable to contact slurm controller", "Socket timed out",
        "Resource temporarily unavailable", "temporarily unable to accept job",
        "Slurm temporarily unable", "Zero Bytes were transmitted", "Connection refused", "EAGAIN",
        "Transport endpoint is not connected", "Communication connection failure"}) {
    if (m.find(transient) != std::string::npos) return true;
  }
  return false;
}

ProcessSlurmCommands::ProcessSlurmCommands(std::string bin_dir,
                                           std::map<std::string, std::string> env)
    : bin_dir_(bin_dir.empty() ? "/usr/bin" : std::move(bin_dir)) {
  for (const auto& [k, v] : env) env_.push_back(k + "=" + v);
}

Result<std::string> ProcessSlurmCommands::Sbatch(const std::vector<std::string>& args,
                                                 const std::string& script) {
  ChildProcessOptions o;
  o.argv = {bin_dir_ + "/sbatch", "--parsable"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = env_;
  o.stdin_data = script;
  o.timeout = std::chrono::seconds(60);
  calls_++;
  KILN_ASSIGN_OR_RETURN(ChildProcessResult r, RunChildProcess(o));
  if (r.exit_code != 0 || r.timed_out) {
    std::string message = Trim(r.err.empty() ? r.out : r.err);
    if (auto p = message.find("sbatch: error: "); p != std::string::npos) {
      message = message.substr(p + 15);
    }
    if (r.timed_out) message = "sbatch did not answer within 60 s";
    if (r.timed_out || IsTransientSlurmError(message)) return Unavailable(message);
    return InvalidArgument(message);
  }
  std::string id = Trim(r.out);
  if (auto nl = id.rfind('\n'); nl != std::string::npos) id = id.substr(nl + 1);  // warnings first
  if (auto semi = id.find(';'); semi != std::string::npos) id = id.substr(0, semi);
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return Internal("sbatch printed no job id: '" + Trim(r.out) + "'");
  }
  return id;
}

Result<std::string> ProcessSlurmCommands::SqueueJson() {
  ChildProcessOptions o;
  o.argv = {bin_dir_ + "/squeue", "--json"};
  o.env = env_;
  o.timeout = std::chrono::seconds(60);
  o.max_output = size_t(256) << 20;
  calls_++;
  KILN_ASSIGN_OR_RETURN(ChildProcessResult r, RunChildProcess(o));
  if (r.exit_code != 0 || r.timed_out) {
    return Unavailable("squeue failed: " +
                       Trim(r.timed_out ? std::string("no answer within 60 s") : r.err));
  }
  if (r.output_truncated) return ResourceExhausted("squeue --json printed over 256 MiB");
  return std::move(r.out);
}

Status ProcessSlurmCommands::Scancel(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::Ok();
  ChildProcessOptions o;
  o.argv = {bin_dir_ + "/scancel"};
  o.argv.insert(o.argv.end(), ids.begin(), ids.end());
  o.env = env_;
  o.timeout = std::chrono::seconds(60);
  calls_++;
  KILN_ASSIGN_OR_RETURN(ChildProcessResult r, RunChildProcess(o));
  if (r.exit_code != 0 || r.timed_out) return Unavailable("scancel failed: " + Trim(r.err));
  return Status::Ok();
}

}  // namespace kiln
