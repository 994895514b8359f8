// `kiln reproduce DIGEST --project P`: re-makes an artifact from its
// provenance and says whether the bytes came out the same
// (docs/provenance.md, "Reify"). It reifies the artifact's lineage onto a
// new branch (reproduce/<digest12>-<n>), runs that pipeline forced (past the
// cache), and compares every job's outputs with the original job's.
// Exit status: 0 all matched, 4 some differ, 1 the run failed or an error.
//
// Thread-safety: CLI11 callbacks run on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace kiln {

struct RemoteOptions {
  std::string* server;
  std::string* token;
  std::function<void(CLI::App*)> add_flags;
};

// Adds the `reproduce` subcommand to `app`; sets *rc.
void AddReproduceCommand(CLI::App& app, const RemoteOptions& remote, int* rc);

}  // namespace kiln
