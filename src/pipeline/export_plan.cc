#include "pipeline/export_plan.h"

namespace kiln {

nlohmann::json ExportPlanJson(const Plan& plan, const ExportPlanOptions& options) {
  using json = nlohmann::json;
  json jobs = json::array(), files = json::object();
  std::string requirements;
  for (const PlanJob& job : plan.jobs) {
    json j = {{"node", job.node},
              {"name", job.name},
              {"kind", OperationKindName(job.kind)},
              {"definition", job.definition},
              {"inputs", job.inputs},
              {"outputs", job.outputs}};
    if (job.kind == OperationKind::kOperation) {
      j["code"] = job.code;
      j["attributes"] = Value(job.attributes).ToJson();
      json resources = json::object();
      for (const PlanResource& r : job.resources) {
        if (!r.code) continue;
        for (const auto& [path, content] : r.code->files) files[path] = content;
        if (!r.code->entry_file.empty()) {
          resources[r.pointer] = {{"file", r.code->entry_file}, {"class", r.code->entry_class}};
        }
      }
      j["resources"] = resources;
      if (!job.requirements.empty()) requirements = job.requirements;
    }
    if (job.kind == OperationKind::kInput && job.artifact) {
      json artifact = {{"digest", job.artifact->Hex()}, {"serializer", job.serializer}};
      if (auto it = options.inputs.find(*job.artifact); it != options.inputs.end()) {
        artifact["size"] = it->second.size;
        artifact["path"] = it->second.path.empty() ? json(nullptr) : json(it->second.path);
      }
      j["artifact"] = artifact;
    }
    jobs.push_back(std::move(j));
  }
  json edges = json::array();
  for (const PlanEdge& e : plan.edges) {
    edges.push_back({{"from", e.from}, {"output", e.output}, {"to", e.to}, {"input", e.input}});
  }
  return {{"format", "kiln-export-plan/1"},
          {"project", options.project},
          {"commit", options.commit.Hex()},
          {"kiln_version", options.kiln_version},
          {"pipeline", {{"guid", plan.pipeline}, {"name", plan.name}}},
          {"server", options.server},
          {"inputs_mode", options.inputs_mode},
          {"jobs", jobs},
          {"edges", edges},
          {"files", files},
          {"requirements", requirements}};
}

}  // namespace kiln
