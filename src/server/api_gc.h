// The garbage-collection routes (docs/api.md, "Administration";
// docs/storage.md, "Collecting garbage"), for server admins only:
//   GET  /api/v1/admin/gc?grace_hours=H    what nothing references (a dry run)
//   POST /api/v1/admin/gc                  {"delete": [digest, …], "grace_hours"?}
//        deletes those of them a fresh plan still calls garbage
// Ownership: the context borrows everything (serve.cc owns it).
// Thread-safety: handlers run on the server's threads; the borrowed objects
// are safe for concurrent use. A collection walks every commit: it runs on
// the calling I/O thread, which is acceptable for an admin's occasional call.
#pragma once

#include "access/access.h"
#include "model/repository.h"
#include "runs/runs_store.h"
#include "server/router.h"
#include "storage/artifact_store.h"
#include "storage/storage_set.h"

namespace kiln {

struct GcContext {
  Access& access;
  Repository& repo;
  RunsStore& runs;
  ArtifactStore& artifacts;
  // Several backends: a dry run says which hold each candidate ("stores").
  StorageSet* stores = nullptr;
};

void RegisterGcApi(Router& router, GcContext& ctx);

}  // namespace kiln
