#include "model/node.h"

namespace kiln {

void EncodeValueMap(const Value::Map& map, Encoder& e) {
  e.Map(map.size());
  for (const auto& [k, item] : map) {
    e.Key(k);
    EncodeValueTo(item, e);
  }
}

Status DecodeValueMap(Decoder& d, Value::Map* out) {
  KILN_ASSIGN_OR_RETURN(uint64_t n, d.Map());
  std::string_view prev;
  for (uint64_t i = 0; i < n; ++i) {
    KILN_ASSIGN_OR_RETURN(std::string_view key, d.Key(i ? &prev : nullptr));
    KILN_ASSIGN_OR_RETURN(Value item, DecodeValueFrom(d, 1));
    out->emplace_hint(out->end(), std::string(key), std::move(item));
    prev = key;
  }
  return Status::Ok();
}

Result<std::string_view> StripObjectType(std::string_view bytes, ObjectType type) {
  if (bytes.empty() || bytes[0] != char(type)) {
    return Corruption(std::string("object is not of type '") + char(type) + "'");
  }
  return bytes.substr(1);
}

std::string EncodeNode(std::string_view guid, std::optional<std::string_view> base,
                       const Value::Map& attrs, const PointerMap& pointers,
                       const Value::Map& registry, std::span<const ChildRef> children) {
  Encoder e;
  e.Raw(std::string_view("N", 1));
  // Keys in ascending order: attrs, base, children, guid, pointers, registry.
  e.Map(6);
  e.Key("attrs");
  EncodeValueMap(attrs, e);
  e.Key("base");
  if (base) {
    e.String(*base);
  } else {
    e.Null();
  }
  e.Key("children");
  e.List(children.size());
  for (const ChildRef& c : children) {
    e.List(2);
    e.String(c.guid);
    e.BytesItem(c.digest.Raw());
  }
  e.Key("guid");
  e.String(guid);
  e.Key("pointers");
  e.Map(pointers.size());
  for (const auto& [name, target] : pointers) {
    e.Key(name);
    if (target) {
      e.String(*target);
    } else {
      e.Null();
    }
  }
  e.Key("registry");
  EncodeValueMap(registry, e);
  return e.Take();
}

std::string EncodeNode(const NodeObject& node) {
  std::vector<ChildRef> children;
  children.reserve(node.children.size());
  for (const auto& [guid, digest] : node.children) children.push_back({guid, digest});
  return EncodeNode(node.guid,
                    node.base ? std::optional<std::string_view>(*node.base) : std::nullopt,
                    node.attrs, node.pointers, node.registry, children);
}

Status DecodeNode(std::string_view bytes, NodeSink& sink) {
  KILN_ASSIGN_OR_RETURN(std::string_view body, StripObjectType(bytes, ObjectType::kNode));
  Decoder d(body);
  KILN_ASSIGN_OR_RETURN(uint64_t fields, d.Map());
  if (fields != 6) return Corruption("node object must have 6 fields");
  KILN_RETURN_IF_ERROR(d.ExpectKey("attrs"));
  {
    Value::Map attrs;
    KILN_RETURN_IF_ERROR(DecodeValueMap(d, &attrs));
    KILN_RETURN_IF_ERROR(sink.Attrs(std::move(attrs)));
  }
  KILN_RETURN_IF_ERROR(d.ExpectKey("base"));
  KILN_ASSIGN_OR_RETURN(Tag tag, d.PeekTag());
  if (tag == Tag::kNull) {
    KILN_RETURN_IF_ERROR(d.Null());
    KILN_RETURN_IF_ERROR(sink.Base(std::nullopt));
  } else {
    KILN_ASSIGN_OR_RETURN(std::string_view base, d.String());
    KILN_RETURN_IF_ERROR(sink.Base(base));
  }
  KILN_RETURN_IF_ERROR(d.ExpectKey("children"));
  KILN_ASSIGN_OR_RETURN(uint64_t n, d.List());
  KILN_RETURN_IF_ERROR(sink.Children(n));
  for (uint64_t i = 0; i < n; ++i) {
    KILN_ASSIGN_OR_RETURN(uint64_t pair, d.List());
    if (pair != 2) return Corruption("node child entry must have 2 items");
    KILN_ASSIGN_OR_RETURN(std::string_view guid, d.String());
    KILN_ASSIGN_OR_RETURN(std::string_view raw, d.BytesItem());
    KILN_ASSIGN_OR_RETURN(Digest digest, Digest::FromBytes(raw));
    KILN_RETURN_IF_ERROR(sink.Child(guid, digest));
  }
  KILN_RETURN_IF_ERROR(d.ExpectKey("guid"));
  KILN_ASSIGN_OR_RETURN(std::string_view guid, d.String());
  KILN_RETURN_IF_ERROR(sink.Guid(guid));
  KILN_RETURN_IF_ERROR(d.ExpectKey("pointers"));
  KILN_ASSIGN_OR_RETURN(uint64_t np, d.Map());
  PointerMap pointers;
  std::string_view prev;
  for (uint64_t i = 0; i < np; ++i) {
    KILN_ASSIGN_OR_RETURN(std::string_view name, d.Key(i ? &prev : nullptr));
    KILN_ASSIGN_OR_RETURN(Tag t, d.PeekTag());
    std::optional<std::string> target;
    if (t == Tag::kNull) {
      KILN_RETURN_IF_ERROR(d.Null());
    } else {
      KILN_ASSIGN_OR_RETURN(std::string_view s, d.String());
      target.emplace(s);
    }
    pointers.emplace_hint(pointers.end(), std::string(name), std::move(target));
    prev = name;
  }
  KILN_RETURN_IF_ERROR(sink.Pointers(std::move(pointers)));
  KILN_RETURN_IF_ERROR(d.ExpectKey("registry"));
  Value::Map registry;
  KILN_RETURN_IF_ERROR(DecodeValueMap(d, &registry));
  KILN_RETURN_IF_ERROR(d.ExpectEnd());
  return sink.Registry(std::move(registry));
}

Status DecodeNode(std::string_view bytes, NodeObject* out) {
  struct Sink : NodeSink {
    NodeObject* o;
    Status Attrs(Value::Map&& m) override {
      o->attrs = std::move(m);
      return Status::Ok();
    }
    Status Base(std::optional<std::string_view> b) override {
      if (b) o->base.emplace(*b);
      return Status::Ok();
    }
    Status Children(uint64_t n) override {
      o->children.reserve(n);
      return Status::Ok();
    }
    Status Child(std::string_view g, const Digest& d) override {
      o->children.emplace_back(std::string(g), d);
      return Status::Ok();
    }
    Status Guid(std::string_view g) override {
      o->guid.assign(g);
      return Status::Ok();
    }
    Status Pointers(PointerMap&& p) override {
      o->pointers = std::move(p);
      return Status::Ok();
    }
    Status Registry(Value::Map&& r) override {
      o->registry = std::move(r);
      return Status::Ok();
    }
  } sink;
  sink.o = out;
  return DecodeNode(bytes, sink);
}

}  // namespace kiln
