#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "compute/gpu_count.h"
#include "core/url.h"

namespace kiln {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr size_t kBatchBytes = 1 << 20;             // an events body, normally
constexpr size_t kMaxLineBytes = size_t(32) << 20;  // longer lines are dropped, as locally

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0) return "worker";
  std::string s = name;
  // A worker's name is plain (the server refuses others).
  for (char& c : s) {
    if (!isalnum((unsigned char)c) && c != '.' && c != '-' && c != '_') c = '-';
  }
  return s.empty() || s[0] == '.' ? "worker" : s;
}

// A path the server listed for a bundle: relative, without "..".
bool IsSafeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

bool Gone(long status) { return status == 401 || status == 404; }

}  // namespace

struct Worker::Job {
  std::string id, token;
  uint64_t events_from = 0;
  json lease;
  fs::path dir;
  std::mutex mu;
  std::condition_variable cv;
  bool news = false;
  bool cancel = false;     // the server asked, or the worker stops
  bool submitted = false;  // handed to the zygotes
  std::optional<JobExit> exit;
  std::atomic<bool> done{false};
  uint64_t pushed_lines = 0, pushed_bytes = 0;  // of the events file, acknowledged
  std::vector<fs::path> cached_inputs;          // in use: not trimmed
  std::thread thread;
};

Worker::Worker(WorkerOptions options)
    : options_(std::move(options)), client_(options_.server, &stop_) {}

Result<std::unique_ptr<Worker>> Worker::Start(WorkerOptions options) {
  if (options.server.empty()) return InvalidArgument("give the server's address (--server URL)");
  if (!options.server.starts_with("http://") && !options.server.starts_with("https://")) {
    return InvalidArgument("--server must start with http:// or https://, not '" + options.server +
                           "'");
  }
  if (options.work_dir.empty()) return InvalidArgument("a worker needs a work folder");
  if (options.name.empty()) options.name = HostName();
  if (options.gpus < 0) options.gpus = DetectGpus();
  std::error_code ec;
  fs::create_directories(options.work_dir / "jobs", ec);
  fs::create_directories(options.work_dir / "cache", ec);
  if (ec) return IOError("cannot create " + options.work_dir.string() + ": " + ec.message());
  std::unique_ptr<Worker> w(new Worker(std::move(options)));
  WorkerOptions& o = w->options_;
  if (o.slots > 0) o.local.slots = o.slots;
  KILN_ASSIGN_OR_RETURN(w->local_, LocalBackend::Start(o.local));
  o.slots = w->local_->Slots();
  w->router_ = std::make_unique<BackendRouter>(
      std::vector<RoutedBackend>{
          {"worker", "local", w->local_.get(), o.gpus, o.gpu_type, 0, o.name}},
      "worker");
  return w;
}

Worker::~Worker() {
  Stop();
  std::map<std::string, std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mu_);
    jobs.swap(jobs_);
  }
  for (auto& [id, job] : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
  router_.reset();
  local_.reset();
}

void Worker::Stop() {
  stop_ = true;
  cv_.notify_all();
  std::lock_guard lock(mu_);
  for (auto& [id, job] : jobs_) {
    std::lock_guard job_lock(job->mu);
    job->cancel = true;
    job->news = true;
    job->cv.notify_all();
  }
}

// ---------------------------------------------------------------- leasing

Result<json> Worker::Lease(bool final) {
  json holding = json::array();
  if (!final) {
    std::lock_guard lock(mu_);
    for (const auto& [id, job] : jobs_) {
      if (!job->done) holding.push_back(id);
    }
  }
  json hello = {{"worker", options_.name},
                {"slots", options_.slots},
                {"gpus", options_.gpus},
                {"gpu_type", options_.gpu_type},
                {"holding", std::move(holding)}};
  if (!options_.backend.empty()) hello["backend"] = options_.backend;
  KILN_ASSIGN_OR_RETURN(WorkerAnswer a, client_.Post("/api/v1/workers/lease", options_.token,
                                                     hello.dump(), "application/json"));
  if (a.status == 200 && a.body.is_object()) return a.body;
  std::string why = a.Message();
  switch (a.status) {
    case 400:
      return InvalidArgument(why);
    case 401:
      return Status(Code::kUnauthenticated, why + " (is --token a worker token?)");
    case 403:
      return Status(Code::kPermissionDenied, why);
    case 404:
      return NotFound(why);
    default:
      return IOError("the server answered " + std::to_string(a.status) + ": " + why);
  }
}

Status Worker::Run() {
  spdlog::info("worker '{}' serves {} with {} slot(s), {} GPU(s); work folder {}", options_.name,
               options_.server, options_.slots, options_.gpus, options_.work_dir.string());
  double backoff = 0.5;
  bool unreachable = false;
  Status fatal = Status::Ok();
  while (!stop_) {
    Result<json> reply = Lease(false);
    double wait = 0.5;
    if (!reply.ok()) {
      Code code = reply.status().code();
      if (code != Code::kIOError) {
        fatal = reply.status();
        break;
      }
      if (!unreachable) {
        spdlog::warn("cannot reach the server: {}; retrying (the jobs here keep running)",
                     reply.status().message());
      }
      unreachable = true;
      wait = backoff;
      backoff = std::min(backoff * 2, 5.0);
    } else {
      if (unreachable) spdlog::info("reached the server again");
      unreachable = false;
      backoff = 0.5;
      if (reply->contains("poll_s") && (*reply)["poll_s"].is_number()) {
        wait = std::clamp((*reply)["poll_s"].get<double>(), 0.05, 30.0);
      }
      if (reply->contains("cancel") && (*reply)["cancel"].is_array()) {
        for (const json& id : (*reply)["cancel"]) {
          if (!id.is_string()) continue;
          std::lock_guard lock(mu_);
          auto it = jobs_.find(id.get<std::string>());
          if (it == jobs_.end()) continue;
          std::lock_guard job_lock(it->second->mu);
          it->second->cancel = true;
          it->second->news = true;
          it->second->cv.notify_all();
        }
      }
      if (reply->contains("jobs") && (*reply)["jobs"].is_array()) {
        for (const json& leased : (*reply)["jobs"]) Take(leased);
      }
    }
    // Reap the jobs that are over.
    std::vector<std::shared_ptr<Job>> over;
    {
      std::lock_guard lock(mu_);
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second->done) {
          over.push_back(it->second);
          it = jobs_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& job : over) job->thread.join();
    if (!over.empty()) {
      TrimCache();
      continue;  // a slot is free: lease again at once
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::duration<double>(wait), [&] {
      if (stop_) return true;
      for (const auto& [id, job] : jobs_) {
        if (job->done) return true;
      }
      return false;
    });
  }
  // Stopping: kill what runs, wait for the job threads, give the jobs back.
  // The jobs stay in jobs_ until their threads are joined: their exits
  // arrive through OnExit, which looks them up there.
  Stop();
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, job] : jobs_) {
      (void)router_->Cancel(id);
      jobs.push_back(job);
    }
  }
  for (auto& job : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
  {
    std::lock_guard lock(mu_);
    jobs_.clear();
  }
  if (fatal.ok() && !jobs.empty()) {
    (void)Lease(true);  // best effort: else the server finds them lost after its timeout
    spdlog::info("gave {} job(s) back to the server", jobs.size());
  }
  return fatal;
}

void Worker::Take(const json& leased) {
  if (!leased.is_object() || !leased.contains("job") || !leased["job"].is_string()) return;
  std::string id = leased["job"].get<std::string>();
  bool plain = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
  });
  if (!plain || id[0] == '.') {
    spdlog::warn("ignoring a job with an unusable id '{}'", id);
    return;
  }
  if (!leased.contains("token") || !leased["token"].is_string() ||
      (leased.contains("events_from") && !leased["events_from"].is_number_unsigned())) {
    spdlog::warn("ignoring job {}: the server's offer lacks a token or an event offset", id);
    return;
  }
  std::lock_guard lock(mu_);
  if (jobs_.count(id)) return;  // offered again: this worker has it already
  auto job = std::make_shared<Job>();
  job->id = id;
  job->token = leased["token"].get<std::string>();
  job->events_from = leased.value("events_from", uint64_t{0});
  job->lease = leased;
  job->dir = options_.work_dir / "jobs" / id;
  jobs_[id] = job;
  job->thread = std::thread([this, job] { RunJob(job); });
}

// ---------------------------------------------------------------- one job

namespace {

// What a job's call came to.
enum class Reply { kAnswered, kGiveUp };

}  // namespace

void Worker::RunJob(std::shared_ptr<Job> job) {
  spdlog::info("job {}: taken", job->id);
  bool reported = false;
  try {
    reported = Fetch(*job) && Launch(*job) && PushEvents(*job, true) && UploadAndReport(*job);
  } catch (const std::exception& e) {
    // A server answer of an unexpected shape: this job is given up here
    // (the server finds it no longer held and gives it to another worker).
    spdlog::error("job {}: {}", job->id, e.what());
  }
  // Whatever ended it, nothing of it keeps running here.
  bool running = false;
  {
    std::lock_guard lock(job->mu);
    running = job->submitted && !job->exit;
  }
  if (running) {
    (void)router_->Cancel(job->id);
    std::unique_lock lock(job->mu);
    job->cv.wait_for(lock, std::chrono::seconds(30), [&] { return job->exit.has_value(); });
  }
  std::error_code ec;
  fs::remove_all(job->dir, ec);
  spdlog::info("job {}: {}", job->id, reported ? "reported" : "given up here");
  job->done = true;
  cv_.notify_all();
}

void Worker::Pause(Job& job, double seconds) {
  std::unique_lock lock(job.mu);
  job.cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return job.news || stop_; });
  job.news = false;
}

// Runs a call until the server answers something other than 5xx/429, or the
// job is cancelled, or the worker stops. Network errors back off 0.5 s
// doubling to 5 s.
static Reply Retry(const std::function<Result<WorkerAnswer>()>& call,
                   const std::function<bool()>& give_up, const std::function<void(double)>& sleep,
                   const std::string& what, WorkerAnswer* out) {
  double backoff = 0.5;
  bool warned = false;
  while (!give_up()) {
    Result<WorkerAnswer> a = call();
    if (a.ok() && a->status < 500 && a->status != 429) {
      *out = std::move(*a);
      return Reply::kAnswered;
    }
    if (!a.ok() && a.status().code() != Code::kIOError) {
      // Not the network: the file system, or a corrupt download.
      out->status = 0;
      out->body = {{"error", {{"message", a.status().message()}}}};
      return Reply::kAnswered;
    }
    if (!warned) {
      spdlog::warn(
          "{}: {}; retrying", what,
          a.ok() ? "the server answered " + std::to_string(a->status) : a.status().message());
      warned = true;
    }
    sleep(backoff);
    backoff = std::min(backoff * 2, 5.0);
  }
  return Reply::kGiveUp;
}

bool Worker::Fetch(Job& job) {
  auto stopping = [&] { return stop_.load(); };  // a cancelled job is still fetched, then reported
  auto sleep = [&](double s) { Pause(job, s); };
  auto fail = [&](const std::string& why) {
    std::lock_guard lock(job.mu);
    JobExit e;
    e.exit_code = 2;
    e.reason = "the worker '" + options_.name + "' could not fetch the job: " + why;
    job.exit = e;
  };
  std::error_code ec;
  fs::remove_all(job.dir, ec);
  fs::create_directories(job.dir / "outputs", ec);
  if (ec) {
    fail("cannot create " + job.dir.string() + ": " + ec.message());
    return true;  // reported as failed
  }
  std::string base = "/api/v1/jobs/" + UrlSegment(job.id);
  const json& files = job.lease.contains("files") ? job.lease["files"] : json::array();
  for (const json& f : files) {
    std::string path = f.is_object() ? f.value("path", "") : "";
    if (!IsSafeRelative(path)) {
      fail("the server listed an unsafe path '" + path + "'");
      return true;  // reported as failed
    }
    WorkerAnswer a;
    if (Retry(
            [&] {
              return client_.Download(base + "/file?path=" + UrlSegment(path), job.token,
                                      job.dir / path);
            },
            stopping, sleep, "job " + job.id + ": fetching " + path, &a) == Reply::kGiveUp) {
      return false;
    }
    if (Gone(a.status)) return false;  // the server took it back
    if (a.status != 200) {
      fail(path + ": " + a.Message());
      return true;
    }
  }
  // Inputs: by digest into the cache (verified while downloading), else
  // into the bundle.
  json spec;
  {
    std::ifstream in(job.dir / "spec.json");
    spec = json::parse(in, nullptr, false);
  }
  if (!spec.is_object()) {
    fail("its spec.json does not parse");
    return true;
  }
  const json& inputs = job.lease.contains("inputs") ? job.lease["inputs"] : json::array();
  for (const json& i : inputs) {
    std::string name = i.is_object() && i.contains("name") && i["name"].is_string()
                           ? i["name"].get<std::string>()
                           : "";
    std::string sha = i.is_object() && i.contains("sha256") && i["sha256"].is_string()
                          ? i["sha256"].get<std::string>()
                          : "";
    if (!spec.contains("inputs") || !spec["inputs"].contains(name)) continue;
    if (!IsSafeRelative(name) || name.find('/') != std::string::npos) {
      fail("the server named an unusable input '" + name + "'");
      return true;
    }
    bool cacheable = sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == sha.npos;
    fs::path local = cacheable ? options_.work_dir / "cache" / sha : job.dir / "inputs" / name;
    // In use from here on: the cache trimmer leaves it alone. One download
    // per digest at a time: the other jobs wanting it wait and share it.
    std::shared_ptr<std::mutex> fetching;
    if (cacheable) {
      std::lock_guard lock(mu_);
      job.cached_inputs.push_back(local);
      auto& m = downloading_[sha];
      if (!m) m = std::make_shared<std::mutex>();
      fetching = m;
    }
    std::unique_lock<std::mutex> one_download;
    if (fetching) one_download = std::unique_lock<std::mutex>(*fetching);
    if (!(cacheable && fs::exists(local, ec))) {
      WorkerAnswer a;
      if (Retry(
              [&] {
                return client_.Download(base + "/input?name=" + UrlSegment(name), job.token, local,
                                        cacheable ? sha : "");
              },
              stopping, sleep, "job " + job.id + ": fetching input " + name,
              &a) == Reply::kGiveUp) {
        return false;
      }
      if (Gone(a.status)) return false;
      if (a.status != 200) {
        fail("input '" + name + "': " + a.Message());
        return true;
      }
    } else {
      fs::last_write_time(local, fs::file_time_type::clock::now(), ec);  // recently used
    }
    spec["inputs"][name]["path"] = local.string();
  }
  std::ofstream out(job.dir / "spec.json", std::ios::trunc);
  out << spec.dump(1);
  out.close();
  if (!out) {
    fail("cannot write its spec.json");
    return true;
  }
  return true;
}

bool Worker::Launch(Job& job) {
  {
    std::lock_guard lock(job.mu);
    if (job.exit) return true;  // fetching failed: report that
    if (job.cancel) {
      JobExit e;
      e.end = JobExit::End::kSignaled;
      e.signal = 15;
      e.cancelled = true;
      e.reason = "cancelled before it started";
      job.exit = e;
      return true;
    }
  }
  const json& l = job.lease;
  JobRequest r;
  r.job_id = job.id;
  r.bundle = fs::absolute(job.dir);
  if (l.contains("limits") && l["limits"].is_object()) {
    r.limits.timeout_s = l["limits"].value("timeout_s", 0.0);
    r.limits.memory_bytes = l["limits"].value("memory_bytes", uint64_t{0});
    r.limits.cpu_s = l["limits"].value("cpu_s", 0.0);
  }
  if (l.contains("env") && l["env"].is_object()) {
    for (const auto& [k, v] : l["env"].items()) {
      if (v.is_string()) r.env[k] = v.get<std::string>();
    }
  }
  // Paths of the server's machine mean nothing here.
  if (r.env.contains("KILN_VENVS")) r.env["KILN_VENVS"] = (options_.work_dir / "venvs").string();
  if (l.contains("modules") && l["modules"].is_array()) {
    std::vector<std::string> modules;
    for (const json& m : l["modules"]) {
      if (m.is_string()) modules.push_back(m.get<std::string>());
    }
    r.modules = modules;
  }
  r.resources.gpus = l.value("gpus", 0);
  Status st = router_->Submit(r, this);
  std::lock_guard lock(job.mu);
  if (!st.ok()) {
    JobExit e;
    e.exit_code = 2;
    e.reason = "the worker '" + options_.name + "' could not start it: " + st.message();
    job.exit = e;
    return true;
  }
  job.submitted = true;
  // A cancel that arrived while it was submitted.
  if (job.cancel) (void)router_->Cancel(job.id);
  return true;
}

bool Worker::PushEvents(Job& job, bool until_end) {
  std::string base = "/api/v1/jobs/" + UrlSegment(job.id);
  fs::path events = job.dir / "events.jsonl";
  bool cancel_sent = false;
  while (true) {
    bool ended;
    {
      std::lock_guard lock(job.mu);
      ended = job.exit.has_value();
      if (job.cancel && job.submitted && !ended && !cancel_sent) {
        (void)router_->Cancel(job.id);
        cancel_sent = true;
      }
    }
    if (stop_) return false;
    // The complete lines after what the server acknowledged, up to a batch.
    std::string body;
    uint64_t lines = 0;
    {
      std::ifstream in(events, std::ios::binary);
      if (in) {
        in.seekg(std::streamoff(job.pushed_bytes));
        std::string line;
        while (body.size() < kBatchBytes && std::getline(in, line)) {
          if (in.eof()) break;  // no newline yet: not complete
          if (line.size() > kMaxLineBytes) {
            // Dropped, as the local backend drops it. Skipped here when it
            // comes first; else the batch ends before it.
            if (lines > 0) break;
            job.pushed_bytes += line.size() + 1;
            continue;
          }
          body += line;
          body += '\n';
          lines++;
        }
      }
    }
    if (lines == 0) {
      if (ended || !until_end) return true;
      Pause(job, 0.2);
      continue;
    }
    uint64_t offset = job.events_from + job.pushed_lines;
    WorkerAnswer a;
    if (Retry(
            [&] {
              return client_.Post(base + "/events", job.token, body, "application/x-ndjson",
                                  {"X-Kiln-Event-Offset: " + std::to_string(offset)});
            },
            [&] { return stop_.load(); }, [&](double s) { Pause(job, s); },
            "job " + job.id + ": pushing events", &a) == Reply::kGiveUp) {
      return false;
    }
    if (Gone(a.status)) return false;  // taken back, or the server forgot it
    uint64_t next = a.body.is_object() ? a.body.value("next", offset) : offset;
    if (a.status != 200 && a.status != 409) {
      spdlog::error("job {}: the server refused its events: {}", job.id, a.Message());
      return false;
    }
    if (next >= offset && next - offset <= lines) {
      // Advance past the acknowledged lines of this batch.
      uint64_t acked = next - offset;
      std::ifstream in(events, std::ios::binary);
      in.seekg(std::streamoff(job.pushed_bytes));
      std::string line;
      for (uint64_t k = 0; k < acked && std::getline(in, line);) {
        job.pushed_bytes += line.size() + 1;
        if (line.size() <= kMaxLineBytes) ++k;
      }
      job.pushed_lines += acked;
    } else {
      // The server has a different count (409): start again from its line.
      job.pushed_lines = 0;
      job.pushed_bytes = 0;
      uint64_t want = next > job.events_from ? next - job.events_from : 0;
      std::ifstream in(events, std::ios::binary);
      std::string line;
      while (job.pushed_lines < want && std::getline(in, line) && !in.eof()) {
        job.pushed_bytes += line.size() + 1;
        if (line.size() <= kMaxLineBytes) ++job.pushed_lines;
      }
      if (next < job.events_from) job.events_from = next;
    }
  }
}

bool Worker::UploadAndReport(Job& job) {
  std::string base = "/api/v1/jobs/" + UrlSegment(job.id);
  auto give_up = [&] { return stop_.load(); };
  auto sleep = [&](double s) { Pause(job, s); };
  std::error_code ec;
  // result.json names the outputs by this machine's paths: make them
  // relative to the bundle, which is how the server reads them.
  fs::path result = job.dir / "result.json";
  if (fs::exists(result, ec)) {
    std::ifstream in(result);
    json r = json::parse(in, nullptr, false);
    in.close();
    if (r.is_object() && r.contains("outputs") && r["outputs"].is_object()) {
      for (auto& [name, o] : r["outputs"].items()) {
        if (!o.is_object() || !o.contains("path") || !o["path"].is_string()) continue;
        fs::path p = o["path"].get<std::string>();
        fs::path rel = fs::relative(p, fs::absolute(job.dir), ec);
        if (!ec && !rel.empty() && *rel.begin() != "..") o["path"] = rel.generic_string();
      }
      std::ofstream out(result, std::ios::trunc);
      out << r.dump();
    }
  }
  std::vector<std::string> uploads;
  for (const auto& entry : fs::directory_iterator(job.dir / "outputs", ec)) {
    if (entry.is_regular_file()) uploads.push_back("outputs/" + entry.path().filename().string());
  }
  if (fs::exists(result, ec)) uploads.push_back("result.json");  // last: it names the outputs
  for (const std::string& path : uploads) {
    WorkerAnswer a;
    if (Retry(
            [&] {
              return client_.Upload(base + "/file?path=" + UrlSegment(path), job.token,
                                    job.dir / path);
            },
            give_up, sleep, "job " + job.id + ": uploading " + path, &a) == Reply::kGiveUp) {
      return false;
    }
    if (Gone(a.status)) return false;
    if (a.status != 200) {
      spdlog::error("job {}: the server refused {}: {}", job.id, path, a.Message());
      std::lock_guard lock(job.mu);
      JobExit e;
      e.exit_code = 2;
      e.reason = "the server refused its " + path + ": " + a.Message();
      job.exit = e;
      break;
    }
  }
  JobExit e;
  {
    std::lock_guard lock(job.mu);
    e = *job.exit;
  }
  const char* end = e.end == JobExit::End::kExited     ? "exited"
                    : e.end == JobExit::End::kSignaled ? "signaled"
                                                       : "lost";
  for (int round = 0; round < 5; ++round) {
    json report = {{"end", end},
                   {"exit_code", e.exit_code},
                   {"signal", e.signal},
                   {"timed_out", e.timed_out},
                   {"cancelled", e.cancelled},
                   {"reason", e.reason},
                   {"wall_s", e.wall_s},
                   {"max_rss_kb", e.max_rss_kb},
                   {"lines", job.events_from + job.pushed_lines}};
    WorkerAnswer a;
    if (Retry(
            [&] {
              return client_.Post(base + "/exit", job.token, report.dump(), "application/json");
            },
            give_up, sleep, "job " + job.id + ": reporting its exit", &a) == Reply::kGiveUp) {
      return false;
    }
    if (a.status == 200) return true;
    if (Gone(a.status)) return false;  // already ended there (a retried report), or taken back
    if (a.status != 409) {
      spdlog::error("job {}: the server refused its exit: {}", job.id, a.Message());
      return false;
    }
    if (!PushEvents(job, false)) return false;  // it lacks lines: push them, report again
  }
  return false;
}

void Worker::TrimCache() {
  std::error_code ec;
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(options_.work_dir / "cache", ec)) {
    if (!e.is_regular_file(ec)) continue;
    entries.push_back({e.path(), e.last_write_time(ec), uint64_t(e.file_size(ec))});
    total += entries.back().size;
  }
  if (total <= options_.cache_bytes) return;
  std::set<fs::path> in_use;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, job] : jobs_)
      in_use.insert(job->cached_inputs.begin(), job->cached_inputs.end());
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= options_.cache_bytes) break;
    if (in_use.count(e.path)) continue;
    if (fs::remove(e.path, ec)) total -= e.size;
  }
}

// ---------------------------------------------------------------- from the zygotes

// Wakes the job's thread, after `change` (run under the job's lock) when
// given; a job this worker no longer holds is ignored.
void Worker::Notify(const std::string& job_id, const std::function<void(Job&)>& change) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    job = it->second;
  }
  std::lock_guard lock(job->mu);
  if (change) change(*job);
  job->news = true;
  job->cv.notify_all();
}

void Worker::OnEvents(const std::string& job_id, std::vector<std::string>) {
  // The lines are read from the events file when pushed (memory stays
  // bounded however far behind the server is); this only wakes the pusher.
  Notify(job_id, {});
}

void Worker::OnExit(const std::string& job_id, const JobExit& exit) {
  Notify(job_id, [&exit](Job& job) { job.exit = exit; });
}

}  // namespace kiln
