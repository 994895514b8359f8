#include "pipeline/testing/pipeline_builder.h"

#include "core/guid.h"
#include "model/meta.h"

namespace kiln {

PipelineBuilder::PipelineBuilder(std::string pipeline_name) : pipeline_(GuidOf(pipeline_name)) {}

std::string PipelineBuilder::GuidOf(const std::string& name) {
  return DeriveGuid("kiln-test", name);
}

PipelineBuilder& PipelineBuilder::CreatePipeline() {
  ops_.push_back(
      PatchOp::Create(pipeline_, RootGuid(), MetaGuid("Pipeline"), {{"name", "pipeline"}}));
  return *this;
}

std::string PipelineBuilder::Definition(const std::string& name, const std::string& code,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& outputs, Value::Map attrs) {
  std::string guid = GuidOf("def/" + name);
  attrs["name"] = name;
  if (!code.empty()) attrs["code"] = code;
  ops_.push_back(PatchOp::Create(guid, RootGuid(), MetaGuid("Operation"), std::move(attrs)));
  auto port = [&](const std::string& p, const char* dir) {
    std::string pg = GuidOf("def/" + name + "/" + p);
    ops_.push_back(PatchOp::Create(pg, guid, MetaGuid("Port"), {{"name", p}, {"direction", dir}}));
    def_ports_[guid][p] = pg;
  };
  for (const auto& i : inputs) port(i, "input");
  for (const auto& o : outputs) port(o, "output");
  return guid;
}

std::string PipelineBuilder::InputDefinition(const std::string& name) {
  return Definition(name, "", {}, {"data"}, {{"kind", "input"}});
}

std::string PipelineBuilder::OutputDefinition(const std::string& name) {
  return Definition(name, "", {"data"}, {}, {{"kind", "output"}});
}

std::string PipelineBuilder::Instance(const std::string& def, const std::string& name,
                                      Value::Map attrs) {
  std::string guid = GuidOf("op/" + name);
  attrs["name"] = name;
  ops_.push_back(PatchOp::Create(guid, pipeline_, def, std::move(attrs)));
  instance_def_[guid] = def;
  return guid;
}

std::string PipelineBuilder::Port(const std::string& instance, const std::string& port) const {
  const std::string& def = instance_def_.at(instance);
  return DeriveGuid(instance, def_ports_.at(def).at(port));
}

PipelineBuilder& PipelineBuilder::Connect(const std::string& from, const std::string& output,
                                          const std::string& to, const std::string& input) {
  std::string guid = GuidOf(pipeline_ + "/conn/" + std::to_string(connections_++));
  ops_.push_back(PatchOp::Create(guid, pipeline_, MetaGuid("Connection"), {},
                                 {{"src", Port(from, output)}, {"dst", Port(to, input)}}));
  return *this;
}

Patch PipelineBuilder::Build() const {
  Patch p;
  p.message = "pipeline";
  p.ops = ops_;
  return p;
}

}  // namespace kiln
