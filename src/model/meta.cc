#include "model/meta.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/guid.h"

namespace kiln {
namespace {

constexpr std::string_view kNamespace = "kiln-core-meta";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string StringAttr(const NodeRef& n, std::string_view name, const char* fallback) {
  const Value* v = n.Attr(name);
  return v && v->is_string() ? v->as_string() : std::string(fallback);
}

// "port 1f... ('images')", "nothing".
std::string Show(const char* kind, const std::optional<NodeRef>& n) {
  if (!n) return "nothing";
  return std::string(kind) + " " + n->Describe();
}

class RuleChecker {
 public:
  explicit RuleChecker(const Tree& tree) : tree_(tree) {}

  Status CheckConnection(NodeRef c) {
    // A connection wires a Pipeline's operations or an Architecture's layers
    // (a library meta type, docs/libraries.md): the same rules for both.
    auto pipeline = c.parent();
    const char* member = nullptr;
    if (pipeline && pipeline->IsA("Pipeline")) member = "Operation";
    if (pipeline && pipeline->IsA("Architecture")) member = "Layer";
    if (!member) {
      return Violation("connection-in-pipeline",
                       "connection " + c.Describe() +
                           " must sit in a Pipeline or an Architecture, but its parent is " +
                           Show("node", pipeline));
    }
    auto src = c.PointerTarget("src");
    if (!src || !src->IsA("Port")) {
      return Violation("connection-src-output", "connection " + c.Describe() +
                                                    ": src must be an output Port, but it is " +
                                                    Show("node", src));
    }
    std::string src_dir = StringAttr(*src, "direction", "");
    if (src_dir != "output") {
      return Violation("connection-src-output", "connection " + c.Describe() + ": src " +
                                                    Show("port", src) + " has direction " +
                                                    Quote(src_dir) + ", not 'output'");
    }
    auto dst = c.PointerTarget("dst");
    if (!dst || !dst->IsA("Port")) {
      return Violation("connection-dst-input", "connection " + c.Describe() +
                                                   ": dst must be an input Port, but it is " +
                                                   Show("node", dst));
    }
    std::string dst_dir = StringAttr(*dst, "direction", "");
    if (dst_dir != "input") {
      return Violation("connection-dst-input", "connection " + c.Describe() + ": dst " +
                                                   Show("port", dst) + " has direction " +
                                                   Quote(dst_dir) + ", not 'input'");
    }
    std::string st = StringAttr(*src, "dataType", "any");
    std::string dt = StringAttr(*dst, "dataType", "any");
    if (st != dt && st != "any" && dt != "any") {
      return Violation("connection-types", "connection " + c.Describe() + " (src " +
                                               Show("port", src) + " of type " + st + ") → (dst " +
                                               Show("port", dst) + " of type " + dt +
                                               ") have incompatible types");
    }
    for (auto [end, port] : {std::pair{"src", *src}, std::pair{"dst", *dst}}) {
      auto op = port.parent();
      if (!op || !op->IsA(member) || !op->parent() || !(*op->parent() == *pipeline)) {
        return Violation("connection-same-pipeline",
                         "connection " + c.Describe() + " in " + pipeline->Describe() + ": " + end +
                             " " + Show("port", port) + " belongs to " + Show("node", op) +
                             ", not to a" + (member[0] == 'O' ? "n " : " ") + member + " of it");
      }
    }
    return Status::Ok();
  }

  Status CheckAcyclic(NodeRef pipeline) {
    // Edges between operations, through the pipeline's connections.
    std::unordered_map<NodeId, std::vector<NodeId>> edges;
    std::vector<NodeId> ops;
    for (size_t i = 0; i < pipeline.child_count(); ++i) {
      NodeRef c = pipeline.child(i);
      if (c.IsMeta() || !c.IsA("Connection")) continue;
      auto src = c.PointerTarget("src");
      auto dst = c.PointerTarget("dst");
      if (!src || !dst) continue;
      auto a = src->parent(), b = dst->parent();
      if (!a || !b) continue;
      if (!edges.count(a->id())) ops.push_back(a->id());
      edges[a->id()].push_back(b->id());
      if (!edges.count(b->id())) {
        ops.push_back(b->id());
        edges[b->id()];
      }
    }
    std::unordered_map<NodeId, uint8_t> color;  // 0 new, 1 on the path, 2 done
    for (NodeId start : ops) {
      if (color[start]) continue;
      std::vector<std::pair<NodeId, size_t>> stack{{start, 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [n, i] = stack.back();
        const auto& out = edges[n];
        if (i == out.size()) {
          color[n] = 2;
          stack.pop_back();
          continue;
        }
        NodeId m = out[i++];
        if (color[m] == 1) {
          std::string cycle;
          bool on = false;
          for (const auto& [s, _] : stack) {
            on |= s == m;
            if (on) cycle += tree_.Get(s).Describe() + " → ";
          }
          cycle += tree_.Get(m).Describe();
          return Violation("pipeline-acyclic", "pipeline " + pipeline.Describe() +
                                                   ": operations form a cycle: " + cycle);
        }
        if (color[m] == 0) {
          color[m] = 1;
          stack.emplace_back(m, 0);
        }
      }
    }
    return Status::Ok();
  }

  Status CheckConnections(const std::vector<NodeId>& connections) {
    std::vector<NodeId> pipelines;
    std::unordered_set<NodeId> seen;
    for (NodeId id : connections) {
      NodeRef c = tree_.Get(id);
      KILN_RETURN_IF_ERROR(CheckConnection(c));
      NodeId p = c.parent()->id();
      if (seen.insert(p).second) pipelines.push_back(p);
    }
    for (NodeId p : pipelines) KILN_RETURN_IF_ERROR(CheckAcyclic(tree_.Get(p)));
    return Status::Ok();
  }

 private:
  static Status Violation(const char* rule, const std::string& what) {
    return FailedPrecondition(std::string("rule ") + rule + ": " + what);
  }

  const Tree& tree_;
};

bool IsCheckedConnection(const NodeRef& n) { return !n.IsMeta() && n.IsA("Connection"); }

}  // namespace

const std::vector<std::string>& CoreMetaNames() {
  static const std::vector<std::string> names = {"FCO",  "Folder",     "Pipeline", "Operation",
                                                 "Port", "Connection", "Artifact"};
  return names;
}

std::string RootGuid() { return DeriveGuid(kNamespace, "root"); }
std::string MetaFolderGuid() { return DeriveGuid(kNamespace, "META"); }
std::string MetaGuid(std::string_view name) {
  return DeriveGuid(kNamespace, "meta/" + std::string(name));
}

Patch CoreMetaPatch() {
  Patch p;
  p.message = "Core meta types";
  p.ops.push_back(PatchOp::Create(MetaFolderGuid(), RootGuid(), std::nullopt, {{"name", "META"}}));
  for (const std::string& name : CoreMetaNames()) {
    std::optional<std::string> base;
    if (name != "FCO") base = MetaGuid("FCO");
    Value::Map attrs{{"name", name}};
    PointerMap pointers;
    if (name == "Port") {
      attrs["direction"] = "input";
      attrs["dataType"] = "any";
    }
    if (name == "Connection") {
      pointers["src"] = std::nullopt;
      pointers["dst"] = std::nullopt;
    }
    p.ops.push_back(PatchOp::Create(MetaGuid(name), MetaFolderGuid(), base, std::move(attrs),
                                    std::move(pointers), {{"isMeta", true}}));
  }
  return p;
}

Tree NewProjectTree() {
  Tree tree(RootGuid());
  Patch root;
  root.ops.push_back(PatchOp::SetAttr(RootGuid(), "name", "ROOT"));
  Status st = tree.Apply(root);
  if (st.ok()) st = tree.Apply(CoreMetaPatch());
  // Fixed input on a fresh tree: failure would be a bug in this file.
  assert(st.ok());
  (void)st;
  return tree;
}

Status CheckRules(const Tree& tree, std::span<const NodeId> touched) {
  // What an edit can affect: the touched nodes and everything inheriting
  // from them (an instance sees its base's attributes).
  std::unordered_set<NodeId> seen;
  std::vector<NodeId> affected;
  for (NodeId id : touched) {
    if (tree.IsLive(id) && seen.insert(id).second) affected.push_back(id);
  }
  for (size_t i = 0; i < affected.size(); ++i) {
    for (const NodeRef& inst : tree.Get(affected[i]).instances()) {
      if (seen.insert(inst.id()).second) affected.push_back(inst.id());
    }
  }
  std::unordered_set<NodeId> conn_seen;
  std::vector<NodeId> connections;
  for (NodeId id : affected) {
    NodeRef n = tree.Get(id);
    if (IsCheckedConnection(n) && conn_seen.insert(id).second) connections.push_back(id);
    for (const NodeRef& r : n.referrers()) {
      if (IsCheckedConnection(r) && conn_seen.insert(r.id()).second) connections.push_back(r.id());
    }
  }
  return RuleChecker(tree).CheckConnections(connections);
}

Status CheckAllRules(const Tree& tree) {
  std::vector<NodeId> connections;
  for (NodeId id : tree.NodeIds()) {
    if (IsCheckedConnection(tree.Get(id))) connections.push_back(id);
  }
  return RuleChecker(tree).CheckConnections(connections);
}

}  // namespace kiln
