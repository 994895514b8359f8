// Reads an Architecture node of a project tree (docs/libraries.md) into an
// architecture document (docs/nn.md): its layers (node id = guid, name =
// attribute "name", type = meta type, params = the attributes the catalog
// knows), its Connections as edges in child order, and every architecture
// its Blocks use, recursively.
//
// Thread-safety: reads the tree only; pure.
#pragma once

#include "core/status.h"
#include "model/tree.h"
#include "nn/catalog.h"
#include "nn/document.h"

namespace kiln::nn {

// InvalidArgument when `architecture` is not an Architecture or the graph is
// malformed (a message naming the node).
Result<Document> DocumentFromTree(const NodeRef& architecture, const Catalog& catalog);

}  // namespace kiln::nn
