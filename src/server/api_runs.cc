#include "server/api_runs.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/guid.h"
#include "model/meta.h"
#include "runs/downsample.h"
#include "server/api_storage.h"
#include "server/artifact_list.h"

namespace kiln {
namespace {

using json = nlohmann::json;

Result<int64_t> IntQuery(const HttpRequest& r, const char* name, int64_t fallback) {
  std::string s = r.Query(name);
  if (s.empty()) return fallback;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (int64_t(1) << 50)) {
      return InvalidArgument(std::string("'") + name + "' must be a non-negative integer");
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

// Artifact nodes live in one folder per project (the driver puts the
// outputs of Output operations there too).
std::string ArtifactsFolder() { return DeriveGuid(RootGuid(), "kiln-artifacts"); }

json OverridesJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

}  // namespace

json ExecutionJson(const ExecutionRecord& e) {
  return {{"id", e.id},
          {"project", e.project},
          {"pipeline", e.pipeline},
          {"commit", e.commit.Hex()},
          {"ref", e.ref},
          {"branch", e.branch},
          {"user", e.user},
          {"state", ExecutionStateName(e.state)},
          {"reason", e.reason},
          {"force", e.force},
          {"created_ms", e.created_ms},
          {"finished_ms", e.finished_ms},
          {"artifacts_commit", e.artifacts ? json(e.artifacts->Hex()) : json(nullptr)},
          {"overrides", OverridesJson(e.overrides)},
          {"sweep", e.sweep.empty() ? json(nullptr) : json(e.sweep)},
          {"sweep_trial", e.sweep.empty() ? json(nullptr) : json(e.sweep_trial)},
          {"backend", e.backend},
          {"server", e.server}};
}

json JobJson(const JobRecord& j) {
  return {{"id", j.id},
          {"execution", j.execution},
          {"node", j.node},
          {"name", j.name},
          {"state", JobStateName(j.state)},
          {"reason", j.reason},
          {"cache_key", j.cache_key ? json(j.cache_key->Hex()) : json(nullptr)},
          {"queued_ms", j.queued_ms},
          {"started_ms", j.started_ms},
          {"finished_ms", j.finished_ms},
          {"exit_code", j.exit_code ? json(*j.exit_code) : json(nullptr)},
          {"outputs", json::parse(OutputsToJson(j.outputs), nullptr, false)},
          {"backend", j.backend},
          {"host", j.host},
          {"backend_job", j.backend_job}};
}

json EventJson(const EventRecord& e) {
  json payload = json::parse(e.payload, nullptr, false);
  if (payload.is_discarded()) payload = e.payload;
  return {{"job", e.job},   {"seq", e.seq},   {"time", e.time},
          {"kind", e.kind}, {"name", e.name}, {"payload", payload}};
}

void RegisterRunsApi(Router& router, RunsContext& context) {
  // Handlers outlive this function: everything they use is captured by
  // value, as pointers to objects that outlive the router.
  RunsContext* ctx = &context;
  Access* access = &context.access;
  RunsStore* runs = &context.runs;
  auto driver = [ctx]() -> Result<Driver*> {
    if (!ctx->driver) {
      return FailedPrecondition("no compute backend is available: " + ctx->unavailable_reason);
    }
    return ctx->driver;
  };
  // The execution's project decides who may see or touch it; a caller
  // without read access learns nothing, not even that it exists.
  auto execution_for = [access, runs](const HttpRequest& r, const std::string& id,
                                      Role role) -> Result<ExecutionRecord> {
    Result<ExecutionRecord> e = runs->GetExecution(id);
    if (!e.ok()) {
      if (e.status().code() == Code::kNotFound) return NotFound("no execution '" + id + "'");
      return e.status();
    }
    Status allowed = access->Check(r.user, e->project, role);
    if (!allowed.ok()) {
      return allowed.code() == Code::kPermissionDenied && role == Role::kRead
                 ? Status(NotFound("no execution '" + id + "'"))
                 : allowed;
    }
    return e;
  };
  // Several servers on one runs store: only the server that drives a
  // running execution can stop its jobs; another leaves it the request
  // (RunsFollower hands it to that server's Driver) and answers 202.
  auto LeaveCancel = [runs](const ExecutionRecord& e, const std::string& target,
                            const std::string& kind,
                            const std::string& user) -> Result<HttpResponse> {
    KILN_RETURN_IF_ERROR(runs->RequestCancel(
        CancelRequest{target, kind, e.server, user, SystemClock::Get().NowMillis()}));
    return HttpResponse::Json(202, {{"cancelled", target}, {"server", e.server}});
  };
  auto job_for = [runs, execution_for](const HttpRequest& r, Role role) -> Result<JobRecord> {
    Result<JobRecord> j = runs->GetJob(r.Param("job"));
    if (!j.ok()) return NotFound("no job '" + r.Param("job") + "'");
    KILN_RETURN_IF_ERROR(execution_for(r, j->execution, role).status());
    return j;
  };

  router.Add(
      "POST", "/api/v1/projects/{p}/executions",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(access->Check(r.user, r.Param("p"), Role::kWrite));
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          auto pipeline = body.find("pipeline");
          if (pipeline == body.end() || !pipeline->is_string()) {
            return InvalidArgument("the body needs the pipeline's guid as 'pipeline'");
          }
          StartRequest req;
          req.project = r.Param("p");
          req.pipeline = pipeline->get<std::string>();
          if (body.contains("ref")) {
            if (!body["ref"].is_string()) return InvalidArgument("'ref' must be a string");
            req.ref = body["ref"].get<std::string>();
          }
          if (body.contains("force")) {
            if (!body["force"].is_boolean())
              return InvalidArgument("'force' must be true or false");
            req.force = body["force"].get<bool>();
          }
          if (body.contains("backend")) {
            if (!body["backend"].is_string()) {
              return InvalidArgument("'backend' must be a backend's name (GET /api/v1/backends)");
            }
            req.backend = body["backend"].get<std::string>();
          }
          req.user = r.user;
          KILN_ASSIGN_OR_RETURN(Driver * d, driver());
          KILN_ASSIGN_OR_RETURN(std::string id, d->Start(req));
          return HttpResponse::Json(201, {{"id", id}});
        });
      },
      "Run a pipeline: {pipeline (guid), ref?, force?, backend?}");
  router.Add(
      "GET", "/api/v1/projects/{p}/executions",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(access->Check(r.user, r.Param("p"), Role::kRead));
          KILN_ASSIGN_OR_RETURN(int64_t limit, IntQuery(r, "limit", 100));
          KILN_ASSIGN_OR_RETURN(auto list, runs->ListExecutions(r.Param("p"), size_t(limit)));
          json out = json::array();
          for (const ExecutionRecord& e : list) out.push_back(ExecutionJson(e));
          return HttpResponse::Json(200, {{"executions", out}});
        });
      },
      "Executions of a project, newest first");
  router.Add(
      "GET", "/api/v1/executions/{id}",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(ExecutionRecord e, execution_for(r, r.Param("id"), Role::kRead));
          KILN_ASSIGN_OR_RETURN(auto jobs, runs->ListJobs(e.id));
          json j = ExecutionJson(e);
          j["jobs"] = json::array();
          for (const JobRecord& job : jobs) j["jobs"].push_back(JobJson(job));
          return HttpResponse::Json(200, j);
        });
      },
      "An execution with its jobs");
  router.Add(
      "POST", "/api/v1/executions/{id}/cancel",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(ExecutionRecord e, execution_for(r, r.Param("id"), Role::kWrite));
          if (DrivenByAnotherServer(e, ctx->server_id))
            return LeaveCancel(e, e.id, "execution", r.user);
          KILN_ASSIGN_OR_RETURN(Driver * d, driver());
          KILN_RETURN_IF_ERROR(d->Cancel(e.id, r.user));
          return HttpResponse::Json(200, {{"cancelled", e.id}});
        });
      },
      "Cancel an execution: kills its running jobs' process trees");
  router.Add(
      "POST", "/api/v1/executions/{id}/rerun",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(ExecutionRecord e, execution_for(r, r.Param("id"), Role::kWrite));
          bool force = false;
          if (!r.body.empty()) {
            KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
            force = body.value("force", false);
          }
          KILN_ASSIGN_OR_RETURN(Driver * d, driver());
          KILN_ASSIGN_OR_RETURN(std::string id, d->Rerun(e.id, r.user, force));
          return HttpResponse::Json(201, {{"id", id}});
        });
      },
      "Run an execution again at the same commit: {force?}");
  router.Add(
      "POST", "/api/v1/jobs/{job}/rerun",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kWrite));
          KILN_ASSIGN_OR_RETURN(Driver * d, driver());
          KILN_ASSIGN_OR_RETURN(std::string id, d->RerunJob(j.id, r.user));
          return HttpResponse::Json(201, {{"id", id}});
        });
      },
      "Run one job again, past the cache (a new execution)");
  router.Add(
      "POST", "/api/v1/jobs/{job}/cancel",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kWrite));
          KILN_ASSIGN_OR_RETURN(ExecutionRecord e, runs->GetExecution(j.execution));
          if (DrivenByAnotherServer(e, ctx->server_id)) {
            // What the driving server would refuse is refused here, not left for it.
            if (j.state != JobState::kRunning && j.state != JobState::kQueued) {
              return FailedPrecondition("job " + j.id + " is " + JobStateName(j.state));
            }
            return LeaveCancel(e, j.id, "job", r.user);
          }
          KILN_ASSIGN_OR_RETURN(Driver * d, driver());
          KILN_RETURN_IF_ERROR(d->CancelJob(j.id, r.user));
          return HttpResponse::Json(200, {{"cancelled", j.id}});
        });
      },
      "Cancel one job (its dependents are skipped)");
  router.Add(
      "GET", "/api/v1/jobs/{job}",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kRead));
          return HttpResponse::Json(200, JobJson(j));
        });
      },
      "One job");
  auto events = [runs, job_for](HttpRequest& r, const std::string& forced_kind) {
    return Guarded([&]() -> Result<HttpResponse> {
      KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kRead));
      EventQuery q;
      KILN_ASSIGN_OR_RETURN(q.after_seq, IntQuery(r, "after", 0));
      KILN_ASSIGN_OR_RETURN(int64_t limit, IntQuery(r, "limit", 1000));
      q.limit = size_t(std::clamp<int64_t>(limit, 1, 10000));
      q.kind = forced_kind.empty() ? r.Query("kind") : forced_kind;
      KILN_ASSIGN_OR_RETURN(auto list, runs->Events(j.id, q));
      json out = json::array();
      for (const EventRecord& e : list) out.push_back(EventJson(e));
      int64_t next = list.empty() ? q.after_seq : list.back().seq;
      return HttpResponse::Json(200, {{"events", out}, {"next", next}});
    });
  };
  router.Add(
      "GET", "/api/v1/jobs/{job}/events", [events](HttpRequest& r) { return events(r, ""); },
      "A job's events after ?after= (seq), of ?kind= (log, metric, progress, figure, state)");
  router.Add(
      "GET", "/api/v1/jobs/{job}/logs", [events](HttpRequest& r) { return events(r, "log"); },
      "A job's log lines after ?after= (seq); 'next' is the offset to ask from");
  router.Add(
      "GET", "/api/v1/jobs/{job}/metrics",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kRead));
          KILN_ASSIGN_OR_RETURN(int64_t max_points, IntQuery(r, "max_points", 5000));
          KILN_ASSIGN_OR_RETURN(auto names, runs->MetricNames(j.id));
          json out = json::object(), totals = json::object();
          for (const std::string& n : names) {
            KILN_ASSIGN_OR_RETURN(auto series, runs->MetricSeries(j.id, n));
            totals[n] = series.size();
            // Thinned for display (0 = every point).
            if (max_points > 0) series = Downsample(series, size_t(max_points));
            json points = json::array();
            for (const MetricPoint& p : series) points.push_back({p.step, p.value});
            out[n] = points;
          }
          return HttpResponse::Json(200, {{"metrics", out}, {"points", totals}});
        });
      },
      "A job's metric series: {name: [[step, value], ...]}, at most ?max_points= (default 5000, "
      "0 = all) a series, and {points: {name: how many there are}}");
  router.Add(
      "GET", "/api/v1/jobs/{job}/figures",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(JobRecord j, job_for(r, Role::kRead));
          KILN_ASSIGN_OR_RETURN(auto list, runs->Figures(j.id));
          json out = json::array();
          for (const EventRecord& e : list) out.push_back(EventJson(e));
          return HttpResponse::Json(200, {{"figures", out}});
        });
      },
      "The latest revision of each of a job's figures");
  // Uploads stream: the body goes through an ArtifactWriter (hashed as it
  // arrives, moved into place), never into memory whole; access, the name,
  // the size limit and free disk are checked before a byte is read.
  struct UploadSink : BodySink {
    std::unique_ptr<ArtifactWriter> writer;
    uint64_t size = 0, limit = 0;  // limit 0 = none
    Status Write(const char* data, size_t n) override {
      size += n;
      if (limit && size > limit) {
        return Status(Code::kResourceExhausted,
                      "artifact over the limit of " + std::to_string(limit) +
                          " bytes (kiln serve --max-artifact-mb raises it)");
      }
      return writer->Write(data, n);
    }
  };
  router.AddStreaming(
      "POST", "/api/v1/projects/{p}/artifacts",
      StreamingHandler{
          [=](HttpRequest& r) -> Result<std::unique_ptr<BodySink>> {
            KILN_RETURN_IF_ERROR(access->Check(r.user, r.Param("p"), Role::kWrite));
            std::string name = r.Query("name");
            if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos) {
              return InvalidArgument("give the artifact a ?name= (no '/', at most 200 characters)");
            }
            KILN_RETURN_IF_ERROR(
                ctx->repo.BranchHead(r.Param("p"), r.Query("branch", "main")).status());
            uint64_t length = 0;
            if (const std::string& cl = r.Header("content-length"); !cl.empty()) {
              length = std::strtoull(cl.c_str(), nullptr, 10);
            }
            if (ctx->max_artifact_bytes && length > ctx->max_artifact_bytes) {
              return Status(Code::kResourceExhausted,
                            "the file is " + std::to_string(length) +
                                " bytes, over the artifact limit of " +
                                std::to_string(ctx->max_artifact_bytes) +
                                " bytes (kiln serve --max-artifact-mb raises it)");
            }
            // The project's choice of backend (docs/storage.md), else the default.
            std::string backend;
            if (ctx->stores && ctx->project_storage) {
              KILN_ASSIGN_OR_RETURN(
                  backend, BackendForProject(*ctx->stores, *ctx->project_storage, r.Param("p")));
            }
            KILN_ASSIGN_OR_RETURN(uint64_t available, backend.empty()
                                                          ? ctx->artifacts.AvailableBytes()
                                                          : ctx->stores->AvailableBytesOf(backend));
            if (length > available) {
              return Status(Code::kInsufficientStorage,
                            "not enough disk space for the upload: it needs " +
                                std::to_string(length) + " bytes and " + std::to_string(available) +
                                " are free");
            }
            auto sink = std::make_unique<UploadSink>();
            KILN_ASSIGN_OR_RETURN(sink->writer, backend.empty()
                                                    ? ctx->artifacts.NewWriter()
                                                    : ctx->stores->NewWriterTo(backend));
            sink->limit = ctx->max_artifact_bytes;
            return std::unique_ptr<BodySink>(std::move(sink));
          },
          [=](HttpRequest& r, std::unique_ptr<BodySink> body) -> HttpResponse {
            return Guarded([&]() -> Result<HttpResponse> {
              auto& sink = static_cast<UploadSink&>(*body);
              KILN_ASSIGN_OR_RETURN(ArtifactInfo info, sink.writer->Commit());
              std::string name = r.Query("name"), branch = r.Query("branch", "main");
              int64_t now = int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
              KILN_RETURN_IF_ERROR(
                  runs->Grant({{r.Param("p"), info.digest, "upload", now, r.user, name}}));
              KILN_ASSIGN_OR_RETURN(Digest head, ctx->repo.BranchHead(r.Param("p"), branch));
              KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(head));
              Patch patch;
              patch.message = "Upload " + name;
              if (!tree->Contains(ArtifactsFolder())) {
                patch.ops.push_back(PatchOp::Create(ArtifactsFolder(), RootGuid(),
                                                    MetaGuid("Folder"),
                                                    {{"name", Value("Artifacts")}}));
              }
              std::string guid = NewGuid();
              patch.ops.push_back(
                  PatchOp::Create(guid, ArtifactsFolder(), MetaGuid("Artifact"),
                                  {{"name", Value(name)},
                                   {"digest", Value(info.digest.Hex())},
                                   {"size", Value(int64_t(info.size))},
                                   {"serializer", Value(r.Query("serializer", "raw"))},
                                   {"uploaded_by", Value(r.user)},
                                   {"uploaded_ms", Value(now)}}));
              KILN_ASSIGN_OR_RETURN(HubCommit c, ctx->hub.SubmitPatch(r.Param("p"), branch, patch,
                                                                      r.user, "upload", 0));
              return HttpResponse::Json(201, {{"guid", guid},
                                              {"digest", info.digest.Hex()},
                                              {"size", info.size},
                                              {"commit", c.commit.Hex()}});
            });
          }},
      "Upload an artifact (the body, streamed) as ?name= on ?branch= (default main)");
  router.Add(
      "GET", "/api/v1/projects/{p}/artifacts",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(access->Check(r.user, r.Param("p"), Role::kRead));
          KILN_ASSIGN_OR_RETURN(Digest at, ctx->repo.Resolve(r.Param("p"), r.Query("ref", "main")));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(at));
          KILN_ASSIGN_OR_RETURN(auto outputs, runs->ListProjectOutputs(r.Param("p")));
          ArtifactFilter filter{r.Query("kind"), r.Query("pipeline")};
          KILN_ASSIGN_OR_RETURN(json list,
                                ListArtifacts(*tree, outputs, ctx->artifacts, filter, ctx->stores));
          return HttpResponse::Json(200, {{"artifacts", list}, {"commit", at.Hex()}});
        });
      },
      "The project's artifacts at ?ref=, with where each came from (an upload, or a job of an "
      "execution), the storage backends holding it and the value of small JSON ones");
  router.Add(
      "DELETE", "/api/v1/projects/{p}/artifacts/{guid}",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(access->Check(r.user, r.Param("p"), Role::kWrite));
          std::string branch = r.Query("branch", "main");
          KILN_ASSIGN_OR_RETURN(Digest head, ctx->repo.BranchHead(r.Param("p"), branch));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(head));
          auto node = tree->Find(r.Param("guid"));
          if (!node || node->IsMeta() || !node->IsA("Artifact")) {
            return NotFound("no artifact " + r.Param("guid") + " on " + branch);
          }
          const Value* d = node->Attr("digest");
          Value digest = d ? *d : Value();
          // Refused while the model uses it (an Input operation naming its
          // digest, or a pointer to the node), unless forced.
          if (r.Query("force") != "true") {
            for (NodeId id : tree->NodeIds()) {
              NodeRef n = tree->Get(id);
              if (n.id() == node->id()) continue;
              const Value* used = n.Attr("artifact");
              bool uses = !digest.is_null() && used && *used == digest;
              for (const auto& [ptr, target] : n.EffectivePointers()) {
                if (target && *target == r.Param("guid")) uses = true;
              }
              if (uses) {
                return FailedPrecondition("artifact '" + node->Name() + "' is used by " +
                                          n.Describe() +
                                          "; delete with ?force=true to remove it anyway");
              }
            }
          }
          Patch patch{
              std::nullopt, "Remove artifact " + node->Name(), {PatchOp::Delete(r.Param("guid"))}};
          KILN_ASSIGN_OR_RETURN(HubCommit c, ctx->hub.SubmitPatch(r.Param("p"), branch, patch,
                                                                  r.user, "artifacts", 0));
          // The bytes stay: other commits, executions and projects may name them.
          return HttpResponse::Json(200,
                                    {{"deleted", r.Param("guid")}, {"commit", c.commit.Hex()}});
        });
      },
      "Remove an artifact from a branch (?force=true when the model still uses it)");
  router.Add(
      "GET", "/api/v1/artifacts/{digest}",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(Digest d, Digest::FromHex(r.Param("digest")));
          // Readable by whoever may read a project that has it (docs/access.md):
          // ?project= names the one to check, else any of them will do.
          KILN_ASSIGN_OR_RETURN(std::vector<std::string> projects, runs->ProjectsWithArtifact(d));
          bool allowed = false;
          for (const std::string& p : projects) {
            if (!r.Query("project").empty() && p != r.Query("project")) continue;
            if (access->Check(r.user, p, Role::kRead).ok()) allowed = true;
          }
          if (!allowed) return NotFound("no artifact " + d.Hex());
          HttpResponse resp;
          // A large artifact in S3 goes from the store to the browser directly.
          if (ctx->presign_expiry_s > 0 && r.Query("redirect") != "0") {
            Result<std::string> url = ctx->artifacts.DownloadUrl(d, ctx->presign_expiry_s);
            if (url.ok()) {
              KILN_RETURN_IF_ERROR(ctx->artifacts.Size(d).status());  // 404 for missing bytes
              resp.status = 302;
              resp.headers.emplace_back("Location", *url);
              resp.body.clear();
              return resp;
            }
          }
          std::filesystem::path path;
          KILN_ASSIGN_OR_RETURN(bool remote, ctx->artifacts.IsRemoteFor(d));
          if (remote) {
            // A copy of its own, removed once it is sent.
            path = std::filesystem::temp_directory_path() /
                   ("kiln-download-" + d.Hex().substr(0, 16) + "-" + NewGuid());
            KILN_RETURN_IF_ERROR(ctx->artifacts.GetToFile(d, path));
            resp.unlink_file = true;
          } else {
            KILN_ASSIGN_OR_RETURN(
                path, ctx->artifacts.Materialize(d, std::filesystem::temp_directory_path()));
          }
          resp.content_type = "application/octet-stream";
          resp.file_path = path.string();
          resp.headers.emplace_back(
              "Content-Disposition",
              "attachment; filename=\"" +
                  SafeFileName(r.Query("name"), d.Hex().substr(0, 12) + ".bin") + "\"");
          return resp;
        });
      },
      "Download an artifact by digest");
}

}  // namespace kiln
