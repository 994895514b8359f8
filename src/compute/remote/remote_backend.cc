#include "compute/remote/remote_backend.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace kiln {

namespace fs = std::filesystem;

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One path segment a job may write: letters, digits, '.', '-', '_', not
// starting with '.' (no "..", no hidden files).
bool IsPlainName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
  });
}

std::string Seconds(double s) {
  std::ostringstream out;
  out.precision(3);
  out << s;
  return out.str();
}

}  // namespace

RemoteBackend::RemoteBackend(RemoteBackendOptions options) : options_(std::move(options)) {
  if (!options_.now) options_.now = SteadySeconds;
}

Result<std::unique_ptr<RemoteBackend>> RemoteBackend::Start(RemoteBackendOptions options) {
  if (!options.events || !options.files) {
    return InvalidArgument("a remote backend needs the pushed-events gateway and the file gate");
  }
  if (options.worker_timeout_s <= 0) return InvalidArgument("worker_timeout_s must be positive");
  if (options.max_attempts < 1) return InvalidArgument("max_attempts must be at least 1");
  std::unique_ptr<RemoteBackend> b(new RemoteBackend(std::move(options)));
  b->thread_ = std::thread([p = b.get()] { p->Loop(); });
  return b;
}

RemoteBackend::~RemoteBackend() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteBackend::Loop() {
  double period = std::clamp(options_.worker_timeout_s / 4, 0.05, 1.0);
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::duration<double>(period),
                 [&] { return stop_ || !pending_.empty(); });
    if (stop_) break;
    std::vector<Callback> callbacks;
    callbacks.swap(pending_);
    calling_++;  // under the lock: Unbind, once it holds it, waits for this Run
    lock.unlock();
    Run(callbacks);
    CheckWorkers();
    lock.lock();
  }
}

// Callers count themselves in calling_ while they still hold the lock.
void RemoteBackend::Run(std::vector<Callback>& callbacks) {
  for (Callback& c : callbacks) {
    if (c.rekey) {
      // Outside the lock: Rekey waits for a delivery in progress, which may
      // wait for the driver, which may be waiting for this backend's lock.
      Result<uint64_t> next = options_.events->Rekey(c.job_id, *c.rekey);
      std::lock_guard lock(mu_);
      auto it = jobs_.find(c.job_id);
      if (it != jobs_.end() && it->second.token == *c.rekey &&
          it->second.state == State::kRequeued) {
        it->second.events_from = next.ok() ? *next : 0;
        it->second.state = State::kQueued;
      }
      continue;
    }
    if (c.exit) options_.events->Close(c.job_id);  // no event is delivered after this
    if (!c.sink) continue;                         // unbound meanwhile
    if (c.placed) c.sink->OnPlaced(c.job_id, *c.placed);
    if (c.exit) c.sink->OnExit(c.job_id, *c.exit);
  }
  calling_--;
}

Status RemoteBackend::Submit(const JobRequest& request, JobSink* sink) {
  std::string token = PushedEvents::NewToken();
  std::unique_lock lock(mu_);
  if (jobs_.count(request.job_id)) return AlreadyExists("job " + request.job_id + " is submitted");
  options_.events->Register(request.job_id, token, sink);
  Job& job = jobs_[request.job_id];
  job.request = request;
  job.sink = sink;
  job.token = std::move(token);
  job.seq = next_seq_++;
  std::string note = workers_.empty()
                         ? "waiting for a worker to connect (kiln worker --server … --token …)"
                         : "waiting for a free worker";
  pending_.push_back({request.job_id, sink, JobPlacement{options_.name, "", "", false, note}, {}});
  lock.unlock();
  cv_.notify_all();
  return Status::Ok();
}

Status RemoteBackend::Cancel(const std::string& job_id) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFound("job " + job_id + " is not running");
  Job& job = it->second;
  if (job.state == State::kQueued || job.state == State::kRequeued || server_stopping_) {
    JobExit exit;
    exit.end = JobExit::End::kSignaled;
    exit.signal = 15;
    exit.cancelled = true;
    exit.reason =
        server_stopping_ && !job.worker.empty()
            ? "cancelled: the server stopped (worker '" + job.worker + "' is told to stop it)"
            : "cancelled before a worker took it";
    EndLocked(job_id, exit, pending_);
    lock.unlock();
    cv_.notify_all();
    return Status::Ok();
  }
  job.cancel_requested = true;  // its worker is told at its next lease
  return Status::Ok();
}

void RemoteBackend::Unbind(JobSink* sink) {
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.sink == sink) {
        gone.push_back(it->first);
        options_.files->Close(it->first);
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    for (Callback& c : pending_) {
      if (c.sink == sink) c.sink = nullptr;
    }
  }
  for (const std::string& id : gone) options_.events->Close(id);
  while (calling_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void RemoteBackend::ServerStopping() {
  std::lock_guard lock(mu_);
  server_stopping_ = true;
}

void RemoteBackend::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RemoteBackend::EndLocked(const std::string& job_id, const JobExit& exit,
                              std::vector<Callback>& out) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  options_.files->Close(job_id);
  out.push_back({job_id, it->second.sink, {}, exit});
  jobs_.erase(it);
}

void RemoteBackend::Requeue(const std::string& job_id, const std::string& why,
                            std::vector<Callback>& out) {
  Job& job = jobs_.at(job_id);
  std::string worker = job.worker;
  job.attempts++;
  if (job.cancel_requested) {
    JobExit exit;
    exit.end = JobExit::End::kLost;
    exit.cancelled = true;
    exit.reason = "cancelled; " + why;
    return EndLocked(job_id, exit, out);
  }
  if (job.attempts >= options_.max_attempts) {
    JobExit exit;
    exit.end = JobExit::End::kLost;
    exit.reason = why + "; the job was lost with its worker " + std::to_string(job.attempts) +
                  " times, so it is not tried again";
    return EndLocked(job_id, exit, out);
  }
  retried_++;
  options_.files->Close(job_id);  // the old token opens nothing from here on
  // What the lost attempt uploaded is not the next one's result.
  std::error_code ec;
  fs::remove(job.request.bundle / "result.json", ec);
  fs::remove_all(job.request.bundle / "outputs", ec);
  fs::create_directories(job.request.bundle / "outputs", ec);
  job.state = State::kRequeued;  // offered again once its new token is in place
  job.worker.clear();
  job.token = PushedEvents::NewToken();
  Callback rekey{job_id, nullptr, {}, {}};
  rekey.rekey = job.token;
  out.push_back(std::move(rekey));
  out.push_back({job_id,
                 job.sink,
                 JobPlacement{options_.name, "", "", false,
                              why + "; waiting for another worker (attempt " +
                                  std::to_string(job.attempts + 1) + " of " +
                                  std::to_string(options_.max_attempts) + ")"},
                 {}});
}

Result<LeasedJob> RemoteBackend::Offer(Job& job, const std::string& worker) {
  if (!options_.files->IsOpen(job.request.job_id)) {
    KILN_RETURN_IF_ERROR(options_.files->Open(job.request.job_id, job.token, job.request.bundle));
  }
  LeasedJob l;
  KILN_ASSIGN_OR_RETURN(l.manifest, options_.files->Manifest(job.request.job_id, job.token));
  job.state = State::kOffered;
  job.worker = worker;
  l.job_id = job.request.job_id;
  l.token = job.token;
  l.events_from = job.events_from;
  l.limits = job.request.limits;
  l.env = job.request.env;
  l.modules = job.request.modules;
  l.gpus = job.request.resources.gpus;
  return l;
}

Result<LeaseReply> RemoteBackend::Lease(const WorkerHello& hello) {
  if (!IsPlainName(hello.name)) {
    return InvalidArgument("a worker's name is 1 to 200 of [A-Za-z0-9._-], not starting with '.'");
  }
  if (hello.slots == 0) return InvalidArgument("a worker needs at least one slot");
  std::vector<Callback> callbacks;
  LeaseReply reply;
  reply.poll_s = options_.poll_s;
  {
    std::lock_guard lock(mu_);
    leases_++;
    Worker& w = workers_[hello.name];
    w.hello = hello;
    w.last_seen = Now();
    std::set<std::string> holding(hello.holding.begin(), hello.holding.end());
    size_t busy_slots = 0;
    int busy_gpus = 0;
    std::vector<std::string> lost, cancelled;
    for (auto& [id, job] : jobs_) {
      if (job.worker != hello.name) continue;
      bool held = holding.count(id) > 0;
      if (job.state == State::kOffered && held) {
        job.state = State::kRunning;
        callbacks.push_back(
            {id, job.sink, JobPlacement{options_.name, hello.name, "", true, ""}, {}});
      } else if (job.state == State::kOffered && job.cancel_requested) {
        cancelled.push_back(id);  // never started there: it ends now
        continue;
      } else if (job.state == State::kOffered) {
        Result<LeasedJob> again = Offer(job, hello.name);  // the last answer never arrived
        if (again.ok()) reply.jobs.push_back(std::move(*again));
      } else if (job.state == State::kRunning && !held) {
        lost.push_back(id);
        continue;
      }
      if (job.cancel_requested && held) reply.cancel.push_back(id);
      busy_slots++;
      busy_gpus += job.request.resources.gpus;
    }
    for (const std::string& id : lost) {
      Requeue(id, "worker '" + hello.name + "' no longer has the job (it restarted?)", callbacks);
    }
    for (const std::string& id : cancelled) {
      JobExit exit;
      exit.end = JobExit::End::kSignaled;
      exit.signal = 15;
      exit.cancelled = true;
      exit.reason = "cancelled before a worker started it";
      EndLocked(id, exit, callbacks);
    }
    // What it holds that is not its own any more: ended, cancelled, or
    // given to another worker while this one was out of reach.
    for (const std::string& id : holding) {
      auto it = jobs_.find(id);
      if (it == jobs_.end() || it->second.worker != hello.name) reply.cancel.push_back(id);
    }
    std::vector<Job*> queued;
    for (auto& [id, job] : jobs_) {
      if (job.state == State::kQueued) queued.push_back(&job);
    }
    std::sort(queued.begin(), queued.end(), [](Job* a, Job* b) { return a->seq < b->seq; });
    for (Job* job : queued) {
      if (busy_slots >= hello.slots) break;
      // Not to a worker still holding an old attempt of it (it was taken
      // back while the worker was out of reach): that one drops it first.
      if (holding.count(job->request.job_id)) continue;
      const JobResources& r = job->request.resources;
      if (r.gpus > hello.gpus - busy_gpus) continue;
      if (r.gpus > 0 && !r.gpu_type.empty() && !hello.gpu_type.empty() &&
          r.gpu_type != hello.gpu_type) {
        continue;
      }
      Result<LeasedJob> offer = Offer(*job, hello.name);
      if (!offer.ok()) {
        JobExit exit;
        exit.exit_code = 2;
        exit.reason = "cannot send the job to a worker: " + offer.status().message();
        EndLocked(job->request.job_id, exit, callbacks);
        continue;
      }
      reply.jobs.push_back(std::move(*offer));
      busy_slots++;
      busy_gpus += r.gpus;
    }
    calling_++;
  }
  Run(callbacks);
  return reply;
}

Result<const RemoteBackend::Job*> RemoteBackend::Authorized(const std::string& job_id,
                                                            std::string_view token) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.state == State::kQueued ||
      it->second.state == State::kRequeued) {
    return NotFound("job " + job_id + " is not running on a worker");
  }
  const std::string& want = it->second.token;
  if (token.size() != want.size() || CRYPTO_memcmp(token.data(), want.data(), want.size()) != 0) {
    return Status(Code::kPermissionDenied, "wrong token for job " + job_id);
  }
  return &it->second;
}

Status RemoteBackend::Exit(const std::string& job_id, std::string_view token, const JobExit& exit,
                           uint64_t lines, uint64_t* next) {
  {
    std::lock_guard lock(mu_);
    KILN_RETURN_IF_ERROR(Authorized(job_id, token).status());
  }
  // Outside the lock (it waits for a delivery in progress).
  uint64_t have = options_.events->Next(job_id);
  if (have < lines) {
    if (next) *next = have;
    return FailedPrecondition("the job's events up to line " + std::to_string(lines) +
                              " have not all arrived (the server has " + std::to_string(have) +
                              "): push the rest, then report the exit again");
  }
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mu_);
    KILN_RETURN_IF_ERROR(Authorized(job_id, token).status());
    Job& job = jobs_.at(job_id);
    JobExit e = exit;
    if (job.cancel_requested && !e.succeeded()) e.cancelled = true;
    if (job.state == State::kOffered) {
      // Done before a lease confirmed it started: it ran there all the same.
      callbacks.push_back(
          {job_id, job.sink, JobPlacement{options_.name, job.worker, "", true, ""}, {}});
    }
    EndLocked(job_id, e, callbacks);
    calling_++;
  }
  Run(callbacks);
  return Status::Ok();
}

void RemoteBackend::CheckWorkers() {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mu_);
    double now = Now();
    for (auto w = workers_.begin(); w != workers_.end();) {
      double silent = now - w->second.last_seen;
      if (silent <= options_.worker_timeout_s) {
        ++w;
        continue;
      }
      lost_workers_++;
      std::string why =
          "worker '" + w->first + "' was lost (no contact for " + Seconds(silent) + " s)";
      std::vector<std::string> ids;
      for (auto& [id, job] : jobs_) {
        if (job.worker == w->first) ids.push_back(id);
      }
      for (const std::string& id : ids) Requeue(id, why, callbacks);
      w = workers_.erase(w);
    }
    calling_++;
  }
  Run(callbacks);
}

bool RemoteBackend::Has(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  return jobs_.count(job_id) > 0;
}

std::vector<WorkerInfo> RemoteBackend::Workers() const {
  std::lock_guard lock(mu_);
  std::vector<WorkerInfo> out;
  double now = Now();
  for (const auto& [name, w] : workers_) {
    size_t n = 0;
    for (const auto& [id, job] : jobs_) n += job.worker == name;
    out.push_back({name, w.hello.slots, w.hello.gpus, w.hello.gpu_type, n, now - w.last_seen});
  }
  return out;
}

std::map<std::string, uint64_t> RemoteBackend::Stats() const {
  std::lock_guard lock(mu_);
  uint64_t slots = 0, queued = 0, running = 0;
  for (const auto& [name, w] : workers_) slots += w.hello.slots;
  for (const auto& [id, job] : jobs_) {
    (job.state == State::kQueued || job.state == State::kRequeued ? queued : running)++;
  }
  return {{"workers", workers_.size()}, {"worker_slots", slots}, {"queued", queued},
          {"on_workers", running},      {"retried", retried_},   {"lost_workers", lost_workers_},
          {"leases", leases_}};
}

}  // namespace kiln
