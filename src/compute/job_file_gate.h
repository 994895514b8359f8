// JobFileGate: what a job running on another machine may read from and
// write into its bundle on the server, by its own token (docs/compute.md,
// "Jobs on other machines"). A backend opens the gate for a job when it
// sends it away (a remote worker's lease, a Slurm job without a shared
// folder) and closes it when the job ends or moves: from then on the token
// opens nothing. Through the gate a job reads only the files its bundle
// held when it was opened and its inputs; it writes only result.json and
// outputs/<name>.
//
// Ownership: values (paths); borrows nothing. Thread-safety: every method is
// safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace kiln {

// What a job's machine fetches before it runs.
struct JobManifest {
  std::string bundle;  // the bundle's path on the server (spec.json's input paths start with it)
  struct File {
    std::string path;  // relative to the bundle
    uint64_t size = 0;
  };
  std::vector<File> files;
  struct Input {
    std::string name;    // as in spec.json's inputs
    std::string sha256;  // "" when unknown (then it is not cached by digest)
    uint64_t size = 0;
  };
  std::vector<Input> inputs;
};

// A path a job may upload: "result.json" or "outputs/<name>" with a plain
// name (letters, digits, '.', '-', '_'; not starting with '.').
bool IsJobUploadPath(const std::string& path);

class JobFileGate {
 public:
  // Lists the bundle (its files, and its inputs from spec.json) and lets
  // `token` reach them. Replaces an earlier opening of the same job.
  Status Open(const std::string& job_id, const std::string& token,
              const std::filesystem::path& bundle);
  void Close(const std::string& job_id);

  // PermissionDenied for a wrong token; NotFound for a job the gate is not
  // open for, or a file or input it does not list.
  Result<JobManifest> Manifest(const std::string& job_id, std::string_view token) const;
  Result<std::filesystem::path> FileToSend(const std::string& job_id, std::string_view token,
                                           const std::string& path) const;
  Result<std::filesystem::path> InputToSend(const std::string& job_id, std::string_view token,
                                            const std::string& name) const;
  // Where an upload of `path` goes (the caller writes a temporary beside it
  // and renames it there). InvalidArgument for a path a job may not write.
  Result<std::filesystem::path> FileToReceive(const std::string& job_id, std::string_view token,
                                              const std::string& path) const;
  bool IsOpen(const std::string& job_id) const;

 private:
  struct Entry {
    std::string token;
    std::filesystem::path bundle;
    JobManifest manifest;
    std::map<std::string, std::filesystem::path> inputs;  // name → path here
  };
  Result<const Entry*> Find(const std::string& job_id, std::string_view token) const;

  mutable std::mutex mu_;
  std::map<std::string, Entry> open_;
};

}  // namespace kiln
