#include "pipeline/plan.h"

#include <cmath>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "model/meta.h"

#ifndef KILN_VERSION
#define KILN_VERSION "unknown"
#endif

namespace kiln {
namespace {

std::string StringAttr(const NodeRef& n, std::string_view name) {
  const Value* v = n.Attr(name);
  return v && v->is_string() ? v->as_string() : std::string();
}

// The node whose own "code" (or "kind") the instance inherits: the nearest
// in its base chain, itself included.
NodeRef Definition(NodeRef n) {
  for (std::optional<NodeRef> c = n; c; c = c->base()) {
    if (c->attrs().count("code") || c->attrs().count("kind")) return *c;
  }
  return n;
}

}  // namespace

const char* OperationKindName(OperationKind kind) {
  switch (kind) {
    case OperationKind::kOperation:
      return "operation";
    case OperationKind::kInput:
      return "input";
    case OperationKind::kOutput:
      return "output";
  }
  return "operation";
}

const std::set<std::string, std::less<>>& ReservedAttributes() {
  static const std::set<std::string, std::less<>> names = {
      "name",         "code",          "kind",          "description", "artifact",
      "serializer",   "job_memory_mb", "job_timeout_s", "job_cpus",    "job_gpus",
      "job_gpu_type", "job_partition", "job_backend"};
  return names;
}

// job_cpus, job_gpus (whole counts), job_gpu_type, job_partition and
// job_backend (names): where the job runs and what it asks of it
// (docs/compute.md).
static Status ReadResourceAttributes(const NodeRef& op, PlanJob& job) {
  for (const char* count : {"job_cpus", "job_gpus"}) {
    const Value* v = op.Attr(count);
    if (!v || v->is_null()) continue;
    bool whole =
        v->is_int() || (v->is_float() && v->as_number() == double(int64_t(v->as_number())));
    double n = (v->is_int() || v->is_float()) ? v->as_number() : -1;
    bool gpus = std::string_view(count) == "job_gpus";
    if (!whole || n < (gpus ? 0 : 1) || n > 4096) {
      return FailedPrecondition(
          "operation " + op.Describe() + ": '" + count + "' must be a " +
          (gpus ? "whole number of GPUs (0 or more)" : "whole number of CPUs (1 or more)"));
    }
    (gpus ? job.asks.gpus : job.asks.cpus) = int(n);
  }
  for (const char* name : {"job_gpu_type", "job_partition", "job_backend"}) {
    const Value* v = op.Attr(name);
    if (!v || v->is_null()) continue;
    if (!v->is_string()) {
      return FailedPrecondition("operation " + op.Describe() + ": '" + name + "' must be a string");
    }
    const std::string& text = v->as_string();
    if (text.find_first_of(" \t\n\r;'\"`$\\") != std::string::npos) {
      return FailedPrecondition("operation " + op.Describe() + ": '" + name +
                                "' must be a plain name (no spaces, quotes or shell characters)");
    }
    std::string_view which(name);
    (which == "job_gpu_type"    ? job.asks.gpu_type
     : which == "job_partition" ? job.asks.partition
                                : job.asks.backend) = text;
  }
  return Status::Ok();
}

Result<Plan> CompilePipeline(const Tree& tree, std::string_view pipeline_guid,
                             ResourceCodeGenerator* generator) {
  auto pipeline = tree.Find(pipeline_guid);
  if (!pipeline) return NotFound("no node " + std::string(pipeline_guid));
  if (pipeline->IsMeta() || !pipeline->IsA("Pipeline")) {
    return InvalidArgument("node " + pipeline->Describe() + " is not a pipeline");
  }
  Plan plan;
  plan.pipeline = std::string(pipeline_guid);
  plan.name = pipeline->Name();
  std::unordered_map<NodeId, size_t> job_of;  // operation instance → job index
  std::string requirements;
  if (auto root = tree.Find(RootGuid())) requirements = StringAttr(*root, "requirements");

  for (const NodeRef& child : pipeline->children()) {
    if (child.IsMeta() || !child.IsA("Operation")) continue;
    PlanJob job;
    job.node = std::string(child.guid());
    job.name = child.Name().empty() ? job.node : child.Name();
    NodeRef def = Definition(child);
    job.definition = std::string(def.guid());
    std::string kind = StringAttr(child, "kind");
    if (kind == "input") {
      job.kind = OperationKind::kInput;
    } else if (kind == "output") {
      job.kind = OperationKind::kOutput;
    } else if (!kind.empty()) {
      return FailedPrecondition("operation " + child.Describe() + " has unknown kind '" + kind +
                                "' (expected 'input' or 'output')");
    }
    for (const auto& [name, value] : child.EffectiveAttrs()) {
      if (!ReservedAttributes().count(name)) job.attributes[name] = value;
    }
    for (const char* limit : {"job_memory_mb", "job_timeout_s"}) {
      const Value* v = child.Attr(limit);
      if (!v || v->is_null()) continue;
      if (!(v->is_int() || v->is_float()) || v->as_number() <= 0) {
        return FailedPrecondition("operation " + child.Describe() + ": '" + limit +
                                  "' must be a positive number");
      }
      if (std::string_view(limit) == "job_memory_mb") {
        job.memory_bytes = uint64_t(v->as_number() * 1024 * 1024);
        job.asks.memory_mb = uint64_t(std::ceil(v->as_number()));
      } else {
        job.timeout_s = v->as_number();
      }
    }
    KILN_RETURN_IF_ERROR(ReadResourceAttributes(child, job));
    for (const NodeRef& port : child.children()) {
      if (!port.IsA("Port")) continue;
      std::string name = port.Name();
      if (name.empty()) {
        return FailedPrecondition("port " + port.Describe() + " of operation " + child.Describe() +
                                  " has no name");
      }
      std::string dir = StringAttr(port, "direction");
      (dir == "output" ? job.outputs : job.inputs).push_back(name);
      std::string type = StringAttr(port, "dataType");
      job.port_types[(dir == "output" ? "output/" : "input/") + name] = type.empty() ? "any" : type;
    }
    if (job.kind == OperationKind::kOperation) {
      const Value* code = child.Attr("code");
      if (!code || !code->is_string() || code->as_string().empty()) {
        return FailedPrecondition("operation " + child.Describe() + " has no code");
      }
      job.code = code->as_string();
      job.requirements = requirements;
    } else if (job.kind == OperationKind::kInput) {
      auto digest = Digest::FromHex(StringAttr(child, "artifact"));
      if (!digest.ok()) {
        return FailedPrecondition("input " + child.Describe() +
                                  " names no artifact: its attribute 'artifact' must be a digest");
      }
      job.artifact = *digest;
      job.serializer = StringAttr(child, "serializer");
      if (job.serializer.empty()) job.serializer = "pickle";
      if (job.outputs.size() != 1) {
        return FailedPrecondition("input " + child.Describe() +
                                  " must have exactly one output port");
      }
    }
    for (const auto& [pointer, target] : child.EffectivePointers()) {
      if (!target) continue;
      auto node = child.PointerTarget(pointer);
      if (!node) continue;
      PlanResource r;
      r.pointer = pointer;
      r.node = *target;
      if (node->dirty()) {
        return FailedPrecondition("resource " + node->Describe() + " has unwritten changes");
      }
      r.subtree = node->digest();
      if (generator) {
        KILN_ASSIGN_OR_RETURN(r.code, generator->Generate(*node));
      }
      job.resources.push_back(std::move(r));
    }
    job_of[child.id()] = plan.jobs.size();
    plan.jobs.push_back(std::move(job));
  }

  std::set<std::pair<size_t, std::string>> fed;
  for (const NodeRef& c : pipeline->children()) {
    if (c.IsMeta() || !c.IsA("Connection")) continue;
    auto src = c.PointerTarget("src"), dst = c.PointerTarget("dst");
    if (!src || !dst) {
      return FailedPrecondition("connection " + c.Describe() + " is not attached at both ends");
    }
    auto from_op = src->parent(), to_op = dst->parent();
    if (!from_op || !to_op || !job_of.count(from_op->id()) || !job_of.count(to_op->id())) {
      return FailedPrecondition("connection " + c.Describe() +
                                " does not join two operations of the pipeline");
    }
    PlanEdge e{job_of[from_op->id()], src->Name(), job_of[to_op->id()], dst->Name()};
    if (!fed.insert({e.to, e.input}).second) {
      return FailedPrecondition("input '" + e.input + "' of operation " + to_op->Describe() +
                                " has more than one connection");
    }
    plan.edges.push_back(std::move(e));
  }
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    for (const std::string& input : plan.jobs[i].inputs) {
      if (!fed.count({i, input})) {
        return FailedPrecondition("input '" + input + "' of operation '" + plan.jobs[i].name +
                                  "' (" + plan.jobs[i].node + ") is not connected");
      }
    }
  }
  return plan;
}

Result<RuntimeFingerprint> ProbeRuntime(const std::string& python) {
  static std::mutex mu;
  static std::unordered_map<std::string, RuntimeFingerprint> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(python); it != cache.end()) return it->second;
  std::string cmd = "'" + python +
                    "' -c 'import sys\nprint(sys.version.split()[0])\ntry:\n import torch\n "
                    "print(torch.__version__)\nexcept Exception:\n print(\"none\")' 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return IOError("cannot run " + python);
  std::string out;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = ::pclose(p);
  size_t nl = out.find('\n');
  if (rc != 0 || nl == std::string::npos) {
    return IOError("cannot probe the Python runtime " + python + " (exit status " +
                   std::to_string(rc) + ")");
  }
  RuntimeFingerprint f;
  f.python = out.substr(0, nl);
  f.torch = out.substr(nl + 1);
  while (!f.torch.empty() && (f.torch.back() == '\n' || f.torch.back() == '\r')) f.torch.pop_back();
  f.kiln = KILN_VERSION;
  cache[python] = f;
  return f;
}

namespace {

Value ResourcesValue(const PlanJob& job) {
  Value::Map resources;
  for (const PlanResource& r : job.resources) {
    Value::Map entry;
    entry["node"] = r.node;
    if (r.code) {
      // Generated code stands for the resource: a change that does not
      // change the code (an editor position) does not re-run the job.
      Value::Map files;
      for (const auto& [path, content] : r.code->files) files[path] = content;
      entry["code"] = std::move(files);
    } else {
      entry["subtree"] = Bytes{std::string(r.subtree.Raw())};
    }
    resources[r.pointer] = std::move(entry);
  }
  return resources;
}

}  // namespace

Digest CacheKey(const PlanJob& job, const std::map<std::string, Digest>& inputs,
                const RuntimeFingerprint& runtime) {
  Value::Map in;
  for (const auto& [name, d] : inputs) in[name] = Bytes{std::string(d.Raw())};
  Value::List outputs;
  for (const auto& o : job.outputs) outputs.push_back(o);
  Value::Map key{
      {"version", 1},
      {"kind", OperationKindName(job.kind)},
      {"code", job.code},
      {"attributes", job.attributes},
      {"resources", ResourcesValue(job)},
      {"inputs", std::move(in)},
      {"outputs", std::move(outputs)},
      {"runtime",
       Value::Map{{"python", runtime.python}, {"torch", runtime.torch}, {"kiln", runtime.kiln}}},
  };
  // Only when there are some, so that keys made before requirements existed hold.
  if (!job.requirements.empty()) key["requirements"] = job.requirements;
  return Digest::Of("kiln-cache-key\n" + Value(std::move(key)).Encode());
}

Status ApplyOverrides(Plan& plan, const AttributeOverrides& overrides) {
  for (const auto& [node, attrs] : overrides) {
    PlanJob* job = nullptr;
    for (PlanJob& j : plan.jobs) {
      if (j.node == node && j.kind == OperationKind::kOperation) job = &j;
    }
    if (!job) return InvalidArgument("no operation " + node + " in pipeline '" + plan.name + "'");
    for (const auto& [name, value] : attrs) {
      if (ReservedAttributes().count(name)) {
        return InvalidArgument("'" + name + "' of '" + job->name + "' is not an attribute to set");
      }
      if (!job->attributes.count(name)) {
        return InvalidArgument("operation '" + job->name + "' has no attribute '" + name + "'");
      }
      job->attributes[name] = value;
    }
  }
  return Status::Ok();
}

std::string OverridesToJson(const AttributeOverrides& overrides) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [node, attrs] : overrides) j[node] = Value(attrs).ToJson();
  return j.dump();
}

Result<AttributeOverrides> OverridesFromJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgument("overrides must be an object of objects");
  AttributeOverrides out;
  for (const auto& [node, attrs] : j.items()) {
    if (!attrs.is_object()) return InvalidArgument("the overrides of " + node + " are no object");
    KILN_ASSIGN_OR_RETURN(Value v, Value::FromJson(attrs));
    out[node] = v.as_map();
  }
  return out;
}

std::string OperationSnapshot(const PlanJob& job) {
  nlohmann::json resources = nlohmann::json::object();
  for (const PlanResource& r : job.resources) {
    nlohmann::json resource = {{"node", r.node}, {"subtree", r.subtree.Hex()}};
    // The code the job ran with: the resource's node may change or go later.
    if (r.code) {
      resource["files"] = r.code->files;
      resource["entry_file"] = r.code->entry_file;
      resource["entry_class"] = r.code->entry_class;
    }
    resources[r.pointer] = resource;
  }
  nlohmann::json j = {{"node", job.node},
                      {"definition", job.definition},
                      {"name", job.name},
                      {"kind", OperationKindName(job.kind)},
                      {"code", job.code},
                      {"attributes", Value(job.attributes).ToJson()},
                      {"inputs", job.inputs},
                      {"outputs", job.outputs},
                      {"port_types", job.port_types},
                      {"resources", resources}};
  if (!job.requirements.empty()) j["requirements"] = job.requirements;
  return j.dump();
}

}  // namespace kiln
