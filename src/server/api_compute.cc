#include "server/api_compute.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "server/http.h"

namespace kiln {

using json = nlohmann::json;

bool IsJobEventPush(const HttpRequest& r) {
  return r.method == "POST" && r.path.starts_with("/api/v1/jobs/") && r.path.ends_with("/events") &&
         r.path.find('/', 13) == r.path.size() - 7;
}

void RegisterComputeApi(Router& router, ComputeContext& c) {
  ComputeContext* ctx = &c;
  router.Add(
      "GET", "/api/v1/backends",
      [=](HttpRequest&) {
        json list = json::array();
        if (ctx->backends) {
          for (const BackendInfo& b : ctx->backends->Backends()) {
            list.push_back({{"name", b.name},
                            {"kind", b.kind},
                            {"slots", b.slots},
                            {"gpus", b.gpus < 0 ? json(nullptr) : json(b.gpus)},
                            {"default", b.is_default},
                            {"stats", b.stats}});
          }
        }
        return HttpResponse::Json(200, {{"backends", list}});
      },
      "The compute backends jobs can run on (docs/compute.md); gpus null = the backend "
      "schedules GPUs itself");

  router.Add(
      "POST", "/api/v1/jobs/{job}/events",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          if (!ctx->events) return NotFound("no job pushes events here");
          const std::string& header = r.Header("authorization");
          if (!header.starts_with("Bearer ")) {
            return Status(Code::kUnauthenticated, "send 'Authorization: Bearer <job token>'");
          }
          const std::string& offset_text = r.Header("x-kiln-event-offset");
          uint64_t offset = 0;
          auto [p, ec] =
              std::from_chars(offset_text.data(), offset_text.data() + offset_text.size(), offset);
          if (offset_text.empty() || ec != std::errc() ||
              p != offset_text.data() + offset_text.size()) {
            return InvalidArgument(
                "X-Kiln-Event-Offset must be the index of the body's first line");
          }
          // One line may be large (a figure with many points); the local
          // backend drops lines over 32 MiB, and so does this route.
          if (r.body.size() > (size_t(33) << 20)) {
            return ResourceExhausted("an events body may hold at most 33 MiB");
          }
          uint64_t resend_from = 0;
          Result<uint64_t> next =
              ctx->events->Receive(r.Param("job"), header.substr(7), offset, r.body, &resend_from);
          if (!next.ok() && next.status().code() == Code::kFailedPrecondition) {
            HttpResponse resp = HttpResponse::Error(409, "conflict", next.status().message());
            json body = json::parse(resp.body, nullptr, false);
            if (body.is_object()) body["next"] = resend_from;
            resp.body = body.dump();
            return resp;
          }
          if (!next.ok() && next.status().code() == Code::kPermissionDenied) {
            return Status(Code::kUnauthenticated, next.status().message());
          }
          KILN_RETURN_IF_ERROR(next.status());
          return HttpResponse::Json(200, {{"next", *next}});
        });
      },
      "A running job pushes its event lines (docs/compute.md, \"Pushed events\")");
}

}  // namespace kiln
