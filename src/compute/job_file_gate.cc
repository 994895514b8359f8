#include "compute/job_file_gate.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

namespace kiln {

namespace fs = std::filesystem;

namespace {

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsPlainName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
  });
}

// Files the job itself writes: not fetched.
bool IsJobWritten(const std::string& rel) {
  return rel == "events.jsonl" || rel == "result.json" || rel.starts_with("outputs/");
}

}  // namespace

bool IsJobUploadPath(const std::string& path) {
  return path == "result.json" || (path.starts_with("outputs/") && IsPlainName(path.substr(8)));
}

Status JobFileGate::Open(const std::string& job_id, const std::string& token,
                         const fs::path& bundle) {
  Entry e;
  e.token = token;
  e.bundle = bundle;
  e.manifest.bundle = bundle.string();
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(bundle, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), bundle, ec).generic_string();
    if (ec || IsJobWritten(rel)) continue;
    e.manifest.files.push_back({rel, uint64_t(it->file_size(ec))});
  }
  if (ec) return IOError("cannot list the bundle " + bundle.string() + ": " + ec.message());
  std::ifstream in(bundle / "spec.json");
  nlohmann::json spec = nlohmann::json::parse(in, nullptr, false);
  if (!spec.is_object()) return Corruption("the bundle's spec.json does not parse");
  if (spec.contains("inputs") && spec["inputs"].is_object()) {
    for (const auto& [name, input] : spec["inputs"].items()) {
      if (!input.is_object() || !input.contains("path") || !input["path"].is_string()) continue;
      fs::path path = input["path"].get<std::string>();
      std::string base = path.filename().string();
      // The artifact store names files by their SHA-256: the machine caches them by it.
      e.manifest.inputs.push_back(
          {name, IsHex64(base) ? base : "", uint64_t(fs::file_size(path, ec))});
      e.inputs[name] = path;
    }
  }
  std::lock_guard lock(mu_);
  open_[job_id] = std::move(e);
  return Status::Ok();
}

void JobFileGate::Close(const std::string& job_id) {
  std::lock_guard lock(mu_);
  open_.erase(job_id);
}

bool JobFileGate::IsOpen(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  return open_.count(job_id) > 0;
}

Result<const JobFileGate::Entry*> JobFileGate::Find(const std::string& job_id,
                                                    std::string_view token) const {
  auto it = open_.find(job_id);
  if (it == open_.end()) return NotFound("job " + job_id + " is not running on another machine");
  const std::string& want = it->second.token;
  if (token.size() != want.size() || CRYPTO_memcmp(token.data(), want.data(), want.size()) != 0) {
    return Status(Code::kPermissionDenied, "wrong token for job " + job_id);
  }
  return &it->second;
}

Result<JobManifest> JobFileGate::Manifest(const std::string& job_id, std::string_view token) const {
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(const Entry* e, Find(job_id, token));
  return e->manifest;
}

Result<fs::path> JobFileGate::FileToSend(const std::string& job_id, std::string_view token,
                                         const std::string& path) const {
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(const Entry* e, Find(job_id, token));
  for (const JobManifest::File& f : e->manifest.files) {
    if (f.path == path) return e->bundle / path;
  }
  return NotFound("job " + job_id + " has no file '" + path + "'");
}

Result<fs::path> JobFileGate::InputToSend(const std::string& job_id, std::string_view token,
                                          const std::string& name) const {
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(const Entry* e, Find(job_id, token));
  auto it = e->inputs.find(name);
  if (it == e->inputs.end()) return NotFound("job " + job_id + " has no input '" + name + "'");
  return it->second;
}

Result<fs::path> JobFileGate::FileToReceive(const std::string& job_id, std::string_view token,
                                            const std::string& path) const {
  std::lock_guard lock(mu_);
  KILN_ASSIGN_OR_RETURN(const Entry* e, Find(job_id, token));
  if (!IsJobUploadPath(path)) {
    return InvalidArgument("a job uploads result.json or outputs/<name> (a plain name), not '" +
                           path + "'");
  }
  return e->bundle / path;
}

}  // namespace kiln
