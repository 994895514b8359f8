// `kiln nn analyze FILE` and `kiln nn code FILE`: the PyTorch library's
// analysis and code generation on an architecture document (docs/nn.md),
// without a server — for scripts, the agreement tests and benchmarks.
//
// Thread-safety: CLI11 callbacks run on the main thread.
#pragma once

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace kiln {

// The bytes of a file, or of stdin for "-" (defined in main.cc).
Result<std::string> ReadFileOrStdin(const std::string& path);

// Adds the `nn` subcommand to `app`; a failure sets *rc.
void AddNnCommand(CLI::App& app, int* rc);

}  // namespace kiln
