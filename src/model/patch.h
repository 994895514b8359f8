// Patch: an ordered list of edit operations on a project tree, as
// docs/patches.md describes, with its JSON form.
//
// A Patch is plain data; Tree::Apply (tree.h) gives it meaning and applies it
// atomically. ParsePatchJson is the boundary for untrusted input (REST,
// WebSocket, CLI, fuzzers): it never throws and never crashes; every problem
// is an InvalidArgument naming the op index and the field.
//
// Ownership: value types. Thread-safety: values; the functions are reentrant.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/status.h"
#include "core/value.h"
#include "model/node.h"

namespace kiln {

enum class OpKind {
  kCreate,
  kSetAttr,
  kDelAttr,
  kSetPointer,
  kDelPointer,
  kSetRegistry,
  kDelRegistry,
  kMove,
  kCopy,
  kDelete,
};

// "create", "set_attr", ...
const char* OpName(OpKind kind);

// One operation. Which fields matter depends on `kind` (docs/patches.md):
//   create:       guid, parent, base, attrs, pointers, registry, index
//   set_attr:     node, name, value        del_attr:     node, name
//   set_pointer:  node, name, target       del_pointer:  node, name
//   set_registry: node, name, value        del_registry: node, name
//   move:         node, parent, index      copy:         node, parent, guid, index
//   delete:       node
struct PatchOp {
  OpKind kind = OpKind::kSetAttr;
  std::string node;
  std::string guid;
  std::string parent;
  std::optional<std::string> base;
  std::string name;
  Value value;
  std::optional<std::string> target;  // set_pointer; nullopt is JSON null
  std::optional<uint32_t> index;
  Value::Map attrs;
  PointerMap pointers;
  Value::Map registry;

  bool operator==(const PatchOp&) const = default;

  // Convenience constructors, mostly for code that builds patches.
  static PatchOp Create(std::string guid, std::string parent, std::optional<std::string> base,
                        Value::Map attrs = {}, PointerMap pointers = {}, Value::Map registry = {},
                        std::optional<uint32_t> index = {});
  static PatchOp SetAttr(std::string node, std::string name, Value value);
  static PatchOp DelAttr(std::string node, std::string name);
  static PatchOp SetPointer(std::string node, std::string name, std::optional<std::string> target);
  static PatchOp DelPointer(std::string node, std::string name);
  static PatchOp SetRegistry(std::string node, std::string name, Value value);
  static PatchOp DelRegistry(std::string node, std::string name);
  static PatchOp Move(std::string node, std::string parent, std::optional<uint32_t> index = {});
  static PatchOp Copy(std::string node, std::string parent, std::string guid,
                      std::optional<uint32_t> index = {});
  static PatchOp Delete(std::string node);
};

struct Patch {
  std::optional<Digest> base;  // the commit the author saw
  std::string message;
  std::vector<PatchOp> ops;

  bool operator==(const Patch&) const = default;
};

// Parses the JSON of docs/patches.md. Unknown fields and ops are refused.
Result<Patch> ParsePatchJson(std::string_view text);
Result<Patch> PatchFromJson(const nlohmann::json& j);
Result<PatchOp> PatchOpFromJson(const nlohmann::json& j, size_t index);

std::string PatchToJson(const Patch& patch);
nlohmann::json PatchToJsonValue(const Patch& patch);
nlohmann::json PatchOpToJson(const PatchOp& op);

}  // namespace kiln
