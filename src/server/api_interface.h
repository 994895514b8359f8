// The REST endpoints that keep an operation's code and its interface in
// step (docs/api.md, "Operation interfaces"): parse code into its interface
// (inputs, outputs, typed attributes) and rewrite code to match an edited
// interface. The work is Python's own `ast`, in `python3 -m kiln.interface
// parse|update` (python/kiln/interface.py), run as a child process per
// request with a deadline and a size limit; nothing is stored.
//
// Answers: 200 with the interface or the code; 422 when the code (or the
// interface) is wrong, with the position of the error; 400 for a malformed
// body; 413 for code over the limit; 503 when Python is missing, busy or too
// slow. Every handler checks that the caller may read the project.
//
// Ownership: InterfaceContext borrows Access and outlives the router.
// Thread-safety: handlers run concurrently on the server's I/O threads; at
// most max_children Python processes run at once (a request waits briefly
// for a free one, then gets 503), so parsing cannot take every I/O thread.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "access/access.h"
#include "server/router.h"

namespace kiln {

struct InterfaceOptions {
  std::string python = "/usr/bin/python3";
  // The folder holding the `kiln` package; empty = the one local compute
  // uses (LocalBackend::DefaultPythonPath()).
  std::filesystem::path python_path;
  int timeout_ms = 10000;
  size_t max_code_bytes = size_t(1) << 20;
  int max_children = 2;
  int wait_for_child_ms = 3000;
};

class InterfaceContext {
 public:
  InterfaceContext(Access& access, InterfaceOptions options = {});
  ~InterfaceContext();

  Access& access() { return access_; }
  const InterfaceOptions& options() const { return options_; }

  // Runs `python3 -m kiln.interface <op>` on `input` and returns the JSON
  // object it printed ({"ok": true, ...} or {"ok": false, "error": ...}).
  // Failures: Internal when the tool misbehaved (500: a bug); any other
  // code when it could not answer now (503: no Python, busy, too slow).
  Result<nlohmann::json> RunInterfaceTool(const std::string& op, const std::string& input);

  // Runs `python3 -m <module> <args…>` with `input` on stdin, under the same
  // slots, deadline and output limit; the caller reads its exit status and
  // output. IOError when Python cannot start, Cancelled on the deadline,
  // ResourceExhausted when every slot stays busy.
  struct ToolRun {
    int exit_code = 0;
    std::string out;
    std::string err;
  };
  Result<ToolRun> RunPythonModule(const std::string& module, const std::vector<std::string>& args,
                                  const std::string& input);

 private:
  struct Slots;
  Access& access_;
  InterfaceOptions options_;
  std::unique_ptr<Slots> slots_;
};

void RegisterInterfaceApi(Router& router, InterfaceContext& ctx);

}  // namespace kiln
