#include "server/api_provenance.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/guid.h"
#include "pipeline/export_plan.h"
#include "provenance/lineage_json.h"
#include "provenance/reify.h"

namespace kiln {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxDepth = 100000;

Result<int64_t> DepthQuery(const HttpRequest& r) {
  std::string s = r.Query("depth");
  if (s.empty()) return 100;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > kMaxDepth) {
      return InvalidArgument("depth must be an integer from 0 to " + std::to_string(kMaxDepth));
    }
    v = v * 10 + (c - '0');
  }
  if (v > kMaxDepth) {
    return InvalidArgument("depth must be an integer from 0 to " + std::to_string(kMaxDepth));
  }
  return v;
}

// What the model calls artifacts and how they load: Artifact nodes, then
// Input operations (an upload's name wins over an Input's label).
struct ArtifactLabels {
  std::map<Digest, std::string> names;
  std::map<Digest, std::string> serializers;
};

ArtifactLabels LabelsOf(const Tree& tree) {
  ArtifactLabels labels;
  auto str = [](const NodeRef& n, const char* name) {
    const Value* v = n.Attr(name);
    return v && v->is_string() ? v->as_string() : std::string();
  };
  for (bool artifacts_first : {true, false}) {
    for (NodeId id : tree.NodeIds()) {
      NodeRef n = tree.Get(id);
      if (n.IsMeta() || n.IsA("Artifact") != artifacts_first) continue;
      auto d = Digest::FromHex(str(n, artifacts_first ? "digest" : "artifact"));
      if (!d.ok()) continue;
      labels.names.try_emplace(*d, n.Name());
      if (std::string s = str(n, "serializer"); !s.empty()) labels.serializers.try_emplace(*d, s);
    }
  }
  return labels;
}

// The project may read the artifact (docs/access.md): else 404, as for bytes
// that do not exist.
Status ProjectHas(RunsStore& runs, const std::string& project, const Digest& d) {
  KILN_ASSIGN_OR_RETURN(bool has, runs.ProjectHasArtifact(project, d));
  if (!has) return NotFound("no artifact " + d.Hex() + " in project " + project);
  return Status::Ok();
}

std::string TempName(const std::filesystem::path& dir, const std::string& suffix) {
  return (dir / ("kiln-" + NewGuid() + suffix)).string();
}

}  // namespace

void RegisterProvenanceApi(Router& router, ProvenanceContext& context) {
  ProvenanceContext* ctx = &context;

  router.Add(
      "GET", "/api/v1/projects/{p}/artifacts/{digest}/provenance",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          const std::string& p = r.Param("p");
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, p, Role::kRead));
          KILN_ASSIGN_OR_RETURN(Digest d, Digest::FromHex(r.Param("digest")));
          KILN_ASSIGN_OR_RETURN(int64_t depth, DepthQuery(r));
          KILN_ASSIGN_OR_RETURN(LineageDirection direction,
                                ParseLineageDirection(r.Query("direction")));
          std::string format = r.Query("format", "json");
          if (format != "json" && format != "prov") {
            return InvalidArgument("format must be json or prov, not '" + format + "'");
          }
          KILN_RETURN_IF_ERROR(ProjectHas(ctx->runs, p, d));
          KILN_ASSIGN_OR_RETURN(Digest at, ctx->repo.Resolve(p, r.Query("ref", "main")));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(at));
          ArtifactLabels labels = LabelsOf(*tree);
          KILN_ASSIGN_OR_RETURN(LineageGraph g, WalkLineage(ctx->runs, {p, d, direction, depth}));
          if (format == "prov") {
            HttpResponse resp = HttpResponse::Json(200, LineageToProv(g, labels.names));
            resp.headers.emplace_back(
                "Content-Disposition",
                "attachment; filename=\"provenance-" + d.Hex().substr(0, 12) + ".prov.json\"");
            return resp;
          }
          HttpResponse resp;
          resp.body = LineageToJson(g, labels.names);
          return resp;
        });
      },
      "An artifact's lineage: how it was made (?direction=up), what was made from it (down) "
      "or both, ?depth= job levels; ?format=prov for W3C PROV-JSON");

  router.Add(
      "POST", "/api/v1/projects/{p}/artifacts/{digest}/reify",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          const std::string& p = r.Param("p");
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, p, Role::kWrite));
          KILN_ASSIGN_OR_RETURN(Digest d, Digest::FromHex(r.Param("digest")));
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (!body.is_object() || !body.contains("branch") || !body["branch"].is_string()) {
            return InvalidArgument(
                "the body must be {\"branch\": name, \"from\"?: ref, "
                "\"name\"?: pipeline name}");
          }
          std::string branch = body["branch"].get<std::string>();
          std::string from = body.value("from", std::string("main"));
          KILN_RETURN_IF_ERROR(ProjectHas(ctx->runs, p, d));
          if (ctx->repo.BranchHead(p, branch).ok()) {
            return Conflict("branch '" + branch + "' exists; name a new branch for the pipeline");
          }
          KILN_ASSIGN_OR_RETURN(Digest base, ctx->repo.Resolve(p, from));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(base));
          KILN_ASSIGN_OR_RETURN(LineageGraph g,
                                WalkLineage(ctx->runs, {p, d, LineageDirection::kUp, kMaxDepth}));
          ArtifactLabels labels = LabelsOf(*tree);
          ReifyOptions options;
          options.seed = NewGuid();
          std::string label = labels.names.count(d) ? labels.names.at(d) : d.Hex().substr(0, 12);
          options.name = body.value("name", "Reproduce " + label);
          options.names = labels.names;
          options.serializers = labels.serializers;
          for (const LineageArtifact& a : g.artifacts) {
            if (!a.job.empty()) continue;
            KILN_ASSIGN_OR_RETURN(bool exists, ctx->artifacts.Exists(a.digest));
            if (!exists) options.missing.insert(a.digest);
          }
          KILN_ASSIGN_OR_RETURN(ReifyPlan plan, PlanReify(g, *tree, options));
          KILN_RETURN_IF_ERROR(ctx->repo.CreateBranch(p, branch, base));
          plan.patch.base = base;
          Result<HubCommit> c = ctx->hub.SubmitPatch(p, branch, plan.patch, r.user, "reify", 0);
          if (!c.ok()) {
            (void)ctx->repo.DeleteBranch(p, branch);  // nothing half-made stays
            return c.status();
          }
          return HttpResponse::Json(201, {{"branch", branch},
                                          {"commit", c->commit.Hex()},
                                          {"pipeline", plan.pipeline},
                                          {"jobs", plan.jobs},
                                          {"notes", plan.notes}});
        });
      },
      "Make a pipeline that makes the artifact again, on a new branch (body {branch, from?, "
      "name?})");

  router.Add(
      "GET", "/api/v1/projects/{p}/pipelines/{guid}/export",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          const std::string& p = r.Param("p");
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, p, Role::kRead));
          std::string mode = r.Query("inputs");
          if (!mode.empty() && mode != "bundle" && mode != "fetch") {
            return InvalidArgument("inputs must be bundle or fetch, not '" + mode + "'");
          }
          KILN_ASSIGN_OR_RETURN(Digest at, ctx->repo.Resolve(p, r.Query("ref", "main")));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(at));
          KILN_ASSIGN_OR_RETURN(Plan plan, CompilePipeline(*tree, r.Param("guid"), ctx->generator));
          ExportPlanOptions options;
          options.project = p;
          options.commit = at;
          options.kiln_version = ctx->version;
          std::string host = r.Header("host");
          options.server = "http://" + (host.empty() ? std::string("127.0.0.1:8080") : host);
          uint64_t total = 0;
          for (const PlanJob& job : plan.jobs) {
            if (job.kind != OperationKind::kInput || !job.artifact) continue;
            Status has = ProjectHas(ctx->runs, p, *job.artifact);
            if (!has.ok()) {
              return FailedPrecondition("input " + job.name + ": artifact " + job.artifact->Hex() +
                                        " is not in project " + p);
            }
            KILN_ASSIGN_OR_RETURN(uint64_t size, ctx->artifacts.Size(*job.artifact));
            if (!options.inputs.count(*job.artifact)) total += size;
            options.inputs[*job.artifact].size = size;
          }
          options.inputs_mode = !mode.empty()                     ? mode
                                : total <= ctx->max_bundled_bytes ? "bundle"
                                                                  : "fetch";
          if (options.inputs_mode == "bundle") {
            for (auto& [digest, input] : options.inputs) {
              KILN_ASSIGN_OR_RETURN(std::filesystem::path path,
                                    ctx->artifacts.Materialize(digest, ctx->scratch_dir));
              input.path = path.string();
            }
          }
          std::error_code ec;
          std::filesystem::create_directories(ctx->scratch_dir, ec);
          std::string plan_path = TempName(ctx->scratch_dir, ".json");
          std::string zip_path = TempName(ctx->scratch_dir, ".zip");
          {
            std::ofstream out(plan_path, std::ios::binary);
            out << ExportPlanJson(plan, options).dump();
            if (!out) return IOError("cannot write " + plan_path);
          }
          Result<InterfaceContext::ToolRun> run =
              ctx->python.RunPythonModule("kiln.export", {plan_path, zip_path}, "");
          ::unlink(plan_path.c_str());
          if (!run.ok() || run->exit_code != 0) {
            ::unlink(zip_path.c_str());
            if (!run.ok()) return HttpResponse::Error(503, "Unavailable", run.status().message());
            std::string err =
                run->err.size() > 2000 ? run->err.substr(run->err.size() - 2000) : run->err;
            spdlog::error("kiln.export failed (exit {}): {}", run->exit_code, err);
            return Internal("exporting the pipeline failed: " + err);
          }
          HttpResponse resp;
          resp.content_type = "application/zip";
          resp.file_path = zip_path;
          resp.unlink_file = true;
          resp.headers.emplace_back(
              "Content-Disposition",
              "attachment; filename=\"" + SafeFileName(plan.name, "pipeline") + ".zip\"");
          return resp;
        });
      },
      "The pipeline at ?ref= as a standalone Python folder (zip): main.py, its operations, "
      "?inputs=bundle|fetch");
}

}  // namespace kiln
