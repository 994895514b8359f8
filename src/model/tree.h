// Tree: the in-memory working state of a project at one commit — every node,
// decoded, indexed by guid — with inheritance lookups, patch application,
// and incremental writes back to the ObjectStore.
//
// Nodes live in a vector of slots addressed by a dense NodeId; a guid index
// maps guids to ids. Each slot caches the digest of its stored object and a
// dirty flag (invariant: a dirty node's ancestors are dirty), so Write()
// re-encodes only the nodes on the paths from edited nodes to the root.
// Inheritance keeps a base → instances index and a target → referrers index
// (nodes whose own pointers target a node), so propagation, deletes and
// rule checks touch only what an edit can affect.
//
// Atomicity: Begin() opens a savepoint; the first change to a slot inside it
// saves the slot's old state in an undo log, so Rollback() restores the tree
// exactly (dirty flags and digests included) and Release() keeps the changes.
// Savepoints nest; Apply() uses one itself, so a failed patch changes nothing.
//
// Deleted nodes leave dead slots behind (ids stay stable for undo); a tree
// loaded from the store starts compact.
//
// Ownership: a Tree owns its nodes. NodeRef is a borrowed handle, valid until
// the next change to the tree. Thread-safety: const methods may run
// concurrently; any change needs exclusive access.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/digest.h"
#include "core/status.h"
#include "core/value.h"
#include "model/node.h"
#include "model/patch.h"
#include "store/object_store.h"

namespace kiln {

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;

// A guid held inline (no allocation per node): 36 characters of text.
class GuidText {
 public:
  GuidText() { std::fill(c_, c_ + sizeof c_, '0'); }
  // `guid` must satisfy IsGuid (core/guid.h).
  explicit GuidText(std::string_view guid);
  std::string_view view() const { return {c_, sizeof c_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a guid reads as text
  std::string str() const { return std::string(view()); }
  bool operator==(const GuidText& o) const { return view() == o.view(); }

 private:
  char c_[36];
};

// The 128 bits of a guid, the key of the guid index.
struct GuidKey {
  uint64_t hi = 0, lo = 0;
  bool operator==(const GuidKey&) const = default;
  // Parses the text of a guid; false when it is not a guid.
  static bool Parse(std::string_view text, GuidKey* out);
};

struct GuidKeyHash {
  size_t operator()(const GuidKey& k) const {
    return size_t(k.hi ^ (k.lo * 0x9e3779b97f4a7c15ull));
  }
};

class Tree;

// A read-only handle on one live node of a Tree.
class NodeRef {
 public:
  NodeRef(const Tree* tree, NodeId id) : tree_(tree), id_(id) {}

  NodeId id() const { return id_; }
  const Tree& tree() const { return *tree_; }
  std::string_view guid() const;
  std::optional<NodeRef> parent() const;
  std::optional<NodeRef> base() const;
  // The node's own values (not inherited ones).
  const Value::Map& attrs() const;
  const PointerMap& pointers() const;
  const Value::Map& registry() const;
  size_t child_count() const;
  NodeRef child(size_t i) const;
  std::vector<NodeRef> children() const;
  // Nodes whose base is this node.
  std::vector<NodeRef> instances() const;
  // Nodes with an own pointer to this node.
  std::vector<NodeRef> referrers() const;
  // The digest of the node's object; meaningful only when !dirty().
  const Digest& digest() const;
  bool dirty() const;

  // Effective values, walking the base chain: nullptr when neither the node
  // nor a base has one. For pointers, a non-null result holding nullopt is
  // an explicit "points nowhere".
  const Value* Attr(std::string_view name) const;
  const std::optional<std::string>* Pointer(std::string_view name) const;
  // The effective pointer's target node, if it points at a live node.
  std::optional<NodeRef> PointerTarget(std::string_view name) const;
  Value::Map EffectiveAttrs() const;
  PointerMap EffectivePointers() const;
  const Value* Registry(std::string_view name) const;

  // The effective "name" attribute if it is a string, else "".
  std::string Name() const;
  // A meta node carries registry "isMeta": true.
  bool IsMeta() const;
  // The first meta node in the base chain, this node included.
  std::optional<NodeRef> MetaType() const;
  // True when a meta node named `meta_name` is in the base chain.
  bool IsA(std::string_view meta_name) const;
  // True when this node is `ancestor` or lies in its subtree.
  bool IsInSubtreeOf(NodeId ancestor) const;
  // "guid ('name')" or "guid", for error messages.
  std::string Describe() const;

  bool operator==(const NodeRef& o) const { return tree_ == o.tree_ && id_ == o.id_; }

 private:
  const Tree* tree_;
  NodeId id_;
};

struct ApplyOptions {
  // Check meta-type rules after the patch (meta.h). Diff and merge turn it
  // off for intermediate states.
  bool check_rules = true;
};

class Tree {
 public:
  // A tree holding only a root node with this guid (IsGuid must hold), no
  // attributes.
  explicit Tree(std::string_view root_guid);
  Tree(Tree&&) noexcept;
  Tree& operator=(Tree&&) noexcept;
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;
  ~Tree();

  // Loads the tree whose root object has `root`: fetches level by level with
  // GetMany. Corruption when an object does not decode or names the wrong
  // guid; NotFound when an object is missing.
  static Result<Tree> Load(ObjectStore& store, const Digest& root);

  // A deep copy (savepoints are not copied; the clone has none open). About
  // 50 ms for 100k nodes: the Repository clones only when a tree is shared.
  Tree Clone() const;

  // ---- reading
  NodeRef root() const { return NodeRef(this, root_); }
  std::string_view root_guid() const;
  size_t size() const { return live_; }
  std::optional<NodeRef> Find(std::string_view guid) const;
  NodeRef Get(NodeId id) const { return NodeRef(this, id); }
  // True when `id` names a live node.
  bool IsLive(NodeId id) const;
  // True when the node with this guid exists.
  bool Contains(std::string_view guid) const { return Find(guid).has_value(); }
  // The root digest; FailedPrecondition while there are unwritten changes.
  Result<Digest> RootDigest() const;
  bool dirty() const;
  // Every live node id, in no particular order.
  std::vector<NodeId> NodeIds() const;
  // Node ids of the subtree of `id` in pre-order.
  std::vector<NodeId> Subtree(NodeId id) const;

  // ---- editing
  // Applies every op of the patch, then checks meta rules on what the patch
  // touched. On any error the tree is left exactly as it was.
  Status Apply(const Patch& patch, const ApplyOptions& options = {});
  Status Apply(std::span<const PatchOp> ops, const ApplyOptions& options = {});
  // Encodes every dirty node into `batch` (children before parents), marks
  // them clean and returns the new root digest. Objects of clean nodes are
  // not written again: they are already in the store.
  Result<Digest> Write(WriteBatch* batch);
  // Writes every node, dirty or not (for export/import into a new store).
  Result<Digest> WriteAll(WriteBatch* batch);

  // Savepoints (see the file comment).
  void Begin();
  void Rollback();
  void Release();
  bool in_savepoint() const { return !savepoints_.empty(); }

  // Nodes touched by the last Apply (created, edited, moved), for rule checks.
  const std::vector<NodeId>& touched() const { return touched_; }

  // ---- JSON
  // {"root": guid, "nodes": {guid: NodeToJson(node, false)}}.
  nlohmann::json ToJson() const;
  std::string ToJsonString() const;

 private:
  friend class NodeRef;
  friend class TreeLoadSink;
  struct Slot;
  struct Savepoint;
  struct SlotUndo;
  struct GuidUndo;
  class Editor;

  Tree();
  Slot& MutableSlot(NodeId id);  // saves the slot in the undo log first
  const Slot& slot(NodeId id) const;
  void SetGuid(std::string_view guid, NodeId id);  // kNoNode erases
  NodeId FindId(std::string_view guid) const;
  void MarkDirty(NodeId id);

  std::vector<Slot> slots_;
  std::unordered_map<GuidKey, NodeId, GuidKeyHash> index_;
  NodeId root_ = kNoNode;
  size_t live_ = 0;
  std::vector<Savepoint> savepoints_;
  // Two undo logs: slots and guid index entries are independent, so each
  // is simply unwound in reverse.
  std::vector<SlotUndo> slot_undo_;
  std::vector<GuidUndo> guid_undo_;
  uint32_t next_savepoint_id_ = 1;
  std::vector<NodeId> touched_;
};

// One node as JSON: {"guid","parent","base","attrs","pointers","registry",
// "children"}; with `effective`, also "meta" (meta type name or null),
// "effective_attrs" and "effective_pointers".
nlohmann::json NodeToJson(const NodeRef& node, bool effective);

}  // namespace kiln
