// RemoteClient: the CLI's way to a running `kiln serve` (its REST API), for
// the commands that act on executions the server runs: kiln run, kiln logs,
// kiln artifacts. libcurl; blocking.
//
// Ownership: owns its curl handle. Thread-safety: one thread.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/status.h"
#include "core/url.h"

namespace kiln {

class RemoteClient {
 public:
  // server: "http://127.0.0.1:8080"; token: an API token or "".
  RemoteClient(std::string server, std::string token);
  ~RemoteClient();

  // JSON in and out; a non-2xx answer becomes a Status with the server's
  // error message.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const nlohmann::json* body = nullptr);
  // POSTs the bytes of `file` as the body (application/octet-stream).
  Result<nlohmann::json> Upload(const std::string& path, const std::string& file);
  // Streams a download to `path`.
  Status Download(const std::string& path, const std::string& file);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The guid of the pipeline named `name` (or with that guid) in `project` at
// `ref`; NotFound naming it when there is none.
Result<std::string> FindPipeline(RemoteClient& remote, const std::string& project,
                                 const std::string& ref, const std::string& name);

}  // namespace kiln
