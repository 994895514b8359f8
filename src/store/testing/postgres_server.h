// PostgresServer: a throwaway PostgreSQL server for tests. Start() runs
// initdb in a new temporary folder, starts the server with pg_ctl on a free
// loopback port (TCP on 127.0.0.1 only, its Unix socket inside the folder,
// trust authentication) and waits until it accepts connections; the
// destructor stops it (pg_ctl stop -m fast) and deletes the folder.
//
// PostgreSQL refuses to run as root, so when the test runs as root the folder
// is handed to the "postgres" user and initdb/pg_ctl run through
// `runuser -u postgres --`. The binaries come from $KILN_POSTGRES_BIN, else
// the newest /usr/lib/postgresql/<version>/bin, else $PATH.
//
// A server outlives a test process that crashes (pg_ctl detaches it); its
// folder is /tmp/kiln-pg-XXXXXX and `pg_ctl -D <folder>/data stop` ends it.
//
// Ownership: owns the server process and its folder.
// Thread-safety: Start/Shared/CreateDatabase may be called from any thread;
// one object is not meant to be destroyed while in use.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace kiln::testing {

class PostgresServer {
 public:
  static Result<std::unique_ptr<PostgresServer>> Start();
  // One server for the whole test binary, started on first use and stopped
  // when the process exits normally.
  static Result<PostgresServer*> Shared();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // libpq keyword/value conninfo for database `dbname` over TCP loopback.
  std::string Conninfo(const std::string& dbname = "postgres") const;
  // Kills the server the way a crash would (pg_ctl stop -m immediate: no
  // flush, no checkpoint) and starts it again on the same port; the restart
  // recovers from the WAL. Callers' connections break.
  Status CrashAndRestart();
  // Creates an empty database and returns its conninfo. `prefix` ([a-z0-9_])
  // gets a counter appended, so every call yields a new database.
  Result<std::string> CreateDatabase(const std::string& prefix);

 private:
  PostgresServer() = default;
  // argv for a PostgreSQL tool, run as the postgres user when we are root.
  std::vector<std::string> Command(const std::string& tool, std::vector<std::string> args) const;
  Result<int> StartOn(int port);  // pg_ctl start; its exit status
  std::string dir_, bin_;
  bool as_postgres_user_ = false;
  bool running_ = false;
  int port_ = 0;
  std::mutex mu_;
  int databases_ = 0;
};

}  // namespace kiln::testing
