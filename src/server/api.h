// The REST API under /api/v1 (docs/api.md): projects, branches, tags,
// commits and history, trees and nodes at any ref, diff, merge, patches,
// export and import, users' sessions, health, metrics and the OpenAPI
// description. Handlers translate HTTP to Repository/Hub/Access calls and
// Status codes to HTTP statuses (http.h); every one checks access first.
//
// Ownership: ApiContext borrows everything it names; they outlive the router.
// Thread-safety: handlers run concurrently on the server's I/O threads; all
// they touch is thread-safe.
#pragma once

#include <string>

#include "access/access.h"
#include "model/repository.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/router.h"

namespace kiln {

struct ApiContext {
  Repository& repo;
  Access& access;
  Hub& hub;
  Metrics& metrics;
  ObjectStore& store;
  bool auth_enabled = false;
  std::string version = "0.1.0";
};

void RegisterApi(Router& router, ApiContext& ctx);

// Who a request acts for: the local user when authentication is off;
// otherwise the user of a Bearer token or a kiln_session cookie.
Result<std::string> AuthenticateRequest(Access& access, bool auth_enabled,
                                        const HttpRequest& request);

// The OpenAPI 3 document served at /api/v1/openapi.json.
std::string OpenApiDocument(const Router& router, const std::string& version);

}  // namespace kiln
