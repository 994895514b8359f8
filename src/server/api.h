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
#include "runs/runs_store.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/router.h"

namespace kiln {

class Credentials;

struct ApiContext {
  Repository& repo;
  Access& access;
  Hub& hub;
  Metrics& metrics;
  ObjectStore& store;
  bool auth_enabled = false;
  // Which project has which artifact (a fork gets its source's); null in
  // tests that run no executions.
  RunsStore* runs = nullptr;
  // Told in /health so that clients check a file before sending it.
  uint64_t max_body_bytes = 0;
  uint64_t max_artifact_bytes = 0;  // 0 = none but free disk
  std::string version = "0.1.0";
  // Stored credentials: a deleted project's go with it. Null in tests.
  Credentials* credentials = nullptr;
};

void RegisterApi(Router& router, ApiContext& ctx);

// Who a request acts for: the local user when authentication is off;
// otherwise the user of a Bearer token or a kiln_session cookie.
Result<std::string> AuthenticateRequest(Access& access, bool auth_enabled,
                                        const HttpRequest& request);

// Gives project `fork` the artifacts its model (the tree at `at`) names —
// Artifact nodes' digests and Input operations' artifacts — that `source`
// has: a fork reads what its source could, nothing more.
Status GrantForkArtifacts(Repository& repo, RunsStore& runs, const std::string& source,
                          const std::string& fork, const Digest& at);

// At the first start with artifact grants (an older runs.db): the uploads
// that the projects' branches list become their projects' own.
Status BackfillUploadGrants(Repository& repo, RunsStore& runs);

// The OpenAPI 3 document served at /api/v1/openapi.json.
std::string OpenApiDocument(const Router& router, const std::string& version);

}  // namespace kiln
