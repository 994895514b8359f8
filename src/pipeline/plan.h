// Plan: what running a pipeline at one commit means — one job per operation
// instance in the pipeline, the edges between them (from connections:
// output port → input port), each job's code bundle contents, and the parts
// of its cache key that the model decides. CompilePipeline builds it from a
// Tree; the scheduler runs it.
//
// How the model says it (docs/execution.md, "Plan"):
//   - an Operation *definition* is a node deriving from META/Operation whose
//     attribute "code" holds the Python source; pipelines hold *instances*
//     deriving from a definition; an instance's attributes are its
//     EffectiveAttrs minus the reserved names (kReservedAttributes);
//   - its ports are its children that are Ports, direction "input"/"output",
//     in child order, named by their "name";
//   - a definition with attribute "kind": "input" is an Input operation: it
//     runs no code, its one output is the artifact whose digest (hex) is its
//     attribute "artifact", loaded with attribute "serializer";
//     "kind": "output" is an Output operation: it runs no code, and each of
//     its inputs becomes an Artifact of the project named by its "name";
//   - pointers of an instance (other than to nothing) are references to
//     resources (an Architecture…): a ResourceCodeGenerator turns them into
//     code shipped in the bundle; all of it enters the cache key.
//
// Ownership: value types; CompilePipeline borrows the tree for the call.
// Thread-safety: values; CompilePipeline only reads the tree.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/job_resources.h"
#include "core/status.h"
#include "core/value.h"
#include "model/tree.h"

namespace kiln {

enum class OperationKind { kOperation, kInput, kOutput };
const char* OperationKindName(OperationKind kind);

// Attribute names that configure Kiln, never passed to the operation's
// constructor: name, code, kind, description, artifact, serializer.
const std::set<std::string, std::less<>>& ReservedAttributes();

// Code generated for a resource an operation references.
struct GeneratedCode {
  std::map<std::string, std::string> files;  // bundle-relative path → content
  // What the operation receives for the reference: the class `entry_class`
  // of the module file `entry_file` (docs/job-protocol.md, "resources");
  // empty when the resource is only files.
  std::string entry_file;
  std::string entry_class;
};

// Turns a referenced resource (an Architecture node…) into code. The nn
// library implements it; without one, a resource enters the cache key by
// the digest of its subtree (any edit to it re-runs the job) and ships no code.
class ResourceCodeGenerator {
 public:
  virtual ~ResourceCodeGenerator() = default;
  // nullopt when this generator does not handle such nodes.
  virtual Result<std::optional<GeneratedCode>> Generate(const NodeRef& resource) = 0;
};

struct PlanResource {
  std::string pointer;  // the pointer's name on the instance
  std::string node;     // the target's guid
  Digest subtree;       // the digest of the target's node object (covers its subtree)
  std::optional<GeneratedCode> code;
};

struct PlanJob {
  std::string node;        // the instance's guid
  std::string name;        // its name (or its guid when unnamed)
  std::string definition;  // guid of the node its code comes from
  OperationKind kind = OperationKind::kOperation;
  std::string code;
  // The project's Python packages (pip requirement lines, the root node's
  // attribute "requirements"; docs/python-packages.md); empty: none. Enters
  // the cache key when not empty. Operations only.
  std::string requirements;
  Value::Map attributes;             // constructor keyword arguments
  std::vector<std::string> inputs;   // input port names, in child order
  std::vector<std::string> outputs;  // output port names, in child order
  // "input/<name>" / "output/<name>" → the port's dataType ("any" when unset);
  // for provenance (reify recreates ports), not in the cache key.
  std::map<std::string, std::string> port_types;
  std::vector<PlanResource> resources;
  // kInput: the artifact it provides and how it loads.
  std::optional<Digest> artifact;
  std::string serializer;
  // Per-operation limits (the reserved attributes job_memory_mb and
  // job_timeout_s), over the execution's defaults; not in the cache key.
  std::optional<uint64_t> memory_bytes;
  std::optional<double> timeout_s;
  // What else it asks of where it runs (job_cpus, job_gpus, job_gpu_type,
  // job_partition, job_backend; docs/compute.md); not in the cache key.
  JobResources asks;
};

struct PlanEdge {
  size_t from = 0;
  std::string output;
  size_t to = 0;
  std::string input;
};

struct Plan {
  std::string pipeline;  // guid
  std::string name;
  std::vector<PlanJob> jobs;  // in the pipeline's child order
  std::vector<PlanEdge> edges;
};

// Compiles the pipeline `pipeline_guid` of `tree`. NotFound when there is no
// such node, InvalidArgument when it is not a Pipeline, FailedPrecondition
// naming the node when the pipeline cannot run (an operation without code,
// an Input without a valid artifact, an unconnected or doubly connected input).
Result<Plan> CompilePipeline(const Tree& tree, std::string_view pipeline_guid,
                             ResourceCodeGenerator* generator);

// Attribute values over the pipeline's, by instance guid (docs/sweeps.md).
using AttributeOverrides = std::map<std::string, Value::Map>;

// Sets the overridden attributes on the plan's jobs. InvalidArgument naming
// the problem: a guid that is no operation of the plan, a reserved
// attribute, an attribute the operation does not have.
Status ApplyOverrides(Plan& plan, const AttributeOverrides& overrides);
// {"guid": {"attr": value}} and back (InvalidArgument on a malformed text).
std::string OverridesToJson(const AttributeOverrides& overrides);
Result<AttributeOverrides> OverridesFromJson(std::string_view text);

// What the job's results depend on besides the model: the interpreter and
// libraries it runs with.
struct RuntimeFingerprint {
  std::string python;  // "3.11.2"
  std::string torch;   // "1.13.0", or "none"
  std::string kiln;    // this build's version
};

// Runs `python -c ...` once per python path and caches the answer (torch's
// import takes ~1.5 s: call it at start-up, not per execution).
Result<RuntimeFingerprint> ProbeRuntime(const std::string& python = "/usr/bin/python3");

// SHA-256 over the canonical encoding (docs/formats.md) of the job's code,
// attributes, resources, input digests, output names and runtime
// (docs/execution.md, "Cache key"). `inputs`: input name → digest of the
// artifact that feeds it.
Digest CacheKey(const PlanJob& job, const std::map<std::string, Digest>& inputs,
                const RuntimeFingerprint& runtime);

// JSON snapshot of the operation for provenance (docs/provenance.md): node,
// definition, name, kind, code, attributes, inputs, outputs, port_types,
// resources with their generated code, requirements when set.
std::string OperationSnapshot(const PlanJob& job);

}  // namespace kiln
