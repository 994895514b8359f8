#include "server/nn_fallback.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compute/local_backend.h"
#include "core/child_process.h"
#include "nn/catalog.h"
#include "nn/codegen.h"

namespace kiln {

namespace {

std::mutex& WorkerMutex() {
  static std::mutex mu;
  return mu;
}

// One worker run for a batch of requests; answers matched by "id".
Status RunWorker(const std::vector<nn::CachingOracle::Request>& requests, nn::CachingOracle& oracle,
                 const FallbackOptions& options) {
  std::lock_guard<std::mutex> lock(WorkerMutex());
  ChildProcessOptions o;
  std::filesystem::path path =
      options.python_path.empty() ? LocalBackend::DefaultPythonPath() : options.python_path;
  o.argv = {options.python, "-m", "kiln.nn.fallback"};
  o.env = {"PYTHONPATH=" + std::filesystem::absolute(path).string(), "PYTHONNOUSERSITE=1",
           "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
  for (const auto& r : requests) o.stdin_data += r.line + "\n";
  o.timeout = std::chrono::milliseconds(options.timeout_ms);
  o.max_output = size_t(16) << 20;
  KILN_ASSIGN_OR_RETURN(ChildProcessResult r, RunChildProcess(o));
  if (r.timed_out) {
    return Status(Code::kCancelled, "the torch fallback took longer than " +
                                        std::to_string(options.timeout_ms / 1000) + " s");
  }
  std::map<int64_t, std::string> answers;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("id") && j["id"].is_number_integer()) {
      answers[j["id"].get<int64_t>()] = line;
    }
  }
  if (answers.empty() && r.exit_code != 0) {
    std::string err = r.err.size() > 400 ? r.err.substr(r.err.size() - 400) : r.err;
    return IOError("the torch fallback did not run (exit " + std::to_string(r.exit_code) +
                   "): " + err);
  }
  for (const auto& req : requests) {
    nlohmann::json j = nlohmann::json::parse(req.line);
    auto it = answers.find(j["id"].get<int64_t>());
    oracle.Store(req, it == answers.end() ? "{}" : it->second);
  }
  return Status::Ok();
}

}  // namespace

nn::Analysis AnalyzeWithFallback(const nn::Document& doc, nn::CachingOracle& oracle,
                                 const FallbackOptions& options, std::string* note) {
  nn::Analysis a = nn::Analyze(doc, &oracle);
  for (int round = 0; round < 8; ++round) {
    auto misses = oracle.TakeMisses();
    if (misses.empty()) break;
    Status st = RunWorker(misses, oracle, options);
    if (!st.ok()) {
      if (note) *note = st.message();
      break;
    }
    a = nn::Analyze(doc, &oracle);
  }
  return a;
}

nlohmann::json AnalysisReply(const nlohmann::json& document, nn::CachingOracle& oracle,
                             const FallbackOptions& options) {
  auto doc = nn::ParseDocumentJson(document, nn::Catalog::Torch());
  if (!doc.ok()) return {{"ok", false}, {"error", doc.status().message()}};
  std::string note;
  nn::Analysis a = AnalyzeWithFallback(*doc, oracle, options, &note);
  Result<std::string> code = std::string();
  if (a.ok(*doc)) code = nn::GenerateCode(*doc, a);
  nlohmann::json out = nn::AnalysisToJson(*doc, a, code.ok() ? *code : "");
  if (!code.ok()) out["code_error"] = code.status().message();
  if (!note.empty()) out["fallback_error"] = note;
  return out;
}

}  // namespace kiln
