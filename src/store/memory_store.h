// MemoryStore: an ObjectStore held in memory, for tests and benchmarks.
// Nothing survives the process. CorruptForTest() lets tests damage an object
// to check that readers report corruption.
//
// Ownership: owns copies of every object and ref.
// Thread-safety: safe for concurrent use (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <unordered_map>

#include "store/object_store.h"

namespace kiln {

class MemoryStore : public ObjectStore {
 public:
  Result<std::string> Get(const Digest& digest) override;
  Result<std::vector<std::string>> GetMany(std::span<const Digest> digests) override;
  Result<bool> Contains(const Digest& digest) override;
  Status Write(const WriteBatch& batch) override;
  Result<std::optional<Digest>> GetRef(std::string_view name) override;
  Result<std::vector<std::pair<std::string, Digest>>> ListRefs(std::string_view prefix) override;

  size_t object_count() const;
  // Replaces the stored bytes of `digest` without changing its key.
  void CorruptForTest(const Digest& digest, std::string bytes);

 private:
  mutable std::mutex mu_;
  std::unordered_map<Digest, std::string> objects_;
  std::map<std::string, Digest, std::less<>> refs_;
};

}  // namespace kiln
