// PushedEvents: where jobs on other machines push their events (docs/compute.md,
// "Pushed events"). A backend registers each job it starts with a fresh
// token and the sink for its events; the server's POST /jobs/{id}/events
// hands each body here; lines reach the sink in order, each once, however
// often the job retries. When the job ends, the backend calls Close(), which
// says how many lines arrived, so it can read the rest from the events file
// the job also wrote (a job killed before it could push them).
//
// Ownership: borrows the sinks (a backend's; registered until Close).
// Thread-safety: every method is safe from any thread. One job's lines are
// delivered by one call at a time (a per-job lock), so a sink sees them in
// order and never concurrently; Close waits for a delivery in progress.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "compute/compute_backend.h"

namespace kiln {

class PushedEvents {
 public:
  // A new random token (64 hex digits) for a job.
  static std::string NewToken();

  // `next`: lines already delivered (an adopted job resumes where it was).
  // `trust_first_offset`: the count is not known here (an adopted job whose
  // events file is on another machine): the job's first push sets it, so
  // lines a previous server process acknowledged are not sent again.
  void Register(const std::string& job_id, const std::string& token, JobSink* sink,
                uint64_t next = 0, bool trust_first_offset = false);
  // Stops accepting lines for the job; returns how many were delivered.
  uint64_t Close(const std::string& job_id);
  // How many lines of the job were delivered (0 for an unknown job).
  uint64_t Next(const std::string& job_id);
  // Gives the job a new token (the old one stops working at once) and
  // returns how many lines were delivered: a job that moves to another
  // machine continues from there. Waits for a delivery in progress, as
  // Close does. NotFound for an unknown job.
  Result<uint64_t> Rekey(const std::string& job_id, const std::string& token);

  // A POST's body. `offset`: the index of the body's first line. Returns the
  // index of the next line the server wants. Errors: PermissionDenied (bad
  // token), NotFound (no such job running), FailedPrecondition with `*next`
  // set (offset ahead of what arrived: resend from *next), InvalidArgument
  // (a line that is not complete).
  Result<uint64_t> Receive(const std::string& job_id, std::string_view token, uint64_t offset,
                           std::string_view body, uint64_t* next_on_conflict);

  // How many jobs are registered (tests, /metrics).
  size_t size() const;

 private:
  struct Job {
    std::string token;
    JobSink* sink = nullptr;
    uint64_t next = 0;
    bool closed = false;
    bool trust_first_offset = false;
    std::mutex deliver;  // held while handing lines to the sink
  };
  std::shared_ptr<Job> Find(const std::string& job_id) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
};

}  // namespace kiln
