// SweepSpec: what a sweep tries (docs/sweeps.md) — parameters (an
// operation instance's attribute, with a list of values or a range), grid
// or random — and its expansion into trials, each a set of attribute
// overrides for one execution. Pure: parsing, checking against the
// pipeline's tree and expanding decide everything; the server starts the
// executions.
//
// Ownership: values. Thread-safety: values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "model/tree.h"
#include "pipeline/plan.h"

namespace kiln {

struct SweepRange {
  double min = 0, max = 0;
  int64_t steps = 0;  // grid mode: evenly spaced values (0: an error in grid mode)
  bool log = false;
  bool integer = false;
};

struct SweepParameter {
  std::string node;       // the operation instance's guid
  std::string node_name;  // its name, for display ("Train")
  std::string attribute;
  std::vector<Value> values;        // a list…
  std::optional<SweepRange> range;  // …or a range
  // "Train.learning_rate": how trials' values and the CLI name it.
  std::string Label() const { return node_name + "." + attribute; }
};

struct SweepSpec {
  std::vector<SweepParameter> parameters;
  bool random = false;
  int64_t samples = 0;  // random mode: how many trials
  uint64_t seed = 0;
};

struct SweepTrial {
  AttributeOverrides overrides;
  // Label → value, in parameter order, for the sweep's table.
  std::vector<std::pair<std::string, Value>> values;
};

constexpr size_t kMaxSweepTrials = 1000;

// Parses the request body's "parameters", "mode", "samples", "seed" and
// checks every parameter against the pipeline in `tree`: the node is an
// operation instance of the pipeline with that attribute, values have the
// attribute's type (an int attribute takes ints; a float takes any number).
// InvalidArgument naming the parameter and the problem.
Result<SweepSpec> ParseSweepSpec(const nlohmann::json& body, const Tree& tree,
                                 const std::string& pipeline);

// The trials: every combination (grid, in parameter order, the last
// varying fastest) or `samples` random draws. InvalidArgument when a grid
// would exceed kMaxSweepTrials.
Result<std::vector<SweepTrial>> ExpandSweep(const SweepSpec& spec);

// The spec as stored with the sweep and answered by the API.
nlohmann::json SweepSpecJson(const SweepSpec& spec);

}  // namespace kiln
