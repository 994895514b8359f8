// HttpServer: Kiln's HTTP/1.1 and WebSocket front door, on Boost.Beast.
// It reads requests within the configured limits, hands them to a Router (or,
// for an upgrade on the WebSocket path, to a WebSocketHandler), and writes the
// responses. Everything Beast/Asio lives in http_server.cc.
//
// Limits (ServerOptions): request body size (413; streaming routes, such as
// artifact uploads, take their body in pieces and set their own), header
// size (431), header/idle/body timeouts,
// WebSocket message size (close 1009), connections per client address (503),
// requests per second per client address (429). Malformed HTTP gets 400 and
// the connection is closed; nothing a client sends can take the server down.
//
// Ownership: the server owns its threads, sockets and sessions; it borrows the
// Router, the WebSocketHandler and the Metrics, which must outlive it.
// Thread-safety: Start/Stop from one controlling thread. Handlers are called
// from the server's I/O threads concurrently. WebSocketConnection::Send is
// safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/router.h"

namespace kiln {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port (tests)
  int threads = 2;
  size_t max_body_bytes = 64 << 20;
  size_t max_header_bytes = 16 << 10;
  size_t max_ws_message_bytes = 4 << 20;
  int max_connections_per_client = 256;
  double requests_per_second_per_client = 2000;  // token bucket rate; burst = 2 s worth
  // A new connection must send its request's headers within this time; a
  // kept-alive one may wait this long idle for its next request; a request
  // body may go this long without a byte arriving. Half-sent requests are
  // closed when their time is up (docs/api.md, "Limits").
  int header_timeout_ms = 10'000;
  int idle_timeout_ms = 60'000;
  int body_timeout_ms = 60'000;
  // The address of a reverse proxy in front of the server ("" = none): its
  // connections are not limited per address, and its requests count for
  // the client named last in X-Forwarded-For.
  std::string trusted_proxy;
  // Bytes queued for one WebSocket before it counts as too far behind.
  size_t ws_queue_limit_bytes = 8 << 20;
  std::string ws_path = "/api/v1/ws";
  // Directory of built web assets, served for paths outside /api ("" = none).
  std::string static_dir;
};

// One open WebSocket, as handlers see it.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  virtual uint64_t id() const = 0;
  virtual const std::string& user() const = 0;
  // Queues a text message. Returns false (and queues nothing) when the
  // connection is too far behind: the caller then tells it to resynchronise
  // with SendControl and stops feeding it.
  virtual bool Send(std::string message) = 0;
  // Queues a message regardless of the backlog (acks, errors, resync notices).
  virtual void SendControl(std::string message) = 0;
  virtual void Close(const std::string& reason) = 0;
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnOpen(const std::shared_ptr<WebSocketConnection>& conn) = 0;
  virtual void OnMessage(const std::shared_ptr<WebSocketConnection>& conn,
                         const std::string& message) = 0;
  virtual void OnClose(const std::shared_ptr<WebSocketConnection>& conn) = 0;
};

// Decides who a request acts for before it is routed: returns the user, or a
// response (401/403) to send instead. Also consulted for WebSocket upgrades.
using Authenticator = std::function<Result<std::string>(const HttpRequest&)>;

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   const Router& router, Authenticator auth,
                                                   WebSocketHandler* ws, Metrics& metrics);
  ~HttpServer();

  // The bound port (useful with port 0).
  uint16_t port() const;
  // Closes every open WebSocket of `user` (its rights were taken away: the
  // client reconnects, and is checked anew). Returns how many. Any thread.
  size_t CloseWebSocketsOf(const std::string& user, const std::string& reason);

  // Stops accepting, lets requests in flight finish (up to `grace_ms`),
  // closes WebSockets, joins the threads. Idempotent.
  void Stop(int grace_ms = 5000);

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kiln
