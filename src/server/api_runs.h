// The REST endpoints of executions, jobs and artifacts (docs/api.md,
// "Executions", "Artifacts"): start, list, inspect, cancel and re-run
// executions; a job's events (logs by offset), metric series and figures;
// artifacts uploaded, listed, downloaded and removed.
// Every handler checks the caller's role on the execution's project.
//
// Ownership: RunsContext borrows everything; it outlives the router.
// Thread-safety: handlers run concurrently; the Driver and stores are safe.
#pragma once

#include <string>

#include "access/access.h"
#include "access/project_storage.h"
#include "scheduler/driver.h"
#include "server/hub.h"
#include "server/router.h"
#include "storage/storage_set.h"

namespace kiln {

struct RunsContext {
  Access& access;
  Repository& repo;
  Hub& hub;
  // Null when no compute backend could start: endpoints that run things
  // answer with the reason, the rest still work from the runs store.
  Driver* driver = nullptr;
  RunsStore& runs;
  ArtifactStore& artifacts;
  std::string unavailable_reason;
  // Largest artifact an upload may add, in bytes (0 = no limit but free disk).
  uint64_t max_artifact_bytes = 0;
  // > 0: downloads from a store with download URLs (S3) redirect there,
  // with URLs valid this long; 0: the server streams the bytes itself.
  int64_t presign_expiry_s = 0;
  // This server's name in a runs store shared by several servers: a cancel
  // of an execution another server drives is left for that server.
  std::string server_id;
  // Several storage backends (docs/storage.md): uploads go to the project's
  // choice, and the artifact list says where each one lives. Null (tests):
  // everything goes to `artifacts`.
  StorageSet* stores = nullptr;
  ProjectStorage* project_storage = nullptr;
};

void RegisterRunsApi(Router& router, RunsContext& ctx);

// JSON of the records, shared by REST and the WebSocket events.
nlohmann::json ExecutionJson(const ExecutionRecord& e);
nlohmann::json JobJson(const JobRecord& j);
nlohmann::json EventJson(const EventRecord& e);

}  // namespace kiln
