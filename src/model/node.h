// Node objects: the stored form of one node of a project tree, and the
// object type tags shared by every model object.
//
// A node object is a one-byte tag 'N' followed by a canonical map (see
// docs/formats.md, "Node object"). It embeds each child's guid and digest, so
// the digest of the root covers the whole tree (a Merkle tree) and an edit
// rewrites only the objects on the path from the edited node to the root.
// Tree (tree.h) keeps nodes decoded in memory and uses these functions to
// read and write them.
//
// Ownership: NodeObject owns its strings and maps. Thread-safety: pure
// functions over values; safe from any thread.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/status.h"
#include "core/value.h"

namespace kiln {

// Pointer name → target guid; nullopt is an explicit "points nowhere" that
// overrides an inherited pointer.
using PointerMap = std::map<std::string, std::optional<std::string>, std::less<>>;

// The first byte of every model object says what it is.
enum class ObjectType : char {
  kNode = 'N',
  kCommit = 'C',
  kProject = 'P',
};

// A child as a node object records it.
struct ChildRef {
  std::string_view guid;
  Digest digest;
};

// A decoded node object.
struct NodeObject {
  std::string guid;
  std::optional<std::string> base;
  Value::Map attrs;
  PointerMap pointers;
  Value::Map registry;
  std::vector<std::pair<std::string, Digest>> children;
};

// The canonical bytes of a node object (tag included).
std::string EncodeNode(std::string_view guid, std::optional<std::string_view> base,
                       const Value::Map& attrs, const PointerMap& pointers,
                       const Value::Map& registry, std::span<const ChildRef> children);
std::string EncodeNode(const NodeObject& node);

// Decodes a node object; Corruption on anything that is not exactly the
// canonical encoding of a node.
Status DecodeNode(std::string_view bytes, NodeObject* out);

// Receives the fields of a node object in encoding order, so that a reader
// (Tree::Load) builds its own structures without an intermediate copy.
// A non-OK status from the sink stops decoding and is returned.
class NodeSink {
 public:
  virtual ~NodeSink() = default;
  virtual Status Attrs(Value::Map&& attrs) = 0;
  virtual Status Base(std::optional<std::string_view> base) = 0;
  virtual Status Children(uint64_t count) = 0;
  virtual Status Child(std::string_view guid, const Digest& digest) = 0;
  virtual Status Guid(std::string_view guid) = 0;
  virtual Status Pointers(PointerMap&& pointers) = 0;
  virtual Status Registry(Value::Map&& registry) = 0;
};
Status DecodeNode(std::string_view bytes, NodeSink& sink);

// Value codec pieces for fixed-schema objects that embed values.
void EncodeValueMap(const Value::Map& map, Encoder& e);
Status DecodeValueMap(Decoder& d, Value::Map* out);

// Checks the type tag of an object and returns the bytes after it.
Result<std::string_view> StripObjectType(std::string_view bytes, ObjectType type);

}  // namespace kiln
