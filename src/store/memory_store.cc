#include "store/memory_store.h"

namespace kiln {

Result<std::string> MemoryStore::Get(const Digest& digest) {
  std::string bytes;
  {
    std::lock_guard lock(mu_);
    auto it = objects_.find(digest);
    if (it == objects_.end()) return NotFound("no object " + digest.Hex());
    bytes = it->second;
  }
  if (Digest::Of(bytes) != digest)
    return Corruption("object " + digest.Hex() + " does not match its digest");
  return bytes;
}

Result<std::vector<std::string>> MemoryStore::GetMany(std::span<const Digest> digests) {
  std::vector<std::string> out;
  out.reserve(digests.size());
  {
    // One lock for the lot; digests are checked after it is released.
    std::lock_guard lock(mu_);
    for (const Digest& d : digests) {
      auto it = objects_.find(d);
      if (it == objects_.end()) return NotFound("no object " + d.Hex());
      out.push_back(it->second);
    }
  }
  for (size_t i = 0; i < digests.size(); ++i) {
    if (Digest::Of(out[i]) != digests[i]) {
      return Corruption("object " + digests[i].Hex() + " does not match its digest");
    }
  }
  return out;
}

Result<bool> MemoryStore::Contains(const Digest& digest) {
  std::lock_guard lock(mu_);
  return objects_.count(digest) > 0;
}

Status MemoryStore::Write(const WriteBatch& batch) {
  for (const RefUpdate& u : batch.refs()) KILN_RETURN_IF_ERROR(ValidateRefName(u.name));
  std::lock_guard lock(mu_);
  // Check every compare-and-swap first so that a lost one applies nothing.
  // Updates later in the batch see the effect of earlier ones.
  std::map<std::string, std::optional<Digest>, std::less<>> staged;
  for (const RefUpdate& u : batch.refs()) {
    std::optional<Digest> current;
    if (auto s = staged.find(u.name); s != staged.end()) {
      current = s->second;
    } else if (auto it = refs_.find(u.name); it != refs_.end()) {
      current = it->second;
    }
    if (!u.force && current != u.expected) {
      return Conflict("ref '" + u.name + "' moved: expected " +
                      (u.expected ? u.expected->Hex() : "absent") + ", found " +
                      (current ? current->Hex() : "absent"));
    }
    staged[u.name] = u.desired;
  }
  for (const auto& [d, bytes] : batch.objects()) objects_.try_emplace(d, bytes);
  for (const auto& [name, value] : staged) {
    if (value) {
      refs_[name] = *value;
    } else {
      refs_.erase(name);
    }
  }
  return Status::Ok();
}

Result<std::optional<Digest>> MemoryStore::GetRef(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = refs_.find(name);
  if (it == refs_.end()) return std::optional<Digest>();
  return std::optional<Digest>(it->second);
}

Result<std::vector<std::pair<std::string, Digest>>> MemoryStore::ListRefs(std::string_view prefix) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, Digest>> out;
  for (auto it = refs_.lower_bound(prefix); it != refs_.end() && it->first.starts_with(prefix);
       ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

size_t MemoryStore::object_count() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

void MemoryStore::CorruptForTest(const Digest& digest, std::string bytes) {
  std::lock_guard lock(mu_);
  objects_[digest] = std::move(bytes);
}

}  // namespace kiln
