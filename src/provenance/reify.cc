#include "provenance/reify.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/guid.h"
#include "model/meta.h"

namespace kiln {
namespace {

using json = nlohmann::json;

constexpr int64_t kColumnWidth = 260;
constexpr int64_t kRowHeight = 150;

// A definition's ports: (direction, name) → guid.
using PortGuids = std::map<std::pair<std::string, std::string>, std::string>;

struct Definition {
  std::string guid;
  PortGuids ports;
  Value::Map attributes;  // its effective attributes (defaults)
};

std::string StringOf(const Value* v) { return v && v->is_string() ? v->as_string() : ""; }

PortGuids PortsOf(const NodeRef& definition) {
  PortGuids ports;
  for (const NodeRef& port : definition.children()) {
    if (!port.IsA("Port")) continue;
    ports[{StringOf(port.Attr("direction")), port.Name()}] = std::string(port.guid());
  }
  return ports;
}

// Builds the patch, one job at a time.
class Reifier {
 public:
  Reifier(const LineageGraph& lineage, const Tree& tree, const ReifyOptions& options)
      : lineage_(lineage), tree_(tree), options_(options) {
    plan_.pipeline = Guid("pipeline");
    // Definitions a job may reuse: Operation definitions (direct children of
    // the meta type), by code, and the Input and Output kinds.
    for (NodeId id : tree.NodeIds()) {
      NodeRef n = tree.Get(id);
      auto base = n.base();
      if (!base || base->guid() != MetaGuid("Operation")) continue;
      std::string kind = StringOf(n.attrs().count("kind") ? &n.attrs().at("kind") : nullptr);
      Definition d{std::string(n.guid()), PortsOf(n), n.EffectiveAttrs()};
      if (kind == "input" || kind == "output") {
        kinds_.try_emplace(kind, std::move(d));
      } else if (const Value* code = n.Attr("code"); code && code->is_string()) {
        by_code_.emplace(code->as_string(), std::move(d));
      }
    }
  }

  Result<ReifyPlan> Run() {
    const LineageArtifact& root = lineage_.artifacts.front();
    if (root.job.empty()) {
      return FailedPrecondition("artifact " + root.digest.Hex() +
                                " was not made by a job of this project (" + OriginWord(root) +
                                "): there is no pipeline to make it again");
    }
    if (lineage_.truncated) {
      return FailedPrecondition(
          "the lineage is deeper than the walk went; ask with a larger depth");
    }
    plan_.patch.message = "Reify " + options_.name;
    Create(plan_.pipeline, RootGuid(), MetaGuid("Pipeline"), {{"name", Value(options_.name)}});
    int64_t max_level = 1;
    for (const LineageJob& j : lineage_.jobs) max_level = std::max(max_level, j.level);
    // Deepest first: producers before the jobs that use them (canvas left to right).
    std::vector<const LineageJob*> jobs;
    for (const LineageJob& j : lineage_.jobs) jobs.push_back(&j);
    std::stable_sort(jobs.begin(), jobs.end(),
                     [](const LineageJob* a, const LineageJob* b) { return a->level > b->level; });
    std::map<int64_t, int64_t> rows;  // column → next row
    for (const LineageJob* j : jobs) {
      int64_t column = max_level - j->level + 1;
      KILN_RETURN_IF_ERROR(AddJob(*j, column, rows[column]++));
    }
    for (const LineageEdge& e : lineage_.used) {
      KILN_ASSIGN_OR_RETURN(std::string src, SourcePort(e.artifact, rows));
      auto to = instances_.find(e.job);
      if (to == instances_.end()) continue;
      auto dst = to->second.ports.find({"input", e.port});
      if (dst == to->second.ports.end()) {
        return FailedPrecondition("job " + e.job + " used an input '" + e.port +
                                  "' its operation does not declare");
      }
      Connect(src, dst->second);
    }
    AddOutput(root, max_level + 1);
    return std::move(plan_);
  }

 private:
  struct Instance {
    std::string guid;
    PortGuids ports;  // the instance's own (derived) port guids
  };

  std::string Guid(const std::string& what) const { return DeriveGuid(options_.seed, what); }

  static std::string OriginWord(const LineageArtifact& a) {
    return a.grant ? (a.grant->how == "job" ? "made elsewhere" : a.grant->how) : "origin unknown";
  }

  void Create(const std::string& guid, const std::string& parent, const std::string& base,
              Value::Map attrs, PointerMap pointers = {}, Value::Map registry = {}) {
    plan_.patch.ops.push_back(PatchOp::Create(guid, parent, base, std::move(attrs),
                                              std::move(pointers), std::move(registry)));
  }

  static Value::Map Position(int64_t column, int64_t row) {
    return {{"position", Value(Value::Map{{"x", Value(column * kColumnWidth)},
                                          {"y", Value(row * kRowHeight)}})}};
  }

  // The instance's port guids, derived from its definition's (patches.md, create).
  static PortGuids InstancePorts(const std::string& instance, const PortGuids& def_ports) {
    PortGuids out;
    for (const auto& [key, guid] : def_ports) out[key] = DeriveGuid(instance, guid);
    return out;
  }

  std::string Folder() {
    if (folder_.empty()) {
      folder_ = Guid("folder");
      Create(folder_, RootGuid(), MetaGuid("Folder"), {{"name", Value("Reified")}});
    }
    return folder_;
  }

  // An existing definition with the snapshot's code and ports, or a new one.
  Result<const Definition*> DefinitionFor(const json& op) {
    std::string code = op.value("code", "");
    auto inputs = op.value("inputs", std::vector<std::string>{});
    auto outputs = op.value("outputs", std::vector<std::string>{});
    auto wanted = [&](const PortGuids& ports) {
      if (ports.size() != inputs.size() + outputs.size()) return false;
      for (const auto& i : inputs) {
        if (!ports.count({"input", i})) return false;
      }
      for (const auto& o : outputs) {
        if (!ports.count({"output", o})) return false;
      }
      return true;
    };
    auto [first, last] = by_code_.equal_range(code);
    for (auto it = first; it != last; ++it) {
      if (wanted(it->second.ports)) return &it->second;
    }
    Definition d;
    d.guid = Guid("definition/" + Digest::Of(op.dump()).Hex());
    Value::Map attrs;
    if (op.contains("attributes") && op["attributes"].is_object()) {
      KILN_ASSIGN_OR_RETURN(Value a, Value::FromJson(op["attributes"]));
      attrs = a.as_map();
    }
    d.attributes = attrs;
    attrs["name"] = Value(op.value("name", "Operation"));
    attrs["code"] = Value(code);
    if (op.contains("requirements")) attrs.erase("requirements");
    Create(d.guid, Folder(), MetaGuid("Operation"), attrs);
    json types = op.value("port_types", json::object());
    for (const auto& [direction, names] :
         {std::pair{"input", inputs}, std::pair{"output", outputs}}) {
      for (const std::string& name : names) {
        std::string guid = DeriveGuid(d.guid, std::string(direction) + "/" + name);
        std::string type = types.value(std::string(direction) + "/" + name, "any");
        Create(guid, d.guid, MetaGuid("Port"),
               {{"name", Value(name)}, {"direction", Value(direction)}, {"dataType", Value(type)}});
        d.ports[{direction, name}] = guid;
      }
    }
    plan_.notes.push_back("operation '" + op.value("name", "") +
                          "' is no longer in the project with this code: recreated in the "
                          "folder Reified");
    auto it = by_code_.emplace(code, std::move(d));
    return &it->second;
  }

  Status AddJob(const LineageJob& j, int64_t column, int64_t row) {
    const std::string& op_text = lineage_.operations.at(j.operation);
    json op = json::parse(op_text, nullptr, false);
    if (!op.is_object()) return Corruption("job " + j.producer->record.job + " has no snapshot");
    KILN_ASSIGN_OR_RETURN(const Definition* def, DefinitionFor(op));
    Instance inst{Guid("instance/" + j.producer->record.job), {}};
    inst.ports = InstancePorts(inst.guid, def->ports);
    // Attributes where the snapshot differs from the definition's defaults.
    Value::Map attrs{{"name", Value(j.producer->job_name)}};
    if (op.contains("attributes") && op["attributes"].is_object()) {
      KILN_ASSIGN_OR_RETURN(Value a, Value::FromJson(op["attributes"]));
      for (const auto& [name, value] : a.as_map()) {
        auto d = def->attributes.find(name);
        if (d == def->attributes.end() || !(d->second == value)) attrs[name] = value;
      }
    }
    PointerMap pointers;
    // A named value: items() of a temporary would dangle in the loop.
    const json resources = op.value("resources", json::object());
    for (const auto& [pointer, resource] : resources.items()) {
      std::string node = resource.value("node", "");
      auto target = tree_.Find(node);
      if (!target) {
        plan_.notes.push_back("'" + j.producer->job_name + "' referenced " + node + " as " +
                              pointer + ", which is gone: the reference is left unset");
        continue;
      }
      pointers[pointer] = node;
      if (target->digest().Hex() != resource.value("subtree", "")) {
        plan_.notes.push_back("'" + target->Name() + "' (" + pointer + " of '" +
                              j.producer->job_name +
                              "') changed since the job ran: the pipeline uses it as it is now");
      }
    }
    Create(inst.guid, plan_.pipeline, def->guid, attrs, pointers, Position(column, row));
    plan_.jobs[inst.guid] = j.producer->record.job;
    instances_[j.producer->record.job] = std::move(inst);
    return Status::Ok();
  }

  // The output port that feeds `artifact`: its producer's, or an Input's
  // (created once per artifact) when no job of the lineage made it.
  Result<std::string> SourcePort(const Digest& artifact, std::map<int64_t, int64_t>& rows) {
    const LineageArtifact* a = nullptr;
    for (const LineageArtifact& x : lineage_.artifacts) {
      if (x.digest == artifact) a = &x;
    }
    if (a && !a->job.empty()) {
      auto it = instances_.find(a->job);
      if (it != instances_.end()) {
        auto port = it->second.ports.find({"output", a->output});
        if (port != it->second.ports.end()) return port->second;
      }
    }
    if (auto it = inputs_.find(artifact); it != inputs_.end()) return it->second;
    const Definition& def = KindDefinition("input");
    std::string guid = Guid("input/" + artifact.Hex());
    std::string name = options_.names.count(artifact) ? options_.names.at(artifact)
                                                      : "data " + artifact.Hex().substr(0, 8);
    Value::Map attrs{{"name", Value(name)}};
    if (options_.missing.count(artifact)) {
      plan_.notes.push_back("input '" + name + "': artifact " + artifact.Hex() +
                            " was deleted; choose its data before running");
    } else {
      attrs["artifact"] = Value(artifact.Hex());
      auto s = options_.serializers.find(artifact);
      attrs["serializer"] = Value(s != options_.serializers.end() ? s->second : "raw");
    }
    Create(guid, plan_.pipeline, def.guid, attrs, {}, Position(0, rows[0]++));
    std::string port = InstancePorts(guid, def.ports).begin()->second;
    inputs_[artifact] = port;
    return port;
  }

  void AddOutput(const LineageArtifact& root, int64_t column) {
    const Definition& def = KindDefinition("output");
    std::string guid = Guid("output");
    std::string name =
        options_.names.count(root.digest) ? options_.names.at(root.digest) : root.output;
    Create(guid, plan_.pipeline, def.guid, {{"name", Value(name)}}, {}, Position(column, 0));
    auto src = instances_.at(root.job).ports.find({"output", root.output});
    if (src == instances_.at(root.job).ports.end()) return;
    Connect(src->second, InstancePorts(guid, def.ports).begin()->second);
  }

  // The project's Input or Output definition, or a new one.
  const Definition& KindDefinition(const std::string& kind) {
    auto it = kinds_.find(kind);
    if (it != kinds_.end()) return it->second;
    Definition d;
    d.guid = Guid("definition/" + kind);
    std::string title = kind == "input" ? "Input" : "Output";
    Create(d.guid, Folder(), MetaGuid("Operation"),
           {{"name", Value(title)}, {"kind", Value(kind)}});
    std::string direction = kind == "input" ? "output" : "input";
    std::string port = DeriveGuid(d.guid, direction + "/data");
    Create(port, d.guid, MetaGuid("Port"),
           {{"name", Value("data")}, {"direction", Value(direction)}, {"dataType", Value("any")}});
    d.ports[{direction, "data"}] = port;
    return kinds_.emplace(kind, std::move(d)).first->second;
  }

  void Connect(const std::string& src, const std::string& dst) {
    Create(Guid("connection/" + src + "->" + dst), plan_.pipeline, MetaGuid("Connection"), {},
           {{"src", src}, {"dst", dst}});
  }

  const LineageGraph& lineage_;
  const Tree& tree_;
  const ReifyOptions& options_;
  ReifyPlan plan_;
  std::string folder_;
  std::multimap<std::string, Definition> by_code_;
  std::map<std::string, Definition> kinds_;
  std::unordered_map<std::string, Instance> instances_;  // by original job id
  std::map<Digest, std::string> inputs_;                 // artifact → Input's output port
};

}  // namespace

Result<ReifyPlan> PlanReify(const LineageGraph& lineage, const Tree& tree,
                            const ReifyOptions& options) {
  if (lineage.artifacts.empty()) return InvalidArgument("an empty lineage");
  if (lineage.query.direction != LineageDirection::kUp) {
    return InvalidArgument("reify needs the lineage walked up");
  }
  return Reifier(lineage, tree, options).Run();
}

}  // namespace kiln
