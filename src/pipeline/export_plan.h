// The export plan: a compiled pipeline as JSON for `python3 -m kiln.export`,
// which writes it out as a standalone Python folder (docs/provenance.md,
// "Export"). The server decides what runs (CompilePipeline, with the
// generated code of referenced architectures); Python writes the files.
//
// Ownership: values. Thread-safety: reentrant.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/plan.h"

namespace kiln {

struct ExportInput {
  uint64_t size = 0;
  std::string path;  // a readable file holding the bytes ("" in fetch mode)
};

struct ExportPlanOptions {
  std::string project;
  Digest commit;
  std::string kiln_version;
  std::string server;       // base URL main.py fetches inputs from
  std::string inputs_mode;  // "bundle" or "fetch"
  std::map<Digest, ExportInput> inputs;
};

nlohmann::json ExportPlanJson(const Plan& plan, const ExportPlanOptions& options);

}  // namespace kiln
