// WorkerClient: how `kiln worker` talks to the server (docs/compute.md,
// "Remote workers"): JSON calls, streamed downloads (hashed as they arrive)
// and streamed uploads, each with the bearer token of its own (the worker's
// token for leases, a job's token for that job's routes). libcurl; a fresh
// easy handle per call, so calls from several threads never share one.
//
// A call that reached the server answers with its HTTP status, whatever it
// is; an error Status (IOError) means the server was not reached or the
// connection broke: the caller retries later.
//
// Ownership: values. Thread-safety: every method is safe from any thread.
#pragma once

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln {

struct WorkerAnswer {
  long status = 0;
  nlohmann::json body;  // the parsed body (null when it is not JSON)
  // The error message of a non-2xx answer ({"error": {"message"}}), else "".
  std::string Message() const;
};

class WorkerClient {
 public:
  // `abort` (optional, borrowed): when it turns true, calls in progress stop
  // (IOError) instead of finishing a long transfer.
  explicit WorkerClient(std::string server, const std::atomic<bool>* abort = nullptr);

  // POST with a JSON body or raw bytes; `headers` are "Name: value".
  Result<WorkerAnswer> Post(const std::string& path, const std::string& bearer,
                            const std::string& body, const std::string& content_type,
                            const std::vector<std::string>& headers = {}) const;
  // GET into `file` (written whole or not at all). With `sha256` (64 hex),
  // a download whose bytes hash differently fails (Corruption).
  Result<WorkerAnswer> Download(const std::string& path, const std::string& bearer,
                                const std::filesystem::path& file,
                                const std::string& sha256 = "") const;
  // PUT the bytes of `file`, streamed.
  Result<WorkerAnswer> Upload(const std::string& path, const std::string& bearer,
                              const std::filesystem::path& file) const;
  const std::string& server() const { return server_; }

 private:
  std::string server_;
  const std::atomic<bool>* abort_;
};

}  // namespace kiln
