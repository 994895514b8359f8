#include "nn/library.h"

#include "core/guid.h"
#include "model/meta.h"

namespace kiln::nn {

std::string TorchFolderGuid() { return DeriveGuid(kTorchNamespace, "folder"); }

std::string TorchMetaGuid(std::string_view type) {
  return DeriveGuid(kTorchNamespace, "meta/" + std::string(type));
}

std::string TorchPortGuid(std::string_view type, std::string_view direction,
                          std::string_view port) {
  return DeriveGuid(TorchMetaGuid(type), std::string(direction) + "/" + std::string(port));
}

bool UsesTorchLibrary(const Tree& tree) { return tree.Find(TorchFolderGuid()).has_value(); }

Patch TorchLibraryPatch(const Tree& tree, const Catalog& catalog) {
  Patch p;
  p.message = "Use the PyTorch library (torch " + catalog.torch_version() + ")";
  auto missing = [&](const std::string& guid) { return !tree.Find(guid).has_value(); };
  if (missing(TorchFolderGuid())) {
    p.ops.push_back(PatchOp::Create(TorchFolderGuid(), MetaFolderGuid(), MetaGuid("Folder"),
                                    {{"name", "torch"}}));
  }
  auto meta = [&](const std::string& name, const std::string& base, Value::Map attrs,
                  PointerMap pointers) {
    std::string guid = TorchMetaGuid(name);
    if (!missing(guid)) return;
    attrs["name"] = name;
    p.ops.push_back(PatchOp::Create(guid, TorchFolderGuid(), base, std::move(attrs),
                                    std::move(pointers), {{"isMeta", true}}));
  };
  meta("Architecture", MetaGuid("FCO"), {}, {});
  meta("Layer", MetaGuid("FCO"), {}, {});
  for (const LayerSpec& s : catalog.types()) {
    PointerMap pointers;
    if (s.name == "Block") pointers["block"] = std::nullopt;
    Value::Map attrs{{"category", s.category}};
    if (s.name == "Block") attrs["count"] = int64_t{1};
    meta(s.name, TorchMetaGuid("Layer"), std::move(attrs), std::move(pointers));
    for (const char* direction : {"input", "output"}) {
      for (const PortSpec& port : direction[0] == 'i' ? s.inputs : s.outputs) {
        std::string guid = TorchPortGuid(s.name, direction, port.name);
        if (!missing(guid)) continue;
        Value::Map attrs{{"name", port.name}, {"direction", direction}, {"dataType", "tensor"}};
        if (port.many) attrs["many"] = true;
        if (port.optional) attrs["optional"] = true;
        p.ops.push_back(
            PatchOp::Create(guid, TorchMetaGuid(s.name), MetaGuid("Port"), std::move(attrs)));
      }
    }
  }
  return p;
}

}  // namespace kiln::nn
