#include "server/api_sweeps.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/guid.h"
#include "sweeps/sweep_spec.h"

namespace kiln {
namespace {

using json = nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The last value of every metric a job logged, as "<job>.<metric>"; a
// cached job's are its original run's.
Status AddMetrics(RunsStore& runs, const JobRecord& job, json& metrics) {
  std::string source = job.id;
  if (job.state == JobState::kCached) {
    KILN_ASSIGN_OR_RETURN(std::vector<Producer> records, runs.JobProvenance(job.id));
    if (!records.empty() && !records.front().record.cached_from.empty()) {
      source = records.front().record.cached_from;
    }
  }
  KILN_ASSIGN_OR_RETURN(auto last, runs.LastMetrics(source));
  for (const auto& [name, value] : last) metrics[job.name + "." + name] = value;
  return Status::Ok();
}

// "running" until every trial ended; then failed, cancelled or succeeded.
std::string SweepState(const std::vector<ExecutionRecord>& trials) {
  bool failed = false, cancelled = false;
  for (const ExecutionRecord& e : trials) {
    if (e.state == ExecutionState::kRunning) return "running";
    failed |= e.state == ExecutionState::kFailed;
    cancelled |= e.state == ExecutionState::kCancelled;
  }
  return failed ? "failed" : cancelled ? "cancelled" : "succeeded";
}

Result<json> SweepJson(RunsStore& runs, const SweepRecord& s, bool with_trials) {
  KILN_ASSIGN_OR_RETURN(std::vector<ExecutionRecord> trials, runs.SweepTrials(s.id));
  json spec = json::parse(s.spec, nullptr, false);
  if (!spec.is_object()) spec = json::object();
  json out = {{"id", s.id},
              {"project", s.project},
              {"pipeline", s.pipeline},
              {"pipeline_name", spec.value("pipeline_name", "")},
              {"ref", s.ref},
              {"commit", s.commit.Hex()},
              {"user", s.user},
              {"created_ms", s.created_ms},
              {"state", SweepState(trials)},
              {"parameters", spec.value("parameters", json::array())},
              {"mode", spec.value("mode", "grid")},
              {"trial_count", trials.size()}};
  if (!with_trials) return out;
  // A trial's values by parameter label, from its overrides.
  std::map<std::pair<std::string, std::string>, std::string> labels;
  for (const json& p : out["parameters"]) {
    labels[{p.value("node", ""), p.value("attribute", "")}] = p.value("name", "");
  }
  json list = json::array();
  for (const ExecutionRecord& e : trials) {
    json values = json::object();
    json overrides = json::parse(e.overrides, nullptr, false);
    if (overrides.is_object()) {
      for (const auto& [node, attrs] : overrides.items()) {
        for (const auto& [attr, value] : attrs.items()) {
          auto l = labels.find({node, attr});
          values[l != labels.end() ? l->second : node + "." + attr] = value;
        }
      }
    }
    json metrics = json::object();
    KILN_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, runs.ListJobs(e.id));
    for (const JobRecord& j : jobs) KILN_RETURN_IF_ERROR(AddMetrics(runs, j, metrics));
    list.push_back({{"index", e.sweep_trial},
                    {"values", values},
                    {"execution", e.id},
                    {"state", ExecutionStateName(e.state)},
                    {"reason", e.reason},
                    {"metrics", metrics}});
  }
  out["trials"] = list;
  return out;
}

}  // namespace

void RegisterSweepsApi(Router& router, SweepsContext& context) {
  SweepsContext* ctx = &context;
  // The sweep's project decides who may see it; without read access it does
  // not exist.
  auto sweep_for = [ctx](const HttpRequest& r, Role role) -> Result<SweepRecord> {
    Result<SweepRecord> s = ctx->runs.GetSweep(r.Param("id"));
    if (!s.ok()) return NotFound("no sweep '" + r.Param("id") + "'");
    Status allowed = ctx->access.Check(r.user, s->project, role);
    if (!allowed.ok()) {
      return allowed.code() == Code::kPermissionDenied && role == Role::kRead
                 ? Status(NotFound("no sweep '" + r.Param("id") + "'"))
                 : allowed;
    }
    return s;
  };

  router.Add(
      "POST", "/api/v1/projects/{p}/sweeps",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          const std::string& p = r.Param("p");
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, p, Role::kWrite));
          if (!ctx->driver) {
            return FailedPrecondition("no compute backend is available: " +
                                      ctx->unavailable_reason);
          }
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (!body.is_object() || !body.contains("pipeline") || !body["pipeline"].is_string()) {
            return InvalidArgument("a sweep needs \"pipeline\" (the pipeline's guid)");
          }
          std::string pipeline = body["pipeline"].get<std::string>();
          std::string ref = body.value("ref", std::string("main"));
          std::string backend;
          if (body.contains("backend")) {
            if (!body["backend"].is_string()) {
              return InvalidArgument("'backend' must be a backend's name (GET /api/v1/backends)");
            }
            backend = body["backend"].get<std::string>();
          }
          KILN_ASSIGN_OR_RETURN(Digest commit, ctx->repo.Resolve(p, ref));
          KILN_ASSIGN_OR_RETURN(auto tree, ctx->repo.LoadTree(commit));
          auto node = tree->Find(pipeline);
          if (!node || !node->IsA("Pipeline")) return NotFound("no pipeline " + pipeline);
          KILN_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(body, *tree, pipeline));
          KILN_ASSIGN_OR_RETURN(std::vector<SweepTrial> trials, ExpandSweep(spec));
          SweepRecord sweep{NewGuid(), p, pipeline, ref, commit, r.user, "", NowMs()};
          json stored = SweepSpecJson(spec);
          stored["pipeline_name"] = node->Name();
          sweep.spec = stored.dump();
          // The first trial checks that the pipeline runs before the sweep
          // exists; the others start at once, so they share their jobs.
          std::vector<std::string> started;
          for (size_t i = 0; i < trials.size(); ++i) {
            StartRequest req;
            req.project = p;
            req.pipeline = pipeline;
            req.ref = ref;
            req.commit = commit;
            req.user = r.user;
            req.overrides = trials[i].overrides;
            req.sweep = sweep.id;
            req.sweep_trial = int64_t(i);
            req.backend = backend;
            Result<std::string> id = ctx->driver->Start(req);
            if (!id.ok()) {
              if (i == 0) return id.status();
              return Internal("trial " + std::to_string(i) +
                              " did not start: " + id.status().message());
            }
            started.push_back(*id);
            if (i == 0) KILN_RETURN_IF_ERROR(ctx->runs.CreateSweep(sweep));
          }
          return HttpResponse::Json(
              201, {{"id", sweep.id}, {"trials", trials.size()}, {"executions", started}});
        });
      },
      "Start a sweep: the pipeline run once per set of attribute values (docs/sweeps.md)");

  router.Add(
      "GET", "/api/v1/projects/{p}/sweeps",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_RETURN_IF_ERROR(ctx->access.Check(r.user, r.Param("p"), Role::kRead));
          KILN_ASSIGN_OR_RETURN(auto sweeps, ctx->runs.ListSweeps(r.Param("p")));
          json list = json::array();
          for (const SweepRecord& s : sweeps) {
            KILN_ASSIGN_OR_RETURN(json j, SweepJson(ctx->runs, s, false));
            list.push_back(std::move(j));
          }
          return HttpResponse::Json(200, {{"sweeps", list}});
        });
      },
      "The project's sweeps, newest first");

  router.Add(
      "GET", "/api/v1/sweeps/{id}",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(SweepRecord s, sweep_for(r, Role::kRead));
          KILN_ASSIGN_OR_RETURN(json j, SweepJson(ctx->runs, s, true));
          return HttpResponse::Json(200, j);
        });
      },
      "A sweep with its trials: values, state, final metrics");

  router.Add(
      "POST", "/api/v1/sweeps/{id}/cancel",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(SweepRecord s, sweep_for(r, Role::kWrite));
          if (!ctx->driver) return FailedPrecondition("no compute backend is available");
          KILN_ASSIGN_OR_RETURN(auto trials, ctx->runs.SweepTrials(s.id));
          size_t cancelled = 0;
          for (const ExecutionRecord& e : trials) {
            if (DrivenByAnotherServer(e, ctx->server_id)) {
              // Another server drives it: left for that server (docs/execution.md).
              CancelRequest asked{e.id, "execution", e.server, r.user,
                                  SystemClock::Get().NowMillis()};
              if (ctx->runs.RequestCancel(asked).ok()) ++cancelled;
              continue;
            }
            if (ctx->driver->InFlight(e.id) && ctx->driver->Cancel(e.id, r.user).ok()) ++cancelled;
          }
          return HttpResponse::Json(200, {{"cancelled", cancelled}});
        });
      },
      "Cancel the sweep's running trials");
}

}  // namespace kiln
