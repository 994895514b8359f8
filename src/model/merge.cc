#include "model/merge.h"

#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "model/diff.h"

namespace kiln {
namespace {

using Field = std::optional<Value>;

Field PointerValue(const PointerMap& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second ? Value(*it->second) : Value();
}

Field MapValue(const Value::Map& m, const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

Field ParentValue(const std::optional<NodeRef>& n) {
  if (!n) return std::nullopt;
  auto p = n->parent();
  if (!p) return Value();
  return Value(std::string(p->guid()));
}

class Merger {
 public:
  Merger(const Tree& base, const Tree& ours, const Tree& theirs)
      : base_(base), ours_(ours), theirs_(theirs) {}

  std::vector<MergeConflict> Conflicts() {
    std::vector<MergeConflict> out;
    std::set<std::string> ours_changed;
    for (std::string& g : ChangedNodes(base_, ours_)) ours_changed.insert(std::move(g));
    std::unordered_set<std::string> seen;
    for (const std::string& g : ChangedNodes(base_, theirs_)) {
      if (!seen.insert(g).second) continue;
      auto b = base_.Find(g), o = ours_.Find(g), t = theirs_.Find(g);
      // Existence: a deletion against a change anywhere below.
      if (b && !t && o && o->digest() != b->digest()) {
        out.push_back({g, "exists", Value("present"), Value("modified"), Value("deleted")});
        continue;
      }
      if (b && t && !o && t->digest() != b->digest()) {
        out.push_back({g, "exists", Value("present"), Value("deleted"), Value("modified")});
        continue;
      }
      if (!t || !o) continue;                     // one-sided deletion, or theirs-only creation
      if (b && !ours_changed.count(g)) continue;  // ours left the node alone
      Compare(g, "parent", b ? ParentValue(b) : Field(), ParentValue(o), ParentValue(t), &out);
      CompareMaps(g, "attrs/", b ? &b->attrs() : nullptr, o->attrs(), t->attrs(), &out);
      CompareMaps(g, "registry/", b ? &b->registry() : nullptr, o->registry(), t->registry(), &out);
      std::set<std::string> names;
      if (b) {
        for (const auto& [k, v] : b->pointers()) names.insert(k);
      }
      for (const auto& [k, v] : o->pointers()) names.insert(k);
      for (const auto& [k, v] : t->pointers()) names.insert(k);
      for (const std::string& k : names) {
        Compare(g, "pointers/" + k, b ? PointerValue(b->pointers(), k) : Field(),
                PointerValue(o->pointers(), k), PointerValue(t->pointers(), k), &out);
      }
    }
    return out;
  }

 private:
  static void Compare(const std::string& g, const std::string& field, const Field& b,
                      const Field& o, const Field& t, std::vector<MergeConflict>* out) {
    if (t == b || o == b || o == t) return;
    out->push_back({g, field, b, o, t});
  }

  static void CompareMaps(const std::string& g, const std::string& prefix, const Value::Map* b,
                          const Value::Map& o, const Value::Map& t,
                          std::vector<MergeConflict>* out) {
    std::set<std::string> names;
    if (b) {
      for (const auto& [k, v] : *b) names.insert(k);
    }
    for (const auto& [k, v] : o) names.insert(k);
    for (const auto& [k, v] : t) names.insert(k);
    for (const std::string& k : names) {
      Compare(g, prefix + k, b ? MapValue(*b, k) : Field(), MapValue(o, k), MapValue(t, k), out);
    }
  }

  const Tree& base_;
  const Tree& ours_;
  const Tree& theirs_;
};

// Replays theirs' ops on ours, dropping those ours already has and fitting
// move indexes to ours' child lists.
Status Replay(Tree& ours, const Tree& base, const std::vector<PatchOp>& theirs_ops,
              std::vector<PatchOp>* out) {
  for (PatchOp op : theirs_ops) {
    switch (op.kind) {
      case OpKind::kCreate:
        if (ours.Contains(op.guid)) continue;  // both sides made it (e.g. by inheritance)
        break;
      case OpKind::kDelete:
        if (!ours.Contains(op.node)) continue;
        break;
      case OpKind::kMove: {
        auto n = ours.Find(op.node);
        auto p = ours.Find(op.parent);
        if (!n || !p) break;
        auto b = base.Find(op.node);
        bool ours_moved =
            b && b->parent() && n->parent() && b->parent()->guid() != n->parent()->guid();
        if (ours_moved && n->parent()->guid() == op.parent) continue;  // same move on both
        size_t size = p->child_count() - (n->parent() && *n->parent() == *p ? 1 : 0);
        if (op.index && *op.index > size) op.index = uint32_t(size);
        break;
      }
      default:
        break;
    }
    Status st = ours.Apply(std::span<const PatchOp>(&op, 1), ApplyOptions{.check_rules = false});
    if (!st.ok()) return Conflict("merge: cannot apply their change (" + st.message() + ")");
    out->push_back(std::move(op));
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json MergeConflictToJson(const MergeConflict& c) {
  auto v = [](const Field& f) { return f ? f->ToJson() : nlohmann::json("<absent>"); };
  return nlohmann::json{{"node", c.node},
                        {"field", c.field},
                        {"base", v(c.base)},
                        {"ours", v(c.ours)},
                        {"theirs", v(c.theirs)}};
}

Result<TreeMerge> MergeTrees(Tree& base, Tree& ours, const Tree& theirs) {
  if (base.dirty() || ours.dirty() || theirs.dirty()) {
    return FailedPrecondition("merge: trees must be written first");
  }
  TreeMerge result;
  result.conflicts = Merger(base, ours, theirs).Conflicts();
  if (!result.conflicts.empty()) return result;
  KILN_ASSIGN_OR_RETURN(std::vector<PatchOp> theirs_ops, Diff(base, theirs));
  ours.Begin();
  Status st = Replay(ours, base, theirs_ops, &result.ops);
  ours.Rollback();
  KILN_RETURN_IF_ERROR(st);
  return result;
}

}  // namespace kiln
