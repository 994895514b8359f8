#include "server/api_library.h"

#include <nlohmann/json.hpp>

#include "nn/catalog.h"
#include "nn/library.h"

namespace kiln {

using json = nlohmann::json;

namespace {

HttpResponse Answer(const Result<HttpResponse>& r) {
  return r.ok() ? *r : HttpResponse::Error(r.status());
}

}  // namespace

void RegisterLibraryApi(Router& router, LibraryContext& ctx) {
  router.Add(
      "GET", "/api/v1/libraries",
      [](HttpRequest&) {
        return HttpResponse::Json(200,
                                  json::array({{{"name", "torch"},
                                                {"title", "PyTorch"},
                                                {"resource", "Architecture"},
                                                {"torch", nn::Catalog::Torch().torch_version()}}}));
      },
      "The libraries this server has (docs/libraries.md)");
  router.Add(
      "GET", "/api/v1/libraries/{name}",
      [](HttpRequest& r) {
        if (r.Param("name") != "torch") {
          return HttpResponse::Error(
              NotFound("no library '" + r.Param("name") + "' (there is: torch)"));
        }
        static const std::string* body = new std::string(nn::Catalog::Torch().ToJson());
        HttpResponse out;
        out.body = *body;
        out.headers.emplace_back("cache-control", "max-age=300");
        return out;
      },
      "A library's node types: the PyTorch layer catalog and Kiln's built-in types");
  router.Add(
      "POST", "/api/v1/projects/{p}/libraries",
      [&ctx](HttpRequest& r) {
        return Answer([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(ctx.access.Check(r.user, r.Param("p"), Role::kWrite));
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          std::string name = body.value("name", "");
          if (name != "torch")
            return InvalidArgument("no library '" + name + "' (there is: torch)");
          std::string branch = body.value("branch", "main");
          KILN_ASSIGN_OR_RETURN(Digest head, ctx.repo.Resolve(r.Param("p"), branch));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx.repo.LoadTree(head));
          Patch patch = nn::TorchLibraryPatch(*tree, nn::Catalog::Torch());
          if (patch.ops.empty()) return HttpResponse::Json(200, {{"added", false}});
          Result<HubCommit> c = ctx.hub.SubmitPatch(r.Param("p"), branch, patch, r.user, "rest", 0);
          if (!c.ok()) {
            // Someone added it at the same moment: what they asked for is there.
            auto now = ctx.repo.Resolve(r.Param("p"), branch);
            if (now.ok()) {
              auto t = ctx.repo.LoadTree(*now);
              if (t.ok() && nn::TorchLibraryPatch(**t, nn::Catalog::Torch()).ops.empty()) {
                return HttpResponse::Json(200, {{"added", false}});
              }
            }
            return c.status();
          }
          return HttpResponse::Json(200, {{"added", true}, {"commit", c->commit.Hex()}});
        }());
      },
      "Adds a library's meta types to a branch: {name: 'torch', branch}");
  router.Add(
      "POST", "/api/v1/nn/analyze",
      [&ctx](HttpRequest& r) {
        return Answer([&]() -> Result<HttpResponse> {
          if (r.body.size() > ctx.max_document_bytes) {
            return ResourceExhausted("the architecture document is over " +
                                     std::to_string(ctx.max_document_bytes >> 20) + " MiB");
          }
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          json out = AnalysisReply(body, ctx.oracle, ctx.fallback);
          if (out.contains("error")) return InvalidArgument(out["error"].get<std::string>());
          return HttpResponse::Json(200, out);
        }());
      },
      "Shapes, errors, parameter counts and generated code of an architecture document");
  router.Add(
      "POST", "/api/v1/nn/import",
      [&ctx](HttpRequest& r) {
        return Answer([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (!body.contains("code") || !body["code"].is_string()) {
            return InvalidArgument("the body needs a string 'code' (Python defining an nn.Module)");
          }
          size_t max = ctx.python.options().max_code_bytes;
          if (body["code"].get_ref<const std::string&>().size() > max) {
            return ResourceExhausted("the code is over " + std::to_string(max >> 10) + " KiB");
          }
          KILN_ASSIGN_OR_RETURN(
              auto run, ctx.python.RunPythonModule("kiln.nn.importer", {"--json"}, body.dump()));
          json reply = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
          if (run.exit_code == 0 && reply.is_object() && reply.contains("architectures")) {
            return HttpResponse::Json(200, reply);
          }
          if (reply.is_object() && reply.contains("error")) {
            return HttpResponse::Json(
                422, {{"error", {{"code", "FailedPrecondition"}, {"message", reply["error"]}}}});
          }
          std::string err = run.err.size() > 2000 ? run.err.substr(run.err.size() - 2000) : run.err;
          return Internal("the importer failed (exit status " + std::to_string(run.exit_code) +
                          "): " + err);
        }());
      },
      "An architecture document made from PyTorch code: {code, class?, inputs}; 422 names the "
      "line");
}

}  // namespace kiln
