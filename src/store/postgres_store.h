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

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

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

// "host=127.0.0.1 port=5432 dbname=kiln user=kiln": the connection as the
// conninfo names it, never its password (for error messages).
std::string DescribePostgresConninfo(const std::string& conninfo);

// PostgresListener: LISTENs on one channel and hands each notice's payload
// to `on_notice`. A notice arrives when the transaction that sent it
// commits, whichever process sent it.
//
// Ownership: owns its connection and thread. Thread-safety: `on_notice`
// runs on the listener's thread, one call at a time; destroying the
// listener stops it, and no call begins or runs after the destructor
// returns. After a lost connection it reconnects every second; notices sent
// meanwhile are lost (a listener learns of the next one).
class PostgresListener {
 public:
  static Result<std::unique_ptr<PostgresListener>> Start(
      const std::string& conninfo, const std::string& channel,
      std::function<void(const std::string& payload)> on_notice);
  ~PostgresListener();

 private:
  PostgresListener() = default;
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// PostgresRefWatcher: tells this process of every ref another process (or
// this one) moved on the database: Write sends NOTIFY kiln_refs "<ref>
// <digest hex | ->" in its transaction, so a notice arrives exactly when a
// change is committed. Several Kiln servers on one database use it to
// broadcast each other's commits (docs/store.md, "Several servers").
// Ownership and thread-safety: those of PostgresListener.
class PostgresRefWatcher {
 public:
  static Result<std::unique_ptr<PostgresRefWatcher>> Start(
      const std::string& conninfo,
      std::function<void(const std::string& ref, std::optional<Digest> digest)> on_change);

 private:
  PostgresRefWatcher() = default;
  std::unique_ptr<PostgresListener> listener_;
};

}  // namespace kiln
