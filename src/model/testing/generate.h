// Synthetic projects for tests, benchmarks and crash tests.
//
// GenerateProjectPatch builds, on top of NewProjectTree() (meta.h), a library
// folder with one operation definition ("Step": an input port "in" and an
// output port "out", dataType "tensor") and a balanced hierarchy of folders
// (`fanout` children each) whose leaves hold pipelines. Each pipeline holds
// `ops_per_pipeline` instances of Step (their ports materialized by
// inheritance) chained by connections out → in. Guids derive from `seed`, so
// the same options give the same project, byte for byte.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/patch.h"
#include "model/tree.h"

namespace kiln {

struct GenerateOptions {
  size_t nodes = 1000;  // at least this many nodes in all (whole pipelines are added)
  size_t fanout = 50;
  size_t ops_per_pipeline = 8;
  std::string seed = "kiln-synthetic";
};

struct GeneratedProject {
  Patch patch;
  std::vector<std::string> pipelines;   // guids
  std::vector<std::string> operations;  // guids of operation instances
  std::string step_definition;          // guid of the Step definition
};

GeneratedProject GenerateProjectPatch(const GenerateOptions& options);
// NewProjectTree() with the generated patch applied.
Result<Tree> GenerateProjectTree(const GenerateOptions& options, GeneratedProject* info = nullptr);

}  // namespace kiln
