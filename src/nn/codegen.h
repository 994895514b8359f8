// Code generation: an analysed architecture document → one Python module
// with a readable PyTorch nn.Module class per architecture (blocks first,
// main last; docs/nn.md, "Generated code"). Deterministic: the same document
// gives byte-identical code, which is why the code can enter the cache key
// of every operation that references the architecture.
//
// A block whose inferred dimensions depend on the names in its Input shapes
// (an Inception block declared [N, C, H, W]) gets those names as
// constructor arguments, and each use passes the values it binds.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "core/status.h"
#include "nn/document.h"
#include "nn/shapes.h"

namespace kiln::nn {

// FailedPrecondition when main has errors or layers without shapes (the
// code would need dimensions nobody knows); the message names the first.
Result<std::string> GenerateCode(const Document& doc, const Analysis& analysis);

// A Python literal for a parameter value: 3, 0.5, True, None, 'same', (3, 3).
std::string PythonLiteral(const Value& v);

}  // namespace kiln::nn
