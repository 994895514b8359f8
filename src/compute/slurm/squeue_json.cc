#include "compute/slurm/squeue_json.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

namespace kiln {

namespace {

// Slurm writes some numbers plainly and, in newer releases, as
// {"set": true, "infinite": false, "number": N}; NO_VAL (0xfffffffe) and
// unset mean "none".
std::optional<int64_t> Number(const nlohmann::json& v) {
  if (v.is_number_integer()) {
    int64_t n = v.get<int64_t>();
    if (n == 0xfffffffe || n == 0xffffffff || n < 0) return std::nullopt;
    return n;
  }
  if (v.is_object()) {
    if (v.contains("set") && v["set"].is_boolean() && !v["set"].get<bool>()) return std::nullopt;
    if (v.contains("number")) return Number(v["number"]);
  }
  return std::nullopt;
}

std::string Text(const nlohmann::json& job, const char* key) {
  auto it = job.find(key);
  if (it == job.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  // Newer Slurm: job_state is a list of flags, the first the state.
  if (it->is_array() && !it->empty() && (*it)[0].is_string()) return (*it)[0].get<std::string>();
  return "";
}

void ReadExit(const nlohmann::json& job, SlurmJobStatus& s) {
  auto it = job.find("exit_code");
  if (it == job.end()) return;
  if (it->is_number_integer()) {
    // 22.05 writes the batch script's wait() status.
    int raw = it->get<int>();
    if (raw > 255) {
      s.exit_code = (raw >> 8) & 0xff;
      s.exit_signal = raw & 0x7f;
    } else {
      s.exit_code = raw;
    }
  } else if (it->is_object()) {
    if (auto rc = it->find("return_code"); rc != it->end())
      s.exit_code = int(Number(*rc).value_or(0));
    if (auto sig = it->find("signal"); sig != it->end() && sig->is_object()) {
      if (auto id = sig->find("id"); id != sig->end()) s.exit_signal = int(Number(*id).value_or(0));
    }
  }
}

}  // namespace

Result<std::vector<int64_t>> ExpandArrayTasks(std::string_view spec, size_t limit) {
  std::vector<int64_t> out;
  if (auto pct = spec.find('%'); pct != std::string_view::npos) spec = spec.substr(0, pct);
  auto number = [&](std::string_view text) -> std::optional<int64_t> {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n < 0) return std::nullopt;
    return n;
  };
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view part = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    size_t colon = part.find(':');  // "0-15:4": a step
    int64_t step = 1;
    if (colon != std::string_view::npos) {
      auto s = number(part.substr(colon + 1));
      if (!s || *s == 0)
        return InvalidArgument("bad array task step in '" + std::string(part) + "'");
      step = *s;
      part = part.substr(0, colon);
    }
    size_t dash = part.find('-');
    auto lo = number(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : number(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      return InvalidArgument("bad array task range '" + std::string(part) + "'");
    }
    if (size_t((*hi - *lo) / step) + out.size() >= limit) {
      return InvalidArgument("array task range '" + std::string(part) + "' is too large");
    }
    for (int64_t k = 0, n = (*hi - *lo) / step; k <= n; ++k) out.push_back(*lo + k * step);
  }
  return out;
}

static Result<std::map<std::string, SlurmJobStatus>> Parse(std::string_view json,
                                                           std::string_view name);

Result<std::map<std::string, SlurmJobStatus>> ParseSqueueJson(std::string_view json,
                                                              std::string_view name) {
  // Fields of unexpected types (another Slurm version) are an error, not a crash.
  try {
    return Parse(json, name);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("squeue --json printed an unexpected document: ") +
                           e.what());
  }
}

static Result<std::map<std::string, SlurmJobStatus>> Parse(std::string_view json,
                                                           std::string_view name) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("jobs") || !doc["jobs"].is_array()) {
    return InvalidArgument("squeue --json printed something that is not its job list");
  }
  // With the controller down, squeue exits 0 with errors and no jobs: that
  // says nothing about the jobs (they must not look gone).
  if (doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty()) {
    std::string what = "squeue: ";
    const auto& first = doc["errors"][0];
    if (first.is_object()) {
      what += first.value("description", std::string()) + " " + first.value("error", std::string());
    } else {
      what += first.dump();
    }
    return Unavailable(what);
  }
  std::map<std::string, SlurmJobStatus> out;
  for (const nlohmann::json& job : doc["jobs"]) {
    if (!job.is_object() || Text(job, "name") != name) continue;
    auto job_id = Number(job.value("job_id", nlohmann::json()));
    if (!job_id) continue;
    SlurmJobStatus s;
    s.state = Text(job, "job_state");
    s.reason = Text(job, "state_reason");
    s.nodes = Text(job, "nodes");
    ReadExit(job, s);
    auto array_job = Number(job.value("array_job_id", nlohmann::json()));
    auto task = Number(job.value("array_task_id", nlohmann::json()));
    std::string tasks = Text(job, "array_task_string");
    if (array_job && *array_job != 0 && task) {
      s.id = std::to_string(*array_job) + "_" + std::to_string(*task);
      out[s.id] = s;
    } else if (array_job && *array_job != 0 && !tasks.empty()) {
      // A pending array's tasks, listed as one record.
      KILN_ASSIGN_OR_RETURN(auto ids, ExpandArrayTasks(tasks));
      for (int64_t t : ids) {
        s.id = std::to_string(*array_job) + "_" + std::to_string(t);
        out[s.id] = s;
      }
    } else {
      s.id = std::to_string(*job_id);
      out[s.id] = s;
    }
  }
  return out;
}

}  // namespace kiln
