// `kiln worker --server URL --token T`: runs the server's jobs on this
// machine, connecting out only (docs/compute.md, "Remote workers"). Stops on
// SIGINT/SIGTERM, giving its jobs back to the server.
//
// Thread-safety: CLI11 callbacks run on the main thread.
#pragma once

#include <CLI/CLI.hpp>

namespace kiln {

// Adds the `worker` subcommand to `app`; sets *rc.
void AddWorkerCommand(CLI::App& app, int* rc);

}  // namespace kiln
