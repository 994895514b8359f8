#include "model/diff.h"

#include <unordered_set>

namespace kiln {
namespace {

// Walks `to` from the root, skipping subtrees whose digest `from` shares.
void ChangedIn(const Tree& from, const Tree& to, std::vector<NodeId>* changed) {
  std::vector<NodeId> stack{to.root().id()};
  while (!stack.empty()) {
    NodeRef n = to.Get(stack.back());
    stack.pop_back();
    auto f = from.Find(n.guid());
    if (f && f->digest() == n.digest()) continue;
    changed->push_back(n.id());
    for (size_t i = n.child_count(); i-- > 0;) stack.push_back(n.child(i).id());
  }
}

// Nodes of `from` that `to` lacks, found under subtrees whose digests differ.
void MissingIn(const Tree& from, const Tree& to, std::vector<NodeId>* missing) {
  std::vector<NodeId> stack{from.root().id()};
  while (!stack.empty()) {
    NodeRef n = from.Get(stack.back());
    stack.pop_back();
    auto t = to.Find(n.guid());
    if (!t) {
      missing->push_back(n.id());
      continue;  // the whole subtree goes with it (moved-out parts are moved first)
    }
    if (t->digest() == n.digest()) continue;
    for (size_t i = n.child_count(); i-- > 0;) stack.push_back(n.child(i).id());
  }
}

std::optional<std::string> Guid(const std::optional<NodeRef>& n) {
  if (!n) return std::nullopt;
  return std::string(n->guid());
}

class Differ {
 public:
  Differ(Tree& sim, const Tree& to) : sim_(sim), to_(to) {}

  Status Run(std::vector<PatchOp>* out) {
    std::vector<NodeId> changed;
    ChangedIn(sim_, to_, &changed);
    std::vector<NodeId> missing;
    MissingIn(sim_, to_, &missing);
    for (NodeId id : missing) delete_candidates_.push_back(std::string(sim_.Get(id).guid()));

    // Fields before deletes: a connection that `to` keeps must point at its
    // new ports before its old ones go, or the delete would cascade to it.
    // Deletes cannot undo field values `to` has: they remove only nodes
    // `to` lacks, and pointers to those.
    KILN_RETURN_IF_ERROR(Creates(changed));
    KILN_RETURN_IF_ERROR(Moves(changed));
    KILN_RETURN_IF_ERROR(Fields(changed));
    KILN_RETURN_IF_ERROR(Deletes());
    *out = std::move(ops_);
    return Status::Ok();
  }

 private:
  Status Do(PatchOp op) {
    Status st = sim_.Apply(std::span<const PatchOp>(&op, 1), ApplyOptions{.check_rules = false});
    if (!st.ok()) return st;
    ops_.push_back(std::move(op));
    return Status::Ok();
  }

  Status Creates(const std::vector<NodeId>& changed) {
    std::vector<NodeId> pending;
    for (NodeId id : changed) {
      if (!sim_.Contains(to_.Get(id).guid())) pending.push_back(id);
    }
    while (!pending.empty()) {
      std::vector<NodeId> later;
      for (NodeId id : pending) {
        NodeRef n = to_.Get(id);
        if (sim_.Contains(n.guid())) continue;  // made by inheritance meanwhile
        auto base = n.base();
        if (!sim_.Contains(n.parent()->guid()) || (base && !sim_.Contains(base->guid()))) {
          later.push_back(id);
          continue;
        }
        KILN_RETURN_IF_ERROR(
            Do(PatchOp::Create(std::string(n.guid()), std::string(n.parent()->guid()), Guid(base),
                               n.attrs(), {}, n.registry())));
        // Inherited children it brought along that `to` lacks must go again.
        for (NodeId t : sim_.touched()) {
          if (!sim_.IsLive(t)) continue;
          std::string g(sim_.Get(t).guid());
          if (!to_.Contains(g)) delete_candidates_.push_back(g);
        }
      }
      if (later.size() == pending.size()) {
        return Internal("diff: cannot order the creation of node " +
                        std::string(to_.Get(later.front()).guid()));
      }
      pending.swap(later);
    }
    return Status::Ok();
  }

  // Orders children as `to` has them. Children that `to` lacks (deleted
  // later) are stepped over, so a deletion does not turn into moves.
  Status Moves(const std::vector<NodeId>& changed) {
    for (NodeId id : changed) {
      NodeRef want = to_.Get(id);
      size_t p = 0;
      for (size_t i = 0; i < want.child_count(); ++i) {
        std::string_view child = want.child(i).guid();
        std::optional<NodeRef> found = sim_.Find(want.guid());
        if (!found) return Internal("diff: node " + std::string(want.guid()) + " is missing");
        NodeRef have = *found;
        while (p < have.child_count() && !to_.Contains(have.child(p).guid())) ++p;
        if (p < have.child_count() && have.child(p).guid() == child) {
          ++p;
          continue;
        }
        // The child is not among the first p children (those matched `to` or
        // are leaving), so p is its index after the move.
        size_t index = p;
        KILN_RETURN_IF_ERROR(
            Do(PatchOp::Move(std::string(child), std::string(want.guid()), uint32_t(index))));
        p = index + 1;
      }
    }
    return Status::Ok();
  }

  Status Deletes() {
    std::vector<std::string> pending = std::move(delete_candidates_);
    while (!pending.empty()) {
      std::vector<std::string> later;
      Status last;
      for (const std::string& g : pending) {
        if (!sim_.Contains(g) || to_.Contains(g)) continue;
        Status st = Do(PatchOp::Delete(g));
        if (st.code() == Code::kFailedPrecondition) {
          later.push_back(g);  // an instance elsewhere goes first
          last = st;
        } else if (!st.ok()) {
          return st;
        }
      }
      if (later.size() == pending.size()) return Internal("diff: " + last.message());
      pending.swap(later);
    }
    return Status::Ok();
  }

  Status Fields(const std::vector<NodeId>& changed) {
    for (NodeId id : changed) {
      NodeRef want = to_.Get(id);
      std::string guid(want.guid());
      std::optional<NodeRef> found = sim_.Find(guid);
      if (!found) return Internal("diff: node " + guid + " is missing");
      NodeRef have = *found;
      std::vector<PatchOp> ops;
      DiffValues(guid, have.attrs(), want.attrs(), OpKind::kSetAttr, OpKind::kDelAttr, &ops);
      DiffValues(guid, have.registry(), want.registry(), OpKind::kSetRegistry, OpKind::kDelRegistry,
                 &ops);
      const PointerMap& hp = have.pointers();
      const PointerMap& wp = want.pointers();
      for (const auto& [name, target] : hp) {
        if (!wp.count(name)) ops.push_back(PatchOp::DelPointer(guid, name));
      }
      for (const auto& [name, target] : wp) {
        auto it = hp.find(name);
        if (it == hp.end() || it->second != target) {
          ops.push_back(PatchOp::SetPointer(guid, name, target));
        }
      }
      for (PatchOp& op : ops) KILN_RETURN_IF_ERROR(Do(std::move(op)));
    }
    return Status::Ok();
  }

  static void DiffValues(const std::string& guid, const Value::Map& have, const Value::Map& want,
                         OpKind set, OpKind del, std::vector<PatchOp>* ops) {
    for (const auto& [name, value] : have) {
      if (!want.count(name)) {
        PatchOp op = PatchOp::DelAttr(guid, name);
        op.kind = del;
        ops->push_back(std::move(op));
      }
    }
    for (const auto& [name, value] : want) {
      auto it = have.find(name);
      if (it == have.end() || !(it->second == value)) {
        PatchOp op = PatchOp::SetAttr(guid, name, value);
        op.kind = set;
        ops->push_back(std::move(op));
      }
    }
  }

  Tree& sim_;
  const Tree& to_;
  std::vector<PatchOp> ops_;
  std::vector<std::string> delete_candidates_;
};

}  // namespace

std::vector<std::string> ChangedNodes(const Tree& from, const Tree& to) {
  std::vector<NodeId> changed, missing;
  ChangedIn(from, to, &changed);
  MissingIn(from, to, &missing);
  std::vector<std::string> out;
  for (NodeId id : changed) out.emplace_back(to.Get(id).guid());
  for (NodeId id : missing) out.emplace_back(from.Get(id).guid());
  return out;
}

Result<std::vector<PatchOp>> Diff(Tree& from, const Tree& to) {
  if (from.dirty() || to.dirty()) return FailedPrecondition("diff: trees must be written first");
  if (from.root_guid() != to.root_guid()) {
    return InvalidArgument("diff: the trees have different roots");
  }
  if (*from.RootDigest() == *to.RootDigest()) return std::vector<PatchOp>{};
  std::vector<PatchOp> ops;
  from.Begin();
  Status st = Differ(from, to).Run(&ops);
  if (st.ok()) {
    // Self-check: the ops must reproduce `to` exactly.
    WriteBatch scratch;
    Result<Digest> root = from.Write(&scratch);
    if (!root.ok()) {
      st = root.status();
    } else if (*root != *to.RootDigest()) {
      st = Internal("diff: the ops do not reproduce the target tree");
    }
  }
  from.Rollback();
  if (!st.ok()) return st.code() == Code::kInternal ? st : Internal("diff: " + st.message());
  return ops;
}

}  // namespace kiln
