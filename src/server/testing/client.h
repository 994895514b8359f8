// Blocking HTTP and WebSocket clients for tests and benchmarks (not used by
// the server). Beast stays inside client.cc.
//
// Ownership: each client owns its socket. Thread-safety: one thread per
// client object; distinct clients may run on distinct threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace kiln::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One keep-alive HTTP/1.1 connection.
class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  Result<ClientResponse> Request(const std::string& method, const std::string& target,
                                 const std::string& body = "",
                                 const std::map<std::string, std::string>& headers = {});
  // Sends raw bytes on a fresh connection and returns whatever comes back
  // before the server closes it (malformed-input tests).
  Result<std::string> Raw(const std::string& bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class WsClient {
 public:
  ~WsClient();
  static Result<std::unique_ptr<WsClient>> Connect(
      const std::string& host, uint16_t port, const std::string& target,
      const std::map<std::string, std::string>& headers = {});
  Status Send(const std::string& text);
  Status SendBinary(const std::string& bytes);
  // The next message, or DeadlineExceeded-like error (kCancelled) after `timeout`.
  Result<std::string> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void Close();

 private:
  struct Impl;
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::testing
