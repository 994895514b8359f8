// GET /api/v1/projects/{p}/artifacts/{digest}/preview: what an artifact
// holds, to show it without a download (a JSON value, an array's shape and
// statistics with an image, a state dict's tensors, a FITS file's headers,
// a table's first rows). `python3 -m kiln.preview FILE` decides and answers
// the JSON (python/kiln/preview.py); this checks access and runs it.
//
// Ownership: PreviewContext borrows what it names; they outlive the router.
// Thread-safety: handlers run concurrently; InterfaceContext bounds the
// Python processes.
#pragma once

#include "access/access.h"
#include "runs/runs_store.h"
#include "server/api_interface.h"
#include "server/router.h"
#include "storage/artifact_store.h"

namespace kiln {

struct PreviewContext {
  Access& access;
  RunsStore& runs;
  ArtifactStore& artifacts;
  InterfaceContext& python;
  std::filesystem::path scratch_dir;
};

void RegisterPreviewApi(Router& router, PreviewContext& ctx);

}  // namespace kiln
