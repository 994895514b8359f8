#include "server/api_preview.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace kiln {

void RegisterPreviewApi(Router& router, PreviewContext& context) {
  PreviewContext* ctx = &context;
  router.Add(
      "GET", "/api/v1/projects/{p}/artifacts/{digest}/preview",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          const std::string& p = r.Param("p");
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, p, Role::kRead));
          KILN_ASSIGN_OR_RETURN(Digest d, Digest::FromHex(r.Param("digest")));
          KILN_ASSIGN_OR_RETURN(bool has, ctx->runs.ProjectHasArtifact(p, d));
          if (!has) return NotFound("no artifact " + d.Hex() + " in project " + p);
          std::string serializer = r.Query("serializer");
          for (char c : serializer) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
              return InvalidArgument("serializer must be a name like json or numpy");
            }
          }
          KILN_ASSIGN_OR_RETURN(std::filesystem::path path,
                                ctx->artifacts.Materialize(d, ctx->scratch_dir));
          std::vector<std::string> args{path.string()};
          if (!serializer.empty()) args.insert(args.end(), {"--serializer", serializer});
          Result<InterfaceContext::ToolRun> run =
              ctx->python.RunPythonModule("kiln.preview", args, "");
          if (!run.ok()) return HttpResponse::Error(503, "Unavailable", run.status().message());
          nlohmann::json preview = nlohmann::json::parse(run->out, nullptr, false);
          if (run->exit_code != 0 || !preview.is_object()) {
            std::string err =
                run->err.size() > 1000 ? run->err.substr(run->err.size() - 1000) : run->err;
            spdlog::warn("kiln.preview of {} failed (exit {}): {}", d.Hex(), run->exit_code, err);
            return FailedPrecondition("the artifact cannot be previewed: " +
                                      (err.empty() ? std::string("no answer") : err));
          }
          HttpResponse resp;
          resp.body = std::move(run->out);
          // Content-addressed: the same digest always previews the same.
          resp.headers.emplace_back("Cache-Control", "private, max-age=3600");
          return resp;
        });
      },
      "What an artifact holds (?serializer= when known): a value, an array's shape, statistics "
      "and image, a state dict's tensors, FITS headers, a table's first rows");
}

}  // namespace kiln
