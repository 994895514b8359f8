// The PyTorch library's meta types in a project tree (docs/libraries.md,
// "Meta types of the PyTorch library"): the folder META/torch with
// Architecture, Layer, and one meta type per node type of the catalog, each
// with its Port children. Guids derive from fixed names, so every project
// (and examples/build.py) agrees on them.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "model/patch.h"
#include "model/tree.h"
#include "nn/catalog.h"

namespace kiln::nn {

inline constexpr char kTorchNamespace[] = "kiln-library-torch";

std::string TorchFolderGuid();
// The meta type of a node type ("Conv2d"), of "Architecture" or of "Layer".
std::string TorchMetaGuid(std::string_view type);
// A port of a node type's meta node: direction "input" or "output".
std::string TorchPortGuid(std::string_view type, std::string_view direction, std::string_view port);

// True when the tree holds the library's folder.
bool UsesTorchLibrary(const Tree& tree);

// The ops that create what `tree` lacks of the library's meta types (all of
// them for a project that does not use it yet; none when it is complete).
Patch TorchLibraryPatch(const Tree& tree, const Catalog& catalog);

}  // namespace kiln::nn
