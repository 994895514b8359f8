// Tree::Apply and the patch operations (docs/patches.md). Every change goes
// through MutableSlot/SetGuid so that a savepoint can undo it.

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/guid.h"
#include "model/meta.h"
#include "model/tree.h"
#include "model/tree_internal.h"

namespace kiln {
namespace {

// Deep trees make materialization recurse; a bound keeps the stack safe.
constexpr size_t kMaxDepth = 1000;
constexpr size_t kMaxListed = 10;

template <typename T>
void EraseOne(std::vector<T>& v, const T& x) {
  auto it = std::find(v.begin(), v.end(), x);
  if (it != v.end()) v.erase(it);
}

}  // namespace

class Tree::Editor {
 public:
  Editor(Tree& t, size_t index, const PatchOp& op) : t_(t), index_(index), op_(op) {}

  Status Run() {
    switch (op_.kind) {
      case OpKind::kCreate:
        return DoCreate();
      case OpKind::kSetAttr:
      case OpKind::kSetRegistry:
        return DoSetValue();
      case OpKind::kDelAttr:
      case OpKind::kDelRegistry:
        return DoDelValue();
      case OpKind::kSetPointer:
        return DoSetPointer();
      case OpKind::kDelPointer:
        return DoDelPointer();
      case OpKind::kMove:
        return DoMove();
      case OpKind::kCopy:
        return DoCopy();
      case OpKind::kDelete:
        return DoDelete();
    }
    return Err(Code::kInvalidArgument, "unknown op");
  }

 private:
  Status Err(Code code, const std::string& what) const {
    return Status(code, "op " + std::to_string(index_) + " (" + OpName(op_.kind) + "): " + what);
  }

  Result<NodeId> Lookup(const std::string& guid, const char* field) const {
    if (!IsGuid(guid))
      return Err(Code::kInvalidArgument,
                 std::string("field '") + field + "': not a guid: '" + guid.substr(0, 64) + "'");
    NodeId id = t_.FindId(guid);
    if (id == kNoNode) {
      return Err(Code::kNotFound, std::string("field '") + field + "': no node " + guid);
    }
    return id;
  }

  std::string Describe(NodeId id) const { return t_.Get(id).Describe(); }
  Slot& S(NodeId id) { return t_.slots_[id]; }
  Slot& M(NodeId id) { return t_.MutableSlot(id); }
  void Touch(NodeId id) { t_.touched_.push_back(id); }

  size_t Depth(NodeId id) {
    size_t d = 0;
    for (NodeId n = S(id).parent; n != kNoNode; n = S(n).parent) ++d;
    return d;
  }

  size_t Height(NodeId id) {
    size_t best = 0;
    std::vector<std::pair<NodeId, size_t>> stack{{id, 0}};
    while (!stack.empty()) {
      auto [n, d] = stack.back();
      stack.pop_back();
      best = std::max(best, d);
      for (NodeId c : S(n).children) stack.emplace_back(c, d + 1);
    }
    return best;
  }

  std::vector<NodeId> AncestorsOrSelf(NodeId id) {
    std::vector<NodeId> out;
    for (NodeId n = id; n != kNoNode; n = S(n).parent) out.push_back(n);
    return out;
  }

  // Refuses to place a node whose base chain contains one of `ancestors`:
  // an instance inside its base's subtree would inherit itself.
  Status CheckBaseOutside(NodeId node, NodeId base, const std::vector<NodeId>& ancestors) {
    for (NodeId b = base; b != kNoNode; b = S(b).base) {
      if (std::find(ancestors.begin(), ancestors.end(), b) != ancestors.end()) {
        return Err(Code::kFailedPrecondition,
                   "node " + (node == kNoNode ? op_.guid : Describe(node)) +
                       " would sit inside the subtree of its base " + Describe(b));
      }
    }
    return Status::Ok();
  }

  void RemoveReferrer(NodeId target, NodeId from) { EraseOne(M(target).referrers, from); }

  NodeId FindId(std::string_view guid) const { return t_.FindId(guid); }

  // Sets an own pointer, keeping the referrers index right.
  void SetOwnPointer(NodeId id, const std::string& name, std::optional<std::string> target) {
    auto it = S(id).pointers.find(name);
    if (it != S(id).pointers.end()) {
      if (it->second == target) return;
      if (it->second) {
        NodeId old = FindId(*it->second);
        if (old != kNoNode) RemoveReferrer(old, id);
      }
    }
    NodeId tid = target ? FindId(*target) : kNoNode;
    M(id).pointers[name] = std::move(target);
    if (tid != kNoNode) M(tid).referrers.push_back(id);
    t_.MarkDirty(id);
    Touch(id);
  }

  void RemoveOwnPointer(NodeId id, const std::string& name) {
    auto it = S(id).pointers.find(name);
    if (it == S(id).pointers.end()) return;
    if (it->second) {
      NodeId old = FindId(*it->second);
      if (old != kNoNode) RemoveReferrer(old, id);
    }
    M(id).pointers.erase(name);
    t_.MarkDirty(id);
    Touch(id);
  }

  // A new slot under `parent` at `index` (nullopt: last); the caller has
  // checked the guid is free and the index in range.
  NodeId NewSlot(const std::string& guid, NodeId parent, NodeId base,
                 std::optional<uint32_t> index) {
    NodeId id = NodeId(t_.slots_.size());
    Slot s;
    s.guid = GuidText(guid);
    s.parent = parent;
    s.base = base;
    s.mark = t_.savepoints_.empty() ? 0 : t_.savepoints_.back().id;
    t_.slots_.push_back(std::move(s));
    t_.SetGuid(guid, id);
    auto& children = M(parent).children;
    children.insert(index ? children.begin() + *index : children.end(), id);
    if (base != kNoNode) M(base).instances.push_back(id);
    ++t_.live_;
    t_.MarkDirty(parent);
    Touch(id);
    return id;
  }

  Status CheckIndex(NodeId parent, std::optional<uint32_t> index, size_t removed = 0) {
    size_t size = S(parent).children.size() - removed;
    if (index && *index > size) {
      return Err(Code::kInvalidArgument, "field 'index': " + std::to_string(*index) +
                                             " is past the end (parent has " +
                                             std::to_string(size) + " children)");
    }
    return Status::Ok();
  }

  // Creates a node, its inherited children (materialized from `base`,
  // recursively) and the inheriting copies in every instance of `parent`.
  Status CreateNode(NodeId parent, const std::string& guid, NodeId base,
                    std::optional<uint32_t> index, std::vector<NodeId>* created) {
    if (FindId(guid) != kNoNode) {
      return Err(Code::kAlreadyExists, "node " + guid + " already exists" +
                                           (created->empty() ? "" : " (an inherited child)"));
    }
    if (Depth(parent) + 1 > kMaxDepth) {
      return Err(Code::kFailedPrecondition, "tree would be deeper than 1000 levels");
    }
    if (base != kNoNode)
      KILN_RETURN_IF_ERROR(CheckBaseOutside(kNoNode, base, AncestorsOrSelf(parent)));
    KILN_RETURN_IF_ERROR(CheckIndex(parent, index));
    NodeId id = NewSlot(guid, parent, base, index);
    created->push_back(id);
    if (base != kNoNode) {
      std::vector<NodeId> base_children = S(base).children;
      for (NodeId bc : base_children) {
        KILN_RETURN_IF_ERROR(CreateNode(id, DeriveGuid(guid, S(bc).guid), bc, {}, created));
      }
    }
    std::vector<NodeId> instances = S(parent).instances;
    for (NodeId inst : instances) {
      std::string derived = DeriveGuid(S(inst).guid, guid);
      KILN_RETURN_IF_ERROR(CreateNode(inst, derived, id, {}, created));
    }
    return Status::Ok();
  }

  // The node in the instance subtree of `x` that corresponds to `target` in
  // the base subtree, or kNoNode when `target` lies outside it.
  NodeId MapIntoInstance(NodeId x, NodeId target) {
    NodeId a = x, ba = S(x).base;
    while (true) {
      NodeId pa = S(a).parent, pba = S(ba).parent;
      if (pa == kNoNode || pba == kNoNode || S(pa).base != pba) break;
      a = pa;
      ba = pba;
    }
    std::vector<NodeId> path;
    NodeId n = target;
    for (; n != kNoNode && n != ba; n = S(n).parent) path.push_back(n);
    if (n == kNoNode) return kNoNode;
    NodeId cur = a;
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      cur = FindId(DeriveGuid(S(cur).guid, S(*it).guid));
      if (cur == kNoNode) return kNoNode;
    }
    return cur;
  }

  // Inherited pointers that aim inside the base's subtree are aimed at the
  // corresponding node of the instance, so that an instance of a pipeline
  // connects its own operations, not its base's.
  void RemapInherited(const std::vector<NodeId>& created) {
    for (NodeId x : created) {
      if (S(x).base == kNoNode) continue;
      PointerMap inherited = t_.Get(S(x).base).EffectivePointers();
      for (const auto& [name, target] : inherited) {
        if (!target || S(x).pointers.count(name)) continue;
        NodeId tid = FindId(*target);
        if (tid == kNoNode) continue;
        NodeId mapped = MapIntoInstance(x, tid);
        if (mapped != kNoNode && mapped != tid) SetOwnPointer(x, name, S(mapped).guid.str());
      }
    }
  }

  Status CheckPointerTargets(const PointerMap& pointers) {
    for (const auto& [name, target] : pointers) {
      if (!target) continue;
      if (!IsGuid(*target)) {
        return Err(Code::kInvalidArgument, "field 'pointers': entry '" + name + "': not a guid");
      }
      if (FindId(*target) == kNoNode) {
        return Err(Code::kNotFound, "field 'pointers': entry '" + name + "': no node " + *target);
      }
    }
    return Status::Ok();
  }

  Status DoCreate() {
    if (!IsGuid(op_.guid)) return Err(Code::kInvalidArgument, "field 'guid': not a guid");
    KILN_ASSIGN_OR_RETURN(NodeId parent, Lookup(op_.parent, "parent"));
    NodeId base = kNoNode;
    if (op_.base) {
      KILN_ASSIGN_OR_RETURN(base, Lookup(*op_.base, "base"));
    }
    std::vector<NodeId> created;
    KILN_RETURN_IF_ERROR(CreateNode(parent, op_.guid, base, op_.index, &created));
    NodeId top = created.front();
    M(top).attrs = op_.attrs;
    M(top).registry = op_.registry;
    KILN_RETURN_IF_ERROR(CheckPointerTargets(op_.pointers));
    for (const auto& [name, target] : op_.pointers) SetOwnPointer(top, name, target);
    RemapInherited(created);
    return Status::Ok();
  }

  Status DoSetValue() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    bool attr = op_.kind == OpKind::kSetAttr;
    Value::Map& map = attr ? S(id).attrs : S(id).registry;
    auto it = map.find(op_.name);
    if (it != map.end() && it->second == op_.value) return Status::Ok();  // no change, no write
    Slot& s = M(id);
    (attr ? s.attrs : s.registry)[op_.name] = op_.value;
    t_.MarkDirty(id);
    Touch(id);
    return Status::Ok();
  }

  Status DoDelValue() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    bool attr = op_.kind == OpKind::kDelAttr;
    Value::Map& map = attr ? S(id).attrs : S(id).registry;
    if (!map.count(op_.name)) return Status::Ok();
    Slot& s = M(id);
    (attr ? s.attrs : s.registry).erase(op_.name);
    t_.MarkDirty(id);
    Touch(id);
    return Status::Ok();
  }

  Status DoSetPointer() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    if (op_.target) {
      KILN_ASSIGN_OR_RETURN(NodeId target, Lookup(*op_.target, "target"));
      (void)target;
    }
    SetOwnPointer(id, op_.name, op_.target);
    return Status::Ok();
  }

  Status DoDelPointer() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    RemoveOwnPointer(id, op_.name);
    return Status::Ok();
  }

  Status DoMove() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    KILN_ASSIGN_OR_RETURN(NodeId parent, Lookup(op_.parent, "parent"));
    if (id == t_.root_) return Err(Code::kInvalidArgument, "field 'node': the root cannot move");
    if (t_.Get(parent).IsInSubtreeOf(id)) {
      return Err(Code::kInvalidArgument, "field 'parent': cannot move " + Describe(id) +
                                             " under itself or its descendant " + Describe(parent));
    }
    NodeId old = S(id).parent;
    KILN_RETURN_IF_ERROR(CheckIndex(parent, op_.index, old == parent ? 1 : 0));
    if (Depth(parent) + 1 + Height(id) > kMaxDepth) {
      return Err(Code::kFailedPrecondition, "tree would be deeper than 1000 levels");
    }
    std::vector<NodeId> ancestors = AncestorsOrSelf(parent);
    std::vector<NodeId> subtree = t_.Subtree(id);
    for (NodeId x : subtree) KILN_RETURN_IF_ERROR(CheckBaseOutside(x, S(x).base, ancestors));

    auto& old_children = S(old).children;
    size_t pos =
        size_t(std::find(old_children.begin(), old_children.end(), id) - old_children.begin());
    size_t target = op_.index ? *op_.index : S(parent).children.size() - (old == parent ? 1 : 0);
    if (old == parent && target == pos) return Status::Ok();
    auto& from = M(old).children;
    from.erase(from.begin() + pos);
    t_.MarkDirty(old);
    auto& to = M(parent).children;
    to.insert(to.begin() + target, id);
    M(id).parent = parent;
    t_.MarkDirty(parent);
    for (NodeId x : subtree) Touch(x);
    return Status::Ok();
  }

  Status DoCopy() {
    KILN_ASSIGN_OR_RETURN(NodeId src, Lookup(op_.node, "node"));
    KILN_ASSIGN_OR_RETURN(NodeId parent, Lookup(op_.parent, "parent"));
    if (!IsGuid(op_.guid)) return Err(Code::kInvalidArgument, "field 'guid': not a guid");
    if (src == t_.root_)
      return Err(Code::kInvalidArgument, "field 'node': the root cannot be copied");
    KILN_RETURN_IF_ERROR(CheckIndex(parent, op_.index));
    if (Depth(parent) + 1 + Height(src) > kMaxDepth) {
      return Err(Code::kFailedPrecondition, "tree would be deeper than 1000 levels");
    }
    std::vector<NodeId> subtree = t_.Subtree(src);  // fixed before anything is added
    std::unordered_map<NodeId, NodeId> copies;
    std::unordered_map<NodeId, std::string> guids;
    for (NodeId x : subtree) {
      std::string g = x == src ? op_.guid : DeriveGuid(op_.guid, S(x).guid);
      if (FindId(g) != kNoNode) return Err(Code::kAlreadyExists, "node " + g + " already exists");
      guids.emplace(x, std::move(g));
    }
    std::vector<NodeId> ancestors = AncestorsOrSelf(parent);
    for (NodeId x : subtree) {
      if (S(x).base != kNoNode && !guids.count(S(x).base)) {
        KILN_RETURN_IF_ERROR(CheckBaseOutside(x, S(x).base, ancestors));
      }
    }
    for (NodeId x : subtree) {
      NodeId p = x == src ? parent : copies.at(S(x).parent);
      NodeId c = NewSlot(guids.at(x), p, kNoNode, x == src ? op_.index : std::nullopt);
      copies.emplace(x, c);
    }
    for (NodeId x : subtree) {
      NodeId c = copies.at(x);
      NodeId b = S(x).base;
      if (b != kNoNode) {
        auto it = copies.find(b);
        NodeId nb = it == copies.end() ? b : it->second;
        M(c).base = nb;
        M(nb).instances.push_back(c);
      }
      M(c).attrs = S(x).attrs;
      M(c).registry = S(x).registry;
      PointerMap pointers = S(x).pointers;
      for (const auto& [name, target] : pointers) {
        std::optional<std::string> t = target;
        if (t) {
          NodeId tid = FindId(*t);
          auto it = copies.find(tid);
          if (it != copies.end()) t = S(it->second).guid.str();
        }
        SetOwnPointer(c, name, std::move(t));
      }
    }
    NodeId top = copies.at(src);
    std::vector<NodeId> propagated;
    std::vector<NodeId> instances = S(parent).instances;
    for (NodeId inst : instances) {
      KILN_RETURN_IF_ERROR(
          CreateNode(inst, DeriveGuid(S(inst).guid, S(top).guid), top, {}, &propagated));
    }
    RemapInherited(propagated);
    return Status::Ok();
  }

  bool IsEndpointOf(NodeId r, NodeId x) {
    NodeRef ref = t_.Get(r);
    if (!ref.IsA("Connection")) return false;
    for (const char* name : {"src", "dst"}) {
      auto it = S(r).pointers.find(name);
      if (it != S(r).pointers.end() && it->second && *it->second == S(x).guid.view()) return true;
    }
    return false;
  }

  Status DoDelete() {
    KILN_ASSIGN_OR_RETURN(NodeId id, Lookup(op_.node, "node"));
    if (id == t_.root_)
      return Err(Code::kInvalidArgument, "field 'node': the root cannot be deleted");
    // What goes: the subtree, its inherited copies in instances of the
    // parent (recursively), and connections attached to any of it.
    std::unordered_set<NodeId> gone;
    std::vector<NodeId> order;
    std::vector<NodeId> roots{id};
    size_t scanned = 0;
    while (!roots.empty()) {
      while (!roots.empty()) {
        NodeId r = roots.back();
        roots.pop_back();
        if (gone.count(r)) continue;
        for (NodeId x : t_.Subtree(r)) {
          if (gone.insert(x).second) order.push_back(x);
        }
        NodeId p = S(r).parent;
        for (NodeId j : S(r).instances) {
          NodeId pj = S(j).parent;
          if (pj != kNoNode && S(pj).base == p && p != kNoNode) roots.push_back(j);
        }
      }
      for (; scanned < order.size(); ++scanned) {
        NodeId x = order[scanned];
        for (NodeId r : S(x).referrers) {
          if (!gone.count(r) && IsEndpointOf(r, x)) roots.push_back(r);
        }
      }
    }
    std::vector<std::string> heirs;
    for (NodeId x : order) {
      for (NodeId i : S(x).instances) {
        if (!gone.count(i)) heirs.push_back(Describe(i) + " (base " + Describe(x) + ")");
      }
    }
    if (!heirs.empty()) {
      std::string list;
      for (size_t i = 0; i < heirs.size() && i < kMaxListed; ++i)
        list += (i ? ", " : "") + heirs[i];
      if (heirs.size() > kMaxListed)
        list += ", and " + std::to_string(heirs.size() - kMaxListed) + " more";
      return Err(Code::kFailedPrecondition,
                 "cannot delete " + Describe(id) + ": nodes outside it inherit from it: " + list);
    }
    for (NodeId x : order) {
      NodeId p = S(x).parent;
      if (p != kNoNode && !gone.count(p)) {
        EraseOne(M(p).children, x);
        t_.MarkDirty(p);
        Touch(p);
      }
      NodeId b = S(x).base;
      if (b != kNoNode && !gone.count(b)) EraseOne(M(b).instances, x);
      for (const auto& [name, target] : S(x).pointers) {
        if (!target) continue;
        NodeId tid = FindId(*target);
        if (tid != kNoNode && !gone.count(tid)) RemoveReferrer(tid, x);
      }
      std::vector<NodeId> referrers = S(x).referrers;
      for (NodeId r : referrers) {
        if (gone.count(r)) continue;
        std::vector<std::string> names;
        for (const auto& [name, target] : S(r).pointers) {
          if (target && *target == S(x).guid.view()) names.push_back(name);
        }
        for (const std::string& name : names) M(r).pointers.erase(name);
        t_.MarkDirty(r);
        Touch(r);
      }
    }
    for (NodeId x : order) {
      t_.SetGuid(S(x).guid, kNoNode);
      M(x).alive = false;
      --t_.live_;
    }
    return Status::Ok();
  }

  Tree& t_;
  size_t index_;
  const PatchOp& op_;
};

Status Tree::Apply(const Patch& patch, const ApplyOptions& options) {
  return Apply(std::span<const PatchOp>(patch.ops), options);
}

Status Tree::Apply(std::span<const PatchOp> ops, const ApplyOptions& options) {
  touched_.clear();
  Begin();
  for (size_t i = 0; i < ops.size(); ++i) {
    Status st = Editor(*this, i, ops[i]).Run();
    if (!st.ok()) {
      Rollback();
      touched_.clear();
      return st;
    }
  }
  if (options.check_rules) {
    Status st = CheckRules(*this, touched_);
    if (!st.ok()) {
      Rollback();
      touched_.clear();
      return st;
    }
  }
  Release();
  return Status::Ok();
}

}  // namespace kiln
