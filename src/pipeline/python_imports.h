// What Python modules a job needs, read from its code without running
// Python: the local backend runs a job that needs only the standard library
// in a worker without torch preloaded, whose fork costs a fraction of the
// torch-loaded one's (docs/execution.md, "Two kinds of worker").
//
// The scan errs toward "needs more": a false import (the word `import` in
// a string) only sends the job to the worker with everything preloaded, as
// before; a missed one would make the job import torch itself (~2 s, still
// correct). What it cannot see — `__import__(...)`,
// `importlib.import_module(...)`, `exec`/`eval` of code — makes the answer
// "unknown" (nullopt).
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/plan.h"

namespace kiln {

// The top-level names of the modules `code` imports (`import a.b as c, d` →
// a, d; `from a.b import c` → a), sorted and unique, anywhere in the code
// (inside functions too). Relative imports (`from . import x`) name modules of
// the job's own bundle and are left out. nullopt when the code imports
// dynamically.
std::optional<std::vector<std::string>> ImportedModules(std::string_view code);

// What a job of `job` needs besides the interpreter: the imports of its
// operation code and of its generated resource files (less the modules those
// files are), plus what loading its inputs imports (`numpy` for the numpy
// serializer, `torch` for torch; nothing for json). nullopt when that is not
// known: dynamic imports, or an input whose serializer may name any class
// (pickle, a library's).
std::optional<std::vector<std::string>> JobModules(
    const PlanJob& job, const std::vector<std::string>& input_serializers);

}  // namespace kiln
