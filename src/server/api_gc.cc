#include "server/api_gc.h"

#include <nlohmann/json.hpp>

#include "gc/gc.h"
#include "server/http.h"

namespace kiln {

using json = nlohmann::json;

namespace {

Result<int64_t> GraceMs(const std::string& text) {
  if (text.empty()) return int64_t(3600 * 1000);
  char* end = nullptr;
  double hours = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end || hours < 0) {
    return InvalidArgument("grace_hours must be a number of hours, at least 0");
  }
  return int64_t(hours * 3600 * 1000);
}

Result<json> PlanJson(const GcPlan& plan, StorageSet* stores) {
  json garbage = json::array();
  for (const GcCandidate& c : plan.garbage) {
    json one = {{"digest", c.artifact.digest.Hex()},
                {"size", c.artifact.size},
                {"stored_ms", c.artifact.modified_ms},
                {"projects", c.projects}};
    if (stores) {
      KILN_ASSIGN_OR_RETURN(std::vector<std::string> where, stores->Where(c.artifact.digest));
      one["stores"] = where;
    }
    garbage.push_back(std::move(one));
  }
  return json{{"garbage", garbage},
              {"garbage_bytes", plan.garbage_bytes},
              {"stored_bytes", plan.stored_bytes},
              {"kept",
               {{"by_history", plan.kept_by_history},
                {"by_runs", plan.kept_by_runs},
                {"young", plan.kept_young}}}};
}

Status NeedServerAdmin(Access& access, const std::string& user) {
  KILN_ASSIGN_OR_RETURN(bool admin, access.IsServerAdmin(user));
  if (!admin) return Status(Code::kPermissionDenied, "garbage collection is for server admins");
  return Status::Ok();
}

}  // namespace

void RegisterGcApi(Router& router, GcContext& c) {
  GcContext* ctx = &c;
  router.Add(
      "GET", "/api/v1/admin/gc",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(NeedServerAdmin(ctx->access, r.user));
          GcOptions o;
          KILN_ASSIGN_OR_RETURN(o.grace_ms, GraceMs(r.Query("grace_hours")));
          KILN_ASSIGN_OR_RETURN(GcPlan plan, PlanGarbage(ctx->repo, ctx->runs, ctx->artifacts, o));
          KILN_ASSIGN_OR_RETURN(json body, PlanJson(plan, ctx->stores));
          return HttpResponse::Json(200, body);
        });
      },
      "Artifacts nothing references any more (a dry run; server admins)");
  router.Add(
      "POST", "/api/v1/admin/gc",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(NeedServerAdmin(ctx->access, r.user));
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (!body.contains("delete") || !body["delete"].is_array()) {
            return InvalidArgument(
                "send {\"delete\": [digest, …]}: the digests a dry run listed (GET /admin/gc)");
          }
          std::set<Digest> digests;
          for (const json& d : body["delete"]) {
            if (!d.is_string()) return InvalidArgument("delete lists digests (64 hex digits)");
            KILN_ASSIGN_OR_RETURN(Digest digest, Digest::FromHex(d.get<std::string>()));
            digests.insert(digest);
          }
          GcOptions o;
          std::string grace;
          if (body.contains("grace_hours")) {
            if (!body["grace_hours"].is_number()) return InvalidArgument("grace_hours is a number");
            grace = std::to_string(body["grace_hours"].get<double>());
          }
          KILN_ASSIGN_OR_RETURN(o.grace_ms, GraceMs(grace));
          KILN_ASSIGN_OR_RETURN(GcDeleted done,
                                DeleteGarbage(ctx->repo, ctx->runs, ctx->artifacts, digests, o));
          return HttpResponse::Json(
              200, {{"deleted", done.deleted}, {"bytes", done.bytes}, {"skipped", done.skipped}});
        });
      },
      "Delete the listed artifacts that are still garbage (server admins)");
}

}  // namespace kiln
