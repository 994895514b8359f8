// Records of the runs store: executions, jobs, events, action-cache entries
// and provenance, as plain values, with the names of their states.
//
// These are what the runs store keeps (runs_store.h), what the driver hands
// to listeners, and what the server turns into JSON. None of it is part of
// the versioned model: an execution refers to the commit it ran by digest.
//
// Ownership: value types. Thread-safety: values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/status.h"

namespace kiln {

// A job's life: pending (waiting for inputs) → queued (ready, waiting for a
// slot) → running → succeeded | failed | cancelled; or straight to cached (a
// cache hit) or skipped (an upstream job failed or was cancelled).
enum class JobState {
  kPending,
  kQueued,
  kRunning,
  kSucceeded,
  kCached,
  kFailed,
  kSkipped,
  kCancelled,
};
const char* JobStateName(JobState state);
Result<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);
// Succeeded or cached: its outputs exist.
inline bool IsDone(JobState s) { return s == JobState::kSucceeded || s == JobState::kCached; }

enum class ExecutionState { kRunning, kSucceeded, kFailed, kCancelled };
const char* ExecutionStateName(ExecutionState state);
Result<ExecutionState> ParseExecutionState(std::string_view name);

struct ExecutionRecord {
  std::string id;
  std::string project;
  std::string pipeline;  // guid of the pipeline node
  Digest commit;         // the commit it ran (tagged run/<id>)
  std::string ref;       // what the user asked for: a branch, tag or digest
  std::string branch;    // the branch artifacts are committed to; "" when ref is not a branch
  std::string user;
  ExecutionState state = ExecutionState::kRunning;
  std::string reason;  // why it failed or was cancelled
  bool force = false;
  int64_t created_ms = 0;
  int64_t finished_ms = 0;          // 0 while running
  std::optional<Digest> artifacts;  // the commit that recorded its artifacts, if any
  // Attribute values over the pipeline's (instance guid → attribute →
  // value), as JSON text {"guid": {"attr": value}}; "{}" when none
  // (docs/sweeps.md). They enter the jobs' attributes, so cache keys and
  // provenance see them.
  std::string overrides{"{}"};
  std::string sweep{};       // the sweep it is a trial of; "" when none
  int64_t sweep_trial = -1;  // its index in the sweep
  std::string backend;       // the backend asked for ("" = the default; docs/compute.md)
  // The server that drives it, the only one that runs, resumes or fails its
  // jobs (docs/execution.md, "Several servers"); "" = made before servers
  // had names.
  std::string server;
};

// One output of a job as stored: its artifact and how to load it.
struct OutputRef {
  Digest digest;
  std::string serializer;
  uint64_t size = 0;
  bool operator==(const OutputRef&) const = default;
};
using Outputs = std::map<std::string, OutputRef>;

struct JobRecord {
  std::string id;
  std::string execution;
  std::string node;  // guid of the operation instance in the pipeline
  std::string name;  // its name, for display
  JobState state = JobState::kPending;
  std::string reason;               // failure, skip or cancel reason; "" otherwise
  std::optional<Digest> cache_key;  // known once its inputs are
  int64_t queued_ms = 0, started_ms = 0, finished_ms = 0;  // 0 = not yet
  std::optional<int> exit_code;
  Outputs outputs;
  // Where it ran (docs/compute.md): the backend's name, the host, and the
  // backend's own id of it ("1234_7" for a Slurm array task); "" unknown.
  std::string backend, host, backend_job;
};

// What happened inside a job or to it. kind: "state", "log", "metric",
// "progress", "figure". payload: the JSON object (the job's own event as
// docs/job-protocol.md writes it, or the driver's {"state","reason"}).
struct EventRecord {
  std::string job;
  int64_t seq = 0;  // 1, 2, 3… per job, assigned by the runs store
  double time = 0;  // Unix seconds
  std::string kind;
  std::string name;  // metric name, figure number; "" otherwise
  std::string payload;
};

// Whether a server other than `server_id` drives the execution while it
// runs: only that one can stop its jobs, and this one learns of its changes
// from the store (docs/execution.md, "Several servers"). False when either
// has no name (one server, or records from before servers had names).
inline bool DrivenByAnotherServer(const ExecutionRecord& e, const std::string& server_id) {
  return e.state == ExecutionState::kRunning && !e.server.empty() && !server_id.empty() &&
         e.server != server_id;
}

// A cancel asked of a server by another (several servers on one runs
// store): only the server that drives an execution can stop its jobs, so
// the one the user asked leaves the request for it (docs/execution.md,
// "Several servers").
struct CancelRequest {
  std::string target;  // the execution's or the job's id
  std::string kind;    // "execution" or "job"
  std::string server;  // the server that drives it
  std::string user;    // who asked
  int64_t created_ms = 0;
};

// A sweep (docs/sweeps.md): one pipeline run with several sets of attribute
// values; its trials are the executions that name it.
struct SweepRecord {
  std::string id;
  std::string project;
  std::string pipeline;
  std::string ref;
  Digest commit;
  std::string user;
  std::string spec;  // JSON: {"parameters": [...], "mode", "samples"?, "seed"?}
  int64_t created_ms = 0;
};

struct MetricPoint {
  int64_t step = 0;
  double value = 0;  // NaN and ±inf as the job sent them
  double time = 0;
};

struct CacheEntry {
  Digest key;
  Outputs outputs;
  std::string job;  // the job that produced them
  int64_t created_ms = 0;
};

// How an artifact was made (docs/provenance.md): written once, when the job's
// outputs are safely stored, never changed. One per (artifact, job, output).
struct ProvenanceRecord {
  Digest artifact;
  std::string output;  // the output's name
  std::string job;
  std::string execution;
  // The operation snapshot (JSON: node, definition, name, kind, code,
  // attributes, ports, resources with their generated code). Stored once per
  // distinct snapshot (table operation_snapshots); empty where a query says
  // it leaves it out, `operation_digest` still names it.
  std::string operation;
  std::map<std::string, Digest> inputs;
  int64_t created_ms = 0;
  std::string project{};
  std::string runtime{};  // JSON {"python","torch","kiln","backend","host"}; "{}" when unknown
  int64_t started_ms = 0;
  // A cache hit: the job whose cache entry gave these bytes; "" otherwise.
  std::string cached_from{};
  Digest operation_digest{};  // SHA-256 of `operation` (set by the store)
};

// A producing job of an artifact with what the lineage shows of it: the
// record and the job's and execution's fields (one query, joined).
struct Producer {
  ProvenanceRecord record;
  std::string job_name;
  std::string node;
  std::string state;
  std::string pipeline;
  Digest commit;
  std::string user;  // who ran the execution
  int64_t finished_ms = 0;
  Outputs outputs;  // every output of the job, with serializers and sizes
};
// That a project has an artifact: the only thing that lets the project read
// the artifact's bytes (docs/access.md, "Artifacts"). Equal bytes are stored
// once; which projects may read them is decided here, never by the digest.
struct ArtifactGrant {
  std::string project;
  Digest digest;
  std::string how;  // "upload", "job" (an output, cache hits too), "fork", "import"
  int64_t created_ms = 0;
  std::string user{};    // who uploaded, forked or imported it; "" for a job's output
  std::string source{};  // an upload's file name, a fork's source project; "" otherwise
};

// One job of a project's executions with the outputs it produced (or took
// from the cache), for listing the project's artifacts with their origin.
struct ProjectJobOutputs {
  std::string execution;
  std::string pipeline;
  std::string job;
  std::string job_name;
  Outputs outputs;
  int64_t finished_ms = 0;
};

}  // namespace kiln
