#include "model/patch.h"

#include <nlohmann/json.hpp>

#include "core/guid.h"

namespace kiln {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxNameBytes = 256;
constexpr uint32_t kMaxIndex = 1u << 30;

struct OpSpec {
  OpKind kind;
  const char* name;
  // Fields the op accepts besides "op"; those before the '|' are required.
  std::vector<const char*> required;
  std::vector<const char*> optional;
};

const std::vector<OpSpec>& Specs() {
  static const std::vector<OpSpec> specs = {
      {OpKind::kCreate,
       "create",
       {"guid", "parent", "base"},
       {"attrs", "pointers", "registry", "index"}},
      {OpKind::kSetAttr, "set_attr", {"node", "name", "value"}, {}},
      {OpKind::kDelAttr, "del_attr", {"node", "name"}, {}},
      {OpKind::kSetPointer, "set_pointer", {"node", "name", "target"}, {}},
      {OpKind::kDelPointer, "del_pointer", {"node", "name"}, {}},
      {OpKind::kSetRegistry, "set_registry", {"node", "name", "value"}, {}},
      {OpKind::kDelRegistry, "del_registry", {"node", "name"}, {}},
      {OpKind::kMove, "move", {"node", "parent"}, {"index"}},
      {OpKind::kCopy, "copy", {"node", "parent", "guid"}, {"index"}},
      {OpKind::kDelete, "delete", {"node"}, {}},
  };
  return specs;
}

// Builds error messages that name the op and the field.
class OpContext {
 public:
  OpContext(size_t index, const char* op) : index_(index), op_(op) {}
  Status Error(std::string_view field, std::string_view what) const {
    std::string m = "op " + std::to_string(index_);
    if (op_) m += std::string(" (") + op_ + ")";
    if (!field.empty()) m += ": field '" + std::string(field) + "'";
    m += ": ";
    m += what;
    return InvalidArgument(std::move(m));
  }

 private:
  size_t index_;
  const char* op_;
};

Result<std::string> GuidField(const json& j, const char* field, const OpContext& ctx) {
  const json& v = j.at(field);
  if (!v.is_string()) return ctx.Error(field, "expected a guid string");
  const std::string& s = v.get_ref<const std::string&>();
  if (!IsGuid(s)) return ctx.Error(field, "not a guid (lowercase 8-4-4-4-12 hex)");
  return s;
}

Result<std::optional<std::string>> NullableGuidField(const json& j, const char* field,
                                                     const OpContext& ctx) {
  if (j.at(field).is_null()) return std::optional<std::string>();
  KILN_ASSIGN_OR_RETURN(std::string g, GuidField(j, field, ctx));
  return std::optional<std::string>(std::move(g));
}

Status CheckName(std::string_view name, const char* field, const OpContext& ctx) {
  if (name.empty()) return ctx.Error(field, "must not be empty");
  if (name.size() > kMaxNameBytes) return ctx.Error(field, "longer than 256 bytes");
  return Status::Ok();
}

Result<Value::Map> MapField(const json& j, const char* field, const OpContext& ctx) {
  const json& v = j.at(field);
  if (!v.is_object()) return ctx.Error(field, "expected an object");
  Value::Map map;
  for (const auto& [k, item] : v.items()) {
    KILN_RETURN_IF_ERROR(CheckName(k, field, ctx));
    Result<Value> value = Value::FromJson(item);
    if (!value.ok()) return ctx.Error(field, "entry '" + k + "': " + value.status().message());
    map.emplace(k, std::move(value).value());
  }
  return map;
}

Result<uint32_t> IndexField(const json& j, const OpContext& ctx) {
  const json& v = j.at("index");
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u <= kMaxIndex) return uint32_t(u);
  } else if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i >= 0 && i <= int64_t(kMaxIndex)) return uint32_t(i);
  }
  return ctx.Error("index", "expected an integer from 0 to 2^30");
}

const char* KindName(OpKind kind) {
  for (const OpSpec& s : Specs()) {
    if (s.kind == kind) return s.name;
  }
  return "?";
}

}  // namespace

const char* OpName(OpKind kind) { return KindName(kind); }

PatchOp PatchOp::Create(std::string guid, std::string parent, std::optional<std::string> base,
                        Value::Map attrs, PointerMap pointers, Value::Map registry,
                        std::optional<uint32_t> index) {
  PatchOp op;
  op.kind = OpKind::kCreate;
  op.guid = std::move(guid);
  op.parent = std::move(parent);
  op.base = std::move(base);
  op.attrs = std::move(attrs);
  op.pointers = std::move(pointers);
  op.registry = std::move(registry);
  op.index = index;
  return op;
}

PatchOp PatchOp::SetAttr(std::string node, std::string name, Value value) {
  PatchOp op;
  op.kind = OpKind::kSetAttr;
  op.node = std::move(node);
  op.name = std::move(name);
  op.value = std::move(value);
  return op;
}

PatchOp PatchOp::DelAttr(std::string node, std::string name) {
  PatchOp op;
  op.kind = OpKind::kDelAttr;
  op.node = std::move(node);
  op.name = std::move(name);
  return op;
}

PatchOp PatchOp::SetPointer(std::string node, std::string name, std::optional<std::string> target) {
  PatchOp op;
  op.kind = OpKind::kSetPointer;
  op.node = std::move(node);
  op.name = std::move(name);
  op.target = std::move(target);
  return op;
}

PatchOp PatchOp::DelPointer(std::string node, std::string name) {
  PatchOp op = DelAttr(std::move(node), std::move(name));
  op.kind = OpKind::kDelPointer;
  return op;
}

PatchOp PatchOp::SetRegistry(std::string node, std::string name, Value value) {
  PatchOp op = SetAttr(std::move(node), std::move(name), std::move(value));
  op.kind = OpKind::kSetRegistry;
  return op;
}

PatchOp PatchOp::DelRegistry(std::string node, std::string name) {
  PatchOp op = DelAttr(std::move(node), std::move(name));
  op.kind = OpKind::kDelRegistry;
  return op;
}

PatchOp PatchOp::Move(std::string node, std::string parent, std::optional<uint32_t> index) {
  PatchOp op;
  op.kind = OpKind::kMove;
  op.node = std::move(node);
  op.parent = std::move(parent);
  op.index = index;
  return op;
}

PatchOp PatchOp::Copy(std::string node, std::string parent, std::string guid,
                      std::optional<uint32_t> index) {
  PatchOp op = Move(std::move(node), std::move(parent), index);
  op.kind = OpKind::kCopy;
  op.guid = std::move(guid);
  return op;
}

PatchOp PatchOp::Delete(std::string node) {
  PatchOp op;
  op.kind = OpKind::kDelete;
  op.node = std::move(node);
  return op;
}

Result<PatchOp> PatchOpFromJson(const json& j, size_t index) {
  if (!j.is_object()) return OpContext(index, nullptr).Error("", "expected an object");
  auto op_it = j.find("op");
  if (op_it == j.end()) return OpContext(index, nullptr).Error("op", "missing");
  if (!op_it->is_string()) return OpContext(index, nullptr).Error("op", "expected a string");
  const std::string& op_name = op_it->get_ref<const std::string&>();
  const OpSpec* spec = nullptr;
  for (const OpSpec& s : Specs()) {
    if (op_name == s.name) spec = &s;
  }
  if (!spec) {
    std::string shown = op_name.substr(0, 64);
    return OpContext(index, nullptr).Error("op", "unknown op '" + shown + "'");
  }
  OpContext ctx(index, spec->name);
  for (const char* field : spec->required) {
    if (!j.contains(field)) return ctx.Error(field, "missing");
  }
  for (const auto& [key, item] : j.items()) {
    (void)item;
    if (key == "op") continue;
    bool known = false;
    for (const char* f : spec->required) known |= key == f;
    for (const char* f : spec->optional) known |= key == f;
    if (!known) return ctx.Error(key.substr(0, 64), "unknown field");
  }

  PatchOp op;
  op.kind = spec->kind;
  if (j.contains("node")) {
    KILN_ASSIGN_OR_RETURN(op.node, GuidField(j, "node", ctx));
  }
  if (j.contains("guid")) {
    KILN_ASSIGN_OR_RETURN(op.guid, GuidField(j, "guid", ctx));
  }
  if (j.contains("parent")) {
    KILN_ASSIGN_OR_RETURN(op.parent, GuidField(j, "parent", ctx));
  }
  if (j.contains("base")) {
    KILN_ASSIGN_OR_RETURN(op.base, NullableGuidField(j, "base", ctx));
  }
  if (j.contains("target")) {
    KILN_ASSIGN_OR_RETURN(op.target, NullableGuidField(j, "target", ctx));
  }
  if (j.contains("name")) {
    const json& v = j.at("name");
    if (!v.is_string()) return ctx.Error("name", "expected a string");
    op.name = v.get<std::string>();
    KILN_RETURN_IF_ERROR(CheckName(op.name, "name", ctx));
  }
  if (j.contains("value")) {
    Result<Value> value = Value::FromJson(j.at("value"));
    if (!value.ok()) return ctx.Error("value", value.status().message());
    op.value = std::move(value).value();
  }
  if (j.contains("index")) {
    KILN_ASSIGN_OR_RETURN(op.index, IndexField(j, ctx));
  }
  if (j.contains("attrs")) {
    KILN_ASSIGN_OR_RETURN(op.attrs, MapField(j, "attrs", ctx));
  }
  if (j.contains("registry")) {
    KILN_ASSIGN_OR_RETURN(op.registry, MapField(j, "registry", ctx));
  }
  if (j.contains("pointers")) {
    const json& v = j.at("pointers");
    if (!v.is_object()) return ctx.Error("pointers", "expected an object");
    for (const auto& [k, item] : v.items()) {
      KILN_RETURN_IF_ERROR(CheckName(k, "pointers", ctx));
      if (item.is_null()) {
        op.pointers.emplace(k, std::nullopt);
      } else if (item.is_string() && IsGuid(item.get_ref<const std::string&>())) {
        op.pointers.emplace(k, item.get<std::string>());
      } else {
        return ctx.Error("pointers", "entry '" + k + "': expected a guid or null");
      }
    }
  }
  return op;
}

Result<Patch> PatchFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("patch: expected a JSON object");
  Patch patch;
  for (const auto& [key, item] : j.items()) {
    if (key == "base") {
      if (item.is_null()) continue;
      if (!item.is_string())
        return InvalidArgument("patch: field 'base': expected a commit digest");
      Result<Digest> d = Digest::FromHex(item.get_ref<const std::string&>());
      if (!d.ok()) return InvalidArgument("patch: field 'base': not a 64-digit hex digest");
      patch.base = *d;
    } else if (key == "message") {
      if (!item.is_string()) return InvalidArgument("patch: field 'message': expected a string");
      patch.message = item.get<std::string>();
    } else if (key == "ops") {
      if (!item.is_array()) return InvalidArgument("patch: field 'ops': expected an array");
      patch.ops.reserve(item.size());
      for (size_t i = 0; i < item.size(); ++i) {
        KILN_ASSIGN_OR_RETURN(PatchOp op, PatchOpFromJson(item[i], i));
        patch.ops.push_back(std::move(op));
      }
    } else {
      return InvalidArgument("patch: unknown field '" + key.substr(0, 64) + "'");
    }
  }
  if (!j.contains("ops")) return InvalidArgument("patch: field 'ops': missing");
  return patch;
}

Result<Patch> ParsePatchJson(std::string_view text) {
  // A parse error yields a discarded value, not an exception. The catch is
  // a last guard of the boundary: nothing below is expected to throw.
  try {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgument("patch: not valid JSON");
    return PatchFromJson(j);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("patch: ") + e.what());
  }
}

json PatchOpToJson(const PatchOp& op) {
  json j = json::object();
  j["op"] = OpName(op.kind);
  auto values = [](const Value::Map& m) {
    json o = json::object();
    for (const auto& [k, v] : m) o[k] = v.ToJson();
    return o;
  };
  switch (op.kind) {
    case OpKind::kCreate: {
      j["guid"] = op.guid;
      j["parent"] = op.parent;
      j["base"] = op.base ? json(*op.base) : json(nullptr);
      if (!op.attrs.empty()) j["attrs"] = values(op.attrs);
      if (!op.pointers.empty()) {
        json p = json::object();
        for (const auto& [k, t] : op.pointers) p[k] = t ? json(*t) : json(nullptr);
        j["pointers"] = std::move(p);
      }
      if (!op.registry.empty()) j["registry"] = values(op.registry);
      break;
    }
    case OpKind::kSetAttr:
    case OpKind::kSetRegistry:
      j["node"] = op.node;
      j["name"] = op.name;
      j["value"] = op.value.ToJson();
      break;
    case OpKind::kSetPointer:
      j["node"] = op.node;
      j["name"] = op.name;
      j["target"] = op.target ? json(*op.target) : json(nullptr);
      break;
    case OpKind::kDelAttr:
    case OpKind::kDelPointer:
    case OpKind::kDelRegistry:
      j["node"] = op.node;
      j["name"] = op.name;
      break;
    case OpKind::kMove:
      j["node"] = op.node;
      j["parent"] = op.parent;
      break;
    case OpKind::kCopy:
      j["node"] = op.node;
      j["parent"] = op.parent;
      j["guid"] = op.guid;
      break;
    case OpKind::kDelete:
      j["node"] = op.node;
      break;
  }
  if (op.index &&
      (op.kind == OpKind::kCreate || op.kind == OpKind::kMove || op.kind == OpKind::kCopy)) {
    j["index"] = *op.index;
  }
  return j;
}

json PatchToJsonValue(const Patch& patch) {
  json j = json::object();
  if (patch.base) j["base"] = patch.base->Hex();
  if (!patch.message.empty()) j["message"] = patch.message;
  json ops = json::array();
  for (const PatchOp& op : patch.ops) ops.push_back(PatchOpToJson(op));
  j["ops"] = std::move(ops);
  return j;
}

std::string PatchToJson(const Patch& patch) {
  // Replace rather than throw on strings that are not UTF-8 (values can hold any bytes).
  return PatchToJsonValue(patch).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace kiln
