// Serve: `kiln serve` — wires the store, repository, access, hub, REST API
// and HTTP server together on a data folder, seeds the example projects into
// a fresh store, and runs until SIGINT/SIGTERM, then shuts down cleanly
// (requests in flight finish; every acknowledged write is already durable).
//
// Thread-safety: call from main, once.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "server/http_server.h"

namespace kiln {

struct ServeOptions {
  std::string data_dir;      // holds kiln.db
  std::string examples_dir;  // examples/<name>/project.json seeded when the store is new
  bool force_auth = false;   // require sign-in even on loopback
  int compute_slots = 0;     // jobs at once on local compute; 0 = the number of cores
  // Light workers (for jobs that import only the standard library and these
  // modules) and what they preload; 0 workers = every job forks from a
  // torch-loaded one.
  int light_workers = 1;
  std::string light_preload;
  // Largest artifact an upload may add (0 = no limit but free disk).
  uint64_t max_artifact_bytes = 0;
  // Every job's limits unless its operation sets its own (job_memory_mb,
  // job_timeout_s). Memory 0 = the default share: the machine's memory
  // divided among the compute slots (DefaultJobMemoryBytes). Timeout 0 =
  // none. Log: what one job's console may add to runs.db.
  uint64_t job_memory_mb = 0;
  double job_timeout_s = 0;
  uint64_t job_log_mb = 256;
  ServerOptions server;
  // The config file (docs/compute.md): compute backends and routing; "" = one
  // local backend.
  std::string config_path;
};

// The default data folder: $KILN_DATA, else ~/.local/share/kiln.
std::string DefaultDataDir();

Status Serve(const ServeOptions& options);

// A job's default memory limit: physical memory / slots, at least 1 GiB.
// It is what the job may add to its worker's address space (the worker's
// own, ~1–2 GB with torch mapped, is not counted; docs/execution.md).
uint64_t DefaultJobMemoryBytes(size_t slots);

// Creates each example project that does not exist yet from
// examples_dir/<name>/project.json (a patch, docs/patches.md). Returns the
// names created.
class Repository;
Result<std::vector<std::string>> SeedExamples(Repository& repo, const std::string& examples_dir);

// Puts every file of examples_dir/<name>/data/ into the artifact store (by
// digest, so again costs a hash) and grants it to project <name>: the
// examples' Inputs name them. Returns how many files there were.
class ArtifactStore;
class RunsStore;
Result<size_t> SeedExampleData(ArtifactStore& artifacts, RunsStore& runs,
                               const std::string& examples_dir);

// The object store the config names ([database]): PostgreSQL, else
// <data_dir>/kiln.db. The server and the CLI's data commands open it alike.
class ObjectStore;
struct DatabaseConfig;
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const DatabaseConfig& database,
                                                     const std::string& data_dir);
// The runs store the config names ([database]): the same PostgreSQL
// database, else <data_dir>/runs.db.
Result<std::unique_ptr<RunsStore>> OpenRunsStore(const DatabaseConfig& database,
                                                 const std::string& data_dir);
// This server's name among several sharing one database: kept in
// <data_dir>/server-id ("<host>-<8 hex>"), made on first start.
Result<std::string> LoadOrCreateServerId(const std::string& data_dir);
// The artifact backends the config names ([storage] the default, then each
// [storage.NAME]; docs/storage.md): S3 buckets or local folders (the
// default's <data_dir>/artifacts, another's <data_dir>/storage/<name>),
// together as one StorageSet.
// A stored credential one names (credentials = …) is opened with
// `credentials` (null: such a config is refused).
struct ServerConfig;
struct StorageConfig;
class Credentials;
class StorageSet;
Result<std::unique_ptr<StorageSet>> OpenArtifactStore(const ServerConfig& config,
                                                      const std::string& data_dir,
                                                      Credentials* credentials);
// One of them (`is_default`: the [storage] one, whose folder is <data_dir>/artifacts).
Result<std::unique_ptr<ArtifactStore>> OpenStorageBackend(const StorageConfig& storage,
                                                          const std::string& data_dir,
                                                          Credentials* credentials,
                                                          bool is_default);
// Where the key that seals stored credentials is: $KILN_CREDENTIALS_KEY,
// else <data_dir>/credentials.key (docs/access.md, "Stored credentials").
std::string CredentialsKeyPath(const std::string& data_dir);

}  // namespace kiln
