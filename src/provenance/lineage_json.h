// The lineage graph as the API answers it (docs/provenance.md, "Lineage"):
// Kiln's JSON, and W3C PROV-JSON (?format=prov).
//
// Ownership: values in, values out. Thread-safety: reentrant.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "provenance/lineage.h"

namespace kiln {

// `names`: what the project's model calls some artifacts (Artifact nodes).
// The JSON text (written directly: a long lineage is megabytes).
std::string LineageToJson(const LineageGraph& graph,
                          const std::map<Digest, std::string>& names = {});
nlohmann::json LineageToProv(const LineageGraph& graph,
                             const std::map<Digest, std::string>& names = {});

}  // namespace kiln
