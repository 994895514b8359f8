// Document: an architecture document (docs/nn.md, "The architecture
// document") — the architectures a network is made of (the main one and the
// blocks it uses), each a list of nodes and the edges between their ports.
// It is what shape inference and code generation read; the editor and the
// tree adapter (from_tree.h) produce it.
//
// ParseDocument checks the structure (known types, unique ids, edges between
// existing ports, blocks that exist and do not use themselves, no cycles)
// and answers InvalidArgument naming the problem; what depends on shapes is
// the analysis's job (shapes.h).
//
// Ownership: value types. Thread-safety: values.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "nn/catalog.h"

namespace kiln::nn {

struct Node {
  std::string id;
  std::string name;  // defaults to id
  std::string type;  // a catalog type name
  Value::Map params;
  // Ports, resolved at parse: the catalog's, or a Block's from its architecture.
  std::vector<PortSpec> inputs;
  std::vector<PortSpec> outputs;

  const Value* Param(std::string_view name) const;
};

struct Endpoint {
  size_t node = 0;  // index in Architecture::nodes
  size_t port = 0;  // index in the node's outputs (from) or inputs (to)
};

struct Edge {
  Endpoint from;
  Endpoint to;
};

struct Architecture {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Edge> edges;          // in document order (the order of a many-port's operands)
  std::vector<size_t> topological;  // node indices, sources first, ties in node order
  std::vector<std::vector<size_t>> incoming;  // per node: its in-edges' indices, in edge order

  int Find(std::string_view id) const;  // -1 when absent
};

struct Document {
  std::string main;
  std::map<std::string, Architecture> architectures;
  // Block architectures before the ones that use them; main last.
  std::vector<std::string> dependency_order;

  const Architecture& Main() const { return architectures.at(main); }
};

// Parses and checks a document. `catalog` must outlive nothing: the document
// copies what it needs.
Result<Document> ParseDocument(std::string_view json_text, const Catalog& catalog);
// The same from parsed JSON (arrays of documents, the server's routes).
Result<Document> ParseDocumentJson(const nlohmann::json& j, const Catalog& catalog);

// Is `s` a Python identifier (and not a keyword)?
bool IsIdentifier(std::string_view s);

}  // namespace kiln::nn
