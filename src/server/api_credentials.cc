#include "server/api_credentials.h"

#include <nlohmann/json.hpp>

#include "server/http.h"

namespace kiln {

using json = nlohmann::json;

namespace {

json InfoJson(const CredentialInfo& c) {
  return {{"name", c.name},
          {"kind", c.kind},
          {"fields", c.public_fields},
          {"secrets_set", c.secret_names},
          {"key_id", c.key_id},
          {"created_ms", c.created_ms},
          {"updated_ms", c.updated_ms},
          {"updated_by", c.updated_by}};
}

Result<CredentialFields> Fields(const json& body, const char* key) {
  CredentialFields out;
  if (!body.contains(key)) return out;
  if (!body[key].is_object())
    return InvalidArgument(std::string(key) + " must be an object of strings");
  for (const auto& [k, v] : body[key].items()) {
    if (!v.is_string()) return InvalidArgument(std::string(key) + "." + k + " must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string ScopeOf(const HttpRequest& r) {
  return r.params.count("p") ? ProjectCredentialScope(r.Param("p")) : ServerCredentialScope();
}

}  // namespace

void RegisterCredentialsApi(Router& router, CredentialsContext& c) {
  CredentialsContext* ctx = &c;
  auto list = [=](HttpRequest& r) {
    return Guarded([&]() -> Result<HttpResponse> {
      std::string scope = ScopeOf(r);
      KILN_RETURN_IF_ERROR(
          CheckCredentialAccess(ctx->access, r.user, scope, CredentialAction::kList));
      KILN_ASSIGN_OR_RETURN(auto all, ctx->credentials.List(scope));
      json out = json::array();
      for (const CredentialInfo& info : all) out.push_back(InfoJson(info));
      return HttpResponse::Json(200, {{"credentials", out}});
    });
  };
  auto put = [=](HttpRequest& r) {
    return Guarded([&]() -> Result<HttpResponse> {
      std::string scope = ScopeOf(r);
      KILN_RETURN_IF_ERROR(
          CheckCredentialAccess(ctx->access, r.user, scope, CredentialAction::kWrite));
      KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
      if (!body.contains("kind") || !body["kind"].is_string()) {
        return InvalidArgument("give the credential's kind (s3, slurm or generic)");
      }
      KILN_ASSIGN_OR_RETURN(CredentialFields fields, Fields(body, "fields"));
      KILN_ASSIGN_OR_RETURN(CredentialFields secrets, Fields(body, "secrets"));
      KILN_RETURN_IF_ERROR(ctx->credentials.Put(
          scope, r.Param("name"), body["kind"].get<std::string>(), fields, secrets, r.user));
      KILN_ASSIGN_OR_RETURN(CredentialInfo info, ctx->credentials.Get(scope, r.Param("name")));
      return HttpResponse::Json(200, InfoJson(info));
    });
  };
  auto remove = [=](HttpRequest& r) {
    return Guarded([&]() -> Result<HttpResponse> {
      std::string scope = ScopeOf(r);
      KILN_RETURN_IF_ERROR(
          CheckCredentialAccess(ctx->access, r.user, scope, CredentialAction::kRemove));
      KILN_RETURN_IF_ERROR(ctx->credentials.Remove(scope, r.Param("name")));
      return HttpResponse::Json(200, {{"removed", r.Param("name")}});
    });
  };
  router.Add("GET", "/api/v1/projects/{p}/credentials", list,
             "A project's stored credentials, without their secrets (read)");
  router.Add("PUT", "/api/v1/projects/{p}/credentials/{name}", put,
             "Store or replace a project's credential: {kind, fields, secrets} (admin)");
  router.Add("DELETE", "/api/v1/projects/{p}/credentials/{name}", remove,
             "Remove a project's credential (admin)");
  router.Add("GET", "/api/v1/admin/credentials", list,
             "The server's stored credentials, without their secrets (server admins)");
  router.Add("PUT", "/api/v1/admin/credentials/{name}", put,
             "Store or replace a server credential (server admins)");
  router.Add("DELETE", "/api/v1/admin/credentials/{name}", remove,
             "Remove a server credential (server admins)");
}

}  // namespace kiln
