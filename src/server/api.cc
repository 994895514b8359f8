#include "server/api.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "access/credentials.h"
#include "access/project_storage.h"
#include "core/guid.h"
#include "model/export.h"
#include "server/api_compute.h"
#include "server/tree_json_cache.h"

namespace kiln {
namespace {

using json = nlohmann::json;

json CommitJson(const Digest& d, const CommitObject& c) {
  json parents = json::array();
  for (const Digest& p : c.parents) parents.push_back(p.Hex());
  return {{"commit", d.Hex()},  {"root", c.root.Hex()}, {"parents", parents},
          {"author", c.author}, {"message", c.message}, {"time_ms", c.time_ms}};
}

json RefsJson(const std::vector<std::pair<std::string, Digest>>& refs) {
  json out = json::array();
  for (const auto& [name, d] : refs) out.push_back({{"name", name}, {"commit", d.Hex()}});
  return out;
}

json NodeJson(const NodeRef& n) {
  json children = json::array();
  for (const NodeRef& c : n.children()) children.push_back(std::string(c.guid()));
  json own_attrs = json::object(), attrs = json::object(), pointers = json::object(),
       own_pointers = json::object();
  for (const auto& [k, v] : n.EffectiveAttrs()) attrs[k] = v.ToJson();
  for (const auto& [k, v] : n.EffectivePointers()) {
    pointers[k] = v ? json(*v) : json(nullptr);
  }
  auto parent = n.parent();
  auto base = n.base();
  auto meta = n.MetaType();
  return {{"guid", std::string(n.guid())},
          {"name", n.Name()},
          {"parent", parent ? json(std::string(parent->guid())) : json(nullptr)},
          {"base", base ? json(std::string(base->guid())) : json(nullptr)},
          {"meta", meta ? json(meta->Name()) : json(nullptr)},
          {"attrs", attrs},
          {"pointers", pointers},
          {"children", children}};
}

// Runs `f` and turns a failed Status into the error response.
Result<size_t> LimitParam(const HttpRequest& r, size_t fallback, size_t max) {
  std::string s = r.Query("limit");
  if (s.empty()) return fallback;
  size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return InvalidArgument("'limit' must be a positive integer");
    n = n * 10 + size_t(c - '0');
    if (n > max) break;
  }
  // Said, not silently capped: a caller who asked for more would take a
  // short answer for the whole history.
  if (n == 0 || n > max) {
    return InvalidArgument("'limit' must be between 1 and " + std::to_string(max) +
                           " (page on with ?ref= the oldest commit's parent)");
  }
  return n;
}

Result<std::string> RequiredString(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    return InvalidArgument(std::string("the body needs a non-empty string '") + key + "'");
  }
  return it->get<std::string>();
}

std::string OptionalString(const json& body, const char* key, const std::string& fallback = "") {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string SessionCookie(const HttpRequest& r) {
  const std::string& cookie = r.Header("cookie");
  size_t pos = cookie.find("kiln_session=");
  if (pos == std::string::npos) return "";
  size_t start = pos + 13, end = cookie.find(';', start);
  return cookie.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct Endpoint {
  const char* method;
  const char* path;
  const char* summary;
  Router::Handler handler;
};

}  // namespace

Result<std::string> AuthenticateRequest(Access& access, bool auth_enabled,
                                        const HttpRequest& request) {
  bool worker_route = IsWorkerRoute(request);
  if (!auth_enabled) return std::string(worker_route ? kAnyWorker : Access::kLocalUser);
  // A job on another machine (pushing events, fetching its files, reporting
  // its exit) authenticates with its own token, which the route checks
  // (docs/compute.md): it acts for no user.
  if (IsJobTokenRoute(request)) return std::string();
  const std::string& header = request.Header("authorization");
  std::string secret;
  if (header.starts_with("Bearer ")) {
    secret = header.substr(7);
  } else {
    secret = SessionCookie(request);
  }
  if (secret.empty()) {
    // Signing in, and asking whether the server is up, need no credentials.
    if (request.path == "/api/v1/login" || request.path == "/api/v1/health" ||
        request.path == "/api/v1/openapi.json") {
      return std::string();
    }
    return Status(Code::kUnauthenticated, "sign in, or send 'Authorization: Bearer <token>'");
  }
  KILN_ASSIGN_OR_RETURN(TokenInfo t, access.Authenticate(secret));
  // Worker tokens and the worker routes belong together (docs/access.md).
  if (t.worker != worker_route) {
    return Status(Code::kPermissionDenied,
                  t.worker ? "a worker token reaches only the worker routes (/api/v1/workers/…)"
                           : "this route is for remote workers: create a worker token with "
                             "'kiln workers token NAME'");
  }
  return t.worker ? WorkerUser(t.label) : t.user;
}

static std::vector<Endpoint> Endpoints(ApiContext& ctx) {
  Repository& repo = ctx.repo;
  Access& access = ctx.access;
  auto need = [&access](const HttpRequest& r, Role role) {
    return access.Check(r.user, r.Param("p"), role);
  };
  auto ref_of = [](const HttpRequest& r) { return r.Query("ref", "main"); };
  // Rendered trees, shared by every request of the tree endpoint.
  auto trees = std::make_shared<TreeJsonCache>();

  return {
      {"GET", "/api/v1/health",
       "Liveness: status, version, and the limits a client checks before sending",
       [&ctx](HttpRequest&) {
         return HttpResponse::Json(200, {{"status", "ok"},
                                         {"version", ctx.version},
                                         {"max_body_bytes", ctx.max_body_bytes},
                                         {"max_artifact_bytes", ctx.max_artifact_bytes}});
       }},
      {"GET", "/api/v1/metrics", "Prometheus metrics",
       [&ctx](HttpRequest&) {
         HttpResponse r;
         r.content_type = "text/plain; version=0.0.4";
         r.body = ctx.metrics.RenderPrometheus();
         return r;
       }},
      {"POST", "/api/v1/login", "Sign in: {user, password} → session cookie",
       [&access, &ctx](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           if (!ctx.auth_enabled) {
             return HttpResponse::Json(200, {{"user", Access::kLocalUser}});
           }
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string user, RequiredString(body, "user"));
           KILN_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
           KILN_ASSIGN_OR_RETURN(std::string secret, access.Login(user, password));
           HttpResponse resp = HttpResponse::Json(200, {{"user", user}});
           resp.headers.emplace_back("Set-Cookie", "kiln_session=" + secret +
                                                       "; HttpOnly; SameSite=Strict; Path=/; "
                                                       "Max-Age=604800");
           return resp;
         });
       }},
      {"POST", "/api/v1/logout", "Sign out: revokes the session",
       [&access](HttpRequest& r) {
         std::string secret = SessionCookie(r);
         if (!secret.empty()) (void)access.Revoke(secret);
         HttpResponse resp = HttpResponse::Json(200, {{"signed_out", true}});
         resp.headers.emplace_back("Set-Cookie",
                                   "kiln_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
         return resp;
       }},
      {"GET", "/api/v1/me", "Who the request acts for",
       [&ctx](HttpRequest& r) {
         return HttpResponse::Json(200, {{"user", r.user}, {"auth", ctx.auth_enabled}});
       }},

      // ---- projects
      {"GET", "/api/v1/projects", "Projects the caller may read",
       [&repo, &access](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_ASSIGN_OR_RETURN(auto projects, repo.ListProjects());
           json out = json::array();
           for (const ProjectInfo& p : projects) {
             if (!access.Check(r.user, p.name, Role::kRead).ok()) continue;
             out.push_back(
                 {{"name", p.name}, {"description", p.description}, {"created_ms", p.created_ms}});
           }
           return HttpResponse::Json(200, {{"projects", out}});
         });
       }},
      {"POST", "/api/v1/projects",
       "Create a project: {name, description, from?: {project, ref}} (a fork of a commit)",
       [&repo, &access, &ctx](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           if (r.user.empty()) return Status(Code::kUnauthenticated, "sign in first");
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
           // A fork: the source must be readable and the ref must resolve
           // before anything is created.
           std::optional<std::pair<std::string, Digest>> fork;
           if (auto from = body.find("from"); from != body.end() && !from->is_null()) {
             if (!from->is_object()) {
               return InvalidArgument("'from' must be an object {project, ref}");
             }
             KILN_ASSIGN_OR_RETURN(std::string source, RequiredString(*from, "project"));
             std::string ref = OptionalString(*from, "ref", "main");
             KILN_RETURN_IF_ERROR(ValidateProjectName(source));
             KILN_RETURN_IF_ERROR(access.Check(r.user, source, Role::kRead));
             KILN_ASSIGN_OR_RETURN(Digest at, repo.Resolve(source, ref));
             fork.emplace(source, at);
           }
           KILN_RETURN_IF_ERROR(ValidateProjectName(name));
           std::string description = OptionalString(body, "description");
           KILN_ASSIGN_OR_RETURN(
               Digest commit,
               fork ? repo.ForkProject(name, description, r.user, fork->first, fork->second)
                    : repo.CreateProject(name, description, r.user));
           if (r.user != Access::kLocalUser) {
             KILN_RETURN_IF_ERROR(access.SetRole(name, r.user, Role::kAdmin));
           }
           if (fork && ctx.runs) {
             KILN_RETURN_IF_ERROR(
                 GrantForkArtifacts(repo, *ctx.runs, fork->first, name, fork->second));
           }
           return HttpResponse::Json(201, {{"name", name}, {"commit", commit.Hex()}});
         });
       }},
      {"GET", "/api/v1/projects/{p}", "A project with its branches and tags",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(ProjectInfo p, repo.GetProject(r.Param("p")));
           KILN_ASSIGN_OR_RETURN(auto branches, repo.ListBranches(p.name));
           KILN_ASSIGN_OR_RETURN(auto tags, repo.ListTags(p.name));
           return HttpResponse::Json(200, {{"name", p.name},
                                           {"description", p.description},
                                           {"created_ms", p.created_ms},
                                           {"branches", RefsJson(branches)},
                                           {"tags", RefsJson(tags)}});
         });
       }},
      {"DELETE", "/api/v1/projects/{p}", "Delete a project (admin)",
       [&repo, &ctx, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kAdmin));
           KILN_RETURN_IF_ERROR(repo.DeleteProject(r.Param("p")));
           // A project made later under the name does not inherit its secrets.
           if (ctx.credentials) {
             KILN_RETURN_IF_ERROR(ctx.credentials->RemoveAll(ProjectCredentialScope(r.Param("p"))));
           }
           // Nor its choice of storage backend.
           KILN_RETURN_IF_ERROR(ProjectStorage(ctx.store).Set(r.Param("p"), ""));
           return HttpResponse::Json(200, {{"deleted", r.Param("p")}});
         });
       }},
      {"PUT", "/api/v1/projects/{p}/access/{user}", "Give a user a role: {role} (admin)",
       [&access, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kAdmin));
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string role_name, RequiredString(body, "role"));
           KILN_ASSIGN_OR_RETURN(Role role, ParseRole(role_name));
           KILN_RETURN_IF_ERROR(access.GetUser(r.Param("user")).status());
           KILN_RETURN_IF_ERROR(access.SetRole(r.Param("p"), r.Param("user"), role));
           return HttpResponse::Json(200, {{"user", r.Param("user")}, {"role", role_name}});
         });
       }},

      // ---- branches and tags
      {"GET", "/api/v1/projects/{p}/branches", "Branches and their heads",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(auto branches, repo.ListBranches(r.Param("p")));
           return HttpResponse::Json(200, {{"branches", RefsJson(branches)}});
         });
       }},
      {"POST", "/api/v1/projects/{p}/branches", "Create a branch: {name, from (a ref)}",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kWrite));
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
           KILN_ASSIGN_OR_RETURN(Digest at,
                                 repo.Resolve(r.Param("p"), OptionalString(body, "from", "main")));
           KILN_RETURN_IF_ERROR(repo.CreateBranch(r.Param("p"), name, at));
           return HttpResponse::Json(201, {{"name", name}, {"commit", at.Hex()}});
         });
       }},
      {"DELETE", "/api/v1/projects/{p}/branches/{b}", "Delete a branch",
       [&repo, need, &ctx](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kWrite));
           KILN_RETURN_IF_ERROR(repo.DeleteBranch(r.Param("p"), r.Param("b")));
           ctx.hub.BranchMoved(r.Param("p"), r.Param("b"));
           return HttpResponse::Json(200, {{"deleted", r.Param("b")}});
         });
       }},
      {"GET", "/api/v1/projects/{p}/tags", "Tags",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(auto tags, repo.ListTags(r.Param("p")));
           return HttpResponse::Json(200, {{"tags", RefsJson(tags)}});
         });
       }},
      {"POST", "/api/v1/projects/{p}/tags", "Create a tag: {name, ref}",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kWrite));
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
           KILN_ASSIGN_OR_RETURN(Digest at,
                                 repo.Resolve(r.Param("p"), OptionalString(body, "ref", "main")));
           KILN_RETURN_IF_ERROR(repo.CreateTag(r.Param("p"), name, at));
           return HttpResponse::Json(201, {{"name", name}, {"commit", at.Hex()}});
         });
       }},
      {"DELETE", "/api/v1/projects/{p}/tags/{t}", "Delete a tag (admin)",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kAdmin));
           KILN_RETURN_IF_ERROR(repo.DeleteTag(r.Param("p"), r.Param("t")));
           return HttpResponse::Json(200, {{"deleted", r.Param("t")}});
         });
       }},

      // ---- history, trees, nodes, diff, merge
      {"GET", "/api/v1/projects/{p}/commits", "History from ?ref= (default main), ?limit=",
       [&repo, need, ref_of](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(Digest start, repo.Resolve(r.Param("p"), ref_of(r)));
           KILN_ASSIGN_OR_RETURN(size_t limit, LimitParam(r, 100, 10000));
           LogOptions o;
           o.limit = limit;
           o.first_parent = r.Query("first_parent") == "true";
           KILN_ASSIGN_OR_RETURN(auto log, repo.Log(start, o));
           json out = json::array();
           for (const LogEntry& e : log) out.push_back(CommitJson(e.digest, e.commit));
           return HttpResponse::Json(200, {{"commits", out}});
         });
       }},
      {"GET", "/api/v1/projects/{p}/commits/{c}", "One commit (full or abbreviated digest)",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(Digest d, repo.Resolve(r.Param("p"), r.Param("c")));
           KILN_ASSIGN_OR_RETURN(CommitObject c, repo.ReadCommit(d));
           return HttpResponse::Json(200, CommitJson(d, c));
         });
       }},
      {"GET", "/api/v1/projects/{p}/tree", "The whole tree at ?ref= (ETag: the commit)",
       [&repo, need, ref_of, trees](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(Digest d, repo.Resolve(r.Param("p"), ref_of(r)));
           // The commit names the tree exactly: a client that has it
           // revalidates for free; "no-cache" makes it ask every time,
           // since a branch's head moves.
           HttpResponse resp;
           std::string etag = "\"" + d.Hex() + "\"";
           resp.headers = {{"ETag", etag}, {"Cache-Control", "no-cache"}};
           if (r.Header("if-none-match") == etag) {
             resp.status = 304;
             return resp;
           }
           KILN_ASSIGN_OR_RETURN(auto json, trees->Get(d, [&]() -> Result<std::string> {
             KILN_ASSIGN_OR_RETURN(auto tree, repo.LoadTree(d));
             // Built as text: a large tree would cost a second copy as json.
             return "{\"commit\":\"" + d.Hex() + "\",\"tree\":" + tree->ToJsonString() + "}";
           }));
           resp.body = *json;
           return resp;
         });
       }},
      {"GET", "/api/v1/projects/{p}/nodes/{guid}", "One node at ?ref=, with inherited values",
       [&repo, need, ref_of](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           if (!IsGuid(r.Param("guid")))
             return InvalidArgument("'" + r.Param("guid") + "' is not a guid");
           KILN_ASSIGN_OR_RETURN(Digest d, repo.Resolve(r.Param("p"), ref_of(r)));
           KILN_ASSIGN_OR_RETURN(auto tree, repo.LoadTree(d));
           auto node = tree->Find(r.Param("guid"));
           if (!node) return NotFound("no node " + r.Param("guid") + " at " + ref_of(r));
           json j = NodeJson(*node);
           j["commit"] = d.Hex();
           return HttpResponse::Json(200, j);
         });
       }},
      {"GET", "/api/v1/projects/{p}/diff", "Patch operations from ?from= to ?to=",
       [&repo, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           if (r.Query("from").empty() || r.Query("to").empty()) {
             return InvalidArgument("diff needs ?from= and ?to=");
           }
           KILN_ASSIGN_OR_RETURN(Digest from, repo.Resolve(r.Param("p"), r.Query("from")));
           KILN_ASSIGN_OR_RETURN(Digest to, repo.Resolve(r.Param("p"), r.Query("to")));
           KILN_ASSIGN_OR_RETURN(auto ops, repo.Diff(from, to));
           json out = json::array();
           for (const PatchOp& op : ops) out.push_back(PatchOpToJson(op));
           return HttpResponse::Json(200, {{"from", from.Hex()}, {"to", to.Hex()}, {"ops", out}});
         });
       }},
      {"POST", "/api/v1/projects/{p}/merge", "Merge {from} into {into}; 409 lists conflicts",
       [&repo, need, &ctx](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kWrite));
           KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
           KILN_ASSIGN_OR_RETURN(std::string from, RequiredString(body, "from"));
           KILN_ASSIGN_OR_RETURN(std::string into, RequiredString(body, "into"));
           CommitRequest req{r.Param("p"), into, r.user,
                             OptionalString(body, "message", "Merge " + from + " into " + into),
                             std::nullopt};
           MergeOutcome out;
           Status s = repo.Merge(req, from, &out);
           if (s.code() == Code::kConflict && !out.conflicts.empty()) {
             json conflicts = json::array();
             for (const MergeConflict& c : out.conflicts)
               conflicts.push_back(MergeConflictToJson(c));
             return HttpResponse::Json(409,
                                       {{"error", {{"code", "Conflict"}, {"message", s.message()}}},
                                        {"conflicts", conflicts}});
           }
           KILN_RETURN_IF_ERROR(s);
           if (!out.up_to_date) ctx.hub.BranchMoved(r.Param("p"), into);
           return HttpResponse::Json(
               200, {{"commit", out.commit ? json(out.commit->Hex()) : json(nullptr)},
                     {"up_to_date", out.up_to_date}});
         });
       }},
      {"GET", "/api/v1/projects/{p}/export", "The project as one export file (docs/formats.md)",
       [&ctx, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kRead));
           KILN_ASSIGN_OR_RETURN(std::string file, ExportProject(ctx.store, r.Param("p")));
           HttpResponse resp;
           resp.content_type = "application/octet-stream";
           resp.headers.emplace_back("Content-Disposition",
                                     "attachment; filename=\"" + r.Param("p") + ".kiln\"");
           resp.body = std::move(file);
           return resp;
         });
       }},
      {"POST", "/api/v1/projects/import", "Create a project from an export file (?name= to rename)",
       [&ctx](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           if (r.user.empty()) return Status(Code::kUnauthenticated, "sign in first");
           // A damaged upload is the client's problem (400), not the server's.
           Result<ExportFile> parsed = ParseExport(r.body);
           if (!parsed.ok())
             return InvalidArgument("not a Kiln export file: " + parsed.status().message());
           std::string name = r.Query("name", parsed->project);
           ExportStats stats;
           KILN_RETURN_IF_ERROR(ImportProject(ctx.store, r.body, name, &stats));
           if (r.user != Access::kLocalUser) {
             KILN_RETURN_IF_ERROR(ctx.access.SetRole(name, r.user, Role::kAdmin));
           }
           return HttpResponse::Json(
               201, {{"name", name}, {"objects", stats.objects}, {"refs", stats.refs}});
         });
       }},
      {"POST", "/api/v1/projects/{p}/branches/{b}/patches",
       "Apply a patch (docs/patches.md) to a branch and commit it; 422 names a violated rule",
       [&ctx, need](HttpRequest& r) {
         return Guarded([&]() -> Result<HttpResponse> {
           KILN_RETURN_IF_ERROR(need(r, Role::kWrite));
           KILN_ASSIGN_OR_RETURN(Patch patch, ParsePatchJson(r.body));
           KILN_ASSIGN_OR_RETURN(HubCommit c, ctx.hub.SubmitPatch(r.Param("p"), r.Param("b"), patch,
                                                                  r.user, "rest", 0));
           return HttpResponse::Json(201, {{"commit", c.commit.Hex()}, {"parent", c.parent.Hex()}});
         });
       }},
  };
}

void RegisterApi(Router& router, ApiContext& ctx) {
  for (Endpoint& e : Endpoints(ctx)) router.Add(e.method, e.path, std::move(e.handler), e.summary);
  router.Add(
      "GET", "/api/v1/openapi.json",
      [&router, &ctx](HttpRequest&) {
        HttpResponse r;
        r.body = OpenApiDocument(router, ctx.version);
        return r;
      },
      "This API as OpenAPI 3");
}

namespace {

// Digests an Artifact node or an Input operation of the tree names.
std::set<Digest> NamedArtifacts(const Tree& tree, bool uploads_only) {
  std::set<Digest> out;
  auto add = [&](const Value* v) {
    if (!v || !v->is_string()) return;
    Result<Digest> d = Digest::FromHex(v->as_string());
    if (d.ok()) out.insert(*d);
  };
  for (NodeId id : tree.NodeIds()) {
    NodeRef n = tree.Get(id);
    if (n.IsMeta()) continue;
    if (uploads_only) {
      // An Artifact node that no job made: an upload.
      if (n.IsA("Artifact") && n.Attr("job") == nullptr) add(n.Attr("digest"));
      continue;
    }
    add(n.Attr("digest"));    // Artifact nodes
    add(n.Attr("artifact"));  // Input operations
  }
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status GrantForkArtifacts(Repository& repo, RunsStore& runs, const std::string& source,
                          const std::string& fork, const Digest& at) {
  KILN_ASSIGN_OR_RETURN(auto tree, repo.LoadTree(at));
  std::vector<ArtifactGrant> grants;
  for (const Digest& d : NamedArtifacts(*tree, false)) {
    KILN_ASSIGN_OR_RETURN(bool has, runs.ProjectHasArtifact(source, d));
    if (has) grants.push_back({fork, d, "fork", NowMs(), "", source});
  }
  return runs.Grant(grants);
}

Status BackfillUploadGrants(Repository& repo, RunsStore& runs) {
  KILN_ASSIGN_OR_RETURN(auto projects, repo.ListProjects());
  std::vector<ArtifactGrant> grants;
  for (const ProjectInfo& p : projects) {
    KILN_ASSIGN_OR_RETURN(auto branches, repo.ListBranches(p.name));
    for (const auto& [branch, head] : branches) {
      KILN_ASSIGN_OR_RETURN(auto tree, repo.LoadTree(head));
      for (const Digest& d : NamedArtifacts(*tree, true)) {
        grants.push_back({p.name, d, "upload", NowMs()});
      }
    }
  }
  return runs.Grant(grants);
}

std::string OpenApiDocument(const Router& router, const std::string& version) {
  // Built from the router's own table, so the document cannot drift from
  // the routes.
  json paths = json::object();
  for (const Router::RouteInfo& row : router.Routes()) {
    std::string method = row.method;
    for (char& c : method) c = char(std::tolower(static_cast<unsigned char>(c)));
    json op = {{"summary", row.summary},
               {"responses",
                {{"default",
                  {{"description", "JSON; errors are {\"error\": {\"code\", \"message\"}}"}}}}}};
    json params = json::array();
    const std::string& p = row.pattern;
    for (size_t i = p.find('{'); i != std::string::npos; i = p.find('{', i + 1)) {
      size_t j = p.find('}', i);
      params.push_back({{"name", p.substr(i + 1, j - i - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    paths[p][method] = op;
  }
  json doc = {{"openapi", "3.0.3"},
              {"info",
               {{"title", "Kiln API"},
                {"version", version},
                {"description", "See docs/api.md for request and response bodies."}}},
              {"paths", paths}};
  return doc.dump(2);
}

}  // namespace kiln
