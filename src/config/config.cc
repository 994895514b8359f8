#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace kiln {

namespace {

// An error at a node: "<file>:<line>: <key>: <message>".
struct Where {
  const std::string& file;
  Status Error(const toml::node& node, const std::string& key, const std::string& message) const {
    return InvalidArgument(file + ":" + std::to_string(node.source().begin.line) + ": " + key +
                           ": " + message);
  }
};

Status String(const Where& w, const toml::node& n, const std::string& key, std::string& out) {
  if (auto v = n.value<std::string>()) {
    out = *v;
    return Status::Ok();
  }
  return w.Error(n, key, "must be a string");
}

template <typename T>
Status Number(const Where& w, const toml::node& n, const std::string& key, T& out, double min) {
  std::optional<double> v;
  if (n.is_integer()) v = double(*n.value<int64_t>());
  if (n.is_floating_point()) v = *n.value<double>();
  if (!v) return w.Error(n, key, "must be a number");
  if (*v < min) {
    std::ostringstream text;
    text << min;
    return w.Error(n, key, "must be at least " + text.str());
  }
  if constexpr (std::is_integral_v<T>) {
    if (*v != double(int64_t(*v))) return w.Error(n, key, "must be a whole number");
  }
  out = T(*v);
  return Status::Ok();
}

Status StringMap(const Where& w, const toml::node& n, const std::string& key,
                 std::map<std::string, std::string>& out) {
  const toml::table* t = n.as_table();
  if (!t) return w.Error(n, key, "must be a table of strings");
  for (auto&& [k, v] : *t) {
    std::string value;
    KILN_RETURN_IF_ERROR(String(w, v, key + "." + std::string(k.str()), value));
    out[std::string(k.str())] = value;
  }
  return Status::Ok();
}

Status ReadBackend(const Where& w, const std::string& name, const toml::node& node,
                   BackendConfig& b) {
  std::string prefix = "backends." + name;
  const toml::table* t = node.as_table();
  if (!t) return w.Error(node, prefix, "must be a table ([" + prefix + "])");
  // The name goes into Slurm job names, scripts and file names: plain only.
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
          std::string::npos ||
      name[0] == '.' || name[0] == '-') {
    return w.Error(node, prefix,
                   "a backend's name is letters, digits, '_', '.' and '-' (at most 64), not "
                   "starting with '.' or '-'");
  }
  b.name = name;
  b.site.name = name;
  if (!t->contains("kind")) {
    return w.Error(node, prefix + ".kind", "missing (local, slurm or remote)");
  }
  KILN_RETURN_IF_ERROR(String(w, *t->get("kind"), prefix + ".kind", b.kind));
  if (b.kind != "local" && b.kind != "slurm" && b.kind != "remote") {
    return w.Error(*t->get("kind"), prefix + ".kind",
                   "unknown backend kind '" + b.kind + "' (local, slurm, remote)");
  }
  static const std::set<std::string> local_keys = {"kind", "slots", "gpus", "gpu_type",
                                                   "max_memory_mb"};
  static const std::set<std::string> slurm_keys = {
      "kind",       "partition",  "sbatch_args",     "gpu_flag",    "python",
      "pythonpath", "shared_dir", "bin_dir",         "env",         "max_jobs",
      "poll_min_s", "poll_max_s", "array_window_ms", "retry_for_s", "default_memory_mb",
      "arrays",     "bundles"};
  static const std::set<std::string> remote_keys = {"kind", "worker_timeout_s", "poll_s",
                                                    "max_jobs", "max_attempts"};
  const auto& allowed = b.kind == "local"   ? local_keys
                        : b.kind == "slurm" ? slurm_keys
                                            : remote_keys;
  for (auto&& [k, v] : *t) {
    std::string key(k.str()), full = prefix + "." + key;
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return w.Error(v, full, "unknown setting for a " + b.kind + " backend (" + list + ")");
    }
    if (key == "kind") continue;
    if (key == "slots") KILN_RETURN_IF_ERROR(Number(w, v, full, b.slots, 1));
    if (key == "gpus") KILN_RETURN_IF_ERROR(Number(w, v, full, b.gpus, 0));
    if (key == "gpu_type") KILN_RETURN_IF_ERROR(String(w, v, full, b.gpu_type));
    if (key == "max_memory_mb") KILN_RETURN_IF_ERROR(Number(w, v, full, b.max_memory_mb, 1));
    if (key == "partition") KILN_RETURN_IF_ERROR(String(w, v, full, b.site.partition));
    if (key == "gpu_flag") {
      KILN_RETURN_IF_ERROR(String(w, v, full, b.site.gpu_flag));
      if (b.site.gpu_flag != "gres" && b.site.gpu_flag != "gpus") {
        return w.Error(v, full, "must be \"gres\" or \"gpus\"");
      }
    }
    if (key == "python") KILN_RETURN_IF_ERROR(String(w, v, full, b.site.python));
    if (key == "pythonpath") KILN_RETURN_IF_ERROR(String(w, v, full, b.site.pythonpath));
    if (key == "shared_dir") KILN_RETURN_IF_ERROR(String(w, v, full, b.shared_dir));
    if (key == "bin_dir") KILN_RETURN_IF_ERROR(String(w, v, full, b.bin_dir));
    if (key == "env") KILN_RETURN_IF_ERROR(StringMap(w, v, full, b.env));
    if (key == "max_jobs") KILN_RETURN_IF_ERROR(Number(w, v, full, b.max_jobs, 1));
    if (key == "poll_min_s") KILN_RETURN_IF_ERROR(Number(w, v, full, b.poll_min_s, 0));
    if (key == "poll_max_s") KILN_RETURN_IF_ERROR(Number(w, v, full, b.poll_max_s, 0));
    if (key == "array_window_ms") KILN_RETURN_IF_ERROR(Number(w, v, full, b.array_window_ms, 0));
    if (key == "retry_for_s") KILN_RETURN_IF_ERROR(Number(w, v, full, b.retry_for_s, 0));
    if (key == "worker_timeout_s") {
      KILN_RETURN_IF_ERROR(Number(w, v, full, b.worker_timeout_s, 0.1));
    }
    if (key == "poll_s") KILN_RETURN_IF_ERROR(Number(w, v, full, b.poll_s, 0.05));
    if (key == "max_attempts") KILN_RETURN_IF_ERROR(Number(w, v, full, b.max_attempts, 1));
    if (key == "bundles") {
      std::string how;
      KILN_RETURN_IF_ERROR(String(w, v, full, how));
      if (how != "shared" && how != "fetch") {
        return w.Error(v, full,
                       "must be \"shared\" (the nodes see shared_dir) or \"fetch\" (jobs fetch "
                       "their bundles from the server)");
      }
      b.site.fetch_bundles = how == "fetch";
    }
    if (key == "arrays") {
      if (!v.is_boolean()) return w.Error(v, full, "must be true or false");
      b.arrays = *v.value<bool>();
    }
    if (key == "default_memory_mb") {
      KILN_RETURN_IF_ERROR(Number(w, v, full, b.site.default_memory_mb, 1));
    }
    if (key == "sbatch_args") {
      const toml::array* a = v.as_array();
      if (!a) return w.Error(v, full, "must be a list of strings");
      for (const toml::node& arg : *a) {
        std::string s;
        KILN_RETURN_IF_ERROR(String(w, arg, full, s));
        if (s.rfind("-", 0) != 0) return w.Error(arg, full, "'" + s + "' is not an sbatch option");
        b.site.sbatch_args.push_back(s);
      }
    }
  }
  if (b.kind == "remote" && b.poll_s * 2 > b.worker_timeout_s) {
    return w.Error(node, prefix + ".poll_s",
                   "must be at most half of worker_timeout_s (a worker leases every poll_s; "
                   "silent for worker_timeout_s, it counts as lost)");
  }
  if (b.poll_max_s < b.poll_min_s) {
    return w.Error(node, prefix + ".poll_max_s", "must not be below poll_min_s");
  }
  return Status::Ok();
}

Status ReadDatabase(const Where& w, const toml::node& node, DatabaseConfig& d) {
  const toml::table* t = node.as_table();
  if (!t) return w.Error(node, "database", "must be a table ([database])");
  for (auto&& [k, v] : *t) {
    std::string key(k.str()), full = "database." + key;
    if (key == "kind") {
      KILN_RETURN_IF_ERROR(String(w, v, full, d.kind));
      if (d.kind != "sqlite" && d.kind != "postgres") {
        return w.Error(v, full, "unknown database kind '" + d.kind + "' (sqlite, postgres)");
      }
    } else if (key == "conninfo") {
      KILN_RETURN_IF_ERROR(String(w, v, full, d.conninfo));
      std::string lower = d.conninfo;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      // postgresql://user:secret@host/db carries one too.
      size_t scheme = lower.find("://"), at = lower.find('@');
      bool uri_password = scheme != std::string::npos && at != std::string::npos &&
                          lower.find(':', scheme + 3) < at;
      if (lower.find("password") != std::string::npos || uri_password) {
        return w.Error(v, full,
                       "a password does not belong in the config file: libpq reads it from "
                       "PGPASSWORD or ~/.pgpass");
      }
    } else {
      return w.Error(v, full, "unknown setting (kind, conninfo)");
    }
  }
  if (d.kind == "postgres" && d.conninfo.empty()) {
    return w.Error(node, "database.conninfo", "missing (a postgres database needs it)");
  }
  return Status::Ok();
}

// Storage backend names go into URLs and the project's choice: plain only.
bool PlainStorageName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos &&
         name[0] != '-';
}

// One storage backend: [storage] (prefix "storage", `named` collects its
// [storage.NAME] tables) or one [storage.NAME] (`named` null).
Status ReadStorage(const Where& w, const toml::node& node, const std::string& prefix,
                   StorageConfig& s, std::vector<std::pair<uint32_t, StorageConfig>>* named) {
  const toml::table* t = node.as_table();
  if (!t) return w.Error(node, prefix, "must be a table ([" + prefix + "])");
  static const std::set<std::string> keys = {"kind",
                                             "name",
                                             "path",
                                             "endpoint",
                                             "bucket",
                                             "region",
                                             "prefix",
                                             "access_key",
                                             "secret_key_env",
                                             "part_size_mb",
                                             "presigned_downloads",
                                             "presign_expiry_s",
                                             "secret_key",
                                             "credentials"};
  for (auto&& [k, v] : *t) {
    std::string key(k.str()), full = prefix + "." + key;
    if (named && v.is_table()) {
      // [storage.NAME]: another backend, with the same keys.
      StorageConfig more;
      if (!PlainStorageName(key)) {
        return w.Error(v, full,
                       "a storage backend's name is letters, digits, '_' and '-' (at most 64), "
                       "not starting with '-'");
      }
      more.name = key;
      KILN_RETURN_IF_ERROR(ReadStorage(w, v, full, more, nullptr));
      named->emplace_back(v.source().begin.line, std::move(more));
      continue;
    }
    if (!keys.count(key) || (key == "name" && !named)) {
      return w.Error(v, full,
                     std::string("unknown setting (kind, ") + (named ? "name, " : "") +
                         "path, endpoint, bucket, region, prefix, access_key, "
                         "secret_key_env, credentials, part_size_mb, presigned_downloads, "
                         "presign_expiry_s" +
                         (named ? "; or a [storage.NAME] table for another backend)" : ")"));
    }
    if (key == "secret_key") {
      return w.Error(v, full,
                     "a secret does not belong in the config file: name the environment "
                     "variable that holds it with secret_key_env");
    }
    if (key == "kind") {
      KILN_RETURN_IF_ERROR(String(w, v, full, s.kind));
      if (s.kind != "local" && s.kind != "s3") {
        return w.Error(v, full, "unknown storage kind '" + s.kind + "' (local, s3)");
      }
    }
    if (key == "name") {
      KILN_RETURN_IF_ERROR(String(w, v, full, s.name));
      if (!PlainStorageName(s.name)) {
        return w.Error(v, full,
                       "a storage backend's name is letters, digits, '_' and '-' (at most 64), "
                       "not starting with '-'");
      }
    }
    if (key == "path") {
      KILN_RETURN_IF_ERROR(String(w, v, full, s.path));
      if (s.path.empty() || s.path[0] != '/') return w.Error(v, full, "must be an absolute path");
    }
    if (key == "endpoint") {
      KILN_RETURN_IF_ERROR(String(w, v, full, s.endpoint));
      if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://")) {
        return w.Error(v, full, "must start with http:// or https://");
      }
    }
    if (key == "bucket") KILN_RETURN_IF_ERROR(String(w, v, full, s.bucket));
    if (key == "region") KILN_RETURN_IF_ERROR(String(w, v, full, s.region));
    if (key == "prefix") KILN_RETURN_IF_ERROR(String(w, v, full, s.prefix));
    if (key == "access_key") KILN_RETURN_IF_ERROR(String(w, v, full, s.access_key));
    if (key == "secret_key_env") KILN_RETURN_IF_ERROR(String(w, v, full, s.secret_key_env));
    if (key == "credentials") KILN_RETURN_IF_ERROR(String(w, v, full, s.credentials));
    if (key == "part_size_mb") KILN_RETURN_IF_ERROR(Number(w, v, full, s.part_size_mb, 5));
    if (key == "presign_expiry_s") {
      KILN_RETURN_IF_ERROR(Number(w, v, full, s.presign_expiry_s, 1));
    }
    if (key == "presigned_downloads") {
      if (!v.is_boolean()) return w.Error(v, full, "must be true or false");
      s.presigned_downloads = *v.value<bool>();
    }
  }
  if (s.kind != "local" && !s.path.empty()) {
    return w.Error(node, prefix + ".path",
                   "only a local storage has a path (this one is " + s.kind + ")");
  }
  if (s.kind == "s3" && !s.credentials.empty()) {
    if (!s.access_key.empty() || !s.secret_key_env.empty()) {
      return w.Error(node, prefix + ".credentials",
                     "either a stored credential or access_key and secret_key_env, not both");
    }
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"endpoint", &s.endpoint},
          {"bucket", &s.bucket}}) {
      if (value->empty()) {
        return w.Error(node, prefix + "." + name, "missing (an s3 storage needs it)");
      }
    }
  } else if (s.kind == "s3") {
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"endpoint", &s.endpoint},
          {"bucket", &s.bucket},
          {"access_key", &s.access_key},
          {"secret_key_env", &s.secret_key_env}}) {
      if (value->empty()) {
        return w.Error(node, prefix + "." + name, "missing (an s3 storage needs it)");
      }
    }
  }
  return Status::Ok();
}

// [storage] and its [storage.NAME] tables: names unique, no two backends on
// the same folder or bucket prefix (a delete from one would delete from both).
Status ReadAllStorage(const Where& w, const toml::node& node, ServerConfig& c) {
  std::vector<std::pair<uint32_t, StorageConfig>> named;
  KILN_RETURN_IF_ERROR(ReadStorage(w, node, "storage", c.storage, &named));
  std::stable_sort(named.begin(), named.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto location = [](const StorageConfig& s) {
    return s.kind == "s3" ? "s3 " + s.endpoint + "/" + s.bucket + "/" + s.prefix
                          : "local " + s.path;
  };
  for (auto& entry : named) {
    StorageConfig& s = entry.second;
    const toml::node& at = *node.as_table()->get(s.name);
    if (s.name == c.storage.name) {
      return w.Error(at, "storage." + s.name,
                     "the name '" + s.name +
                         "' is the default backend's ([storage] name); give one of them another");
    }
    const StorageConfig* same = nullptr;
    if (location(s) == location(c.storage) && (s.kind == "s3" || !s.path.empty())) {
      same = &c.storage;
    }
    for (const StorageConfig& other : c.more_storage) {  // those before it
      if (location(other) == location(s) && (s.kind == "s3" || !s.path.empty())) same = &other;
    }
    if (same) {
      return w.Error(
          at, "storage." + s.name,
          "stores in the same place as the backend '" + same->name + "' (" + location(s) + ")");
    }
    c.more_storage.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& file_name) {
  ServerConfig c;
  c.file = file_name;
  Where w{file_name};
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file_name + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  for (auto&& [k, v] : root) {
    std::string key(k.str());
    if (key != "server" && key != "backends" && key != "routing" && key != "storage" &&
        key != "database") {
      return w.Error(v, key, "unknown section (server, backends, routing, storage, database)");
    }
  }
  if (const toml::table* server = root["server"].as_table()) {
    for (auto&& [k, v] : *server) {
      std::string key(k.str());
      if (key != "public_url") return w.Error(v, "server." + key, "unknown setting (public_url)");
      KILN_RETURN_IF_ERROR(String(w, v, "server.public_url", c.public_url));
      if (c.public_url.rfind("http://", 0) != 0 && c.public_url.rfind("https://", 0) != 0) {
        return w.Error(v, "server.public_url", "must start with http:// or https://");
      }
      while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
    }
  }
  if (auto* backends = root.get("backends")) {
    const toml::table* t = backends->as_table();
    if (!t) return w.Error(*backends, "backends", "must be a table of [backends.NAME]");
    // toml++ orders a table's keys by name: keep the file's order (the
    // first backend is the default).
    std::vector<std::pair<uint32_t, BackendConfig>> read;
    for (auto&& [k, v] : *t) {
      BackendConfig b;
      KILN_RETURN_IF_ERROR(ReadBackend(w, std::string(k.str()), v, b));
      read.emplace_back(v.source().begin.line, std::move(b));
    }
    std::stable_sort(read.begin(), read.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [line, b] : read) c.backends.push_back(std::move(b));
  }
  if (auto* database = root.get("database")) {
    KILN_RETURN_IF_ERROR(ReadDatabase(w, *database, c.database));
  }
  if (auto* storage = root.get("storage")) {
    KILN_RETURN_IF_ERROR(ReadAllStorage(w, *storage, c));
  }
  auto known = [&](const std::string& name) {
    for (const auto& b : c.backends) {
      if (b.name == name) return true;
    }
    return c.backends.empty() && name == "local";
  };
  if (auto* routing = root.get("routing")) {
    const toml::table* t = routing->as_table();
    if (!t) return w.Error(*routing, "routing", "must be a table");
    for (auto&& [k, v] : *t) {
      std::string key(k.str()), full = "routing." + key;
      if (key == "default") {
        KILN_RETURN_IF_ERROR(String(w, v, full, c.default_backend));
        if (!known(c.default_backend)) {
          return w.Error(v, full, "no backend named '" + c.default_backend + "'");
        }
      } else if (key == "pipelines" || key == "operations") {
        auto& map = key == "pipelines" ? c.route_pipelines : c.route_operations;
        KILN_RETURN_IF_ERROR(StringMap(w, v, full, map));
        for (const auto& [what, backend] : map) {
          if (!known(backend)) {
            return w.Error(v, full + "." + what, "no backend named '" + backend + "'");
          }
        }
      } else {
        return w.Error(v, full, "unknown setting (default, pipelines, operations)");
      }
    }
  }
  return c;
}

Result<ServerConfig> LoadServerConfig(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound("cannot read the config file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return ParseServerConfig(text.str(), file.string());
}

}  // namespace kiln
