#include "server/api_storage.h"

#include <nlohmann/json.hpp>

#include "server/http.h"

namespace kiln {

using json = nlohmann::json;

Result<std::string> BackendForProject(StorageSet& stores, ProjectStorage& choice,
                                      const std::string& project) {
  KILN_ASSIGN_OR_RETURN(std::string chosen, choice.Get(project));
  if (chosen.empty()) return stores.DefaultName();
  if (!stores.Has(chosen)) {
    return FailedPrecondition("project '" + project + "' keeps its new artifacts in storage '" +
                              chosen + "', which this server's config does not declare ([storage." +
                              chosen + "])");
  }
  return chosen;
}

namespace {

json BackendsJson(StorageSet& stores) {
  json out = json::array();
  for (const StorageBackendInfo& b : stores.Backends()) {
    out.push_back({{"name", b.name}, {"kind", b.kind}, {"default", b.is_default}});
  }
  return out;
}

// The digest of a project's artifact: one the project has, else 404 like
// a digest no project has (a project learns nothing of others' artifacts).
Result<Digest> ProjectArtifact(RunsStore& runs, const HttpRequest& r) {
  Result<Digest> d = Digest::FromHex(r.Param("digest"));
  if (!d.ok()) return NotFound("no artifact " + r.Param("digest"));
  KILN_ASSIGN_OR_RETURN(bool has, runs.ProjectHasArtifact(r.Param("p"), *d));
  if (!has) return NotFound("no artifact " + d->Hex());
  return *d;
}

}  // namespace

void RegisterStorageApi(Router& router, StorageContext& c) {
  StorageContext* ctx = &c;
  router.Add(
      "GET", "/api/v1/storage",
      [=](HttpRequest&) {
        return Guarded([&]() -> Result<HttpResponse> {
          return HttpResponse::Json(200, {{"backends", BackendsJson(ctx->stores)}});
        });
      },
      "The storage backends artifacts may live in: name, kind, which is the default");
  router.Add(
      "GET", "/api/v1/projects/{p}/storage",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, r.Param("p"), Role::kRead));
          KILN_ASSIGN_OR_RETURN(std::string chosen, ctx->choice.Get(r.Param("p")));
          return HttpResponse::Json(
              200, {{"backend", chosen.empty() ? ctx->stores.DefaultName() : chosen},
                    {"chosen", !chosen.empty()}});
        });
      },
      "Where the project's new artifacts go: {backend, chosen} (chosen false: the default)");
  router.Add(
      "PUT", "/api/v1/projects/{p}/storage",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, r.Param("p"), Role::kAdmin));
          // A server admin passes any check: the project must exist.
          KILN_RETURN_IF_ERROR(ctx->repo.GetProject(r.Param("p")).status());
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (!body.contains("backend") ||
              !(body["backend"].is_string() || body["backend"].is_null())) {
            return InvalidArgument(
                "send {\"backend\": NAME} (a name from GET /api/v1/storage), or null for the "
                "default");
          }
          std::string name = body["backend"].is_null() ? "" : body["backend"].get<std::string>();
          if (!name.empty()) KILN_RETURN_IF_ERROR(ctx->stores.Backend(name).status());
          KILN_RETURN_IF_ERROR(ctx->choice.Set(r.Param("p"), name));
          return HttpResponse::Json(200,
                                    {{"backend", name.empty() ? ctx->stores.DefaultName() : name},
                                     {"chosen", !name.empty()}});
        });
      },
      "Choose where the project's new artifacts go: {backend: NAME or null} (admin)");
  for (const char* verb : {"copy", "move"}) {
    bool move = std::string(verb) == "move";
    router.Add(
        "POST", std::string("/api/v1/projects/{p}/artifacts/{digest}/") + verb,
        [=](HttpRequest& r) {
          return Guarded([&]() -> Result<HttpResponse> {
            KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, r.Param("p"), Role::kWrite));
            KILN_ASSIGN_OR_RETURN(Digest digest, ProjectArtifact(ctx->runs, r));
            KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
            if (!body.contains("to") || !body["to"].is_string()) {
              return InvalidArgument("send {\"to\": NAME}: a backend from GET /api/v1/storage");
            }
            std::string to = body["to"].get<std::string>();
            KILN_RETURN_IF_ERROR(ctx->stores.Backend(to).status());
            KILN_ASSIGN_OR_RETURN(StorageChange change, move ? ctx->stores.Move(digest, to)
                                                             : ctx->stores.Copy(digest, to));
            return HttpResponse::Json(200, {{"digest", digest.Hex()},
                                            {"size", change.size},
                                            {"stores", change.stores},
                                            {"changed", change.changed}});
          });
        },
        move ? "Move one of the project's artifacts to another storage backend: {to} (write); "
               "the digest stays, the other copies go"
             : "Copy one of the project's artifacts into another storage backend: {to} (write)");
  }
}

}  // namespace kiln
