#include "nn/document.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>

namespace kiln::nn {

using json = nlohmann::json;

const Value* Node::Param(std::string_view n) const {
  auto it = params.find(std::string(n));
  return it == params.end() || it->second.is_null() ? nullptr : &it->second;
}

int Architecture::Find(std::string_view id) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].id == id) return int(i);
  }
  return -1;
}

bool IsIdentifier(std::string_view s) {
  static const std::set<std::string, std::less<>> keywords = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  if (s.empty() || keywords.count(s)) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

namespace {

struct RawArchitecture {
  std::string name;
  const json* j = nullptr;
};

std::string NodeLabel(const Architecture& a, size_t i) { return "'" + a.nodes[i].name + "'"; }

Status ParseNodes(const json& ja, const Catalog& catalog, Architecture* a) {
  if (!ja.is_object() || !ja.contains("nodes") || !ja["nodes"].is_array()) {
    return InvalidArgument("architecture '" + a->name + "' needs a list \"nodes\"");
  }
  std::set<std::string> ids;
  for (const json& jn : ja["nodes"]) {
    if (!jn.is_object() || !jn.contains("id") || !jn["id"].is_string() || !jn.contains("type") ||
        !jn["type"].is_string()) {
      return InvalidArgument("architecture '" + a->name +
                             "': every node needs a string \"id\" and \"type\"");
    }
    Node n;
    n.id = jn["id"].get<std::string>();
    n.name = jn.value("name", n.id);
    n.type = jn["type"].get<std::string>();
    if (n.id.empty()) return InvalidArgument("architecture '" + a->name + "': a node id is empty");
    if (!ids.insert(n.id).second) {
      return InvalidArgument("architecture '" + a->name + "': two nodes have the id '" + n.id +
                             "'");
    }
    const LayerSpec* spec = catalog.Find(n.type);
    if (!spec) {
      return InvalidArgument("architecture '" + a->name + "', node '" + n.id +
                             "': unknown layer type '" + n.type + "'");
    }
    if (jn.contains("params")) {
      if (!jn["params"].is_object()) {
        return InvalidArgument("node '" + n.id + "': \"params\" must be an object");
      }
      for (auto it = jn["params"].begin(); it != jn["params"].end(); ++it) {
        if (!spec->Param(it.key())) {
          return InvalidArgument(n.type + " '" + n.name + "' has no parameter '" + it.key() + "'");
        }
        auto v = Value::FromJson(it.value());
        if (!v.ok())
          return InvalidArgument("node '" + n.id + "', parameter '" + it.key() +
                                 "': " + v.status().message());
        n.params[it.key()] = std::move(v).value();
      }
    }
    n.inputs = spec->inputs;
    n.outputs = spec->outputs;
    a->nodes.push_back(std::move(n));
  }
  return Status::Ok();
}

// A Block's ports are its architecture's Input and Output nodes, by name.
Status ResolveBlockPorts(Document* doc) {
  for (auto& [name, a] : doc->architectures) {
    for (Node& n : a.nodes) {
      if (n.type != "Block") continue;
      const Value* b = n.Param("block");
      if (!b || !b->is_string()) {
        return InvalidArgument("Block '" + n.name + "' in '" + name +
                               "' names no architecture (parameter \"block\")");
      }
      auto it = doc->architectures.find(b->as_string());
      if (it == doc->architectures.end()) {
        return InvalidArgument("Block '" + n.name + "' in '" + name + "' uses '" + b->as_string() +
                               "', which the document does not define");
      }
      for (const Node& inner : it->second.nodes) {
        if (inner.type == "Input") n.inputs.push_back({inner.name});
        if (inner.type == "Output") n.outputs.push_back({inner.name});
      }
    }
  }
  return Status::Ok();
}

Status ParseEnd(const json& j, const Architecture& a, bool from, Endpoint* e) {
  if (!j.is_string())
    return InvalidArgument("an edge end must be a string \"node\" or \"node.port\"");
  std::string s = j.get<std::string>();
  std::string node = s, port;
  if (auto dot = s.find('.'); dot != std::string::npos) {
    node = s.substr(0, dot);
    port = s.substr(dot + 1);
  }
  int i = a.Find(node);
  if (i < 0) {
    return InvalidArgument("architecture '" + a.name + "': an edge names the node '" + node +
                           "', which does not exist");
  }
  const Node& n = a.nodes[i];
  const auto& ports = from ? n.outputs : n.inputs;
  if (ports.empty()) {
    return InvalidArgument(n.type + " '" + n.name + "' has no " + (from ? "outputs" : "inputs") +
                           " to connect");
  }
  size_t p = 0;
  if (!port.empty()) {
    auto it =
        std::find_if(ports.begin(), ports.end(), [&](const PortSpec& x) { return x.name == port; });
    if (it == ports.end()) {
      std::string names;
      for (const PortSpec& x : ports) names += (names.empty() ? "" : ", ") + x.name;
      return InvalidArgument(n.type + " '" + n.name + "' has no " + (from ? "output" : "input") +
                             " '" + port + "' (it has " + names + ")");
    }
    p = size_t(it - ports.begin());
  }
  e->node = size_t(i);
  e->port = p;
  return Status::Ok();
}

Status ParseEdges(const json& ja, Architecture* a) {
  if (!ja.contains("edges")) return Status::Ok();
  if (!ja["edges"].is_array()) return InvalidArgument("\"edges\" must be a list");
  for (const json& je : ja["edges"]) {
    if (!je.is_array() || je.size() != 2) {
      return InvalidArgument("architecture '" + a->name + "': an edge is a pair [from, to]");
    }
    Edge e;
    KILN_RETURN_IF_ERROR(ParseEnd(je[0], *a, true, &e.from));
    KILN_RETURN_IF_ERROR(ParseEnd(je[1], *a, false, &e.to));
    a->edges.push_back(e);
  }
  return Status::Ok();
}

// Kahn's algorithm; ties broken by node order, so the order (and the
// generated code) depends only on the document.
Status SortTopologically(Architecture* a) {
  size_t n = a->nodes.size();
  std::vector<std::vector<size_t>> out(n);
  std::vector<size_t> indegree(n, 0);
  a->incoming.assign(n, {});
  for (size_t k = 0; k < a->edges.size(); ++k) {
    const Edge& e = a->edges[k];
    out[e.from.node].push_back(e.to.node);
    ++indegree[e.to.node];
    a->incoming[e.to.node].push_back(k);
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    if (indegree[i] == 0) ready.push(i);
  }
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    a->topological.push_back(i);
    for (size_t j : out[i]) {
      if (--indegree[j] == 0) ready.push(j);
    }
  }
  if (a->topological.size() != n) {
    std::string names;
    for (size_t i = 0; i < n; ++i) {
      if (indegree[i] > 0) names += (names.empty() ? "" : ", ") + NodeLabel(*a, i);
    }
    return InvalidArgument("architecture '" + a->name + "' has a cycle through " + names);
  }
  return Status::Ok();
}

Status OrderBlocks(Document* doc) {
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<Status(const std::string&, std::vector<std::string>&)> visit =
      [&](const std::string& name, std::vector<std::string>& path) -> Status {
    int& s = state[name];
    if (s == 2) return Status::Ok();
    if (s == 1) {
      std::string cycle;
      for (const auto& p : path) cycle += p + " → ";
      return InvalidArgument("blocks use each other in a cycle: " + cycle + name);
    }
    s = 1;
    path.push_back(name);
    for (const Node& n : doc->architectures.at(name).nodes) {
      if (n.type == "Block") KILN_RETURN_IF_ERROR(visit(n.Param("block")->as_string(), path));
    }
    path.pop_back();
    state[name] = 2;
    doc->dependency_order.push_back(name);
    return Status::Ok();
  };
  std::vector<std::string> path;
  KILN_RETURN_IF_ERROR(visit(doc->main, path));
  return Status::Ok();
}

}  // namespace

Result<Document> ParseDocumentJson(const json& j, const Catalog& catalog) {
  if (!j.is_object() || !j.contains("architectures") || !j["architectures"].is_object()) {
    return InvalidArgument(
        "an architecture document is an object with \"main\" and \"architectures\" "
        "(docs/nn.md)");
  }
  Document doc;
  for (auto it = j["architectures"].begin(); it != j["architectures"].end(); ++it) {
    if (!IsIdentifier(it.key())) {
      return InvalidArgument("the architecture name '" + it.key() +
                             "' is not a Python identifier (it becomes a class name)");
    }
    Architecture a;
    a.name = it.key();
    KILN_RETURN_IF_ERROR(ParseNodes(it.value(), catalog, &a));
    doc.architectures.emplace(a.name, std::move(a));
  }
  if (j.contains("main") && j["main"].is_string()) {
    doc.main = j["main"].get<std::string>();
  } else if (doc.architectures.size() == 1) {
    doc.main = doc.architectures.begin()->first;
  } else {
    return InvalidArgument("the document has several architectures: \"main\" must name one");
  }
  if (!doc.architectures.count(doc.main)) {
    return InvalidArgument("\"main\" names '" + doc.main + "', which the document does not define");
  }
  KILN_RETURN_IF_ERROR(ResolveBlockPorts(&doc));
  for (auto it = j["architectures"].begin(); it != j["architectures"].end(); ++it) {
    Architecture& a = doc.architectures.at(it.key());
    KILN_RETURN_IF_ERROR(ParseEdges(it.value(), &a));
    KILN_RETURN_IF_ERROR(SortTopologically(&a));
  }
  KILN_RETURN_IF_ERROR(OrderBlocks(&doc));
  return doc;
}

Result<Document> ParseDocument(std::string_view json_text, const Catalog& catalog) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("the architecture document is not JSON: ") + e.what());
  }
  KILN_RETURN_IF_ERROR(Value::CheckJsonIntegers(json_text));
  return ParseDocumentJson(j, catalog);
}

}  // namespace kiln::nn
