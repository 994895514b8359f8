// The compute routes (docs/api.md, "Compute"; docs/compute.md):
//   GET  /api/v1/backends              the backends jobs can run on (and their workers)
//   POST /api/v1/workers/lease         a remote worker's heartbeat: takes jobs
//                                      (a worker token: see AuthenticateRequest)
// A job on another machine, with its own token (not a user's):
//   POST /api/v1/jobs/{job}/events     pushes its events
//   GET  /api/v1/jobs/{job}/manifest   what it fetches: its bundle's files and inputs
//   GET  /api/v1/jobs/{job}/file       a file of its bundle (?path=)
//   GET  /api/v1/jobs/{job}/input      one of its inputs (?name=)
//   PUT  /api/v1/jobs/{job}/file       uploads result.json or outputs/<name> (streamed)
//   POST /api/v1/jobs/{job}/exit       reports how it ended
// Ownership: the context borrows the router and the gateway (serve.cc owns
// them). Thread-safety: handlers run on the server's threads; both borrowed
// objects are thread-safe.
#pragma once

#include "compute/backend_router.h"
#include "compute/pushed_events.h"
#include "compute/remote/remote_backend.h"
#include "server/router.h"

namespace kiln {

struct ComputeContext {
  const BackendRouter* backends = nullptr;  // null: no compute here
  PushedEvents* events = nullptr;
  std::vector<RemoteBackend*> remotes;  // the remote-worker backends, in config order
  JobFileGate* files = nullptr;         // what jobs on other machines may read and write
};

void RegisterComputeApi(Router& router, ComputeContext& ctx);

// Whether a request is a job's own (it authenticates by the job's token,
// which the route checks, not as a user).
bool IsJobTokenRoute(const HttpRequest& request);
// Whether a request is for the worker routes (/api/v1/workers/…), which
// only worker tokens reach.
bool IsWorkerRoute(const HttpRequest& request);
// The user a worker's requests act as: "worker:<name>" (no user name has a
// ':'); kAnyWorker without sign-in (loopback), where the worker names itself.
std::string WorkerUser(const std::string& name);
inline constexpr const char* kAnyWorker = "worker:";

}  // namespace kiln
