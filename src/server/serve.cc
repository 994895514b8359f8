#include "server/serve.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "access/access.h"
#include "access/credentials.h"
#include "access/project_storage.h"
#include "compute/backend_router.h"
#include "compute/gpu_count.h"
#include "compute/local_backend.h"
#include "compute/pushed_events.h"
#include "compute/remote/remote_backend.h"
#include "compute/slurm/slurm_backend.h"
#include "config/config.h"
#include "core/child_process.h"
#include "core/guid.h"
#include "model/meta.h"
#include "model/repository.h"
#include "nn/catalog.h"
#include "nn/library.h"
#include "pipeline/architecture_code.h"
#include "pipeline/plan.h"
#include "runs/runs_store.h"
#include "scheduler/driver.h"
#include "server/api.h"
#include "server/api_compute.h"
#include "server/api_credentials.h"
#include "server/api_gc.h"
#include "server/api_interface.h"
#include "server/api_library.h"
#include "server/api_preview.h"
#include "server/api_provenance.h"
#include "server/api_runs.h"
#include "server/api_storage.h"
#include "server/api_sweeps.h"
#include "server/execution_watch.h"
#include "server/hub.h"
#include "storage/local_artifact_store.h"
#include "storage/s3/s3_artifact_store.h"
#include "storage/storage_set.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace kiln {

namespace {

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

std::string DefaultDataDir() {
  if (const char* d = std::getenv("KILN_DATA"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/kiln";
}

Result<std::vector<std::string>> SeedExamples(Repository& repo, const std::string& examples_dir) {
  std::vector<std::string> created;
  std::error_code ec;
  if (examples_dir.empty() || !std::filesystem::is_directory(examples_dir, ec)) return created;
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir, ec)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "project.json")) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    std::string name = dir.filename().string();
    if (repo.GetProject(name).ok()) continue;
    std::ifstream in(dir / "project.json");
    std::stringstream text;
    text << in.rdbuf();
    // An example may use libraries ({"libraries": ["torch"], …}): their
    // meta types go in first, in the same commit, since its nodes derive
    // from them (docs/libraries.md).
    nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    std::vector<std::string> libraries;
    if (doc.is_object() && doc.contains("libraries")) {
      for (const auto& l : doc["libraries"]) {
        if (!l.is_string() || l.get<std::string>() != "torch") {
          return InvalidArgument((dir / "project.json").string() + ": unknown library " + l.dump());
        }
        libraries.push_back(l.get<std::string>());
      }
      doc.erase("libraries");
    }
    Result<Patch> patch = ParsePatchJson(doc.is_object() ? doc.dump() : text.str());
    if (!patch.ok()) return patch.status().WithContext((dir / "project.json").string());
    if (!libraries.empty()) {
      Patch library = nn::TorchLibraryPatch(NewProjectTree(), nn::Catalog::Torch());
      library.ops.insert(library.ops.end(), patch->ops.begin(), patch->ops.end());
      library.message = patch->message;
      *patch = std::move(library);
    }
    KILN_ASSIGN_OR_RETURN(Digest first, repo.CreateProject(name, patch->message, "kiln examples"));
    CommitRequest req{name, "main", "kiln examples",
                      patch->message.empty() ? "Example project" : patch->message, first};
    Result<Digest> c = repo.Commit(req, *patch);
    if (!c.ok()) return c.status().WithContext((dir / "project.json").string());
    created.push_back(name);
  }
  return created;
}

uint64_t DefaultJobMemoryBytes(size_t slots) {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  uint64_t total = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 8ull << 30;
  return std::max<uint64_t>(total / std::max<size_t>(slots, 1), 1ull << 30);
}

Result<size_t> SeedExampleData(ArtifactStore& artifacts, RunsStore& runs,
                               const std::string& examples_dir) {
  size_t n = 0;
  std::error_code ec;
  if (examples_dir.empty() || !std::filesystem::is_directory(examples_dir, ec)) return n;
  for (const auto& example : std::filesystem::directory_iterator(examples_dir, ec)) {
    std::filesystem::path data = example.path() / "data";
    if (!std::filesystem::is_directory(data, ec)) continue;
    std::vector<ArtifactGrant> grants;
    for (const auto& file : std::filesystem::directory_iterator(data, ec)) {
      if (!file.is_regular_file()) continue;
      Result<ArtifactInfo> put = artifacts.PutFile(file.path());
      KILN_RETURN_IF_ERROR(put.status().WithContext(file.path().string()));
      // The example's project has its data, as if its author uploaded it.
      grants.push_back({example.path().filename().string(), put->digest, "upload", 0});
      ++n;
    }
    KILN_RETURN_IF_ERROR(runs.Grant(grants));
  }
  return n;
}

std::string CredentialsKeyPath(const std::string& data_dir) {
  if (const char* k = std::getenv("KILN_CREDENTIALS_KEY"); k && *k) return k;
  return data_dir + "/credentials.key";
}

Result<std::unique_ptr<RunsStore>> OpenRunsStore(const DatabaseConfig& database,
                                                 const std::string& data_dir) {
  if (database.kind == "postgres") {
    Result<std::unique_ptr<RunsStore>> pg = RunsStore::OpenPostgres(database.conninfo);
    if (!pg.ok()) return pg.status().WithContext("database (postgres)");
    spdlog::info("executions, events, the cache and provenance are in PostgreSQL");
    return pg;
  }
  return RunsStore::Open(data_dir + "/runs.db");
}

Result<std::string> LoadOrCreateServerId(const std::string& data_dir) {
  std::filesystem::path path = std::filesystem::path(data_dir) / "server-id";
  std::string id;
  if (std::ifstream in(path); in && std::getline(in, id) && !id.empty()) return id;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "kiln");
  id = std::string(host) + "-" + NewGuid().substr(0, 8);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    if (!out.flush()) return IOError("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IOError("cannot write " + path.string() + ": " + ec.message());
  return id;
}

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const DatabaseConfig& database,
                                                     const std::string& data_dir) {
  if (database.kind == "postgres") {
    Result<std::unique_ptr<PostgresStore>> pg = PostgresStore::Open(database.conninfo);
    if (!pg.ok()) return pg.status().WithContext("database (postgres)");
    spdlog::info("projects, history and users are in PostgreSQL");
    return std::unique_ptr<ObjectStore>(std::move(*pg));
  }
  KILN_ASSIGN_OR_RETURN(auto sqlite, SqliteStore::Open(data_dir + "/kiln.db"));
  return std::unique_ptr<ObjectStore>(std::move(sqlite));
}

Result<std::unique_ptr<ArtifactStore>> OpenStorageBackend(const StorageConfig& storage,
                                                          const std::string& data_dir,
                                                          Credentials* credentials,
                                                          bool is_default) {
  if (storage.kind != "s3") {
    std::string path = !storage.path.empty() ? storage.path
                       : is_default          ? data_dir + "/artifacts"
                                             : data_dir + "/storage/" + storage.name;
    Result<std::unique_ptr<LocalArtifactStore>> local = LocalArtifactStore::Open(path);
    if (!local.ok()) return local.status().WithContext("storage '" + storage.name + "'");
    return std::unique_ptr<ArtifactStore>(std::move(*local));
  }
  std::string access_key = storage.access_key, secret;
  if (!storage.credentials.empty()) {
    // A stored server credential (kiln credentials set): opened here, used
    // by the store, never logged.
    if (!credentials) return FailedPrecondition("storage: stored credentials are not available");
    std::string scope = ServerCredentialScope();
    Result<CredentialInfo> info = credentials->Get(scope, storage.credentials);
    if (!info.ok()) {
      return info.status().WithContext("storage: credential '" + storage.credentials +
                                       "' (kiln credentials set " + storage.credentials + ")");
    }
    if (info->kind != "s3") {
      return InvalidArgument("storage: credential '" + storage.credentials + "' is of kind " +
                             info->kind + ", not s3");
    }
    access_key = info->public_fields["access_key"];
    KILN_ASSIGN_OR_RETURN(CredentialFields secrets,
                          credentials->Reveal(scope, storage.credentials));
    secret = secrets["secret_key"];
  } else {
    const char* env = std::getenv(storage.secret_key_env.c_str());
    if (!env || !*env) {
      return InvalidArgument("storage '" + storage.name + "': the environment variable " +
                             storage.secret_key_env + " (secret_key_env) holds no secret key");
    }
    secret = env;
  }
  S3StoreOptions o;
  o.location = {storage.endpoint, storage.bucket, {access_key, secret, storage.region}, {}};
  o.prefix = storage.prefix;
  o.part_size = storage.part_size_mb << 20;
  o.staging_dir = data_dir + "/tmp/s3-staging";
  Result<std::unique_ptr<S3ArtifactStore>> s3 = S3ArtifactStore::Open(o);
  if (!s3.ok()) {
    return s3.status().WithContext("storage '" + storage.name + "': bucket '" + storage.bucket +
                                   "' at " + storage.endpoint);
  }
  spdlog::info("storage '{}': artifacts in the S3 bucket '{}' at {} (prefix {})", storage.name,
               storage.bucket, storage.endpoint, storage.prefix);
  return std::unique_ptr<ArtifactStore>(std::move(*s3));
}

Result<std::unique_ptr<StorageSet>> OpenArtifactStore(const ServerConfig& config,
                                                      const std::string& data_dir,
                                                      Credentials* credentials) {
  std::vector<StorageBackend> backends;
  std::vector<const StorageConfig*> all{&config.storage};
  for (const StorageConfig& more : config.more_storage) all.push_back(&more);
  for (const StorageConfig* s : all) {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactStore> store,
                          OpenStorageBackend(*s, data_dir, credentials, s == all.front()));
    int64_t presign = s->kind == "s3" && s->presigned_downloads ? s->presign_expiry_s : 0;
    backends.push_back({s->name, s->kind, std::move(store), presign});
  }
  return StorageSet::Create(std::move(backends),
                            std::filesystem::path(data_dir) / "tmp" / "copies");
}

static bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

Status Serve(const ServeOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return IOError("cannot create data folder " + options.data_dir + ": " + ec.message());
  // The config file first: a mistake in it stops the server before it
  // changes anything in the data folder.
  ServerConfig config;
  if (!options.config_path.empty()) {
    KILN_ASSIGN_OR_RETURN(config, LoadServerConfig(options.config_path));
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store,
                        OpenObjectStore(config.database, options.data_dir));
  Repository repo(*store, SystemClock::Get());
  Access access(*store, SystemClock::Get());
  // Stored credentials are sealed with a key kept beside the database, not
  // in it (docs/access.md, "Stored credentials").
  KILN_ASSIGN_OR_RETURN(ServerKey key,
                        ServerKey::LoadOrCreate(CredentialsKeyPath(options.data_dir)));
  Credentials credentials(*store, SystemClock::Get(), key);
  Metrics metrics;
  Hub hub(repo, access, metrics);
  // Several servers on one PostgreSQL: each one's commits reach the
  // others' subscribers (docs/store.md, "Several servers"). Declared after
  // the hub, so it stops before the hub goes away.
  std::unique_ptr<PostgresRefWatcher> ref_watcher;
  if (config.database.kind == "postgres") {
    KILN_ASSIGN_OR_RETURN(
        ref_watcher,
        PostgresRefWatcher::Start(
            config.database.conninfo, [&hub](const std::string& ref, std::optional<Digest> digest) {
              // "projects/<project>/heads/<branch>"
              static const std::string kPrefix = "projects/";
              size_t heads = ref.find("/heads/");
              if (!digest || !ref.starts_with(kPrefix) || heads == std::string::npos) return;
              hub.CommittedElsewhere(ref.substr(kPrefix.size(), heads - kPrefix.size()),
                                     ref.substr(heads + 7), *digest);
            }));
  }
  // Revocation reaches open connections: a user whose rights were taken
  // away loses every WebSocket at once (subscriptions, execution watches);
  // reconnecting checks the credential and each subscription anew.
  std::atomic<HttpServer*> live_server{nullptr};
  access.set_on_revoke([&live_server](const std::string& user) {
    HttpServer* srv = live_server.load();
    if (!srv) return;
    size_t n = srv->CloseWebSocketsOf(user, "your access changed; reconnect");
    if (n) spdlog::info("closed {} WebSocket(s) of '{}' after a revocation", n, user);
  });

  KILN_ASSIGN_OR_RETURN(auto seeded, SeedExamples(repo, options.examples_dir));
  for (const auto& name : seeded) spdlog::info("created example project '{}'", name);

  bool auth = options.force_auth || !IsLoopback(options.server.host);
  if (auth) {
    KILN_ASSIGN_OR_RETURN(auto users, access.ListUsers());
    if (users.empty()) {
      spdlog::warn(
          "authentication is on but there are no users: add one with "
          "'kiln users add NAME --admin --data {}{}'",
          options.data_dir, options.config_path.empty() ? "" : " --config " + options.config_path);
    }
  }
  // Runs beside the projects (runs.db, or the same PostgreSQL database).
  KILN_ASSIGN_OR_RETURN(auto runs, OpenRunsStore(config.database, options.data_dir));
  KILN_ASSIGN_OR_RETURN(std::string server_id, LoadOrCreateServerId(options.data_dir));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<StorageSet> artifacts,
                        OpenArtifactStore(config, options.data_dir, &credentials));
  // Each project's choice of backend for its new artifacts, in the database.
  ProjectStorage project_storage(*store);
  // > 0: some backend redirects downloads (the StorageSet uses the expiry
  // of the backend that holds the artifact).
  int64_t presign_expiry_s = 0;
  std::vector<const StorageConfig*> storage_configs{&config.storage};
  for (const StorageConfig& s : config.more_storage) storage_configs.push_back(&s);
  for (const StorageConfig* s : storage_configs) {
    if (s->kind == "s3" && s->presigned_downloads) {
      presign_expiry_s = std::max(presign_expiry_s, s->presign_expiry_s);
    }
  }
  if (runs->grants_created()) KILN_RETURN_IF_ERROR(BackfillUploadGrants(repo, *runs));
  ApiContext ctx{repo,
                 access,
                 hub,
                 metrics,
                 *store,
                 auth,
                 runs.get(),
                 options.server.max_body_bytes,
                 options.max_artifact_bytes};
  ctx.credentials = &credentials;
  Router router;
  RegisterApi(router, ctx);
  // Operation code <-> interface, with the same Python and kiln package as
  // local compute.
  InterfaceContext interface_ctx(access);
  RegisterInterfaceApi(router, interface_ctx);
  LibraryContext library_ctx(repo, access, hub, interface_ctx);
  RegisterLibraryApi(router, library_ctx);

  if (auto data = SeedExampleData(*artifacts, *runs, options.examples_dir); !data.ok()) {
    spdlog::warn("the examples' data files are not all in the artifact store: {}",
                 data.status().message());
  }
  // Executions: jobs forked from a warm Python worker. Without a working
  // Python the server still serves everything else, and says why it cannot
  // run pipelines.
  // Compute: the backends of the config file (docs/compute.md), else one
  // local backend. Without a working Python the server still serves
  // everything else, and says why it cannot run pipelines.
  if (config.backends.empty()) {
    BackendConfig local;
    local.name = local.kind = "local";
    config.backends.push_back(local);
  }
  PushedEvents pushed_events;
  JobFileGate job_files;
  std::vector<std::unique_ptr<ComputeBackend>> backends;
  std::vector<std::unique_ptr<SlurmCommands>> slurm_commands;
  std::vector<RemoteBackend*> remotes;
  std::unique_ptr<BackendRouter> backend;
  size_t local_slots = 0;
  ArchitectureCodeGenerator architecture_code;  // operations that reference an Architecture
  std::unique_ptr<Driver> driver;
  std::unique_ptr<ExecutionWatch> watch;
  // Several servers on one database: executions the others drive reach
  // this server's watchers (stopped before the watch and the driver).
  std::unique_ptr<RunsFollower> follower;
  std::unique_ptr<PostgresListener> runs_listener;
  RunsContext runs_ctx{access,
                       repo,
                       hub,
                       nullptr,
                       *runs,
                       *artifacts,
                       "",
                       options.max_artifact_bytes,
                       presign_expiry_s,
                       server_id,
                       artifacts.get(),
                       &project_storage};
  std::string work_dir = options.data_dir + "/work";
  Status compute = [&]() -> Status {
    KILN_ASSIGN_OR_RETURN(RuntimeFingerprint runtime, ProbeRuntime());
    std::vector<RoutedBackend> routed;
    std::string host = HostName();
    for (const BackendConfig& b : config.backends) {
      if (b.kind == "local") {
        if (local_slots) return InvalidArgument("only one local backend may be configured");
        LocalBackendOptions backend_options;
        if (b.slots > 0) backend_options.slots = size_t(b.slots);
        if (options.compute_slots > 0) backend_options.slots = size_t(options.compute_slots);
        backend_options.light_zygotes = options.light_workers;  // < 0 counts as 0
        backend_options.light_preload = options.light_preload;
        KILN_ASSIGN_OR_RETURN(auto local, LocalBackend::Start(backend_options));
        local_slots = local->Slots();
        int gpus = b.gpus >= 0 ? b.gpus : DetectGpus();
        routed.push_back(
            {b.name, b.kind, local.get(), gpus, b.gpu_type, b.max_memory_mb << 20, host});
        backends.push_back(std::move(local));
        continue;
      }
      if (b.kind == "remote") {
        // Workers connect to this server (kiln worker): nothing to reach out to.
        RemoteBackendOptions ro;
        ro.name = b.name;
        ro.worker_timeout_s = b.worker_timeout_s;
        ro.poll_s = b.poll_s;
        ro.max_jobs = b.max_jobs;
        ro.max_attempts = b.max_attempts;
        ro.events = &pushed_events;
        ro.files = &job_files;
        KILN_ASSIGN_OR_RETURN(auto remote, RemoteBackend::Start(ro));
        remotes.push_back(remote.get());
        routed.push_back({b.name, b.kind, remote.get(), -1, "", 0, ""});
        backends.push_back(std::move(remote));
        continue;
      }
      // Slurm: jobs push their events to this server's public URL.
      std::string public_url = config.public_url;
      if (public_url.empty()) {
        if (options.server.port == 0) {
          return InvalidArgument("backend '" + b.name +
                                 "': jobs on a cluster need this server's address: set a fixed "
                                 "--port or server.public_url in " +
                                 config.file.string());
        }
        public_url = "http://127.0.0.1:" + std::to_string(options.server.port);
      }
      SlurmBackendOptions so;
      so.site = b.site;
      so.site.events_url = public_url + "/api/v1/jobs";
      if (so.site.pythonpath.empty())
        so.site.pythonpath = LocalBackend::DefaultPythonPath().string();
      so.shared_dir = b.shared_dir.empty() ? work_dir : b.shared_dir;
      so.state_dir = options.data_dir + "/slurm";
      so.max_jobs = b.max_jobs;
      so.poll_min_s = b.poll_min_s;
      so.poll_max_s = b.poll_max_s;
      so.array_window_ms = b.array_window_ms;
      so.arrays = b.arrays;
      so.retry_for_s = b.retry_for_s;
      slurm_commands.push_back(std::make_unique<ProcessSlurmCommands>(b.bin_dir, b.env));
      so.commands = slurm_commands.back().get();
      so.events = &pushed_events;
      so.files = &job_files;
      KILN_ASSIGN_OR_RETURN(auto slurm, SlurmBackend::Start(so));
      routed.push_back({b.name, b.kind, slurm.get(), -1, "", 0, ""});
      backends.push_back(std::move(slurm));
    }
    backend = std::make_unique<BackendRouter>(routed, config.default_backend);
    DriverOptions driver_options;
    driver_options.work_dir = work_dir;
    driver_options.default_limits.memory_bytes =
        options.job_memory_mb ? options.job_memory_mb << 20
                              : DefaultJobMemoryBytes(std::max<size_t>(local_slots, 1));
    driver_options.default_limits.timeout_s = options.job_timeout_s;
    driver_options.max_log_bytes = options.job_log_mb << 20;
    driver_options.runtime = runtime;
    driver_options.generator = &architecture_code;
    driver_options.route_operations = config.route_operations;
    driver_options.route_pipelines = config.route_pipelines;
    driver_options.server_id = server_id;
    driver_options.store_output = [&artifacts, &project_storage](
                                      const std::string& project,
                                      const std::filesystem::path& file) -> Result<ArtifactInfo> {
      KILN_ASSIGN_OR_RETURN(std::string backend,
                            BackendForProject(*artifacts, project_storage, project));
      return artifacts->PutFileTo(backend, file);
    };
    driver_options.on_commit = [&hub](const std::string& project, const std::string& branch,
                                      const Digest&) { hub.BranchMoved(project, branch); };
    KILN_ASSIGN_OR_RETURN(driver, Driver::Open(repo, *runs, *artifacts, *backend, driver_options));
    return Status::Ok();
  }();
  if (compute.ok()) {
    watch = std::make_unique<ExecutionWatch>(*driver, access);
    if (config.database.kind == "postgres") {
      follower = std::make_unique<RunsFollower>(*runs, *watch, std::chrono::seconds(2));
      watch->set_follower(follower.get(), server_id);
      // Cancels users asked of another server, for executions this one drives.
      follower->set_cancel_handler(server_id, [d = driver.get()](const CancelRequest& r) {
        Status st = r.kind == "job" ? d->CancelJob(r.target, r.user) : d->Cancel(r.target, r.user);
        if (!st.ok() && st.code() != Code::kNotFound) {
          spdlog::warn("cancel of {} {} asked by {} elsewhere failed: {}", r.kind, r.target, r.user,
                       st.message());
        }
      });
      KILN_ASSIGN_OR_RETURN(
          runs_listener, PostgresListener::Start(config.database.conninfo, RunsStore::kRunsChannel,
                                                 [f = follower.get()](const std::string& payload) {
                                                   f->Poke(payload);
                                                 }));
      spdlog::info("this server is '{}'; executions other servers run are followed live",
                   server_id);
    }
    hub.set_execution_watch(watch.get());
    runs_ctx.driver = driver.get();
    for (const BackendInfo& b : backend->Backends()) {
      spdlog::info("compute backend '{}' ({}{}): {} slot(s){}{}", b.name, b.kind,
                   b.is_default ? ", the default" : "", b.slots,
                   b.gpus > 0 ? fmt::format(", {} GPU(s)", b.gpus) : "",
                   b.kind == "local" ? ", warm Python workers ready" : "");
    }
    spdlog::info(
        "each local job may use {} MiB of memory{}",
        (options.job_memory_mb ? options.job_memory_mb << 20
                               : DefaultJobMemoryBytes(std::max<size_t>(local_slots, 1))) >>
            20,
        options.job_timeout_s > 0 ? fmt::format(" and run {} s", options.job_timeout_s) : "");
  } else {
    if (!options.config_path.empty() && compute.code() == Code::kInvalidArgument) return compute;
    runs_ctx.unavailable_reason = compute.message();
    spdlog::warn("pipelines cannot run here: {}", compute.message());
  }
  ComputeContext compute_ctx{compute.ok() ? backend.get() : nullptr, &pushed_events,
                             compute.ok() ? remotes : std::vector<RemoteBackend*>{}, &job_files};
  RegisterComputeApi(router, compute_ctx);
  RegisterRunsApi(router, runs_ctx);
  // Exports copy inputs and write a zip: one at a time, with a longer deadline.
  InterfaceOptions export_python;
  export_python.timeout_ms = 300000;
  export_python.max_children = 1;
  export_python.wait_for_child_ms = 30000;
  InterfaceContext export_ctx(access, export_python);
  ProvenanceContext provenance_ctx{access,
                                   repo,
                                   hub,
                                   *runs,
                                   *artifacts,
                                   export_ctx,
                                   &architecture_code,
                                   ctx.version,
                                   std::filesystem::path(options.data_dir) / "tmp"};
  RegisterProvenanceApi(router, provenance_ctx);
  PreviewContext preview_ctx{access, *runs, *artifacts, interface_ctx,
                             std::filesystem::path(options.data_dir) / "tmp"};
  RegisterPreviewApi(router, preview_ctx);
  CredentialsContext credentials_ctx{access, credentials};
  RegisterCredentialsApi(router, credentials_ctx);
  GcContext gc_ctx{access, repo, *runs, *artifacts, artifacts.get()};
  RegisterGcApi(router, gc_ctx);
  StorageContext storage_ctx{access, repo, *runs, *artifacts, project_storage};
  RegisterStorageApi(router, storage_ctx);
  for (const StorageBackendInfo& b : artifacts->Backends()) {
    spdlog::info("storage '{}' ({}{})", b.name, b.kind, b.is_default ? ", the default" : "");
  }
  SweepsContext sweeps_ctx{access,   repo, *runs, runs_ctx.driver, runs_ctx.unavailable_reason,
                           server_id};
  RegisterSweepsApi(router, sweeps_ctx);

  // Block the signals before any thread starts, so that only sigwait below
  // sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Authenticator authenticator = [&access, auth](const HttpRequest& r) {
    return AuthenticateRequest(access, auth, r);
  };
  KILN_ASSIGN_OR_RETURN(auto server,
                        HttpServer::Start(options.server, router, authenticator, &hub, metrics));
  live_server = server.get();
  spdlog::info("Kiln is serving http://{}:{}/ (data: {}, sign-in {})", options.server.host,
               server->port(), options.data_dir, auth ? "required" : "off on loopback");
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{}: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  live_server = nullptr;
  server->Stop();
  for (RemoteBackend* remote : remotes) remote->ServerStopping();
  // The driver cancels what still runs (kill the jobs, record them) before
  // the backend and stores it uses go away.
  // Other servers' notices stop first: the follower calls the watch and
  // the driver, and the driver's own last writes would wake it.
  runs_listener.reset();
  follower.reset();
  hub.set_execution_watch(nullptr);
  watch.reset();
  driver.reset();
  // The Slurm and remote threads stop before the router they call goes away.
  for (auto& b : backends) {
    if (auto* slurm = dynamic_cast<SlurmBackend*>(b.get())) slurm->Stop();
    if (auto* remote = dynamic_cast<RemoteBackend*>(b.get())) remote->Stop();
  }
  backend.reset();
  backends.clear();
  spdlog::info("stopped cleanly");
  return Status::Ok();
}

}  // namespace kiln
