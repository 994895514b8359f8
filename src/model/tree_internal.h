// Internal to the model library: the slot layout of Tree and its undo log.
// Shared by tree.cc (reading, loading, writing) and edit.cc (patch ops).
//
// Thread-safety: as Tree.
#pragma once

#include "model/tree.h"

namespace kiln {

struct Tree::Slot {
  GuidText guid;
  NodeId parent = kNoNode;
  NodeId base = kNoNode;
  Value::Map attrs;
  PointerMap pointers;
  Value::Map registry;
  std::vector<NodeId> children;
  std::vector<NodeId> instances;  // nodes whose base is this one
  std::vector<NodeId> referrers;  // one entry per own pointer of another node aimed here
  Digest digest;                  // of the stored object; valid when !dirty
  bool alive = true;
  bool dirty = true;
  uint32_t mark = 0;  // id of the savepoint that last saved this slot
};

struct Tree::Savepoint {
  uint32_t id;
  size_t slot_undo_size;
  size_t guid_undo_size;
  size_t slot_count;
  size_t live;
};

struct Tree::SlotUndo {
  NodeId id;
  Slot old;
};

struct Tree::GuidUndo {
  GuidKey key;
  NodeId old;  // kNoNode: the guid was absent
};

}  // namespace kiln
