// ServerConfig: the server's config file (`kiln serve --config kiln.toml`,
// docs/compute.md): the compute backends it has, which pipelines and
// operations go where by default, and the URL jobs on other machines use to
// reach it. Parsing is all here (toml++ stays in config.cc); the server
// builds the backends from the result.
//
// Values in, values out; the parse functions are reentrant.
// Errors name the file, the line and the key:
//   kiln.toml:12: backends.cluster.kind: unknown backend kind 'slurmm' (local, slurm, remote)
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "compute/slurm/sbatch_plan.h"
#include "core/status.h"

namespace kiln {

struct BackendConfig {
  std::string name;
  std::string kind;  // "local" | "slurm" | "remote"
  // local
  int slots = 0;               // 0 = the number of cores
  int gpus = -1;               // -1 = detect (nvidia-smi -L), else this many GPU slots
  std::string gpu_type;        // what they are ("" = any type matches)
  uint64_t max_memory_mb = 0;  // refuse jobs asking for more (0 = no bound)
  // slurm
  SlurmSite site;                          // partition, sbatch_args, gpu_flag, python, pythonpath
  std::string shared_dir;                  // "" = the server's work folder (<data>/work)
  std::string bin_dir;                     // where sbatch/squeue/scancel are ("" = /usr/bin)
  std::map<std::string, std::string> env;  // for the Slurm commands (SLURM_CONF…)
  size_t max_jobs = 1000;
  double poll_min_s = 2, poll_max_s = 30;
  int array_window_ms = 200;
  bool arrays = true;
  double retry_for_s = 600;
  // remote (workers that connect out; max_jobs above bounds its queue too)
  double worker_timeout_s = 30;
  double poll_s = 0.5;
  int max_attempts = 3;
};

// Where artifacts live ([storage]; docs/storage.md): the data folder's
// artifacts/ (local), or an S3-compatible store. `[storage]` is the default
// backend, where new artifacts go unless a project chooses another;
// `[storage.NAME]` tables declare more, with the same keys.
struct StorageConfig {
  std::string name = "default";  // [storage] name = …, or the NAME of [storage.NAME]
  std::string kind = "local";    // "local" | "s3"
  // local: the folder ("" = <data>/artifacts for the default backend,
  // <data>/storage/<name> for another).
  std::string path;
  std::string endpoint, bucket, region = "us-east-1", prefix = "kiln/artifacts/";
  std::string access_key;      // not secret: the key's name
  std::string secret_key_env;  // the environment variable holding the secret
  // Or: a stored server credential of kind s3 (kiln credentials set; its
  // access_key and sealed secret_key; docs/access.md).
  std::string credentials;
  uint64_t part_size_mb = 64;
  bool presigned_downloads = true;  // downloads redirect to the store (302)
  int64_t presign_expiry_s = 3600;
};

// Where projects, history and users live ([database]; docs/store.md): the
// data folder's kiln.db (SQLite), or a PostgreSQL database.
struct DatabaseConfig {
  std::string kind = "sqlite";  // "sqlite" | "postgres"
  // libpq's keyword/value string or URI, without a password (libpq reads
  // it from PGPASSWORD or ~/.pgpass).
  std::string conninfo;
};

struct ServerConfig {
  std::filesystem::path file;           // where it was read from ("" = none: the defaults)
  std::string public_url;               // "" = http://127.0.0.1:<port>
  std::vector<BackendConfig> backends;  // in file order; empty = one local backend
  std::string default_backend;          // "" = the first
  std::map<std::string, std::string> route_pipelines, route_operations;
  StorageConfig storage;                    // the default artifact backend
  std::vector<StorageConfig> more_storage;  // [storage.NAME], in file order
  DatabaseConfig database;
};

Result<ServerConfig> LoadServerConfig(const std::filesystem::path& file);
Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& file_name);

}  // namespace kiln
