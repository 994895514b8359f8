// ObjectStore: Kiln's storage engine interface. It holds two things and knows
// nothing of the domain:
//   - objects: immutable byte strings addressed by the SHA-256 of their bytes;
//   - refs: names ("projects/digits/heads/main") pointing at a digest, moved
//     only by compare-and-swap.
// A Write() applies a batch of new objects and ref updates atomically and
// durably: when it returns OK, the batch survives a process kill or a power
// loss; when a compare-and-swap fails, nothing of the batch is applied.
// Reads verify each object's digest; bytes that do not match are reported as
// Corruption, never returned.
//
// Backends: SqliteStore (the embedded default, sqlite_store.h), MemoryStore
// (tests, memory_store.h), PostgresStore (a PostgreSQL server, postgres_store.h).
//
// Ownership: callers own the batches they pass; returned strings are copies.
// Thread-safety: every implementation is safe for concurrent use from any
// number of threads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace kiln {

// One ref change inside a WriteBatch.
struct RefUpdate {
  std::string name;
  // The digest the ref must hold for the update to apply; nullopt means the
  // ref must not exist. Ignored when `force` is set.
  std::optional<Digest> expected;
  // The new value; nullopt deletes the ref.
  std::optional<Digest> desired;
  bool force = false;
};

// New objects and ref updates to apply together.
class WriteBatch {
 public:
  // Adds an object and returns its digest. Objects already stored are fine.
  Digest Put(std::string bytes) {
    Digest d = Digest::Of(bytes);
    objects_.emplace_back(d, std::move(bytes));
    return d;
  }
  void UpdateRef(RefUpdate update) { refs_.push_back(std::move(update)); }

  const std::vector<std::pair<Digest, std::string>>& objects() const { return objects_; }
  const std::vector<RefUpdate>& refs() const { return refs_; }
  bool empty() const { return objects_.empty() && refs_.empty(); }

 private:
  std::vector<std::pair<Digest, std::string>> objects_;
  std::vector<RefUpdate> refs_;
};

// Valid ref names: 1..255 bytes of [A-Za-z0-9._/-], no empty segment, no
// segment "." or "..", not starting or ending with '/'.
Status ValidateRefName(std::string_view name);

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // NotFound when absent, Corruption when the stored bytes do not hash to `digest`.
  virtual Result<std::string> Get(const Digest& digest) = 0;
  // The objects in the order asked; NotFound if any is absent. Backends
  // override it to fetch in bulk.
  virtual Result<std::vector<std::string>> GetMany(std::span<const Digest> digests);
  virtual Result<bool> Contains(const Digest& digest) = 0;

  // Applies the batch atomically and durably (see the file comment). A lost
  // compare-and-swap returns Conflict naming the ref, and applies nothing.
  virtual Status Write(const WriteBatch& batch) = 0;

  // nullopt when the ref does not exist.
  virtual Result<std::optional<Digest>> GetRef(std::string_view name) = 0;
  // Every ref whose name starts with `prefix`, sorted by name.
  virtual Result<std::vector<std::pair<std::string, Digest>>> ListRefs(std::string_view prefix) = 0;
};

}  // namespace kiln
