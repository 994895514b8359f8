// The REST endpoints of libraries (docs/libraries.md, "API"): the list of
// libraries, a library's node types (the PyTorch catalog), adding a
// library's meta types to a project's branch, analysing an architecture
// document (shapes, errors, summary, generated code; docs/nn.md), and
// importing PyTorch code as a document (python3 -m kiln.nn.importer).
//
// Ownership: LibraryContext borrows what it names; they outlive the router.
// Thread-safety: handlers run concurrently; the catalog is immutable, the
// rest is the Repository's, the Hub's and InterfaceContext's own.
#pragma once

#include "access/access.h"
#include "model/repository.h"
#include "server/api_interface.h"
#include "server/hub.h"
#include "server/nn_fallback.h"
#include "server/router.h"

namespace kiln {

struct LibraryContext {
  LibraryContext(Repository& repo, Access& access, Hub& hub, InterfaceContext& python)
      : repo(repo), access(access), hub(hub), python(python) {}

  Repository& repo;
  Access& access;
  Hub& hub;
  InterfaceContext& python;  // runs the importer
  size_t max_document_bytes = size_t(8) << 20;
  FallbackOptions fallback;
  // Shapes of layers without a rule, shared by every request (bounded).
  nn::CachingOracle oracle;
};

void RegisterLibraryApi(Router& router, LibraryContext& ctx);

}  // namespace kiln
