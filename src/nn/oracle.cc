#include "nn/oracle.h"

#include <nlohmann/json.hpp>

namespace kiln::nn {

using json = nlohmann::json;

namespace {

json FlowJson(const Flow& f, std::map<std::string, Dim>* renamed) {
  json a = json::array();
  if (f.tuple) {
    for (const Flow& i : f.items) a.push_back(FlowJson(i, renamed));
    return a;
  }
  for (const Dim& d : f.shape) {
    if (auto v = d.value()) {
      a.push_back(*v);
    } else if (IsIdentifier(d.ToString())) {
      a.push_back(d.ToString());
    } else {
      // An expression: the worker needs a name; the answer maps it back.
      std::string fresh;
      for (const auto& [name, dim] : *renamed) {
        if (dim == d) fresh = name;
      }
      if (fresh.empty()) {
        fresh = "D" + std::to_string(renamed->size() + 1) + "_";
        renamed->emplace(fresh, d);
      }
      a.push_back(fresh);
    }
  }
  return a;
}

Result<Flow> ParseFlow(const json& j, const std::map<std::string, Dim>& renamed) {
  if (!j.is_array()) return InvalidArgument("a shape is a list");
  if (!j.empty() && j[0].is_array()) {
    std::vector<Flow> items;
    for (const json& i : j) {
      KILN_ASSIGN_OR_RETURN(Flow f, ParseFlow(i, renamed));
      items.push_back(std::move(f));
    }
    return Flow::Tuple(std::move(items));
  }
  std::vector<Dim> dims;
  for (const json& d : j) {
    if (d.is_number_integer()) {
      dims.push_back(Dim(d.get<int64_t>()));
    } else if (d.is_string()) {
      auto it = renamed.find(d.get<std::string>());
      dims.push_back(it != renamed.end() ? it->second : Dim::Symbol(d.get<std::string>()));
    } else {
      return InvalidArgument("a dimension is an integer or a name");
    }
  }
  return Flow::Tensor(std::move(dims));
}

}  // namespace

std::optional<OracleAnswer> CachingOracle::Ask(const Node& node,
                                               const std::vector<std::vector<Flow>>& inputs) {
  std::map<std::string, Dim> renamed;
  json nodes = json::array(), edges = json::array();
  json params = json::object();
  for (const auto& [k, v] : node.params) params[k] = v.ToJson();
  for (size_t p = 0; p < inputs.size(); ++p) {
    for (size_t k = 0; k < inputs[p].size(); ++k) {
      std::string id = "in" + std::to_string(p) + "_" + std::to_string(k);
      nodes.push_back({{"id", id},
                       {"type", "Input"},
                       {"params", {{"shape", FlowJson(inputs[p][k], &renamed)}}}});
      edges.push_back({id, "node." + node.inputs[p].name});
    }
  }
  nodes.push_back({{"id", "node"}, {"name", node.name}, {"type", node.type}, {"params", params}});
  std::vector<std::string> outputs;
  for (const PortSpec& port : node.outputs) {
    outputs.push_back(port.name);
    std::string id = "out_" + std::to_string(outputs.size());
    nodes.push_back({{"id", id}, {"type", "Output"}});
    edges.push_back({"node." + port.name, id});
  }
  // The key: what the answer depends on (the name only shapes the message).
  json key_json = {node.type, node.name, params, nodes};
  std::string key = key_json.dump();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (!pending_.count(key)) {
    json request = {
        {"id", next_id_++},
        {"document",
         {{"main", "Probe"}, {"architectures", {{"Probe", {{"nodes", nodes}, {"edges", edges}}}}}}},
        {"nodes", {"node"}}};
    pending_[key] = Pending{request.dump(), renamed, outputs};
    misses_.push_back(key);
  }
  return std::nullopt;
}

std::vector<CachingOracle::Request> CachingOracle::TakeMisses() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Request> out;
  for (const std::string& key : misses_) {
    auto it = pending_.find(key);
    if (it != pending_.end()) out.push_back({key, it->second.line});
  }
  misses_.clear();
  return out;
}

void CachingOracle::Store(const Request& request, const std::string& answer_line) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(request.key);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  OracleAnswer answer;
  answer.outputs.resize(p.outputs.size());
  json j = json::parse(answer_line, nullptr, /*allow_exceptions=*/false);
  const json* node = nullptr;
  if (j.is_object() && j.contains("nodes") && j["nodes"].is_object() &&
      j["nodes"].contains("node")) {
    node = &j["nodes"]["node"];
  }
  if (!node || !node->is_object()) {
    std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : "no answer";
    answer.error = "the torch fallback could not analyse this layer: " + why;
  } else if (node->contains("error") && (*node)["error"].is_string()) {
    answer.error = (*node)["error"].get<std::string>();
  } else if (node->contains("outputs") && (*node)["outputs"].is_object()) {
    for (size_t i = 0; i < p.outputs.size(); ++i) {
      auto o = (*node)["outputs"].find(p.outputs[i]);
      if (o == (*node)["outputs"].end()) continue;
      auto f = ParseFlow(*o, p.renamed);
      if (f.ok()) answer.outputs[i] = std::move(f).value();
    }
  } else {
    answer.error = "the torch fallback gave no shapes for this layer";
  }
  if (cache_.size() > 20000) cache_.clear();  // bounded: a server runs for months
  cache_[request.key] = std::move(answer);
}

size_t CachingOracle::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

}  // namespace kiln::nn
