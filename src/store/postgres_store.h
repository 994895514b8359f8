// PostgresStore: the ObjectStore on a PostgreSQL server (libpq), for
// deployments that want the store on a database server instead of a file.
// The guarantees are those of object_store.h, unchanged:
//   - Write() runs one transaction (READ COMMITTED). Objects go in with
//     INSERT ... ON CONFLICT DO NOTHING; each ref update is a compare-and-swap
//     in SQL (UPDATE/DELETE ... WHERE digest = expected, INSERT ... ON
//     CONFLICT DO NOTHING for "must not exist"); an update that touches no
//     row lost its race: ROLLBACK, Conflict naming the ref, nothing applied.
//   - Durability is PostgreSQL's commit: every connection sets
//     synchronous_commit = on, so COMMIT returns once the WAL record is
//     flushed on the server. Concurrent commits share WAL flushes (the
//     server's own group commit), so there is no client-side commit queue.
//   - Reads verify every object's digest (Corruption on mismatch).
// Schema and the SQL of each operation: docs/store.md, "PostgreSQL".
//
// Ownership: owns a pool of libpq connections, closed on destruction.
// Thread-safety: safe for concurrent use from any number of threads. A libpq
// connection is not thread-safe, so each call borrows one connection from the
// pool for its duration (up to Options::max_connections open at once; more
// callers wait for one to come back).
#pragma once

#include <memory>
#include <string>

#include "store/object_store.h"

namespace kiln {

class PostgresStore : public ObjectStore {
 public:
  struct Options {
    // The most connections open at once (one per concurrent caller).
    int max_connections = 8;
  };

  // Connects with `conninfo` (libpq keyword/value string or postgresql://
  // URI), creates the tables if missing. A server that is down or a wrong
  // conninfo gives IOError naming the connection (without its password) and
  // libpq's message.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo, Options options);
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo) {
    return Open(conninfo, Options());
  }
  ~PostgresStore() override;

  Result<std::string> Get(const Digest& digest) override;
  Result<std::vector<std::string>> GetMany(std::span<const Digest> digests) override;
  Result<bool> Contains(const Digest& digest) override;
  Status Write(const WriteBatch& batch) override;
  Result<std::optional<Digest>> GetRef(std::string_view name) override;
  Result<std::vector<std::pair<std::string, Digest>>> ListRefs(std::string_view prefix) override;

  struct Impl;

 private:
  explicit PostgresStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
