// Serve: `kiln serve` — wires the store, repository, access, hub, REST API
// and HTTP server together on a data folder, seeds the example projects into
// a fresh store, and runs until SIGINT/SIGTERM, then shuts down cleanly
// (requests in flight finish; every acknowledged write is already durable).
//
// Thread-safety: call from main, once.
#pragma once

#include <string>

#include "core/status.h"
#include "server/http_server.h"

namespace kiln {

struct ServeOptions {
  std::string data_dir;      // holds kiln.db
  std::string examples_dir;  // examples/<name>/project.json seeded when the store is new
  bool force_auth = false;   // require sign-in even on loopback
  int compute_slots = 0;     // jobs at once on local compute; 0 = the number of cores
  // Light workers (for jobs that import only the standard library and these
  // modules) and what they preload; 0 workers = every job forks from a
  // torch-loaded one.
  int light_workers = 1;
  std::string light_preload;
  ServerOptions server;
};

// The default data folder: $KILN_DATA, else ~/.local/share/kiln.
std::string DefaultDataDir();

Status Serve(const ServeOptions& options);

// Creates each example project that does not exist yet from
// examples_dir/<name>/project.json (a patch, docs/patches.md). Returns the
// names created.
class Repository;
Result<std::vector<std::string>> SeedExamples(Repository& repo, const std::string& examples_dir);

// Puts every file of examples_dir/<name>/data/ into the artifact store (by
// digest, so again costs a hash): the examples' Inputs name them. Returns how
// many files there were.
class ArtifactStore;
Result<size_t> SeedExampleData(ArtifactStore& artifacts, const std::string& examples_dir);

}  // namespace kiln
