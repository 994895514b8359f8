#include "nn/shapes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "nn/rules.h"

namespace kiln::nn {

using json = nlohmann::json;

std::string Flow::ToString() const {
  if (!tuple) return ShapeToString(shape);
  std::string s = "(";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += ", ";
    s += items[i].ToString();
  }
  return s + ")";
}

// ---- RuleContext ----------------------------------------------------------

std::string RuleContext::Who() const { return node.type + " '" + node.name + "'"; }

void RuleContext::Fail(const std::string& what) const { throw RuleError{Who() + ": " + what}; }

const Value& RuleContext::Param(std::string_view name) const {
  static const Value null;
  if (const Value* v = node.Param(name)) return *v;
  const LayerSpec* spec = Catalog::Torch().Find(node.type);
  const ParamSpec* p = spec ? spec->Param(name) : nullptr;
  return p ? p->default_value : null;
}

bool RuleContext::Given(std::string_view name) const { return node.Param(name) != nullptr; }

int64_t RuleContext::Int(std::string_view name) const {
  const Value& v = Param(name);
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_null()) Fail("parameter " + std::string(name) + " is required");
  Fail("parameter " + std::string(name) + " must be an integer, not " + JsonText(v));
}

double RuleContext::Float(std::string_view name) const {
  const Value& v = Param(name);
  if (v.is_int() || v.is_float()) return v.as_number();
  if (v.is_null()) Fail("parameter " + std::string(name) + " is required");
  Fail("parameter " + std::string(name) + " must be a number, not " + JsonText(v));
}

bool RuleContext::Bool(std::string_view name) const {
  const Value& v = Param(name);
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int() != 0;
  if (v.is_null()) return false;
  Fail("parameter " + std::string(name) + " must be true or false, not " + JsonText(v));
}

std::string RuleContext::Str(std::string_view name) const {
  const Value& v = Param(name);
  return v.is_string() ? v.as_string() : "";
}

std::vector<int64_t> RuleContext::Ints(std::string_view name, size_t n) const {
  const Value& v = Param(name);
  if (v.is_int()) return std::vector<int64_t>(n, v.as_int());
  if (v.is_list()) {
    std::vector<int64_t> out;
    for (const Value& x : v.as_list()) {
      if (!x.is_int()) Fail(std::string(name) + " must hold integers, not " + JsonText(v));
      out.push_back(x.as_int());
    }
    if (out.size() == 1 && n > 1) out.assign(n, out[0]);
    if (out.size() != n) {
      Fail(std::string(name) + " has " + std::to_string(out.size()) + " values, but a " +
           std::to_string(n) + "-d " + (n == 1 ? "layer" : "layer") + " needs " +
           std::to_string(n));
    }
    return out;
  }
  if (v.is_null()) Fail("parameter " + std::string(name) + " is required");
  Fail(std::string(name) + " must be an integer or a tuple of " + std::to_string(n) +
       " integers, not " + JsonText(v));
}

std::vector<int64_t> RuleContext::IntList(std::string_view name) const {
  const Value& v = Param(name);
  if (v.is_int()) return {v.as_int()};
  if (!v.is_list()) {
    if (v.is_null()) Fail("parameter " + std::string(name) + " is required");
    Fail(std::string(name) + " must be a list of integers, not " + JsonText(v));
  }
  std::vector<int64_t> out;
  for (const Value& x : v.as_list()) {
    if (!x.is_int()) Fail(std::string(name) + " must hold integers, not " + JsonText(v));
    out.push_back(x.as_int());
  }
  return out;
}

bool RuleContext::Connected(size_t port) const {
  return port < result->inputs.size() && !result->inputs[port].empty();
}

const std::vector<Dim>& RuleContext::Tensor(size_t port) const {
  if (!Connected(port)) {
    Fail("input '" + node.inputs.at(port).name + "' is not connected");
  }
  const Flow& f = result->inputs[port][0];
  if (f.tuple) {
    Fail("input '" + node.inputs[port].name + "' gets a tuple " + f.ToString() + " from '" +
         SourceName(port) + "'; take one element with a Select");
  }
  return f.shape;
}

std::string RuleContext::SourceName(size_t port, size_t k) const {
  size_t seen = 0;
  for (size_t edge : arch.incoming[index]) {
    const Edge& e = arch.edges[edge];
    if (e.to.port == port && seen++ == k) return arch.nodes[e.from.node].name;
  }
  return "?";
}

int64_t RuleContext::Known(const Dim& d, const std::string& what) const {
  if (auto v = d.value()) return *v;
  Fail(what + " is " + d.ToString() +
       ", which is not a number here; give the Input a number "
       "for it");
}

void RuleContext::AutoDim(std::string_view param, const Dim& actual,
                          const std::string& noun) const {
  if (Given(param)) {
    const Value& v = Param(param);
    if (!v.is_int()) Fail(std::string(param) + " must be an integer, not " + JsonText(v));
    if (Dim(v.as_int()) != actual) {
      Fail(std::string(param) + " " + std::to_string(v.as_int()) + " but the input has " +
           actual.ToString() + " " + noun + "; leave " + std::string(param) + " empty to infer it");
    }
    return;
  }
  if (!actual.known() && depth == 0 && arch.name == doc.main) {
    Fail("cannot infer " + std::string(param) + ": the input has " + actual.ToString() + " " +
         noun + ", not a number; give the Input a number there or set " + std::string(param));
  }
  result->inferred[std::string(param)] = actual;
}

Dim RuleContext::AutoValue(std::string_view param) const {
  auto it = result->inferred.find(std::string(param));
  if (it != result->inferred.end()) return it->second;
  return Dim(Int(param));
}

std::string RuleContext::History(size_t axis_from_end) const {
  std::vector<std::string> values;
  std::string after;
  size_t cur = index;
  bool first = true;
  for (int guard = 0; guard < 10000; ++guard) {
    const NodeResult& r = cur == index ? *result : so_far.nodes[cur];
    if (r.inputs.empty() || r.inputs[0].empty() || r.inputs[0][0].tuple) break;
    const auto& shape = r.inputs[0][0].shape;
    if (shape.size() < axis_from_end) break;
    std::string v = shape[shape.size() - axis_from_end].ToString();
    if (values.empty() || values.back() != v) values.push_back(v);
    // Step to the node feeding port 0.
    size_t next = cur;
    for (size_t edge : arch.incoming[cur]) {
      if (arch.edges[edge].to.port == 0) {
        next = arch.edges[edge].from.node;
        break;
      }
    }
    if (next == cur) break;
    if (first) after = arch.nodes[next].name;
    first = false;
    cur = next;
  }
  std::reverse(values.begin(), values.end());
  std::string s = "(";
  if (values.size() > 1) {
    for (size_t i = 0; i < values.size(); ++i) s += (i ? " → " : "") + values[i];
    s += " ";
  }
  s += after.empty() ? "at the input" : "after " + after;
  return s + ")";
}

void RuleContext::Output(size_t port, Flow f) const { result->outputs.at(port) = std::move(f); }

std::string JsonText(const Value& v) { return v.ToJson().dump(); }

std::vector<std::string> SpatialNames(size_t d) {
  if (d == 1) return {"length"};
  if (d == 2) return {"height", "width"};
  if (d == 3) return {"depth", "height", "width"};
  std::vector<std::string> v;
  for (size_t i = 0; i < d; ++i) v.push_back("spatial dim " + std::to_string(i));
  return v;
}

size_t NormalizeDim(const RuleContext& ctx, int64_t dim, size_t rank, const std::string& what) {
  int64_t r = int64_t(rank);
  if (dim < -r || dim >= r) {
    ctx.Fail(what + " " + std::to_string(dim) + " is out of range for a " + std::to_string(rank) +
             "-d input (use " + std::to_string(-r) + " to " + std::to_string(r - 1) + ")");
  }
  return size_t(dim < 0 ? dim + r : dim);
}

const std::map<std::string, Rule, std::less<>>& Rules() {
  static const auto* rules = [] {
    auto* r = new std::map<std::string, Rule, std::less<>>;
    AddConvRules(*r);
    AddLayerRules(*r);
    AddBuiltinRules(*r);
    return r;
  }();
  return *rules;
}

// ---- the driver -----------------------------------------------------------

namespace {

Dim Activations(const NodeResult& r) {
  Dim total;
  std::function<void(const Flow&)> add = [&](const Flow& f) {
    if (f.tuple) {
      for (const Flow& i : f.items) add(i);
    } else {
      total = total + Product(f.shape);
    }
  };
  for (const auto& o : r.outputs) {
    if (o) add(*o);
  }
  return total;
}

}  // namespace

static ArchitectureResult AnalyzeArchitecture(const Document& doc, const Architecture& arch,
                                              const std::vector<Flow>* inputs, int depth,
                                              ShapeOracle* oracle) {
  ArchitectureResult out;
  out.nodes.resize(arch.nodes.size());
  for (size_t i = 0; i < arch.nodes.size(); ++i) {
    out.nodes[i].inputs.resize(arch.nodes[i].inputs.size());
    out.nodes[i].outputs.resize(arch.nodes[i].outputs.size());
  }
  // Input nodes, in node order, take the given flows.
  size_t next_input = 0;
  std::map<size_t, const Flow*> given;
  for (size_t i = 0; i < arch.nodes.size(); ++i) {
    if (arch.nodes[i].type != "Input") continue;
    if (inputs && next_input < inputs->size()) given[i] = &(*inputs)[next_input];
    ++next_input;
  }
  const auto& rules = Rules();
  for (size_t i : arch.topological) {
    const Node& node = arch.nodes[i];
    NodeResult& r = out.nodes[i];
    // Gather operands; a node downstream of a failure or a pending node waits.
    bool blocked = false;
    for (size_t k : arch.incoming[i]) {
      const Edge& e = arch.edges[k];
      const auto& src = out.nodes[e.from.node].outputs[e.from.port];
      if (!src) {
        blocked = true;
        break;
      }
      r.inputs[e.to.port].push_back(*src);
    }
    if (blocked) continue;
    r.analysed = true;
    try {
      RuleContext ctx(doc, arch, i, &r, out, depth, oracle);
      for (size_t p = 0; p < node.inputs.size(); ++p) {
        if (r.inputs[p].size() > 1 && !node.inputs[p].many) {
          ctx.Fail("input '" + node.inputs[p].name + "' has " + std::to_string(r.inputs[p].size()) +
                   " connections, from '" + ctx.SourceName(p, 0) + "' and '" +
                   ctx.SourceName(p, 1) + "'; merge them with a Concatenate or an Add");
        }
      }
      if (node.type == "Input" && given.count(i)) {
        // A block's use: check the flow against the declaration, bind names.
        const Flow& f = *given[i];
        const Value& decl = ctx.Param("shape");
        if (f.tuple) ctx.Fail("gets a tuple " + f.ToString() + "; a block input takes a tensor");
        if (decl.is_list()) {
          const auto& d = decl.as_list();
          bool fits = d.size() == f.shape.size();
          for (size_t k = 0; fits && k < d.size(); ++k) {
            if (d[k].is_int()) {
              fits = Dim(d[k].as_int()) == f.shape[k];
            } else if (d[k].is_string()) {
              auto [it, fresh] = out.bindings.emplace(d[k].as_string(), f.shape[k]);
              fits = fresh || it->second == f.shape[k];
            }
          }
          if (!fits) {
            ctx.Fail("is declared " + JsonText(decl) + " but gets " + f.ToString());
          }
        }
        ctx.Output(f);
      } else {
        auto rule = rules.find(node.type);
        if (rule != rules.end()) {
          rule->second(ctx);
        } else {
          std::optional<OracleAnswer> answer;
          if (oracle) answer = oracle->Ask(node, r.inputs);
          if (!answer) {
            r.pending = true;
            r.analysed = false;
            continue;
          }
          if (!answer->error.empty()) throw RuleError{answer->error};
          for (size_t p = 0; p < r.outputs.size() && p < answer->outputs.size(); ++p) {
            r.outputs[p] = answer->outputs[p];
          }
        }
      }
    } catch (const RuleError& e) {
      r.error = e.message;
      for (auto& o : r.outputs) o.reset();
      out.errors.push_back({arch.name, node.id, e.message});
      continue;
    }
    r.activations = Activations(r);
    out.parameters = out.parameters + r.parameters;
    out.macs = out.macs + r.macs;
  }
  return out;
}

ArchitectureResult AnalyzeWith(const Document& doc, const Architecture& arch,
                               const std::vector<Flow>& inputs, int depth, ShapeOracle* oracle) {
  return AnalyzeArchitecture(doc, arch, &inputs, depth, oracle);
}

Analysis Analyze(const Document& doc, ShapeOracle* oracle) {
  Analysis a;
  for (const std::string& name : doc.dependency_order) {
    a.architectures[name] =
        AnalyzeArchitecture(doc, doc.architectures.at(name), nullptr, 0, oracle);
  }
  return a;
}

// ---- JSON -----------------------------------------------------------------

namespace {

json DimJson(const Dim& d) {
  if (auto v = d.value()) return *v;
  return d.ToString();
}

json FlowJson(const Flow& f) {
  json a = json::array();
  if (f.tuple) {
    for (const Flow& i : f.items) a.push_back(FlowJson(i));
  } else {
    for (const Dim& d : f.shape) a.push_back(DimJson(d));
  }
  return a;
}

}  // namespace

json AnalysisToJson(const Document& doc, const Analysis& analysis, const std::string& code) {
  const Architecture& arch = doc.Main();
  const ArchitectureResult& main = analysis.Main(doc);
  json nodes = json::object();
  for (size_t i = 0; i < arch.nodes.size(); ++i) {
    const Node& n = arch.nodes[i];
    const NodeResult& r = main.nodes[i];
    json jn = json::object();
    json ins = json::object(), outs = json::object(), inferred = json::object();
    for (size_t p = 0; p < n.inputs.size(); ++p) {
      if (r.inputs[p].empty()) continue;
      if (n.inputs[p].many) {
        json ops = json::array();
        for (const Flow& f : r.inputs[p]) ops.push_back(FlowJson(f));
        ins[n.inputs[p].name] = std::move(ops);
      } else {
        ins[n.inputs[p].name] = FlowJson(r.inputs[p][0]);
      }
    }
    for (size_t p = 0; p < n.outputs.size(); ++p) {
      if (r.outputs[p]) outs[n.outputs[p].name] = FlowJson(*r.outputs[p]);
    }
    for (const auto& [k, v] : r.inferred) inferred[k] = DimJson(v);
    jn["inputs"] = std::move(ins);
    jn["outputs"] = std::move(outs);
    if (!inferred.empty()) jn["inferred"] = std::move(inferred);
    if (r.analysed && r.error.empty()) {
      jn["parameters"] = DimJson(r.parameters);
      jn["macs"] = DimJson(r.macs);
      jn["activations"] = DimJson(r.activations);
    }
    if (r.pending) jn["pending"] = true;
    if (!r.error.empty()) jn["error"] = r.error;
    nodes[n.id] = std::move(jn);
  }
  json errors = json::array();
  for (const NodeError& e : main.errors) {
    errors.push_back({{"architecture", e.architecture}, {"node", e.node}, {"message", e.message}});
  }
  json out = {{"ok", main.errors.empty()},
              {"main", doc.main},
              {"nodes", std::move(nodes)},
              {"errors", std::move(errors)},
              {"totals",
               {{"parameters", DimJson(main.parameters)},
                {"trainable", DimJson(main.parameters)},
                {"macs", DimJson(main.macs)}}}};
  if (!code.empty()) out["code"] = code;
  return out;
}

}  // namespace kiln::nn
