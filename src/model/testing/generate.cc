#include "model/testing/generate.h"

#include <algorithm>
#include <functional>

#include "core/guid.h"
#include "model/meta.h"

namespace kiln {

GeneratedProject GenerateProjectPatch(const GenerateOptions& o) {
  GeneratedProject g;
  size_t counter = 0;
  auto guid = [&] { return DeriveGuid(o.seed, std::to_string(counter++)); };
  auto& ops = g.patch.ops;
  size_t total = NewProjectTree().size();

  std::string library = guid();
  ops.push_back(PatchOp::Create(library, RootGuid(), MetaGuid("Folder"), {{"name", "Library"}}));
  g.step_definition = guid();
  ops.push_back(PatchOp::Create(g.step_definition, library, MetaGuid("Operation"),
                                {{"name", "Step"}, {"code", "def step(x):\n    return x\n"}}));
  std::string def_in = guid(), def_out = guid();
  ops.push_back(PatchOp::Create(def_in, g.step_definition, MetaGuid("Port"),
                                {{"name", "in"}, {"direction", "input"}, {"dataType", "tensor"}}));
  ops.push_back(
      PatchOp::Create(def_out, g.step_definition, MetaGuid("Port"),
                      {{"name", "out"}, {"direction", "output"}, {"dataType", "tensor"}}));
  total += 4;

  size_t k = std::max<size_t>(o.ops_per_pipeline, 1);
  size_t per_pipeline = 1 + 3 * k + (k - 1);
  size_t fanout = std::max<size_t>(o.fanout, 2);
  size_t pipelines = o.nodes > total ? (o.nodes - total + per_pipeline - 1) / per_pipeline : 1;
  // Folder levels so that fanout^levels leaf slots hold every pipeline.
  size_t levels = 1, capacity = fanout;
  while (capacity < pipelines) {
    capacity *= fanout;
    ++levels;
  }
  std::vector<std::string> open(levels);  // the folder currently filling at each level
  std::vector<size_t> filled(levels, fanout);
  std::function<std::string(size_t)> folder_at = [&](size_t level) -> std::string {
    if (filled[level] < fanout) {
      ++filled[level];
      return open[level];
    }
    std::string parent = level == 0 ? RootGuid() : folder_at(level - 1);
    open[level] = guid();
    ops.push_back(PatchOp::Create(open[level], parent, MetaGuid("Folder"),
                                  {{"name", "folder " + std::to_string(counter)}}));
    ++total;
    filled[level] = 1;
    return open[level];
  };

  for (size_t p = 0; total < o.nodes || p == 0; ++p) {
    std::string folder = folder_at(levels - 1);
    std::string pipeline = guid();
    g.pipelines.push_back(pipeline);
    ops.push_back(PatchOp::Create(pipeline, folder, MetaGuid("Pipeline"),
                                  {{"name", "pipeline " + std::to_string(p)}}));
    std::string previous_out;
    for (size_t i = 0; i < k; ++i) {
      std::string op = guid();
      g.operations.push_back(op);
      ops.push_back(PatchOp::Create(
          op, pipeline, g.step_definition, {{"name", "step " + std::to_string(i)}}, {},
          {{"position", Value::Map{{"x", int64_t(100 * i)}, {"y", int64_t(40 * (i % 3))}}}}));
      if (!previous_out.empty()) {
        ops.push_back(PatchOp::Create(guid(), pipeline, MetaGuid("Connection"), {},
                                      {{"src", previous_out}, {"dst", DeriveGuid(op, def_in)}}));
        ++total;
      }
      previous_out = DeriveGuid(op, def_out);
    }
    total += 1 + 3 * k;
  }
  g.patch.message = "Generate a synthetic project";
  return g;
}

Result<Tree> GenerateProjectTree(const GenerateOptions& options, GeneratedProject* info) {
  Tree tree = NewProjectTree();
  GeneratedProject g = GenerateProjectPatch(options);
  KILN_RETURN_IF_ERROR(tree.Apply(g.patch));
  if (info) *info = std::move(g);
  return tree;
}

}  // namespace kiln
