// kiln: the one binary. Thin: each subcommand parses its flags, opens the
// data folder and calls into the modules; expected failures print
// "kiln: <message>" and exit 1 (usage errors exit 2, from CLI11).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "access/access.h"
#include "access/credentials.h"
#include "cli/gc_command.h"
#include "cli/nn_command.h"
#include "cli/remote.h"
#include "cli/reproduce_command.h"
#include "cli/sweep_command.h"
#include "cli/worker_command.h"
#include "config/config.h"
#include "core/log.h"
#include "model/export.h"
#include "model/meta.h"
#include "model/repository.h"
#include "server/serve.h"
#include "store/sqlite_store.h"

namespace kiln {
namespace {

using json = nlohmann::json;

// The data folder and what lives in it, opened on first use.
struct Data {
  std::string dir;
  std::string config_path;  // --config: its [database] decides where the store is
  std::unique_ptr<ObjectStore> store;
  std::unique_ptr<Repository> repo;
  std::unique_ptr<Access> access;

  Status Open() {
    if (store) return Status::Ok();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return IOError("cannot create data folder " + dir + ": " + ec.message());
    ServerConfig config;
    if (!config_path.empty()) {
      KILN_ASSIGN_OR_RETURN(config, LoadServerConfig(config_path));
    }
    KILN_ASSIGN_OR_RETURN(store, OpenObjectStore(config.database, dir));
    repo = std::make_unique<Repository>(*store, SystemClock::Get());
    access = std::make_unique<Access>(*store, SystemClock::Get());
    return Status::Ok();
  }
};

int Fail(const Status& s) {
  std::cerr << "kiln: " << s.message() << "\n";
  return 1;
}

std::string FormatTime(int64_t ms) {
  std::time_t t = ms / 1000;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

std::string DefaultAuthor() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  return "local";
}

std::string DefaultDir(const char* compiled, const char* relative_to_repo) {
  // Prefer the folder next to the source tree this binary was built from.
  std::error_code ec;
  if (std::filesystem::exists(compiled, ec)) return compiled;
  return relative_to_repo;
}

}  // namespace

Result<std::string> ReadFileOrStdin(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFound("cannot read " + path);
    ss << in.rdbuf();
  }
  return ss.str();
}

int Main(int argc, char** argv) {
  CLI::App app{"Kiln: a collaborative workbench for deep learning in science"};
  app.require_subcommand(1);
  // Global options (--data, --log-level) work before or after the
  // subcommand: an option a subcommand does not know falls through to its
  // parent, and fallthrough is inherited by every subcommand added below.
  app.fallthrough();
  app.set_version_flag("--version", "kiln 0.1.0");
  Data data;
  data.dir = DefaultDataDir();
  app.add_option("--data", data.dir, "Data folder (default $KILN_DATA or ~/.local/share/kiln)");
  app.add_option("--config", data.config_path,
                 "The server's config file: the data commands use its [database] (docs/store.md)");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  std::string author = DefaultAuthor();
  int rc = 0;

  // ---- serve
  ServeOptions serve;
  serve.examples_dir = DefaultDir(KILN_SOURCE_DIR "/examples", "examples");
  serve.server.static_dir = DefaultDir(KILN_SOURCE_DIR "/web/dist", "web/dist");
  auto* s = app.add_subcommand("serve", "Run the Kiln server");
  s->add_option("--host", serve.server.host, "Address to bind (non-loopback turns sign-in on)")
      ->capture_default_str();
  s->add_option("--port", serve.server.port, "Port")->capture_default_str();
  s->add_option("--web", serve.server.static_dir, "Built web app folder")->capture_default_str();
  s->add_option("--examples", serve.examples_dir, "Example projects to seed")
      ->capture_default_str();
  s->add_flag("--auth", serve.force_auth, "Require sign-in even on loopback");
  s->add_option("--config", serve.config_path,
                "Config file: compute backends, routing, storage, database (docs/compute.md)");
  s->add_option("--threads", serve.server.threads, "I/O threads")->capture_default_str();
  s->add_option("--slots", serve.compute_slots, "Jobs at once on local compute (0: one per core)")
      ->capture_default_str();
  s->add_option("--light-workers", serve.light_workers,
                "Warm workers without torch, for jobs that import only the standard library "
                "(and --light-preload); 0: none")
      ->capture_default_str();
  s->add_option("--light-preload", serve.light_preload,
                "Modules the light workers import once, comma-separated (e.g. numpy); jobs "
                "importing only these and the standard library run there")
      ->capture_default_str();
  size_t max_body_mb = serve.server.max_body_bytes >> 20;
  s->add_option("--max-body-mb", max_body_mb, "Largest request body (MiB)")->capture_default_str();
  size_t max_ws_kb = serve.server.max_ws_message_bytes >> 10;
  s->add_option("--max-ws-message-kb", max_ws_kb, "Largest WebSocket message (KiB)")
      ->capture_default_str();
  s->add_option("--max-connections", serve.server.max_connections_per_client,
                "Connections per client address")
      ->capture_default_str();
  s->add_option("--rate", serve.server.requests_per_second_per_client,
                "Requests per second per client address")
      ->capture_default_str();
  uint64_t max_artifact_mb = 0;
  s->add_option("--max-artifact-mb", max_artifact_mb,
                "Largest artifact an upload may add (MiB; 0: no limit but free disk)")
      ->capture_default_str();
  double header_timeout_s = serve.server.header_timeout_ms / 1000.0;
  double idle_timeout_s = serve.server.idle_timeout_ms / 1000.0;
  double body_timeout_s = serve.server.body_timeout_ms / 1000.0;
  s->add_option("--header-timeout", header_timeout_s,
                "Seconds a new connection has to send its request's headers")
      ->capture_default_str();
  s->add_option("--idle-timeout", idle_timeout_s,
                "Seconds a kept-alive connection may wait for its next request")
      ->capture_default_str();
  s->add_option("--body-timeout", body_timeout_s,
                "Seconds a request body may go without a byte arriving")
      ->capture_default_str();
  s->add_option("--trusted-proxy", serve.server.trusted_proxy,
                "Address of a reverse proxy whose X-Forwarded-For names the client");
  s->add_option("--job-memory-mb", serve.job_memory_mb,
                "Memory limit of each job (MiB; 0: the machine's memory / slots, at least 1024)")
      ->capture_default_str();
  s->add_option("--job-timeout", serve.job_timeout_s, "Wall-clock limit of each job (s; 0: none)")
      ->capture_default_str();
  s->add_option("--job-log-mb", serve.job_log_mb,
                "What one job's output may add to the record (MiB); the rest is dropped")
      ->capture_default_str();
  s->callback([&] {
    serve.data_dir = data.dir;
    // `kiln --config F serve` means the same as `kiln serve --config F`.
    if (serve.config_path.empty()) serve.config_path = data.config_path;
    serve.max_artifact_bytes = max_artifact_mb << 20;
    serve.server.header_timeout_ms = int(header_timeout_s * 1000);
    serve.server.idle_timeout_ms = int(idle_timeout_s * 1000);
    serve.server.body_timeout_ms = int(body_timeout_s * 1000);
    serve.server.max_body_bytes = max_body_mb << 20;
    serve.server.max_ws_message_bytes = max_ws_kb << 10;
    Status st = Serve(serve);
    if (!st.ok()) rc = Fail(st);
  });

  // ---- projects
  auto* projects = app.add_subcommand("projects", "List, create and delete projects");
  projects->require_subcommand(1);
  projects->add_subcommand("list", "List projects")->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto list = data.repo->ListProjects();
    if (!list.ok()) return void(rc = Fail(list.status()));
    if (list->empty()) std::cout << "no projects yet: kiln projects create NAME\n";
    for (const auto& p : *list) {
      std::cout << p.name << (p.description.empty() ? "" : "  — " + p.description) << "\n";
    }
  });
  std::string name, description;
  auto* pc = projects->add_subcommand("create", "Create a project");
  pc->add_option("name", name, "Project name")->required();
  pc->add_option("--description", description, "One line about it");
  pc->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto c = data.repo->CreateProject(name, description, author);
    if (!c.ok()) return void(rc = Fail(c.status()));
    std::cout << "created project " << name << " at " << c->Hex().substr(0, 12) << "\n";
  });
  bool yes = false;
  auto* pd = projects->add_subcommand("delete", "Delete a project's branches and tags");
  pd->add_option("name", name)->required();
  pd->add_flag("--yes", yes, "Do it without asking");
  pd->callback([&] {
    if (!yes) return void(rc = Fail(InvalidArgument("deleting '" + name + "' needs --yes")));
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.repo->DeleteProject(name); !st.ok()) return void(rc = Fail(st));
    std::cout << "deleted project " << name << "\n";
  });

  // ---- log
  std::string project, ref = "main";
  size_t limit = 20;
  bool all_parents = false, as_json = false;
  auto* log = app.add_subcommand("log", "Show history");
  log->add_option("project", project)->required();
  log->add_option("--ref,-r", ref, "Branch, tag or commit")->capture_default_str();
  log->add_option("--limit,-n", limit)->capture_default_str();
  log->add_flag("--all-parents", all_parents, "Follow merged branches too");
  log->add_flag("--json", as_json);
  log->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto start = data.repo->Resolve(project, ref);
    if (!start.ok()) return void(rc = Fail(start.status()));
    auto entries = data.repo->Log(*start, {.first_parent = !all_parents, .limit = limit});
    if (!entries.ok()) return void(rc = Fail(entries.status()));
    json out = json::array();
    for (const LogEntry& e : *entries) {
      if (as_json) {
        json parents = json::array();
        for (const Digest& p : e.commit.parents) parents.push_back(p.Hex());
        out.push_back({{"commit", e.digest.Hex()},
                       {"parents", parents},
                       {"author", e.commit.author},
                       {"message", e.commit.message},
                       {"time_ms", e.commit.time_ms}});
        continue;
      }
      std::cout << e.digest.Hex().substr(0, 12) << "  " << FormatTime(e.commit.time_ms) << "  "
                << e.commit.author << "  " << e.commit.message
                << (e.commit.parents.size() > 1 ? "  (merge)" : "") << "\n";
    }
    if (as_json) std::cout << out.dump(2) << "\n";
  });

  // ---- branch / tag
  auto add_ref_commands = [&](const char* kind, bool tags) {
    auto* cmd = app.add_subcommand(
        kind, tags ? "List, create and delete tags" : "List, create and delete branches");
    cmd->require_subcommand(1);
    auto* l = cmd->add_subcommand("list");
    l->add_option("project", project)->required();
    l->callback([&, tags] {
      if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
      auto refs = tags ? data.repo->ListTags(project) : data.repo->ListBranches(project);
      if (!refs.ok()) return void(rc = Fail(refs.status()));
      for (const auto& [n, d] : *refs) std::cout << n << "  " << d.Hex().substr(0, 12) << "\n";
    });
    auto* c = cmd->add_subcommand("create");
    c->add_option("project", project)->required();
    c->add_option("name", name)->required();
    c->add_option("--from,--ref", ref, "Where it starts")->capture_default_str();
    c->callback([&, tags] {
      if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
      auto at = data.repo->Resolve(project, ref);
      if (!at.ok()) return void(rc = Fail(at.status()));
      Status st = tags ? data.repo->CreateTag(project, name, *at)
                       : data.repo->CreateBranch(project, name, *at);
      if (!st.ok()) return void(rc = Fail(st));
      std::cout << (tags ? "tag " : "branch ") << name << " at " << at->Hex().substr(0, 12) << "\n";
    });
    auto* d = cmd->add_subcommand("delete");
    d->add_option("project", project)->required();
    d->add_option("name", name)->required();
    d->callback([&, tags] {
      if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
      Status st =
          tags ? data.repo->DeleteTag(project, name) : data.repo->DeleteBranch(project, name);
      if (!st.ok()) return void(rc = Fail(st));
      std::cout << "deleted " << name << "\n";
    });
  };
  add_ref_commands("branch", false);
  add_ref_commands("tag", true);

  // ---- show
  std::string node;
  auto* show = app.add_subcommand("show", "Print the tree, or one node, at a ref as JSON");
  show->add_option("project", project)->required();
  show->add_option("node", node, "A node guid (default: the whole tree)");
  show->add_option("--ref,-r", ref)->capture_default_str();
  show->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto at = data.repo->Resolve(project, ref);
    if (!at.ok()) return void(rc = Fail(at.status()));
    auto tree = data.repo->LoadTree(*at);
    if (!tree.ok()) return void(rc = Fail(tree.status()));
    if (node.empty()) {
      std::cout << json::parse((*tree)->ToJsonString()).dump(2) << "\n";
      return;
    }
    auto n = (*tree)->Find(node);
    if (!n) return void(rc = Fail(NotFound("no node " + node + " at " + ref)));
    std::cout << NodeToJson(*n, true).dump(2) << "\n";
  });

  // ---- patch
  std::string file, branch = "main", message;
  auto* patch = app.add_subcommand("patch", "Apply a patch (JSON, docs/patches.md) and commit it");
  patch->add_option("project", project)->required();
  patch->add_option("file", file, "Patch file, or - for standard input")->required();
  patch->add_option("--branch,-b", branch)->capture_default_str();
  patch->add_option("--message,-m", message, "Commit message (default: the patch's)");
  patch->add_option("--author", author)->capture_default_str();
  patch->callback([&] {
    auto text = ReadFileOrStdin(file);
    if (!text.ok()) return void(rc = Fail(text.status()));
    auto p = ParsePatchJson(*text);
    if (!p.ok()) return void(rc = Fail(p.status().WithContext(file)));
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    std::string msg = !message.empty() ? message : !p->message.empty() ? p->message : "patch";
    auto c =
        data.repo->Commit({project, branch, author, msg, p->base ? p->base : std::nullopt}, *p);
    if (!c.ok()) return void(rc = Fail(c.status()));
    std::cout << "committed " << c->Hex().substr(0, 12) << " on " << branch << " (" << p->ops.size()
              << " operation" << (p->ops.size() == 1 ? "" : "s") << ")\n";
  });

  // ---- requirements: the project's Python packages (docs/python-packages.md)
  std::string requirements_file;
  auto* reqs = app.add_subcommand(
      "requirements",
      "Show or set the project's Python packages (pip requirement lines) that jobs import");
  reqs->add_option("project", project)->required();
  reqs->add_option("file", requirements_file,
                   "A requirements.txt to set (- for standard input; an empty file clears "
                   "them); without it, print them");
  reqs->add_option("--branch,-b", branch)->capture_default_str();
  reqs->add_option("--author", author)->capture_default_str();
  reqs->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (requirements_file.empty()) {
      auto at = data.repo->Resolve(project, branch);
      if (!at.ok()) return void(rc = Fail(at.status()));
      auto tree = data.repo->LoadTree(*at);
      if (!tree.ok()) return void(rc = Fail(tree.status()));
      auto root = (*tree)->Find(RootGuid());
      const Value* v = root ? root->Attr("requirements") : nullptr;
      if (v && v->is_string()) std::cout << v->as_string();
      return;
    }
    auto text = ReadFileOrStdin(requirements_file);
    if (!text.ok()) return void(rc = Fail(text.status()));
    Patch p;
    p.ops.push_back(PatchOp::SetAttr(RootGuid(), "requirements", *text));
    auto c = data.repo->Commit(
        {project, branch, author, "Set the project's Python packages", std::nullopt}, p);
    if (!c.ok()) return void(rc = Fail(c.status()));
    std::cout << "committed " << c->Hex().substr(0, 12) << " on " << branch << ": "
              << (text->empty() ? "the project lists no Python packages"
                                : "jobs run with the project's Python packages, installed "
                                  "once into an environment shared by its jobs")
              << "\n";
  });

  // ---- merge
  std::string from, into = "main";
  auto* merge = app.add_subcommand("merge", "Merge a branch (or any ref) into a branch");
  merge->add_option("project", project)->required();
  merge->add_option("from", from, "What to merge")->required();
  merge->add_option("--into", into)->capture_default_str();
  merge->add_option("--message,-m", message);
  merge->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    MergeOutcome out;
    std::string msg = message.empty() ? "Merge " + from + " into " + into : message;
    Status st = data.repo->Merge({project, into, author, msg, std::nullopt}, from, &out);
    if (!out.conflicts.empty()) {
      std::cerr << "kiln: merge stopped: " << out.conflicts.size()
                << " conflict(s); nothing changed\n";
      for (const MergeConflict& c : out.conflicts) {
        std::cerr << "  " << MergeConflictToJson(c).dump() << "\n";
      }
      return void(rc = 1);
    }
    if (!st.ok()) return void(rc = Fail(st));
    if (out.up_to_date) {
      std::cout << into << " already contains " << from << "\n";
    } else {
      std::cout << "merged " << from << " into " << into << ": " << out.commit->Hex().substr(0, 12)
                << "\n";
    }
  });

  // ---- diff
  std::string to;
  auto* diff = app.add_subcommand("diff", "The patch operations that turn one ref into another");
  diff->add_option("project", project)->required();
  diff->add_option("from", from)->required();
  diff->add_option("to", to)->required();
  diff->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto a = data.repo->Resolve(project, from);
    auto b = data.repo->Resolve(project, to);
    if (!a.ok()) return void(rc = Fail(a.status()));
    if (!b.ok()) return void(rc = Fail(b.status()));
    auto ops = data.repo->Diff(*a, *b);
    if (!ops.ok()) return void(rc = Fail(ops.status()));
    Patch p{std::nullopt, "", *ops};
    std::cout << PatchToJsonValue(p)["ops"].dump(2) << "\n";
  });

  // ---- export / import
  std::string output;
  auto* exp = app.add_subcommand("export", "Write a project (all refs and objects) to one file");
  exp->add_option("project", project)->required();
  exp->add_option("--output,-o", output, "File (default PROJECT.kiln)");
  exp->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    ExportStats stats;
    auto bytes = ExportProject(*data.store, project, &stats);
    if (!bytes.ok()) return void(rc = Fail(bytes.status()));
    std::string path = output.empty() ? project + ".kiln" : output;
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary);
      out.write(bytes->data(), std::streamsize(bytes->size()));
      if (!out) return void(rc = Fail(IOError("cannot write " + tmp)));
    }
    std::filesystem::rename(tmp, path);
    std::cout << "exported " << project << " to " << path << ": " << stats.refs << " refs, "
              << stats.objects << " objects, " << stats.bytes << " bytes\n";
  });
  std::string as;
  auto* imp = app.add_subcommand("import", "Create a project from an export file");
  imp->add_option("file", file)->required();
  imp->add_option("--as", as, "Project name (default: the exported one)");
  imp->callback([&] {
    auto bytes = ReadFileOrStdin(file);
    if (!bytes.ok()) return void(rc = Fail(bytes.status()));
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    ExportStats stats;
    if (Status st = ImportProject(*data.store, *bytes, as, &stats); !st.ok()) {
      return void(rc = Fail(st.WithContext(file)));
    }
    std::cout << "imported " << file << ": " << stats.refs << " refs, " << stats.objects
              << " objects\n";
  });

  // ---- users
  auto* users = app.add_subcommand("users", "Users, API tokens and roles");
  users->require_subcommand(1);
  std::string user, password, role, label = "cli";
  bool admin = false;
  auto* ua = users->add_subcommand("add", "Add a user (password from --password or stdin)");
  ua->add_option("name", user)->required();
  ua->add_option("--password", password, "Password (default: read a line from stdin)");
  ua->add_flag("--admin", admin, "Server admin: every right on every project");
  ua->callback([&] {
    if (password.empty()) {
      if (isatty(0)) std::cerr << "password for " << user << ": ";
      std::getline(std::cin, password);
    }
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.access->AddUser(user, password, admin); !st.ok())
      return void(rc = Fail(st));
    std::cout << "added user " << user << (admin ? " (server admin)" : "") << "\n";
  });
  users->add_subcommand("list", "List users")->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto list = data.access->ListUsers();
    if (!list.ok()) return void(rc = Fail(list.status()));
    for (const UserInfo& u : *list) {
      std::cout << u.name << (u.server_admin ? "  admin" : "") << "  since "
                << FormatTime(u.created_ms) << "\n";
    }
  });
  auto* ur = users->add_subcommand("remove", "Remove a user, their tokens and roles");
  ur->add_option("name", user)->required();
  ur->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.access->RemoveUser(user); !st.ok()) return void(rc = Fail(st));
    std::cout << "removed user " << user << "\n";
  });
  auto* ut = users->add_subcommand("token", "Create an API token (shown once)");
  ut->add_option("name", user)->required();
  ut->add_option("--label", label, "What it is for")->capture_default_str();
  ut->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto t = data.access->CreateToken(user, label);
    if (!t.ok()) return void(rc = Fail(t.status()));
    std::cout << *t << "\n";
  });
  auto* urole = users->add_subcommand("role", "Give a user a role on a project");
  urole->add_option("project", project)->required();
  urole->add_option("name", user)->required();
  urole->add_option("role", role, "read, write, admin or none")->required();
  urole->callback([&] {
    auto r = ParseRole(role);
    if (!r.ok()) return void(rc = Fail(r.status()));
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.access->GetUser(user).status(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.access->SetRole(project, user, *r); !st.ok()) return void(rc = Fail(st));
    std::cout << user << " has " << role << " on " << project << "\n";
  });

  // ---- stored credentials (docs/access.md, "Stored credentials")
  auto* creds = app.add_subcommand("credentials", "Secrets the backends use, stored sealed");
  creds->require_subcommand(1);
  std::string cred_name, cred_kind = "generic", cred_project;
  std::vector<std::string> cred_fields, cred_secrets;
  auto cred_scope = [&] {
    return cred_project.empty() ? ServerCredentialScope() : ProjectCredentialScope(cred_project);
  };
  auto open_credentials = [&]() -> Result<std::unique_ptr<Credentials>> {
    KILN_RETURN_IF_ERROR(data.Open());
    KILN_ASSIGN_OR_RETURN(ServerKey key, ServerKey::LoadOrCreate(CredentialsKeyPath(data.dir)));
    return std::make_unique<Credentials>(*data.store, SystemClock::Get(), key);
  };
  auto* cs = creds->add_subcommand(
      "set", "Store or replace a credential; each --secret's value is read from stdin, one a line");
  cs->add_option("name", cred_name)->required();
  cs->add_option("--kind", cred_kind, "s3, slurm or generic")->capture_default_str();
  cs->add_option("--project,-p", cred_project, "A project's (default: the server's)");
  cs->add_option("--field", cred_fields, "A public field NAME=VALUE (an S3 access_key)");
  cs->add_option("--secret", cred_secrets, "A secret field's NAME (an S3 secret_key)");
  cs->callback([&] {
    auto c = open_credentials();
    if (!c.ok()) return void(rc = Fail(c.status()));
    CredentialFields fields, secrets;
    for (const std::string& f : cred_fields) {
      size_t eq = f.find('=');
      if (eq == std::string::npos || eq == 0) {
        return void(rc = Fail(InvalidArgument("--field takes NAME=VALUE, not '" + f + "'")));
      }
      fields[f.substr(0, eq)] = f.substr(eq + 1);
    }
    for (const std::string& name : cred_secrets) {
      if (isatty(0)) std::cerr << name << ": ";
      std::string value;
      if (!std::getline(std::cin, value)) {
        return void(rc = Fail(InvalidArgument("no value on stdin for the secret " + name)));
      }
      secrets[name] = value;
    }
    Status st = (*c)->Put(cred_scope(), cred_name, cred_kind, fields, secrets, "kiln credentials");
    if (!st.ok()) return void(rc = Fail(st));
    std::cout << "stored " << cred_name << " (" << cred_kind << ") in " << cred_scope() << "\n";
  });
  auto* cl = creds->add_subcommand("list", "List credentials (never their secrets)");
  cl->add_option("--project,-p", cred_project, "A project's (default: the server's)");
  cl->callback([&] {
    auto c = open_credentials();
    if (!c.ok()) return void(rc = Fail(c.status()));
    auto all = (*c)->List(cred_scope());
    if (!all.ok()) return void(rc = Fail(all.status()));
    for (const CredentialInfo& info : *all) {
      std::cout << info.name << "  " << info.kind;
      for (const auto& [k, v] : info.public_fields) std::cout << "  " << k << "=" << v;
      for (const auto& k : info.secret_names) std::cout << "  " << k << "=(set)";
      std::cout << "\n";
    }
  });
  auto* cr = creds->add_subcommand("remove", "Remove a credential");
  cr->add_option("name", cred_name)->required();
  cr->add_option("--project,-p", cred_project, "A project's (default: the server's)");
  cr->callback([&] {
    auto c = open_credentials();
    if (!c.ok()) return void(rc = Fail(c.status()));
    if (Status st = (*c)->Remove(cred_scope(), cred_name); !st.ok()) return void(rc = Fail(st));
    std::cout << "removed " << cred_name << "\n";
  });
  creds->add_subcommand("rotate-key", "Seal every credential under a new key (server stopped)")
      ->callback([&] {
        if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
        auto id = RotateKeyFile(*data.store, CredentialsKeyPath(data.dir));
        if (!id.ok()) return void(rc = Fail(id.status()));
        std::cout << "every credential is sealed under key " << *id << "\n";
      });

  // ---- worker tokens (docs/access.md)
  auto* workers = app.add_subcommand("workers", "Tokens for remote workers (kiln worker)");
  workers->require_subcommand(1);
  std::string worker_name, secret;
  auto* wt = workers->add_subcommand("token", "Create a worker token (shown once)");
  wt->add_option("name", worker_name, "The worker's name (it leases under it)")->required();
  wt->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    auto t = data.access->CreateWorkerToken(worker_name);
    if (!t.ok()) return void(rc = Fail(t.status()));
    std::cout << *t << "\n";
  });
  auto* wr = workers->add_subcommand("revoke", "Revoke a worker token (or any token)");
  wr->add_option("token", secret, "The token")->required();
  wr->callback([&] {
    if (Status st = data.Open(); !st.ok()) return void(rc = Fail(st));
    if (Status st = data.access->Revoke(secret); !st.ok()) return void(rc = Fail(st));
    std::cout << "revoked\n";
  });

  // ---- run, logs, artifacts: through the running server
  std::string server_url = "http://127.0.0.1:8080", token;
  if (const char* t = std::getenv("KILN_TOKEN"); t && *t) token = t;
  if (const char* u = std::getenv("KILN_SERVER"); u && *u) server_url = u;
  auto add_remote_flags = [&](CLI::App* cmd) {
    cmd->add_option("--server", server_url, "The Kiln server ($KILN_SERVER)")
        ->capture_default_str();
    cmd->add_option("--token", token, "API token ($KILN_TOKEN), needed when sign-in is on");
  };
  std::string pipeline;
  bool wait = false, force = false;
  auto* run = app.add_subcommand("run", "Run a pipeline on the server and show its progress");
  run->add_option("project", project)->required();
  run->add_option("pipeline", pipeline, "The pipeline's name or guid")->required();
  run->add_option("--branch,-b", branch, "Branch (or tag, commit) to run")->capture_default_str();
  run->add_flag("--wait,-w", wait, "Follow it until it ends; exit 1 unless it succeeded");
  run->add_flag("--force", force, "Run every job, past the cache");
  std::string run_backend;
  run->add_option("--backend", run_backend,
                  "Where its jobs run: a backend of the server's config file (kiln backends)");
  add_remote_flags(run);
  run->callback([&] {
    RemoteClient remote(server_url, token);
    std::string base = "/api/v1/projects/" + UrlSegment(project);
    auto found = FindPipeline(remote, project, branch, pipeline);
    if (!found.ok()) return void(rc = Fail(found.status()));
    std::string guid = *found;
    json body = {{"pipeline", guid}, {"ref", branch}, {"force", force}};
    if (!run_backend.empty()) body["backend"] = run_backend;
    auto started = remote.Call("POST", base + "/executions", &body);
    if (!started.ok()) return void(rc = Fail(started.status()));
    std::string id = (*started)["id"];
    std::cout << "execution " << id << " of " << pipeline << " at " << branch << "\n";
    if (!wait) return;
    std::map<std::string, std::string> states;
    std::map<std::string, int64_t> log_offset;
    // Prints every log line of a job stored so far, page by page. Called
    // before a job's state line, so a finished job's lines always come
    // before its end line (one page of /logs holds at most 1,000 lines).
    auto drain_logs = [&](const std::string& jid, const std::string& name) {
      for (;;) {
        auto logs = remote.Call(
            "GET", "/api/v1/jobs/" + jid + "/logs?after=" + std::to_string(log_offset[jid]));
        if (!logs.ok() || (*logs)["events"].empty()) return;
        for (const json& ev : (*logs)["events"]) {
          std::cout << "  " << name << " | " << ev["payload"].value("line", "") << "\n";
        }
        log_offset[jid] = (*logs)["next"].get<int64_t>();
      }
    };
    for (;;) {
      auto e = remote.Call("GET", "/api/v1/executions/" + id);
      if (!e.ok()) return void(rc = Fail(e.status()));
      for (const json& j : (*e)["jobs"]) {
        std::string jid = j["id"], name = j["name"], state = j["state"];
        // The snapshot was taken before these requests: every line the job
        // wrote before reaching `state` is stored by now.
        drain_logs(jid, name);
        if (states[jid] != state) {
          states[jid] = state;
          std::string reason = j["reason"];
          std::string where;  // "on cluster, node n01, Slurm job 1234_7"
          if (state == "running" && j.value("backend", "") != "") {
            where = " (on " + j.value("backend", "");
            if (j.value("host", "") != "") where += ", node " + j.value("host", "");
            if (j.value("backend_job", "") != "") where += ", job " + j.value("backend_job", "");
            where += ")";
          }
          std::cout << "[" << state << "] " << name << where
                    << (reason.empty() ? "" : ": " + reason) << "\n";
        }
      }
      std::cout.flush();
      std::string state = (*e)["state"];
      if (state != "running") {
        std::cout << "execution " << state;
        std::string reason = (*e)["reason"];
        if (!reason.empty()) std::cout << ": " << reason;
        std::cout << "\n";
        if (state != "succeeded") rc = 1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });

  std::string job;
  bool follow = false;
  auto* backends = app.add_subcommand("backends", "List the server's compute backends");
  add_remote_flags(backends);
  backends->callback([&] {
    RemoteClient remote(server_url, token);
    auto list = remote.Call("GET", "/api/v1/backends");
    if (!list.ok()) return void(rc = Fail(list.status()));
    for (const json& b : (*list)["backends"]) {
      std::cout << b.value("name", "") << "\t" << b.value("kind", "") << "\t" << b.value("slots", 0)
                << " slot(s)";
      if (b.contains("gpus") && b["gpus"].is_number()) std::cout << ", " << b["gpus"] << " GPU(s)";
      if (b.value("default", false)) std::cout << "\tdefault";
      std::cout << "\n";
    }
  });

  auto* logs = app.add_subcommand("logs", "Print a job's output (from the server)");
  logs->add_option("job", job, "Job id")->required();
  logs->add_flag("--follow,-f", follow, "Keep printing until the job ends");
  add_remote_flags(logs);
  logs->callback([&] {
    RemoteClient remote(server_url, token);
    int64_t offset = 0;
    for (;;) {
      auto batch = remote.Call(
          "GET", "/api/v1/jobs/" + UrlSegment(job) + "/logs?after=" + std::to_string(offset));
      if (!batch.ok()) return void(rc = Fail(batch.status()));
      for (const json& ev : (*batch)["events"])
        std::cout << ev["payload"].value("line", "") << "\n";
      offset = (*batch)["next"].get<int64_t>();
      if (!follow) return;
      auto j = remote.Call("GET", "/api/v1/jobs/" + UrlSegment(job));
      if (!j.ok()) return void(rc = Fail(j.status()));
      std::string state = (*j)["state"];
      if (state != "pending" && state != "queued" && state != "running" &&
          (*batch)["events"].empty()) {
        return;
      }
      std::cout.flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });

  auto* artifacts = app.add_subcommand("artifacts", "Outputs of executions, from the server");
  artifacts->require_subcommand(1);
  std::string execution, digest;
  auto* aput = artifacts->add_subcommand("put", "Upload a file as an artifact of a project");
  aput->add_option("project", project)->required();
  aput->add_option("file", file)->required();
  aput->add_option("--name", name, "Artifact name (default: the file name)");
  aput->add_option("--branch,-b", branch)->capture_default_str();
  add_remote_flags(aput);
  aput->callback([&] {
    RemoteClient remote(server_url, token);
    std::string n = name.empty() ? std::filesystem::path(file).filename().string() : name;
    auto r = remote.Upload("/api/v1/projects/" + UrlSegment(project) +
                               "/artifacts?name=" + UrlSegment(n) + "&branch=" + UrlSegment(branch),
                           file);
    if (!r.ok()) return void(rc = Fail(r.status()));
    std::cout << "uploaded " << file << " as " << n << ": " << std::string((*r)["digest"]) << " ("
              << (*r)["size"].get<uint64_t>() << " bytes)\n";
  });
  auto* alist = artifacts->add_subcommand("ls", "List a project's artifacts");
  alist->add_option("project", project)->required();
  alist->add_option("--ref,-r", ref)->capture_default_str();
  add_remote_flags(alist);
  alist->callback([&] {
    RemoteClient remote(server_url, token);
    auto r = remote.Call(
        "GET", "/api/v1/projects/" + UrlSegment(project) + "/artifacts?ref=" + UrlSegment(ref));
    if (!r.ok()) return void(rc = Fail(r.status()));
    if ((*r)["artifacts"].empty())
      std::cout << "no artifacts yet: kiln artifacts put PROJECT FILE\n";
    for (const json& a : (*r)["artifacts"]) {
      std::cout << a.value("digest", "") << "  " << a.value("name", "") << "  "
                << a.value("size", 0) << " bytes  " << a.value("serializer", "") << "\n";
    }
  });
  auto* als = artifacts->add_subcommand("outputs", "List the outputs of an execution's jobs");
  als->add_option("execution", execution)->required();
  add_remote_flags(als);
  als->callback([&] {
    RemoteClient remote(server_url, token);
    auto e = remote.Call("GET", "/api/v1/executions/" + UrlSegment(execution));
    if (!e.ok()) return void(rc = Fail(e.status()));
    for (const json& j : (*e)["jobs"]) {
      for (const auto& [out, info] : j["outputs"].items()) {
        std::cout << info.value("digest", "") << "  " << std::string(j["name"]) << "." << out
                  << "  " << info.value("serializer", "") << "  " << info.value("size", 0)
                  << " bytes\n";
      }
    }
  });
  auto* aget = artifacts->add_subcommand("get", "Download an artifact by digest");
  aget->add_option("digest", digest)->required();
  aget->add_option("--output,-o", output, "File (default: the digest)");
  aget->add_option("--project,-p", project, "The project that lists it (for uploaded artifacts)");
  add_remote_flags(aget);
  aget->callback([&] {
    RemoteClient remote(server_url, token);
    std::string path = output.empty() ? digest : output;
    std::string query = project.empty() ? "" : "?project=" + UrlSegment(project);
    Status st = remote.Download("/api/v1/artifacts/" + UrlSegment(digest) + query, path);
    if (!st.ok()) return void(rc = Fail(st));
    std::cout << "wrote " << path << "\n";
  });

  AddNnCommand(app, &rc);
  AddReproduceCommand(app, {&server_url, &token, add_remote_flags}, &rc);
  AddSweepCommand(app, {&server_url, &token, add_remote_flags}, &rc);
  AddWorkerCommand(app, &rc);
  AddGcCommand(app, &data.dir, &data.config_path, &rc);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}

}  // namespace kiln

int main(int argc, char** argv) {
  // Logging must exist before any subcommand runs; the level flag is read
  // by a tiny pre-scan so that CLI11 callbacks see the configured logger.
  std::string level = "info";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--log-level") level = argv[i + 1];
  }
  kiln::InitLogging(level);
  return kiln::Main(argc, argv);
}
