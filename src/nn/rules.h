// The per-layer shape rules (internal to src/nn): a rule reads a node's
// parameters and incoming flows and fills its NodeResult, or fails with the
// sentence the user sees. Families: rules_conv.cc (convolution, pooling,
// padding, upsampling), rules_layers.cc (linear, normalization, recurrent,
// attention, element-wise, loss), rules_builtin.cc (Kiln's own types).
//
// Thread-safety: rules are pure; the registry is immutable after first use.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nn/shapes.h"

namespace kiln::nn {

// Thrown only inside a rule and caught by the driver (shapes.cc): rules are
// long chains of checks, and each check names its own failure.
struct RuleError {
  std::string message;
};

class RuleContext {
 public:
  RuleContext(const Document& doc, const Architecture& arch, size_t index, NodeResult* result,
              const ArchitectureResult& so_far, int depth, ShapeOracle* oracle)
      : doc(doc),
        arch(arch),
        node(arch.nodes[index]),
        index(index),
        result(result),
        so_far(so_far),
        depth(depth),
        oracle(oracle) {}

  const Document& doc;
  const Architecture& arch;
  const Node& node;
  size_t index;
  NodeResult* result;
  const ArchitectureResult& so_far;  // upstream nodes' results
  int depth;                         // block nesting
  ShapeOracle* oracle;               // for the nodes without a rule; may be null

  // "Conv2d 'conv1'"
  std::string Who() const;
  [[noreturn]] void Fail(const std::string& what) const;

  // The parameter as given, else the catalog default (null when neither).
  const Value& Param(std::string_view name) const;
  bool Given(std::string_view name) const;
  int64_t Int(std::string_view name) const;
  double Float(std::string_view name) const;
  bool Bool(std::string_view name) const;
  std::string Str(std::string_view name) const;  // "" when not a string
  // An int or a tuple of n ints ("kernel_size" of Conv2d: n = 2).
  std::vector<int64_t> Ints(std::string_view name, size_t n) const;
  // A tuple of ints of any length.
  std::vector<int64_t> IntList(std::string_view name) const;

  // The single tensor on input port `port` (fails when missing or a tuple).
  const std::vector<Dim>& Tensor(size_t port = 0) const;
  bool Connected(size_t port) const;
  // The name of the node feeding operand `k` of input port `port`.
  std::string SourceName(size_t port, size_t k = 0) const;

  // A dimension that must be a number for the check at hand.
  int64_t Known(const Dim& d, const std::string& what) const;
  // An automatic dimension: checks a given value against `actual`, or
  // records `actual` as inferred. `noun`: "channels", "features".
  void AutoDim(std::string_view param, const Dim& actual, const std::string& noun) const;
  // The value of a parameter that may be inferred (given or inferred).
  Dim AutoValue(std::string_view param) const;

  // "(64 → 32 → 16 after pool2)": how dim `axis` (from the end) of input
  // port 0 came to be along the chain of first inputs.
  std::string History(size_t axis_from_end) const;

  void Output(size_t port, Flow f) const;
  void Output(Flow f) const { Output(0, std::move(f)); }
};

using Rule = std::function<void(const RuleContext&)>;

// Name → rule, for the types that have one.
const std::map<std::string, Rule, std::less<>>& Rules();

void AddConvRules(std::map<std::string, Rule, std::less<>>& rules);
void AddLayerRules(std::map<std::string, Rule, std::less<>>& rules);
void AddBuiltinRules(std::map<std::string, Rule, std::less<>>& rules);

// Compact JSON of a value, for messages: [-1,100], "2x".
std::string JsonText(const Value& v);

// Names of the spatial dimensions of a d-dimensional layer: {"height", "width"}.
std::vector<std::string> SpatialNames(size_t d);
// Normalizes a possibly negative dim for a tensor of rank `rank`; fails with `ctx`.
size_t NormalizeDim(const RuleContext& ctx, int64_t dim, size_t rank, const std::string& what);

}  // namespace kiln::nn
