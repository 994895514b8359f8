// ArchitectureCodeGenerator: the PyTorch library's ResourceCodeGenerator —
// an operation's reference to an Architecture node becomes a module file in
// the job's bundle, `kiln_architecture_<guid prefix>.py`, whose main class
// the operation receives (docs/libraries.md). The generated code stands for
// the architecture in the cache key, so editing a layer re-runs the
// operations that use it and moving a node on the canvas does not.
//
// Thread-safety: stateless; Generate may run on any thread.
#pragma once

#include "pipeline/plan.h"

namespace kiln {

class ArchitectureCodeGenerator : public ResourceCodeGenerator {
 public:
  // nullopt for nodes that are not Architectures; FailedPrecondition naming
  // the architecture and its first error when it cannot become code.
  Result<std::optional<GeneratedCode>> Generate(const NodeRef& resource) override;
};

}  // namespace kiln
