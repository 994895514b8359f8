// The torch fallback, run: analyses an architecture document with the C++
// rules and asks `python3 -m kiln.nn.fallback` (python/kiln/nn/fallback.py,
// docs/nn.md "The torch fallback") about the nodes that have no rule —
// Custom code, rare torch layers — through a CachingOracle, so a layer seen
// before is answered at once and the editor waits on Python only for new
// custom layers. A chain of such nodes takes one round each (at most 8).
//
// Thread-safety: AnalyzeWithFallback may be called from any thread; worker
// runs are serialized (one Python process at a time) so that a burst of
// requests cannot start a process per request.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/document.h"
#include "nn/oracle.h"
#include "nn/shapes.h"

namespace kiln {

struct FallbackOptions {
  std::string python = "/usr/bin/python3";
  std::filesystem::path python_path;  // the folder with the kiln package; empty: local compute's
  int timeout_ms = 60000;
};

// The analysis with the fallback's answers; `*note` (may be null) says why
// some nodes stayed pending (no Python, a timeout).
nn::Analysis AnalyzeWithFallback(const nn::Document& doc, nn::CachingOracle& oracle,
                                 const FallbackOptions& options, std::string* note);

// The answer of POST /api/v1/nn/analyze and `kiln nn analyze` for one
// document: the analysis (docs/nn.md) with the code when there is no error,
// `code_error` when the code cannot be generated, `fallback_error` when the
// fallback could not run; a malformed document is {"ok": false, "error"}.
nlohmann::json AnalysisReply(const nlohmann::json& document, nn::CachingOracle& oracle,
                             const FallbackOptions& options);

}  // namespace kiln
