// The REST endpoints of sweeps (docs/sweeps.md): start one (its trials are
// executions with attribute overrides, started together so that the driver
// shares their common jobs), list a project's, read one with every trial's
// values, state and final metrics, cancel one.
//
// Ownership: SweepsContext borrows what it names; they outlive the router.
// Thread-safety: handlers run concurrently; the Driver and stores are safe.
#pragma once

#include "access/access.h"
#include "model/repository.h"
#include "runs/runs_store.h"
#include "scheduler/driver.h"
#include "server/router.h"

namespace kiln {

struct SweepsContext {
  Access& access;
  Repository& repo;
  RunsStore& runs;
  // Null when no compute backend could start (starting answers why).
  Driver* driver = nullptr;
  std::string unavailable_reason;
  // This server's name among several on one runs store: trials another
  // server drives are cancelled by leaving it the request.
  std::string server_id;
};

void RegisterSweepsApi(Router& router, SweepsContext& ctx);

}  // namespace kiln
