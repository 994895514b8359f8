// The storage routes (docs/api.md, "Storage"; docs/storage.md, "Several
// backends"):
//   GET  /api/v1/storage                              the backends (no secrets)
//   GET  /api/v1/projects/{p}/storage                 where the project's new artifacts go
//   PUT  /api/v1/projects/{p}/storage                 {"backend": name|null} (project admin)
//   POST /api/v1/projects/{p}/artifacts/{digest}/copy {"to": name} (write)
//   POST /api/v1/projects/{p}/artifacts/{digest}/move {"to": name} (write)
// A project names only artifacts it has (RunsStore::ProjectHasArtifact);
// any other digest is 404, as an unknown one. Copies and moves are
// idempotent: asking for where it already is answers 200, changed false.
// Also BackendForProject: the backend a project's uploads and job outputs
// go to (serve.cc gives it to the driver and the upload route).
//
// Ownership: the context borrows everything (serve.cc owns it).
// Thread-safety: handlers run concurrently; the borrowed objects are safe
// for concurrent use. A copy or move runs on the calling I/O thread (it is
// as long as the artifact is large; the StorageSet does one at a time).
#pragma once

#include <string>

#include "access/access.h"
#include "access/project_storage.h"
#include "model/repository.h"
#include "runs/runs_store.h"
#include "server/router.h"
#include "storage/storage_set.h"

namespace kiln {

struct StorageContext {
  Access& access;
  Repository& repo;
  RunsStore& runs;
  StorageSet& stores;
  ProjectStorage& choice;
};

// The project's chosen backend, else the default one. FailedPrecondition
// when the project chose a backend this server's config does not declare
// (several servers on one database should declare the same ones).
Result<std::string> BackendForProject(StorageSet& stores, ProjectStorage& choice,
                                      const std::string& project);

void RegisterStorageApi(Router& router, StorageContext& ctx);

}  // namespace kiln
