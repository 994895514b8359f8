#include "pipeline/bundle.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kiln {
namespace {

namespace fs = std::filesystem;

Status WriteText(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IOError("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

Status WriteBundle(const fs::path& dir, const std::string& job_id, const PlanJob& job,
                   const std::map<std::string, BundleInput>& inputs,
                   const std::map<std::string, std::string>& env) {
  std::error_code ec;
  if (!fs::create_directories(dir / "outputs", ec) || ec) {
    return IOError("cannot create the bundle " + dir.string() +
                   (ec ? ": " + ec.message() : ": it exists"));
  }
  KILN_RETURN_IF_ERROR(WriteText(dir / "operation.py", job.code));
  for (const PlanResource& r : job.resources) {
    if (!r.code) continue;
    for (const auto& [path, content] : r.code->files) {
      fs::path rel(path);
      if (rel.is_absolute() || path.find("..") != std::string::npos) {
        return InvalidArgument("generated file '" + path + "' escapes the bundle");
      }
      KILN_RETURN_IF_ERROR(WriteText(dir / rel, content));
    }
  }
  nlohmann::json in = nlohmann::json::object();
  for (const auto& [name, i] : inputs) {
    in[name] = {{"path", fs::absolute(i.path).string()}, {"serializer", i.serializer}};
  }
  nlohmann::json spec = {{"job_id", job_id},
                         {"operation_file", "operation.py"},
                         {"attributes", Value(job.attributes).ToJson()},
                         {"inputs", in},
                         {"outputs_dir", "outputs"},
                         {"events", "events.jsonl"},
                         {"result", "result.json"},
                         {"workdir", "."},
                         {"env", env}};
  if (!job.requirements.empty()) spec["requirements"] = job.requirements;
  nlohmann::json resources = nlohmann::json::object();
  for (const PlanResource& r : job.resources) {
    if (r.code && !r.code->entry_file.empty()) {
      resources[r.pointer] = {{"file", r.code->entry_file}, {"class", r.code->entry_class}};
    }
  }
  if (!resources.empty()) spec["resources"] = std::move(resources);
  return WriteText(dir / "spec.json", spec.dump(1));
}

Result<JobResult> ReadResult(const fs::path& dir) {
  std::ifstream in(dir / "result.json");
  if (!in) return NotFound("the job wrote no result.json");
  std::stringstream ss;
  ss << in.rdbuf();
  JobResult r;
  try {
    auto j = nlohmann::json::parse(ss.str());
    r.status = j.value("status", "");
    r.exit_code = j.value("exit_code", 0);
    nlohmann::json outputs = nlohmann::json::object();
    if (j.contains("outputs") && j["outputs"].is_object()) outputs = j["outputs"];
    for (const auto& [name, o] : outputs.items()) {
      ResultOutput out;
      out.path = o.value("path", "");
      if (out.path.is_relative()) out.path = dir / out.path;
      // Only the job's own outputs folder: a result.json uploaded from
      // another machine must not make the server read its other files.
      std::error_code ec;
      fs::path real = fs::weakly_canonical(out.path, ec);
      fs::path outputs = fs::weakly_canonical(dir / "outputs", ec);
      auto rel = real.lexically_relative(outputs);
      if (ec || rel.empty() || *rel.begin() == ".." || rel.is_absolute()) {
        return InvalidArgument("the result names output '" + name +
                               "' outside the job's outputs folder: " + out.path.string());
      }
      out.serializer = o.value("serializer", "");
      auto d = Digest::FromHex(o.value("sha256", ""));
      if (d.ok()) out.sha256 = *d;
      out.size = o.value("size", uint64_t{0});
      r.outputs[name] = std::move(out);
    }
    nlohmann::json err = j.contains("error") ? j["error"] : nlohmann::json();
    if (err.is_object()) {
      r.error_type = err.value("type", "");
      r.error_message = err.value("message", "");
      if (err.contains("traceback") && err["traceback"].is_string()) {
        r.error_traceback = err["traceback"].get<std::string>();
      }
      nlohmann::json loc = err.contains("location") ? err["location"] : nlohmann::json();
      if (loc.is_object()) {
        r.error_file = loc.value("file", "");
        r.error_line = loc.value("line", 0);
      }
    }
    nlohmann::json t = j.contains("timings") ? j["timings"] : nlohmann::json();
    if (t.is_object()) r.execute_s = t.value("execute_s", 0.0);
  } catch (const nlohmann::json::exception& e) {
    return Corruption(std::string("result.json does not parse: ") + e.what());
  }
  return r;
}

}  // namespace kiln
