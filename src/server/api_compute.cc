#include "server/api_compute.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "compute/pushed_events.h"
#include "server/http.h"

namespace kiln {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kJobsPrefix = "/api/v1/jobs/";

// "/api/v1/jobs/{job}/<tail>" with a one-segment job id.
bool IsJobRoute(const HttpRequest& r, std::string_view tail) {
  std::string_view path = r.path;
  if (!path.starts_with(kJobsPrefix)) return false;
  path.remove_prefix(kJobsPrefix.size());
  size_t slash = path.find('/');
  return slash != 0 && slash != std::string_view::npos && path.substr(slash + 1) == tail;
}

Result<std::string> BearerToken(const HttpRequest& r) {
  const std::string& header = r.Header("authorization");
  if (!header.starts_with("Bearer ")) {
    return Status(Code::kUnauthenticated, "send 'Authorization: Bearer <job token>'");
  }
  return header.substr(7);
}

// A job token's errors as the job's routes answer them: a wrong token is
// 401 (as for a user's), a job not running any more 404.
Status AsJobRouteError(Status st) {
  if (st.code() == Code::kPermissionDenied) return Status(Code::kUnauthenticated, st.message());
  return st;
}

json ManifestJson(const JobManifest& m) {
  json files = json::array(), inputs = json::array();
  for (const auto& f : m.files) files.push_back({{"path", f.path}, {"size", f.size}});
  for (const auto& i : m.inputs) {
    inputs.push_back({{"name", i.name},
                      {"sha256", i.sha256.empty() ? json(nullptr) : json(i.sha256)},
                      {"size", i.size}});
  }
  return {{"bundle", m.bundle}, {"files", files}, {"inputs", inputs}};
}

json LeasedJobJson(const LeasedJob& j) {
  json out = ManifestJson(j.manifest);
  out.update({{"job", j.job_id},
              {"token", j.token},
              {"events_from", j.events_from},
              {"limits",
               {{"timeout_s", j.limits.timeout_s},
                {"memory_bytes", j.limits.memory_bytes},
                {"cpu_s", j.limits.cpu_s}}},
              {"env", j.env},
              {"modules", j.modules ? json(*j.modules) : json(nullptr)},
              {"gpus", j.gpus}});
  return out;
}

Result<JobExit> ParseExit(const json& body) {
  // Each field of the type it has, or the report is refused (400).
  static const std::pair<const char*, json::value_t> kTypes[] = {
      {"end", json::value_t::string},
      {"exit_code", json::value_t::number_integer},
      {"signal", json::value_t::number_integer},
      {"timed_out", json::value_t::boolean},
      {"cancelled", json::value_t::boolean},
      {"reason", json::value_t::string},
      {"wall_s", json::value_t::number_float},
      {"max_rss_kb", json::value_t::number_unsigned}};
  for (const auto& [key, type] : kTypes) {
    if (!body.contains(key)) continue;
    const json& v = body[key];
    bool number = type == json::value_t::number_integer || type == json::value_t::number_float ||
                  type == json::value_t::number_unsigned;
    if (number ? !v.is_number() : v.type() != type) {
      return InvalidArgument(std::string("the exit report's ") + key + " has the wrong type");
    }
  }
  JobExit e;
  std::string end = body.value("end", "exited");
  if (end == "exited") {
    e.end = JobExit::End::kExited;
  } else if (end == "signaled") {
    e.end = JobExit::End::kSignaled;
  } else if (end == "lost") {
    e.end = JobExit::End::kLost;
  } else {
    return InvalidArgument("end must be exited, signaled or lost, not '" + end + "'");
  }
  e.exit_code = body.value("exit_code", 0);
  e.signal = body.value("signal", 0);
  e.timed_out = body.value("timed_out", false);
  e.cancelled = body.value("cancelled", false);
  e.reason = body.value("reason", "");
  e.wall_s = body.value("wall_s", 0.0);
  e.max_rss_kb = body.value("max_rss_kb", uint64_t{0});
  return e;
}

// An upload into a job's bundle: a temporary beside the target, renamed
// over it when the whole body arrived, removed otherwise.
struct BundleFileSink : BodySink {
  fs::path target, temp;
  FILE* file = nullptr;
  // Checked again before the rename: an upload from an attempt the server
  // took back while it streamed must not land over the next attempt's.
  std::function<Status()> still_allowed;
  ~BundleFileSink() override {
    if (file) std::fclose(file);
    if (!temp.empty()) ::unlink(temp.c_str());
  }
  Status Write(const char* data, size_t n) override {
    if (std::fwrite(data, 1, n, file) != n) return IOError("cannot write " + temp.string());
    return Status::Ok();
  }
  Status Finish() {
    int rc = std::fclose(file);
    file = nullptr;
    if (rc != 0) return IOError("cannot write " + temp.string());
    if (still_allowed) KILN_RETURN_IF_ERROR(still_allowed());
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) return IOError("cannot move the upload to " + target.string() + ": " + ec.message());
    temp.clear();
    return Status::Ok();
  }
};

}  // namespace

bool IsJobTokenRoute(const HttpRequest& r) {
  if (r.method == "POST") return IsJobRoute(r, "events") || IsJobRoute(r, "exit");
  if (r.method == "GET") {
    return IsJobRoute(r, "file") || IsJobRoute(r, "input") || IsJobRoute(r, "manifest");
  }
  if (r.method == "PUT") return IsJobRoute(r, "file");
  return false;
}

bool IsWorkerRoute(const HttpRequest& r) { return r.path.starts_with("/api/v1/workers/"); }

std::string WorkerUser(const std::string& name) { return kAnyWorker + name; }

void RegisterComputeApi(Router& router, ComputeContext& c) {
  ComputeContext* ctx = &c;
  auto remote_of_job = [ctx](const std::string& job) -> Result<RemoteBackend*> {
    for (RemoteBackend* b : ctx->remotes) {
      if (b->Has(job)) return b;
    }
    return NotFound("job " + job + " is not running on a worker");
  };

  router.Add(
      "GET", "/api/v1/backends",
      [=](HttpRequest&) {
        json list = json::array();
        if (ctx->backends) {
          for (const BackendInfo& b : ctx->backends->Backends()) {
            json item = {
                {"name", b.name},          {"kind", b.kind},
                {"slots", b.slots},        {"gpus", b.gpus < 0 ? json(nullptr) : json(b.gpus)},
                {"default", b.is_default}, {"stats", b.stats}};
            for (RemoteBackend* remote : ctx->remotes) {
              if (remote->name() != b.name) continue;
              json workers = json::array();
              for (const WorkerInfo& w : remote->Workers()) {
                workers.push_back({{"name", w.name},
                                   {"slots", w.slots},
                                   {"gpus", w.gpus},
                                   {"gpu_type", w.gpu_type},
                                   {"jobs", w.jobs},
                                   {"seen_s_ago", w.seen_s_ago}});
              }
              item["workers"] = std::move(workers);
            }
            list.push_back(std::move(item));
          }
        }
        return HttpResponse::Json(200, {{"backends", list}});
      },
      "The compute backends jobs can run on (docs/compute.md); gpus null = the backend "
      "schedules GPUs itself; a remote backend lists its connected workers");

  router.Add(
      "POST", "/api/v1/workers/lease",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          if (!r.user.starts_with(kAnyWorker)) {
            return Status(Code::kPermissionDenied, "only a worker token may lease jobs");
          }
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          if (body.contains("worker") && !body["worker"].is_string()) {
            return InvalidArgument("worker must be the worker's name");
          }
          std::string token_name = r.user.substr(std::string_view(kAnyWorker).size());
          WorkerHello hello;
          hello.name = body.value("worker", token_name);
          if (!token_name.empty() && hello.name != token_name) {
            return Status(Code::kPermissionDenied, "this token is for worker '" + token_name +
                                                       "', not '" + hello.name + "'");
          }
          auto count = [&](const char* key, int64_t fallback, int64_t max) -> Result<int64_t> {
            if (!body.contains(key)) return fallback;
            const json& v = body[key];
            if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > max) {
              return InvalidArgument(std::string(key) + " must be a whole number from 0 to " +
                                     std::to_string(max));
            }
            return v.get<int64_t>();
          };
          KILN_ASSIGN_OR_RETURN(int64_t slots, count("slots", 1, 4096));
          KILN_ASSIGN_OR_RETURN(int64_t gpus, count("gpus", 0, 1024));
          hello.slots = size_t(slots);
          hello.gpus = int(gpus);
          if (body.contains("gpu_type") && !body["gpu_type"].is_string()) {
            return InvalidArgument("gpu_type must be a string");
          }
          hello.gpu_type = body.value("gpu_type", "");
          if (body.contains("holding")) {
            if (!body["holding"].is_array())
              return InvalidArgument("holding must be a list of job ids");
            for (const json& id : body["holding"]) {
              if (!id.is_string()) return InvalidArgument("holding must be a list of job ids");
              hello.holding.push_back(id.get<std::string>());
            }
          }
          if (ctx->remotes.empty()) {
            return NotFound(
                "this server has no remote-worker backend: add [backends.NAME] with "
                "kind = \"remote\" to its config file (docs/compute.md)");
          }
          RemoteBackend* remote = ctx->remotes.front();
          if (body.contains("backend") && !body["backend"].is_string()) {
            return InvalidArgument("backend must be a backend's name");
          }
          std::string wanted = body.value("backend", "");
          if (!wanted.empty()) {
            remote = nullptr;
            std::string names;
            for (RemoteBackend* b : ctx->remotes) {
              if (b->name() == wanted) remote = b;
              names += (names.empty() ? "" : ", ") + b->name();
            }
            if (!remote) {
              return NotFound("no remote-worker backend named '" + wanted +
                              "' (this server has: " + names + ")");
            }
          }
          KILN_ASSIGN_OR_RETURN(LeaseReply reply, remote->Lease(hello));
          json jobs = json::array();
          for (const LeasedJob& j : reply.jobs) jobs.push_back(LeasedJobJson(j));
          return HttpResponse::Json(200, {{"backend", remote->name()},
                                          {"jobs", jobs},
                                          {"cancel", reply.cancel},
                                          {"poll_s", reply.poll_s}});
        });
      },
      "A remote worker asks for jobs and reports the ones it holds (its heartbeat; "
      "docs/compute.md, \"Remote workers\")");

  router.Add(
      "GET", "/api/v1/jobs/{job}/manifest",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
          if (!ctx->files) return NotFound("no job runs on another machine here");
          Result<JobManifest> m = ctx->files->Manifest(r.Param("job"), token);
          KILN_RETURN_IF_ERROR(AsJobRouteError(m.status()));
          return HttpResponse::Json(200, ManifestJson(*m));
        });
      },
      "What a job on another machine fetches: its bundle's files and inputs (its job token)");

  router.Add(
      "GET", "/api/v1/jobs/{job}/file",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
          if (!ctx->files) return NotFound("no job runs on another machine here");
          Result<fs::path> path = ctx->files->FileToSend(r.Param("job"), token, r.Query("path"));
          KILN_RETURN_IF_ERROR(AsJobRouteError(path.status()));
          HttpResponse resp;
          resp.content_type = "application/octet-stream";
          resp.file_path = path->string();
          return resp;
        });
      },
      "A file of a job's bundle, for the worker running it (its job token)");

  router.Add(
      "GET", "/api/v1/jobs/{job}/input",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
          if (!ctx->files) return NotFound("no job runs on another machine here");
          Result<fs::path> path = ctx->files->InputToSend(r.Param("job"), token, r.Query("name"));
          KILN_RETURN_IF_ERROR(AsJobRouteError(path.status()));
          HttpResponse resp;
          resp.content_type = "application/octet-stream";
          resp.file_path = path->string();
          return resp;
        });
      },
      "One of a job's inputs, for the worker running it (its job token)");

  router.AddStreaming(
      "PUT", "/api/v1/jobs/{job}/file",
      StreamingHandler{[=](HttpRequest& r) -> Result<std::unique_ptr<BodySink>> {
                         KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
                         if (!ctx->files) return NotFound("no job runs on another machine here");
                         Result<fs::path> target =
                             ctx->files->FileToReceive(r.Param("job"), token, r.Query("path"));
                         KILN_RETURN_IF_ERROR(AsJobRouteError(target.status()));
                         uint64_t length = 0;
                         if (const std::string& cl = r.Header("content-length"); !cl.empty()) {
                           length = std::strtoull(cl.c_str(), nullptr, 10);
                         }
                         std::error_code ec;
                         fs::space_info space = fs::space(target->parent_path(), ec);
                         if (!ec && length > space.available) {
                           return Status(Code::kInsufficientStorage,
                                         "not enough disk space for the upload: it needs " +
                                             std::to_string(length) + " bytes and " +
                                             std::to_string(space.available) + " are free");
                         }
                         auto sink = std::make_unique<BundleFileSink>();
                         sink->target = *target;
                         sink->still_allowed = [files = ctx->files, job = r.Param("job"), token,
                                                path = r.Query("path")] {
                           return AsJobRouteError(files->FileToReceive(job, token, path).status());
                         };
                         sink->temp =
                             target->string() + ".upload-" + PushedEvents::NewToken().substr(0, 12);
                         fs::create_directories(target->parent_path(), ec);
                         sink->file = std::fopen(sink->temp.c_str(), "wbx");
                         if (!sink->file) {
                           sink->temp.clear();
                           return IOError("cannot create " + target->string());
                         }
                         return std::unique_ptr<BodySink>(std::move(sink));
                       },
                       [=](HttpRequest&, std::unique_ptr<BodySink> body) -> HttpResponse {
                         return Guarded([&]() -> Result<HttpResponse> {
                           KILN_RETURN_IF_ERROR(static_cast<BundleFileSink&>(*body).Finish());
                           return HttpResponse::Json(200, {{"stored", true}});
                         });
                       }},
      "A worker uploads a job's result.json or outputs/<name> (streamed to disk)");

  router.Add(
      "POST", "/api/v1/jobs/{job}/exit",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
          KILN_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
          KILN_ASSIGN_OR_RETURN(JobExit exit, ParseExit(body));
          KILN_ASSIGN_OR_RETURN(RemoteBackend * remote, remote_of_job(r.Param("job")));
          if (body.contains("lines") && !body["lines"].is_number_unsigned()) {
            return InvalidArgument("lines must be the number of event lines the job pushed");
          }
          uint64_t next = 0;
          Status st =
              remote->Exit(r.Param("job"), token, exit, body.value("lines", uint64_t{0}), &next);
          if (st.code() == Code::kFailedPrecondition) {
            HttpResponse resp = HttpResponse::Error(409, "conflict", st.message());
            json out = json::parse(resp.body, nullptr, false);
            if (out.is_object()) out["next"] = next;
            resp.body = out.dump();
            return resp;
          }
          KILN_RETURN_IF_ERROR(AsJobRouteError(st));
          return HttpResponse::Json(200, {{"ended", true}});
        });
      },
      "The worker running a job reports how it ended, after pushing all its events");

  router.Add(
      "POST", "/api/v1/jobs/{job}/events",
      [=](HttpRequest& r) {
        return Guarded([&]() -> Result<HttpResponse> {
          if (!ctx->events) return NotFound("no job pushes events here");
          KILN_ASSIGN_OR_RETURN(std::string token, BearerToken(r));
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
              ctx->events->Receive(r.Param("job"), token, offset, r.body, &resend_from);
          if (!next.ok() && next.status().code() == Code::kFailedPrecondition) {
            HttpResponse resp = HttpResponse::Error(409, "conflict", next.status().message());
            json body = json::parse(resp.body, nullptr, false);
            if (body.is_object()) body["next"] = resend_from;
            resp.body = body.dump();
            return resp;
          }
          KILN_RETURN_IF_ERROR(AsJobRouteError(next.status()));
          return HttpResponse::Json(200, {{"next", *next}});
        });
      },
      "A running job pushes its event lines (docs/compute.md, \"Pushed events\")");
}

}  // namespace kiln
