// A real Kiln server on a loopback port over an in-memory store, for the
// server's integration tests and benchmarks.
//
// Ownership: owns everything it starts. Thread-safety: construct and destroy
// on one thread; the server itself runs on its own threads.
#pragma once

#include <memory>

#include "access/access.h"
#include "model/repository.h"
#include "server/api.h"
#include "server/api_interface.h"
#include "server/http_server.h"
#include "server/hub.h"
#include "store/memory_store.h"

namespace kiln::testing {

class ServerFixture {
 public:
  explicit ServerFixture(bool auth = false, ServerOptions options = {})
      : repo(store, clock), access(store, clock), hub(repo, access, metrics), ctx{repo,  access,
                                                                                  hub,   metrics,
                                                                                  store, auth} {
    RegisterApi(router, ctx);
    RegisterInterfaceApi(router, interface_ctx);
    options.port = 0;
    Authenticator authenticator = [this, auth](const HttpRequest& r) {
      return AuthenticateRequest(access, auth, r);
    };
    auto s = HttpServer::Start(options, router, authenticator, &hub, metrics);
    if (s.ok()) server = std::move(s).value();
  }
  ~ServerFixture() {
    if (server) server->Stop();
  }
  uint16_t port() const { return server->port(); }

  MemoryStore store;
  SystemClock clock;
  Repository repo;
  Access access;
  Metrics metrics;
  Hub hub;
  ApiContext ctx;
  InterfaceContext interface_ctx{access};
  Router router;
  std::unique_ptr<HttpServer> server;
};

}  // namespace kiln::testing
