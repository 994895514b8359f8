#include "nn/catalog.h"

#include <nlohmann/json.hpp>

namespace kiln::nn {

using json = nlohmann::json;

const ParamSpec* LayerSpec::Param(std::string_view n) const {
  for (const ParamSpec& p : params) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

int LayerSpec::InputIndex(std::string_view port) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].name == port) return int(i);
  }
  return -1;
}

int LayerSpec::OutputIndex(std::string_view port) const {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].name == port) return int(i);
  }
  return -1;
}

namespace {

ParamSpec MakeParam(std::string name, std::string type, std::optional<std::string> def,
                    std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = std::move(type);
  p.required = !def.has_value();
  p.default_json = std::move(def);
  p.doc = std::move(doc);
  return p;
}

LayerSpec Builtin(std::string name, std::string category, std::string doc,
                  std::vector<ParamSpec> params, std::vector<PortSpec> inputs,
                  std::vector<PortSpec> outputs) {
  LayerSpec s;
  s.name = std::move(name);
  s.category = std::move(category);
  s.doc = std::move(doc);
  s.builtin = true;
  s.params = std::move(params);
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  return s;
}

// Kiln's own node types (docs/nn.md, the table of built-in types).
std::vector<LayerSpec> BuiltinTypes() {
  const std::string dims = R"({"tuple":{"union":["int","str"]}})";
  const std::string ints = R"({"tuple":"int"})";
  PortSpec in{"input"}, out{"output"}, many{"inputs", false, true};
  return {
      Builtin("Input", "structure",
              "An input of the architecture: a forward argument with a declared shape; "
              "dimensions are numbers or names such as N.",
              {MakeParam("shape", dims, std::nullopt,
                         "The shape, e.g. [N, 5, 64, 64]; names are symbolic dimensions.")},
              {}, {out}),
      Builtin("Output", "structure",
              "An output of the architecture: what forward returns (several: a tuple, in order).",
              {}, {in}, {}),
      Builtin("Block", "structure",
              "Another architecture used as a layer, by reference: editing it changes every use.",
              {MakeParam("block", "\"str\"", std::nullopt, "The architecture used."),
               MakeParam("count", "\"int\"", "1",
                         "How many times the block is repeated, each output feeding the next "
                         "copy's input.")},
              {}, {}),
      Builtin("Custom", "structure",
              "A layer written in Python: a class deriving from nn.Module; its shapes come "
              "from running it in torch.",
              {MakeParam("code", "\"str\"", std::nullopt, "The Python source of the class."),
               MakeParam("class", "\"str\"", std::nullopt, "The class to instantiate.")},
              {{"input", false, true}}, {out}),
      Builtin("Concatenate", "merge", "Concatenates tensors along a dimension (torch.cat).",
              {MakeParam("dim", "\"int\"", "1", "The dimension to join along.")}, {many}, {out}),
      Builtin("Stack", "merge", "Stacks tensors of equal shape along a new dimension.",
              {MakeParam("dim", "\"int\"", "0", "Where the new dimension goes.")}, {many}, {out}),
      Builtin("Add", "merge", "Adds tensors element-wise (shapes broadcast).", {}, {many}, {out}),
      Builtin("Multiply", "merge", "Multiplies tensors element-wise (shapes broadcast).", {},
              {many}, {out}),
      Builtin("Reshape", "shape",
              "Reshapes a tensor (torch.reshape); one dimension may be -1 and is inferred.",
              {MakeParam("shape", ints, std::nullopt, "The new shape, batch dimension included.")},
              {in}, {out}),
      Builtin("Permute", "shape", "Reorders the dimensions of a tensor.",
              {MakeParam("dims", ints, std::nullopt, "The new order of the dimensions.")}, {in},
              {out}),
      Builtin("Split", "shape", "Splits a tensor into a tuple of pieces (torch.split).",
              {MakeParam("split_size_or_sections", R"({"union":["int",{"tuple":"int"}]})",
                         std::nullopt, "The size of each piece, or a list of sizes."),
               MakeParam("dim", "\"int\"", "0", "The dimension to split.")},
              {in}, {{"outputs"}}),
      Builtin("Chunk", "shape", "Splits a tensor into a tuple of equal chunks (torch.chunk).",
              {MakeParam("chunks", "\"int\"", std::nullopt, "How many chunks."),
               MakeParam("dim", "\"int\"", "0", "The dimension to split.")},
              {in}, {{"outputs"}}),
      Builtin("Select", "shape", "Takes one element of a tuple (Split's pieces).",
              {MakeParam("index", "\"int\"", std::nullopt, "The element's position.")}, {{"input"}},
              {out}),
  };
}

Status ParseLayer(const json& j, LayerSpec* s) {
  s->name = j.at("name").get<std::string>();
  s->category = j.value("category", "other");
  s->doc = j.value("doc", "");
  for (const json& p : j.value("params", json::array())) {
    ParamSpec ps;
    ps.name = p.at("name").get<std::string>();
    ps.type = p.contains("type") ? p["type"].dump() : "\"any\"";
    ps.required = p.value("required", false);
    if (p.contains("default")) ps.default_json = p["default"].dump();
    ps.doc = p.value("doc", "");
    s->params.push_back(std::move(ps));
  }
  for (const char* key : {"inputs", "outputs"}) {
    for (const json& p : j.value(key, json::array())) {
      PortSpec port{p.at("name").get<std::string>(), p.value("optional", false),
                    p.value("many", false)};
      (key[0] == 'i' ? s->inputs : s->outputs).push_back(std::move(port));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Catalog> Catalog::Parse(std::string_view json_text) {
  Catalog c;
  try {
    json doc = json::parse(json_text);
    c.torch_version_ = doc.value("torch", "");
    for (const json& l : doc.at("layers")) {
      LayerSpec s;
      KILN_RETURN_IF_ERROR(ParseLayer(l, &s));
      c.types_.push_back(std::move(s));
    }
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("the layer catalog is not valid: ") + e.what());
  }
  for (LayerSpec& b : BuiltinTypes()) c.types_.push_back(std::move(b));
  // Defaults parsed once: the rules read them for every node.
  for (LayerSpec& s : c.types_) {
    for (ParamSpec& p : s.params) {
      if (!p.default_json) continue;
      auto v = Value::FromJson(json::parse(*p.default_json));
      if (v.ok()) p.default_value = std::move(v).value();
    }
  }
  for (size_t i = 0; i < c.types_.size(); ++i) {
    if (!c.index_.emplace(c.types_[i].name, i).second) {
      return InvalidArgument("the layer catalog lists '" + c.types_[i].name + "' twice");
    }
  }
  return c;
}

const Catalog& Catalog::Torch() {
  static const Catalog* catalog = [] {
    Result<Catalog> c = Parse(EmbeddedTorchCatalog());
    if (!c.ok()) {
      // The file is generated and checked by a test: a broken one is a
      // build defect, so fail loudly rather than serve an empty palette.
      fprintf(stderr, "kiln: %s\n", c.status().ToString().c_str());
      abort();
    }
    return new Catalog(std::move(c).value());
  }();
  return *catalog;
}

const LayerSpec* Catalog::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &types_[it->second];
}

std::string Catalog::ToJson() const {
  json types = json::array();
  for (const LayerSpec& s : types_) {
    json params = json::array();
    for (const ParamSpec& p : s.params) {
      json jp = {{"name", p.name},
                 {"type", json::parse(p.type)},
                 {"required", p.required},
                 {"doc", p.doc}};
      if (p.default_json) jp["default"] = json::parse(*p.default_json);
      params.push_back(std::move(jp));
    }
    auto ports = [](const std::vector<PortSpec>& v) {
      json a = json::array();
      for (const PortSpec& p : v) {
        json jp = {{"name", p.name}};
        if (p.optional) jp["optional"] = true;
        if (p.many) jp["many"] = true;
        a.push_back(std::move(jp));
      }
      return a;
    };
    types.push_back({{"name", s.name},
                     {"category", s.category},
                     {"doc", s.doc},
                     {"builtin", s.builtin},
                     {"params", std::move(params)},
                     {"inputs", ports(s.inputs)},
                     {"outputs", ports(s.outputs)}});
  }
  json out = {{"name", "torch"},
              {"title", "PyTorch"},
              {"namespace", "kiln-library-torch"},
              {"torch", torch_version_},
              {"types", std::move(types)}};
  return out.dump();
}

}  // namespace kiln::nn
