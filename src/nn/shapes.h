// Shape inference for architecture documents: what flows on every edge,
// the dimensions left to be inferred, parameter counts, multiply-adds, and
// an error on the first node that breaks, with the arithmetic
// (docs/nn.md, "Shapes", "Automatic dimensions", "The analysis").
//
// Per-layer rules live in rules_*.cc (one function per layer family, pinned
// to the installed torch's behaviour and checked against it by
// python/tests/test_nn_agreement.py); a node whose type has no rule (a
// Custom layer, a rare torch layer) is left `pending` for the torch fallback
// (python/kiln/nn/fallback.py) and its downstream gets no shapes.
//
// Ownership: Analyze returns values that refer to nothing. Thread-safety:
// pure functions.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nn/dim.h"
#include "nn/document.h"

namespace kiln::nn {

// What travels on an edge: a tensor's shape, or a tuple of flows.
struct Flow {
  bool tuple = false;
  std::vector<Dim> shape;
  std::vector<Flow> items;

  static Flow Tensor(std::vector<Dim> shape) { return Flow{false, std::move(shape), {}}; }
  static Flow Tuple(std::vector<Flow> items) { return Flow{true, {}, std::move(items)}; }
  std::string ToString() const;
  friend bool operator==(const Flow& a, const Flow& b) {
    return a.tuple == b.tuple && a.shape == b.shape && a.items == b.items;
  }
};

struct NodeResult {
  bool analysed = false;                     // the rule ran (with or without an error)
  bool pending = false;                      // no rule: the torch fallback decides
  std::vector<std::vector<Flow>> inputs;     // per input port: its operands
  std::vector<std::optional<Flow>> outputs;  // per output port
  std::map<std::string, Dim> inferred;       // automatic dimensions the node got
  Dim parameters;                            // trainable parameter count
  Dim macs;                                  // multiply-accumulates
  Dim activations;                           // output elements
  std::string error;                         // empty: none
  // Block nodes: the binding of the block's symbolic Input dimensions, per copy.
  std::vector<std::map<std::string, Dim>> bindings;
};

// Answers for nodes that have no rule (Custom code, rare torch layers): the
// torch fallback behind a cache (oracle.h). Called on the analysing thread.
struct OracleAnswer {
  std::vector<std::optional<Flow>> outputs;  // per output port
  std::string error;                         // non-empty: the node raised
};

class ShapeOracle {
 public:
  virtual ~ShapeOracle() = default;
  // nullopt: no answer (yet); the node stays pending.
  virtual std::optional<OracleAnswer> Ask(const Node& node,
                                          const std::vector<std::vector<Flow>>& inputs) = 0;
};

struct NodeError {
  std::string architecture;
  std::string node;  // the node's id
  std::string message;
};

struct ArchitectureResult {
  std::vector<NodeResult> nodes;  // by node index
  std::vector<NodeError> errors;
  std::map<std::string, Dim> bindings;  // Input symbols bound by a use (empty standalone)
  Dim parameters;
  Dim macs;
};

struct Analysis {
  // Each architecture on its own, from its declared Input shapes; main's is
  // the answer, the blocks' feed code generation.
  std::map<std::string, ArchitectureResult> architectures;
  const ArchitectureResult& Main(const Document& doc) const { return architectures.at(doc.main); }
  bool ok(const Document& doc) const { return Main(doc).errors.empty(); }
};

// `oracle` (may be null) answers for the nodes without a rule.
Analysis Analyze(const Document& doc, ShapeOracle* oracle = nullptr);

// Analyses `arch` fed with `inputs` (one flow per Input node, in node order)
// instead of the declared shapes: a Block's use.
ArchitectureResult AnalyzeWith(const Document& doc, const Architecture& arch,
                               const std::vector<Flow>& inputs, int depth, ShapeOracle* oracle);

// The analysis as JSON (docs/nn.md, "The analysis"); `code` is added when not empty.
nlohmann::json AnalysisToJson(const Document& doc, const Analysis& analysis,
                              const std::string& code);

}  // namespace kiln::nn
