// Meta types and the rules they impose on a project tree.
//
// A new project's root holds a "META" folder with the core meta types (FCO,
// Folder, Pipeline, Operation, Port, Connection, Artifact): nodes with an
// attribute "name" and registry "isMeta": true. Their guids are derived from
// fixed names, so they are the same in every project (libraries and imports
// can rely on them). A node's meta type is the first meta node in its base
// chain; IsA follows the whole chain (NodeRef::IsA).
//
// Rules (checked by Tree::Apply after each patch, on what it touched):
//   connection-in-pipeline   a Connection's parent is a Pipeline
//   connection-src-output    its src is a Port with direction "output"
//   connection-dst-input     its dst is a Port with direction "input"
//   connection-types         the ports' dataTypes match ("any" matches all)
//   connection-same-pipeline both ports belong to Operations that are direct
//                            children of the connection's pipeline
//   pipeline-acyclic         a pipeline's operations, linked by its
//                            connections, form no cycle
// Meta nodes themselves are exempt.
//
// Thread-safety: pure functions; CheckRules only reads the tree.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/patch.h"
#include "model/tree.h"

namespace kiln {

// The core meta type names, FCO first.
const std::vector<std::string>& CoreMetaNames();

std::string RootGuid();
std::string MetaFolderGuid();
// The guid of a core meta type, e.g. MetaGuid("Connection").
std::string MetaGuid(std::string_view name);

// The ops that create the META folder and the core meta types under the root.
Patch CoreMetaPatch();
// A new project's tree: the root (attr "name" = "ROOT") and the core meta types.
Tree NewProjectTree();

// Checks the rules on the nodes a patch touched, the nodes inheriting from
// them, the connections attached to them, and their pipelines.
// FailedPrecondition names the rule and the nodes.
Status CheckRules(const Tree& tree, std::span<const NodeId> touched);
// Checks every connection and pipeline of the tree (for imports and tests).
Status CheckAllRules(const Tree& tree);

}  // namespace kiln
