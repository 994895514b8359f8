// SqliteStore: the embedded default ObjectStore, one SQLite database file in
// WAL mode with synchronous=FULL, so an acknowledged Write() survives a process
// kill and a power loss (the WAL is fsynced before Write returns).
//
// Group commit: concurrent writers queue their batches; the writer at the
// front of the queue becomes the leader, applies every queued batch inside one
// SQLite transaction (each batch in its own savepoint, so a lost
// compare-and-swap rolls back only that batch) and pays one fsync for all of
// them. This is LevelDB's write-queue scheme; see docs/store.md.
//
// Several processes may open the same file (the CLI beside a running server):
// SQLite's locks serialise their transactions.
//
// Ownership: owns its SQLite connections (one writer, a pool of readers).
// Thread-safety: safe for concurrent use from any number of threads.
#pragma once

#include <memory>
#include <string>

#include "store/object_store.h"

namespace kiln {

class SqliteStore : public ObjectStore {
 public:
  struct Options {
    // The most batches one leader commits together.
    int max_group = 256;
    // false trades power-loss durability for speed (synchronous=NORMAL); tests only.
    bool sync = true;
  };

  // Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path, Options options);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  ~SqliteStore() override;

  Result<std::string> Get(const Digest& digest) override;
  Result<std::vector<std::string>> GetMany(std::span<const Digest> digests) override;
  Result<bool> Contains(const Digest& digest) override;
  Status Write(const WriteBatch& batch) override;
  Result<std::optional<Digest>> GetRef(std::string_view name) override;
  Result<std::vector<std::pair<std::string, Digest>>> ListRefs(std::string_view prefix) override;

  // Counts of Write() calls and of SQLite transactions they needed; their
  // ratio is the group-commit factor (benchmarks print it).
  uint64_t writes() const;
  uint64_t transactions() const;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
