#include "nn/from_tree.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace kiln::nn {

using json = nlohmann::json;

namespace {

std::string ClassName(const std::string& name) {
  std::string s;
  for (char c : name) s += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (s.empty() || isdigit(static_cast<unsigned char>(s[0]))) s = "Net" + s;
  if (!IsIdentifier(s)) s += "_";
  return s;
}

class Reader {
 public:
  explicit Reader(const Catalog& catalog) : catalog_(catalog) {}

  // The class name given to the architecture node (unique in the document).
  Result<std::string> Add(const NodeRef& arch) {
    std::string guid(arch.guid());
    if (auto it = names_.find(guid); it != names_.end()) return it->second;
    if (!arch.IsA("Architecture")) {
      return InvalidArgument(arch.Describe() + " is not an Architecture");
    }
    std::string base = ClassName(arch.Name().empty() ? "Architecture" : arch.Name());
    std::string name = base;
    for (int i = 2; taken_.count(name); ++i) name = base + "_" + std::to_string(i);
    taken_.insert(name);
    names_[guid] = name;
    json nodes = json::array(), edges = json::array();
    for (const NodeRef& child : arch.children()) {
      if (child.IsMeta()) continue;
      if (child.IsA("Connection")) {
        auto src = child.PointerTarget("src");
        auto dst = child.PointerTarget("dst");
        if (!src || !dst || !src->parent() || !dst->parent()) continue;
        edges.push_back({std::string(src->parent()->guid()) + "." + src->Name(),
                         std::string(dst->parent()->guid()) + "." + dst->Name()});
        continue;
      }
      if (!child.IsA("Layer")) continue;
      auto meta = child.MetaType();
      std::string type = meta ? meta->Name() : "";
      const LayerSpec* spec = catalog_.Find(type);
      if (!spec) {
        return InvalidArgument(child.Describe() + " has the layer type '" + type +
                               "', which this Kiln's catalog lacks");
      }
      json params = json::object();
      for (const auto& [k, v] : child.EffectiveAttrs()) {
        if (k == "name" || k == "category" || !spec->Param(k) || v.is_null()) continue;
        params[k] = v.ToJson();
      }
      if (type == "Block") {
        auto target = child.PointerTarget("block");
        if (!target) {
          return InvalidArgument("Block " + child.Describe() + " uses no architecture");
        }
        KILN_ASSIGN_OR_RETURN(std::string block, Add(*target));
        params["block"] = block;
      }
      json node = {{"id", std::string(child.guid())}, {"type", type}, {"params", params}};
      std::string name = child.Name();
      if (!name.empty()) node["name"] = name;
      nodes.push_back(std::move(node));
    }
    architectures_[name] = {{"nodes", std::move(nodes)}, {"edges", std::move(edges)}};
    return name;
  }

  json Document(const std::string& main) const {
    return {{"main", main}, {"architectures", architectures_}};
  }

 private:
  const Catalog& catalog_;
  std::map<std::string, std::string> names_;  // guid → class name
  std::set<std::string> taken_;
  json architectures_ = json::object();
};

}  // namespace

Result<Document> DocumentFromTree(const NodeRef& architecture, const Catalog& catalog) {
  Reader reader(catalog);
  KILN_ASSIGN_OR_RETURN(std::string main, reader.Add(architecture));
  return ParseDocumentJson(reader.Document(main), catalog);
}

}  // namespace kiln::nn
