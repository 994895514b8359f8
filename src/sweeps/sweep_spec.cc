#include "sweeps/sweep_spec.h"

#include <cmath>
#include <random>

namespace kiln {
namespace {

using json = nlohmann::json;

struct Instance {
  std::string guid, name;
  Value::Map attributes;  // effective, without the reserved ones
};

// The pipeline's operation instances (Connections and Inputs/Outputs are
// not operations with attributes to sweep).
std::vector<Instance> InstancesOf(const Tree& tree, const std::string& pipeline) {
  std::vector<Instance> out;
  auto p = tree.Find(pipeline);
  if (!p) return out;
  for (const NodeRef& child : p->children()) {
    if (child.IsMeta() || child.IsA("Connection") || !child.IsA("Operation")) continue;
    Instance i{std::string(child.guid()), child.Name(), {}};
    for (auto& [name, value] : child.EffectiveAttrs()) {
      if (!ReservedAttributes().count(name)) i.attributes[name] = value;
    }
    out.push_back(std::move(i));
  }
  return out;
}

// Finds the parameter's instance: by guid ("node"), or by "name":
// "Operation.attribute", or "attribute" alone when one operation has it.
Result<std::pair<const Instance*, std::string>> Resolve(const json& p,
                                                        const std::vector<Instance>& instances) {
  if (p.contains("node")) {
    if (!p["node"].is_string() || !p.contains("attribute") || !p["attribute"].is_string()) {
      return InvalidArgument("a parameter names \"node\" and \"attribute\" (strings), or \"name\"");
    }
    for (const Instance& i : instances) {
      if (i.guid == p["node"].get<std::string>())
        return std::pair{&i, p["attribute"].get<std::string>()};
    }
    return InvalidArgument("no operation " + p["node"].get<std::string>() + " in the pipeline");
  }
  if (!p.contains("name") || !p["name"].is_string()) {
    return InvalidArgument("a parameter names \"node\" and \"attribute\", or \"name\"");
  }
  std::string name = p["name"].get<std::string>();
  size_t dot = name.rfind('.');
  std::string op = dot == std::string::npos ? "" : name.substr(0, dot);
  std::string attribute = dot == std::string::npos ? name : name.substr(dot + 1);
  std::vector<const Instance*> found;
  for (const Instance& i : instances) {
    if ((op.empty() || i.name == op) && i.attributes.count(attribute)) found.push_back(&i);
  }
  if (found.empty()) {
    return InvalidArgument("no operation of the pipeline has an attribute '" + name + "'");
  }
  if (found.size() > 1) {
    std::string names;
    for (const Instance* i : found)
      names += (names.empty() ? "" : ", ") + i->name + "." + attribute;
    return InvalidArgument("'" + name + "' is ambiguous: say which of " + names);
  }
  return std::pair{found.front(), attribute};
}

// A value of the attribute's type: ints for an int, numbers (as floats) for
// a float, the same kind otherwise.
Result<Value> Typed(const Value& v, const Value& current, const std::string& label) {
  if (current.is_int()) {
    if (v.is_int()) return v;
    if (v.is_float() && std::floor(v.as_float()) == v.as_float())
      return Value(int64_t(v.as_float()));
    return InvalidArgument(label + " is an integer; " + v.ToJson().dump() + " is not");
  }
  if (current.is_float()) {
    if (v.is_number()) return Value(v.as_number());
    return InvalidArgument(label + " is a number; " + v.ToJson().dump() + " is not");
  }
  if (current.is_null() || v.ToJson().type() == current.ToJson().type()) return v;
  return InvalidArgument(label + " is " + std::string(current.ToJson().type_name()) + "; " +
                         v.ToJson().dump() + " is not");
}

Value RangeValue(const SweepRange& r, double t, const Value& current) {
  double x = r.log ? r.min * std::pow(r.max / r.min, t) : r.min + (r.max - r.min) * t;
  if (r.integer || current.is_int()) return Value(int64_t(std::llround(x)));
  return Value(x);
}

}  // namespace

Result<SweepSpec> ParseSweepSpec(const json& body, const Tree& tree, const std::string& pipeline) {
  if (!body.is_object() || !body.contains("parameters") || !body["parameters"].is_array() ||
      body["parameters"].empty()) {
    return InvalidArgument("a sweep needs \"parameters\": a non-empty list");
  }
  SweepSpec spec;
  std::string mode = body.value("mode", std::string("grid"));
  if (mode != "grid" && mode != "random") {
    return InvalidArgument("mode must be grid or random, not '" + mode + "'");
  }
  spec.random = mode == "random";
  if (body.contains("samples")) {
    if (!body["samples"].is_number_integer() || body["samples"].get<int64_t>() < 1 ||
        body["samples"].get<int64_t>() > int64_t(kMaxSweepTrials)) {
      return InvalidArgument("samples must be an integer from 1 to " +
                             std::to_string(kMaxSweepTrials));
    }
    spec.samples = body["samples"].get<int64_t>();
  }
  if (spec.random && spec.samples == 0) return InvalidArgument("a random sweep needs \"samples\"");
  if (body.contains("seed")) {
    if (!body["seed"].is_number_integer()) return InvalidArgument("seed must be an integer");
    spec.seed = body["seed"].get<uint64_t>();
  }
  std::vector<Instance> instances = InstancesOf(tree, pipeline);
  for (const json& p : body["parameters"]) {
    if (!p.is_object()) return InvalidArgument("each parameter is an object");
    KILN_ASSIGN_OR_RETURN(auto found, Resolve(p, instances));
    auto [instance, attribute] = found;
    SweepParameter param{instance->guid, instance->name, attribute, {}, std::nullopt};
    std::string label = param.Label();
    auto current = instance->attributes.find(attribute);
    if (current == instance->attributes.end()) {
      return InvalidArgument("operation '" + instance->name + "' has no attribute '" + attribute +
                             "'");
    }
    for (const SweepParameter& other : spec.parameters) {
      if (other.node == param.node && other.attribute == attribute) {
        return InvalidArgument(label + " is swept twice");
      }
    }
    if (p.contains("values") == p.contains("range")) {
      return InvalidArgument(label + ": give either \"values\" (a list) or \"range\"");
    }
    if (p.contains("values")) {
      if (!p["values"].is_array() || p["values"].empty()) {
        return InvalidArgument(label + ": \"values\" must be a non-empty list");
      }
      for (const json& v : p["values"]) {
        KILN_ASSIGN_OR_RETURN(Value value, Value::FromJson(v));
        KILN_ASSIGN_OR_RETURN(Value typed, Typed(value, current->second, label));
        param.values.push_back(std::move(typed));
      }
    } else {
      const json& r = p["range"];
      if (!r.is_object() || !r.contains("min") || !r.contains("max") || !r["min"].is_number() ||
          !r["max"].is_number()) {
        return InvalidArgument(label + ": a range has numbers \"min\" and \"max\"");
      }
      if (!current->second.is_number()) {
        return InvalidArgument(label + " is not a number: give a list of values");
      }
      SweepRange range;
      range.min = r["min"].get<double>();
      range.max = r["max"].get<double>();
      range.log = r.value("log", false);
      range.integer = r.value("integer", false) || current->second.is_int();
      range.steps = r.value("steps", int64_t(0));
      if (range.min > range.max) return InvalidArgument(label + ": min is above max");
      if (range.log && range.min <= 0)
        return InvalidArgument(label + ": a log range needs min > 0");
      if (!spec.random && (range.steps < 1 || range.steps > int64_t(kMaxSweepTrials))) {
        return InvalidArgument(label + ": a grid over a range needs \"steps\" (1 to " +
                               std::to_string(kMaxSweepTrials) + ")");
      }
      param.range = range;
      param.values.push_back(current->second);  // its type, for RangeValue
    }
    spec.parameters.push_back(std::move(param));
  }
  return spec;
}

Result<std::vector<SweepTrial>> ExpandSweep(const SweepSpec& spec) {
  // Each parameter's grid values.
  std::vector<std::vector<Value>> axes;
  for (const SweepParameter& p : spec.parameters) {
    if (!p.range) {
      axes.push_back(p.values);
      continue;
    }
    std::vector<Value> values;
    for (int64_t k = 0; k < p.range->steps; ++k) {
      double t = p.range->steps == 1 ? 0.0 : double(k) / double(p.range->steps - 1);
      Value v = RangeValue(*p.range, t, p.values.front());
      bool seen = false;
      for (const Value& x : values) seen = seen || x == v;
      if (!seen) values.push_back(std::move(v));  // integer rounding may repeat one
    }
    axes.push_back(std::move(values));
  }
  auto trial = [&](const std::vector<Value>& chosen) {
    SweepTrial t;
    for (size_t i = 0; i < spec.parameters.size(); ++i) {
      const SweepParameter& p = spec.parameters[i];
      t.overrides[p.node][p.attribute] = chosen[i];
      t.values.emplace_back(p.Label(), chosen[i]);
    }
    return t;
  };
  std::vector<SweepTrial> trials;
  if (spec.random) {
    std::mt19937_64 rng(spec.seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int64_t s = 0; s < spec.samples; ++s) {
      std::vector<Value> chosen;
      for (const SweepParameter& p : spec.parameters) {
        if (p.range) {
          chosen.push_back(RangeValue(*p.range, unit(rng), p.values.front()));
        } else {
          chosen.push_back(
              p.values[std::uniform_int_distribution<size_t>(0, p.values.size() - 1)(rng)]);
        }
      }
      trials.push_back(trial(chosen));
    }
    return trials;
  }
  size_t total = 1;
  for (const auto& axis : axes) {
    total *= axis.size();
    if (total > kMaxSweepTrials) {
      return InvalidArgument("the grid has more than " + std::to_string(kMaxSweepTrials) +
                             " trials; sweep fewer values or use random mode");
    }
  }
  for (size_t n = 0; n < total; ++n) {
    std::vector<Value> chosen(axes.size());
    size_t rest = n;
    for (size_t i = axes.size(); i-- > 0;) {  // the last parameter varies fastest
      chosen[i] = axes[i][rest % axes[i].size()];
      rest /= axes[i].size();
    }
    trials.push_back(trial(chosen));
  }
  return trials;
}

json SweepSpecJson(const SweepSpec& spec) {
  json params = json::array();
  for (const SweepParameter& p : spec.parameters) {
    json j = {{"node", p.node},
              {"node_name", p.node_name},
              {"attribute", p.attribute},
              {"name", p.Label()}};
    if (p.range) {
      j["range"] = {{"min", p.range->min},
                    {"max", p.range->max},
                    {"steps", p.range->steps},
                    {"log", p.range->log},
                    {"integer", p.range->integer}};
    } else {
      json values = json::array();
      for (const Value& v : p.values) values.push_back(v.ToJson());
      j["values"] = values;
    }
    params.push_back(j);
  }
  json out = {{"parameters", params}, {"mode", spec.random ? "random" : "grid"}};
  if (spec.random) out["samples"] = spec.samples;
  out["seed"] = spec.seed;
  return out;
}

}  // namespace kiln
