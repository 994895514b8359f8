// Job bundles: the folder a compute backend runs (docs/job-protocol.md,
// "Bundle"; layout in docs/execution.md, "Bundle"). WriteBundle lays one out
// for a planned job; ReadResult reads back what the job wrote.
//
// Ownership: the caller owns the folder. Thread-safety: reentrant.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/digest.h"
#include "core/status.h"
#include "pipeline/plan.h"

namespace kiln {

struct BundleInput {
  std::filesystem::path path;  // a readable file (the artifact store's own, for a local store)
  std::string serializer;
};

// Creates `dir` (which must not exist) with spec.json, operation.py, the
// generated resource files and an empty outputs/ folder. The events file is
// events.jsonl, the result result.json.
Status WriteBundle(const std::filesystem::path& dir, const std::string& job_id, const PlanJob& job,
                   const std::map<std::string, BundleInput>& inputs,
                   const std::map<std::string, std::string>& env);

struct ResultOutput {
  std::filesystem::path path;
  std::string serializer;
  std::optional<Digest> sha256;
  uint64_t size = 0;
};

// result.json as the job wrote it.
struct JobResult {
  std::string status;  // succeeded, failed, cancelled
  int exit_code = 0;
  std::map<std::string, ResultOutput> outputs;
  std::string error_type, error_message, error_traceback;
  std::string error_file;
  int error_line = 0;
  double execute_s = 0;
};

// NotFound when the job wrote no result (it was killed); Corruption when it
// does not parse.
Result<JobResult> ReadResult(const std::filesystem::path& bundle_dir);

}  // namespace kiln
