// `kiln gc`: finds the artifacts nothing references any more and, with
// --delete and a confirmation, deletes them (docs/storage.md, "Collecting
// garbage"). A dry run is the default. Works on the data folder (and the
// config's [database] and [storage]), safely beside a running server.
//
// Thread-safety: CLI11 callbacks run on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace kiln {

// Adds the `gc` subcommand; `data_dir` and `config_path` are the global
// options (read when it runs); sets *rc.
void AddGcCommand(CLI::App& app, const std::string* data_dir, const std::string* config_path,
                  int* rc);

}  // namespace kiln
