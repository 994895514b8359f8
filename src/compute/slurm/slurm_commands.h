// SlurmCommands: the three Slurm programs the backend runs — sbatch, squeue,
// scancel — behind an interface, so the backend's decisions can be tested
// with a fake cluster (slurm_test.cc) and the real one runs in
// tests/slurm/. ProcessSlurmCommands runs the real programs (with the
// site's environment, e.g. SLURM_CONF) and counts every call.
//
// Thread-safety: implementations are safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

class SlurmCommands {
 public:
  virtual ~SlurmCommands() = default;
  // `sbatch --parsable ARGS` with the script on stdin → the job id
  // ("1234", or "1234;cluster"). Errors carry sbatch's own message;
  // Unavailable when the failure is worth retrying (controller unreachable,
  // rate limited).
  virtual Result<std::string> Sbatch(const std::vector<std::string>& args,
                                     const std::string& script) = 0;
  // `squeue --json` (every job the controller still lists).
  virtual Result<std::string> SqueueJson() = 0;
  virtual Status Scancel(const std::vector<std::string>& ids) = 0;
  // Calls to the controller so far (benchmarks, the calls-per-minute bound).
  virtual uint64_t calls() const = 0;
};

class ProcessSlurmCommands : public SlurmCommands {
 public:
  // `bin_dir`: where sbatch, squeue and scancel are ("" = /usr/bin);
  // `env`: added to their environment.
  ProcessSlurmCommands(std::string bin_dir, std::map<std::string, std::string> env);

  Result<std::string> Sbatch(const std::vector<std::string>& args,
                             const std::string& script) override;
  Result<std::string> SqueueJson() override;
  Status Scancel(const std::vector<std::string>& ids) override;
  uint64_t calls() const override { return calls_; }

 private:
  std::string bin_dir_;
  std::vector<std::string> env_;
  std::atomic<uint64_t> calls_{0};
};

// Whether sbatch's message says to try again later rather than give up.
bool IsTransientSlurmError(const std::string& message);

}  // namespace kiln
