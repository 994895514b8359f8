// PipelineBuilder: builds the patch that creates operation definitions, a
// pipeline, its operation instances and connections — for tests and
// examples. Guids are derived from names, so a test can address any node.
//
// Ownership: a value type. Thread-safety: none.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/patch.h"

namespace kiln {

class PipelineBuilder {
 public:
  explicit PipelineBuilder(std::string pipeline_name = "pipeline");

  const std::string& pipeline() const { return pipeline_; }
  // Creates the pipeline node itself (skip it to add to an existing one).
  PipelineBuilder& CreatePipeline();
  // An Operation definition under the root with `code` and ports.
  std::string Definition(const std::string& name, const std::string& code,
                         const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, Value::Map attrs = {});
  // "kind": "input" / "output" definitions (one output "data" / one input "data").
  std::string InputDefinition(const std::string& name = "Input");
  std::string OutputDefinition(const std::string& name = "Output");
  // An instance of definition `def` in the pipeline, with own attributes.
  std::string Instance(const std::string& def, const std::string& name, Value::Map attrs = {});
  PipelineBuilder& Connect(const std::string& from, const std::string& output,
                           const std::string& to, const std::string& input);

  // The guid of an instance's port.
  std::string Port(const std::string& instance, const std::string& port) const;
  static std::string GuidOf(const std::string& name);

  Patch Build() const;
  const std::vector<PatchOp>& ops() const { return ops_; }

 private:
  std::string pipeline_;
  std::map<std::string, std::map<std::string, std::string>> def_ports_;  // def → port → guid
  std::map<std::string, std::string> instance_def_;
  std::vector<PatchOp> ops_;
  int connections_ = 0;
};

}  // namespace kiln
