#include "pipeline/architecture_code.h"

#include "nn/codegen.h"
#include "nn/from_tree.h"
#include "nn/shapes.h"

namespace kiln {

Result<std::optional<GeneratedCode>> ArchitectureCodeGenerator::Generate(const NodeRef& resource) {
  if (!resource.IsA("Architecture") || resource.IsMeta()) return std::optional<GeneratedCode>();
  auto doc = nn::DocumentFromTree(resource, nn::Catalog::Torch());
  if (!doc.ok()) {
    return FailedPrecondition("architecture " + resource.Describe() + ": " +
                              doc.status().message());
  }
  nn::Analysis analysis = nn::Analyze(*doc);
  auto code = nn::GenerateCode(*doc, analysis);
  if (!code.ok()) {
    return FailedPrecondition("architecture " + resource.Describe() +
                              " cannot become code: " + code.status().message());
  }
  std::string guid(resource.guid());
  std::string prefix;
  for (char c : guid) {
    if (c != '-') prefix += c;
    if (prefix.size() == 12) break;
  }
  GeneratedCode out;
  out.entry_file = "kiln_architecture_" + prefix + ".py";
  out.entry_class = doc->main;
  out.files[out.entry_file] = std::move(code).value();
  return std::optional<GeneratedCode>(std::move(out));
}

}  // namespace kiln
