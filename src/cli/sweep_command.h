// `kiln sweep PROJECT PIPELINE --set NAME=VALUES…`: starts a sweep on the
// server (docs/sweeps.md) and, with --wait, follows it and prints the
// trials' table. NAME is `attribute` or `Operation.attribute`; VALUES a
// comma-separated list (each a JSON value, else a string) or a range
// `min:max:steps` (`min:max` with --random).
//
// Thread-safety: CLI11 callbacks run on the main thread.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/reproduce_command.h"

namespace kiln {

// Adds the `sweep` subcommand to `app`; sets *rc.
void AddSweepCommand(CLI::App& app, const RemoteOptions& remote, int* rc);

}  // namespace kiln
