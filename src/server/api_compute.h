// The compute routes (docs/api.md, "Compute"; docs/compute.md):
//   GET  /api/v1/backends              the backends jobs can run on
//   POST /api/v1/jobs/{job}/events     a running job pushes its events (its own
//                                      token, not a user's: see AuthenticateRequest)
// Ownership: the context borrows the router and the gateway (serve.cc owns
// them). Thread-safety: handlers run on the server's threads; both borrowed
// objects are thread-safe.
#pragma once

#include "compute/backend_router.h"
#include "compute/pushed_events.h"
#include "server/router.h"

namespace kiln {

struct ComputeContext {
  const BackendRouter* backends = nullptr;  // null: no compute here
  PushedEvents* events = nullptr;
};

void RegisterComputeApi(Router& router, ComputeContext& ctx);

// Whether a request is a job pushing events (it authenticates by the job's
// token in the route, not as a user).
bool IsJobEventPush(const HttpRequest& request);

}  // namespace kiln
