// The REST endpoints of provenance (docs/provenance.md): an artifact's
// lineage (Kiln JSON or PROV-JSON), reifying it into a pipeline on a new
// branch, and exporting a pipeline as a standalone Python folder (zip).
//
// Every handler checks the caller's role on the project in the path, and an
// artifact is reachable only through a project that has it (docs/access.md,
// "Artifacts"): the lineage walk and the export's inputs use the same check.
//
// Ownership: ProvenanceContext borrows what it names; they outlive the router.
// Thread-safety: handlers run concurrently; the stores are thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "access/access.h"
#include "model/repository.h"
#include "pipeline/plan.h"
#include "runs/runs_store.h"
#include "server/api_interface.h"
#include "server/hub.h"
#include "server/router.h"
#include "storage/artifact_store.h"

namespace kiln {

struct ProvenanceContext {
  Access& access;
  Repository& repo;
  Hub& hub;
  RunsStore& runs;
  ArtifactStore& artifacts;
  // Runs `python3 -m kiln.export` (its own slots and a longer deadline).
  InterfaceContext& python;
  ResourceCodeGenerator* generator = nullptr;  // architecture code, as jobs get it
  std::string version;
  std::filesystem::path scratch_dir;  // temporary plans and archives
  // Inputs are bundled into an export up to this many bytes in all, else
  // fetched by main.py (unless the request says which).
  uint64_t max_bundled_bytes = uint64_t(64) << 20;
};

void RegisterProvenanceApi(Router& router, ProvenanceContext& ctx);

}  // namespace kiln
