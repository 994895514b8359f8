#include "compute/slurm/slurm_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "compute/slurm/slurm_states.h"
#include "compute/slurm/squeue_json.h"
#include "core/guid.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The bundle's event file: the spec's "events" when it is a path, else
// events.jsonl (docs/job-protocol.md).
fs::path EventsFile(const fs::path& bundle) {
  std::ifstream in(bundle / "spec.json");
  nlohmann::json spec = nlohmann::json::parse(in, nullptr, false);
  if (!spec.is_discarded() && spec.is_object() && spec.contains("events") &&
      spec["events"].is_string()) {
    fs::path p = spec["events"].get<std::string>();
    return p.is_absolute() ? p : bundle / p;
  }
  return bundle / "events.jsonl";
}

// Complete lines of a file, counted without holding it in memory.
uint64_t CountLines(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  uint64_t n = 0;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) n += buf[i] == '\n';
  }
  return n;
}

// Hands the complete lines after the first `skip` to `deliver`, 1,000 at a
// time; lines over 32 MiB are dropped (as the local backend does).
template <typename F>
void LinesAfter(const fs::path& file, uint64_t skip, F deliver) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  std::vector<std::string> batch;
  uint64_t index = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no \n: the job died mid-line
    if (index++ < skip || line.empty() || line.size() > (size_t(32) << 20)) continue;
    batch.push_back(std::move(line));
    if (batch.size() == 1000) deliver(std::move(batch)), batch.clear();
  }
  if (!batch.empty()) deliver(std::move(batch));
}

// The exit code in a bundle's result.json, for a job Slurm forgot.
std::optional<int> ResultExitCode(const fs::path& bundle) {
  std::ifstream in(bundle / "result.json");
  if (!in) return std::nullopt;
  nlohmann::json r = nlohmann::json::parse(in, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("exit_code") ||
      !r["exit_code"].is_number_integer()) {
    return std::nullopt;
  }
  return r["exit_code"].get<int>();
}

}  // namespace

// A file only the server's user may read (task lists and the journal hold
// job tokens), created so from the start.
Status WritePrivateFile(const fs::path& path, const std::string& text);

namespace {

// Adds the job's environment to its spec, which kiln.job applies (the
// array's batch script is shared, the environment is per job).
Status AddEnvToSpec(const fs::path& bundle, const std::map<std::string, std::string>& env) {
  if (env.empty()) return Status::Ok();
  fs::path path = bundle / "spec.json";
  nlohmann::json spec;
  {
    std::ifstream in(path);
    spec = nlohmann::json::parse(in, nullptr, false);
  }
  if (spec.is_discarded() || !spec.is_object())
    return InvalidArgument("unreadable " + path.string());
  for (const auto& [k, v] : env) spec["env"][k] = v;
  std::ofstream out(path, std::ios::trunc);
  out << spec.dump();
  if (!out.flush()) return IOError("cannot write " + path.string());
  return Status::Ok();
}

}  // namespace

SlurmBackend::SlurmBackend(SlurmBackendOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<SlurmBackend>> SlurmBackend::Start(SlurmBackendOptions options) {
  if (!options.commands || !options.events)
    return InvalidArgument("the Slurm backend needs commands and an event gateway");
  if (options.shared_dir.empty()) return InvalidArgument("the Slurm backend needs shared_dir");
  if (options.site.fetch_bundles && (!options.files || options.site.events_url.empty())) {
    return InvalidArgument(
        "a Slurm backend whose jobs fetch their bundles needs the file gate "
        "and the server's URL");
  }
  if (options.state_dir.empty()) options.state_dir = options.shared_dir;
  if (options.poll_min_s <= 0) options.poll_min_s = 0.05;
  if (options.poll_max_s < options.poll_min_s) options.poll_max_s = options.poll_min_s;
  std::error_code ec;
  fs::create_directories(options.shared_dir / "slurm", ec);
  if (ec)
    return IOError("cannot create " + (options.shared_dir / "slurm").string() + ": " +
                   ec.message());
  fs::create_directories(options.state_dir, ec);
  if (ec) return IOError("cannot create " + options.state_dir.string() + ": " + ec.message());
  std::unique_ptr<SlurmBackend> b(new SlurmBackend(std::move(options)));
  b->journal_ = b->options_.state_dir / ("slurm-" + b->options_.site.name + ".jsonl");
  KILN_RETURN_IF_ERROR(b->LoadJournal());
  b->interval_ = b->options_.poll_min_s;
  b->thread_ = std::thread([p = b.get()] { p->Loop(); });
  return b;
}

SlurmBackend::~SlurmBackend() {
  Stop();
  // Jobs still in Slurm stay there: the journal lets the next process adopt them.
  for (const auto& [id, job] : jobs_) options_.events->Close(id);
}

// ------------------------------------------------------------- journal

Status SlurmBackend::LoadJournal() {
  std::ifstream in(journal_);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    // A torn last line, or one not written by Kiln: skipped.
    if (j.is_discarded() || !j.is_object() || !j.contains("job") || !j["job"].is_string()) continue;
    auto text = [&](const char* key) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    std::string id = j["job"].get<std::string>();
    if (j.contains("ended") && j["ended"].is_boolean() && j["ended"].get<bool>()) {
      known_.erase(id);
      continue;
    }
    Known k{text("slurm"), text("token"), text("bundle"), 0, 0};
    if (j.contains("memory_mb") && j["memory_mb"].is_number_unsigned()) {
      k.memory_mb = j["memory_mb"].get<uint64_t>();
    }
    if (j.contains("time_s") && j["time_s"].is_number()) k.time_s = j["time_s"].get<double>();
    known_[id] = k;
  }
  in.close();
  // Rewrite with only what may still be adopted.
  fs::path tmp = journal_.string() + ".tmp";
  std::string text;
  for (const auto& [id, k] : known_) {
    text += nlohmann::json{{"job", id},          {"slurm", k.slurm_id},      {"token", k.token},
                           {"bundle", k.bundle}, {"memory_mb", k.memory_mb}, {"time_s", k.time_s}}
                .dump() +
            "\n";
  }
  KILN_RETURN_IF_ERROR(WritePrivateFile(tmp, text));  // it holds tokens
  std::error_code ec;
  fs::rename(tmp, journal_, ec);
  if (ec) return IOError("cannot write " + journal_.string() + ": " + ec.message());
  return Status::Ok();
}

Status WritePrivateFile(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IOError("cannot write " + path.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return IOError("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    done += size_t(n);
  }
  ::close(fd);
  return Status::Ok();
}

void SlurmBackend::Journal(const std::string& line) {
  if (!fs::exists(journal_)) (void)WritePrivateFile(journal_, "");  // 0600: it holds tokens
  std::ofstream out(journal_, std::ios::app);
  out << line << "\n";
  out.flush();
}

// ------------------------------------------------------------- public

Status SlurmBackend::Submit(const JobRequest& request, JobSink* sink) {
  KILN_RETURN_IF_ERROR(AddEnvToSpec(request.bundle, request.env));
  std::string token = PushedEvents::NewToken();
  {
    std::lock_guard lock(mu_);
    if (stop_) return FailedPrecondition("the Slurm backend is stopping");
    if (jobs_.size() >= options_.max_jobs) {
      return ResourceExhausted("backend '" + options_.site.name + "' has " +
                               std::to_string(jobs_.size()) + " jobs in Slurm (max_jobs)");
    }
    if (jobs_.count(request.job_id))
      return AlreadyExists("job " + request.job_id + " is submitted");
    // Its files, for a node that does not see this machine's folders (a
    // bundle lists in well under a millisecond: under the lock is fine).
    if (options_.site.fetch_bundles) {
      KILN_RETURN_IF_ERROR(options_.files->Open(request.job_id, token, request.bundle));
    }
    Job& job = jobs_[request.job_id];
    job.request = request;
    job.sink = sink;
    job.token = token;
    job.first_try = Now();
    job.next_try = job.first_try + options_.array_window_ms / 1000.0;
    unsubmitted_.push_back(request.job_id);
    // Registered before sbatch, so the job can push from its first line;
    // under the lock, so a Cancel cannot end it first (Register calls nothing).
    options_.events->Register(request.job_id, token, sink);
  }
  cv_.notify_all();
  return Status::Ok();
}

Status SlurmBackend::Cancel(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFound("job " + job_id + " is not in Slurm");
  if (it->second.slurm_id.empty()) {
    JobExit exit;
    exit.end = JobExit::End::kSignaled;
    exit.cancelled = true;
    exit.reason = "cancelled before it reached Slurm";
    End(job_id, exit, pending_callbacks_);
  } else {
    it->second.cancel_requested = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

Status SlurmBackend::Adopt(const std::string& job_id, JobSink* sink) {
  Known k;
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(job_id);
    if (it == known_.end() || it->second.slurm_id.empty()) {
      return NotFound("backend '" + options_.site.name + "' has no record of job " + job_id);
    }
    k = it->second;
    known_.erase(it);
    Job& job = jobs_[job_id];
    job.request.job_id = job_id;
    job.request.bundle = k.bundle;
    job.request.resources.memory_mb = k.memory_mb;
    job.request.limits.timeout_s = k.time_s;
    job.sink = sink;
    job.token = k.token;
    job.slurm_id = k.slurm_id;
    job.first_try = Now();
    poll_now_ = true;
  }
  if (options_.site.fetch_bundles) {
    Status opened = options_.files->Open(job_id, k.token, k.bundle);
    // A job that runs already fetched its bundle; it may still upload.
    (void)opened;
  }
  // Lines the job pushed while no server listened are in its events file
  // only; the console resumes with what comes next (docs/compute.md).
  // Without a shared folder the events file is on the node: the job's own
  // next offset (what the previous process acknowledged) is taken as is.
  if (options_.site.fetch_bundles) {
    options_.events->Register(job_id, k.token, sink, 0, /*trust_first_offset=*/true);
  } else {
    options_.events->Register(job_id, k.token, sink, CountLines(EventsFile(k.bundle)));
  }
  cv_.notify_all();
  return Status::Ok();
}

bool SlurmBackend::Detach(const std::string& job_id) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || it->second.slurm_id.empty()) return false;  // not in Slurm yet
    jobs_.erase(it);  // its journal line stays: the next process adopts it
    std::erase_if(pending_callbacks_, [&](const Callback& c) { return c.job_id == job_id; });
  }
  options_.events->Close(job_id);
  if (options_.files) options_.files->Close(job_id);
  return true;
}

std::map<std::string, uint64_t> SlurmBackend::Stats() const {
  return {{"sbatch_calls", sbatch_calls_},
          {"squeue_calls", squeue_calls_},
          {"slurm_calls", options_.commands->calls()},
          {"in_slurm", [this] {
             std::lock_guard lock(mu_);
             return uint64_t(jobs_.size());
           }()}};
}

void SlurmBackend::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SlurmBackend::Nudge() {
  {
    std::lock_guard lock(mu_);
    poll_now_ = true;
  }
  cv_.notify_all();
}

// ------------------------------------------------------------- the loop

void SlurmBackend::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!pending_callbacks_.empty()) {
      std::vector<Callback> callbacks = std::move(pending_callbacks_);
      pending_callbacks_.clear();
      lock.unlock();
      Run(callbacks);
      lock.lock();
      continue;
    }
    double now = Now();
    bool in_slurm = false, cancels = false;
    for (const auto& [id, job] : jobs_) {
      in_slurm = in_slurm || !job.slurm_id.empty();
      cancels = cancels || (job.cancel_requested && !job.cancel_sent && !job.slurm_id.empty());
    }
    double wake = in_slurm ? next_poll_ : now + 3600;
    for (const std::string& id : unsubmitted_) {
      if (auto it = jobs_.find(id); it != jobs_.end()) wake = std::min(wake, it->second.next_try);
    }
    if (cancels) {
      SendCancels(lock);
      continue;
    }
    if (!poll_now_ && wake > now) {
      cv_.wait_for(lock, std::chrono::duration<double>(std::min(wake - now, 5.0)));
      continue;
    }
    SubmitDue(lock, now);
    if (stop_) break;
    if (poll_now_ || (in_slurm && Now() >= next_poll_)) {
      poll_now_ = false;
      Poll(lock);
    }
  }
}

void SlurmBackend::SendCancels(std::unique_lock<std::mutex>& lock) {
  std::vector<std::string> ids;
  for (auto& [id, job] : jobs_) {
    if (job.cancel_requested && !job.cancel_sent && !job.slurm_id.empty()) {
      job.cancel_sent = true;
      ids.push_back(job.slurm_id);
    }
  }
  lock.unlock();
  Status st = options_.commands->Scancel(ids);
  lock.lock();
  if (!st.ok()) {
    std::fprintf(stderr, "kiln: slurm %s: %s (will retry)\n", options_.site.name.c_str(),
                 st.message().c_str());
    for (auto& [id, job] : jobs_) {
      if (job.cancel_requested) job.cancel_sent = false;
    }
    next_poll_ = Now() + options_.poll_min_s;
    cv_.wait_for(lock, std::chrono::duration<double>(options_.poll_min_s));
    return;
  }
  // The cancel is confirmed by the next poll (CANCELLED).
  poll_now_ = true;
}

void SlurmBackend::SubmitDue(std::unique_lock<std::mutex>& lock, double now) {
  // Due jobs grouped by shape, in arrival order.
  std::map<std::vector<std::string>, std::vector<std::string>> shapes;
  std::vector<std::vector<std::string>> order;
  std::deque<std::string> later;
  std::vector<Callback> callbacks;
  // The window opened when the first of them arrived: every job that came
  // within it goes now too (one array per shape).
  double horizon = now + options_.array_window_ms / 1000.0;
  for (const std::string& id : unsubmitted_) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    if (it->second.next_try > horizon) {
      later.push_back(id);
      continue;
    }
    auto options = SbatchOptions(options_.site, it->second.request);
    if (!options.ok()) {
      JobExit exit;
      exit.end = JobExit::End::kLost;
      exit.reason = options.status().message();
      End(id, exit, callbacks);
      continue;
    }
    auto [s, added] = shapes.try_emplace(*options);
    if (added) order.push_back(*options);
    s->second.push_back(id);
  }
  unsubmitted_ = std::move(later);
  pending_callbacks_.insert(pending_callbacks_.end(), callbacks.begin(), callbacks.end());

  for (const std::vector<std::string>& shape : order) {
    std::vector<std::string>& ids = shapes[shape];
    // Slurm's default MaxArraySize is 1001: chunks of 1,000 tasks.
    size_t per_call = options_.arrays ? 1000 : 1;
    for (size_t start = 0; start < ids.size(); start += per_call) {
      std::vector<std::string> chunk;
      for (size_t k = start; k < std::min(ids.size(), start + per_call); ++k) {
        // The lock was released around the sbatch of the chunk before: a
        // job may have been cancelled (and forgotten) meanwhile.
        if (jobs_.count(ids[k])) chunk.push_back(ids[k]);
      }
      if (chunk.empty()) continue;
      fs::path tasks = options_.shared_dir / "slurm" / (NewGuid() + ".tasks");
      std::string list;
      for (const std::string& id : chunk) {
        const Job& job = jobs_.at(id);
        list += id + "\t" + job.request.bundle.string() + "\t" + job.token + "\n";
      }
      std::vector<std::string> args = shape;
      args.push_back("--job-name=" + SlurmJobName(options_.site));
      // Without a shared folder Slurm's own output stays on the node.
      fs::path logs =
          options_.site.fetch_bundles ? fs::path("/tmp") : options_.shared_dir / "slurm";
      if (chunk.size() > 1) {
        args.push_back("--array=0-" + std::to_string(chunk.size() - 1));
        args.push_back("--output=" + (logs / "%A_%a.out").string());
      } else {
        args.push_back("--output=" + (logs / "%j.out").string());
      }
      std::string script = BatchScript(options_.site, tasks, list);
      lock.unlock();
      Result<std::string> id = [&]() -> Result<std::string> {
        // Readable by the server's user only from the start: it holds tokens.
        if (!options_.site.fetch_bundles) KILN_RETURN_IF_ERROR(WritePrivateFile(tasks, list));
        sbatch_calls_++;
        return options_.commands->Sbatch(args, script);
      }();
      lock.lock();
      double after = Now();
      std::vector<std::string> orphans;  // cancelled while sbatch ran
      for (size_t i = 0; i < chunk.size(); ++i) {
        auto it = jobs_.find(chunk[i]);
        if (it == jobs_.end()) {
          if (id.ok()) orphans.push_back(chunk.size() > 1 ? *id + "_" + std::to_string(i) : *id);
          continue;
        }
        Job& job = it->second;
        if (id.ok()) {
          job.slurm_id = chunk.size() > 1 ? *id + "_" + std::to_string(i) : *id;
          Journal(nlohmann::json{{"job", chunk[i]},
                                 {"slurm", job.slurm_id},
                                 {"token", job.token},
                                 {"bundle", job.request.bundle.string()},
                                 {"memory_mb", job.request.resources.memory_mb},
                                 {"time_s", job.request.limits.timeout_s}}
                      .dump());
          pending_callbacks_.push_back(
              {chunk[i],
               job.sink,
               JobPlacement{options_.site.name, "", job.slurm_id, false, "submitted to Slurm"},
               std::nullopt,
               {}});
          if (job.cancel_requested) job.cancel_sent = false;  // scancel it now that it has an id
        } else if (id.status().code() == Code::kUnavailable &&
                   after - job.first_try < options_.retry_for_s) {
          std::string note = "sbatch failed (" + id.status().message() + "); retrying in " +
                             std::to_string(int(job.backoff)) + " s";
          pending_callbacks_.push_back({chunk[i],
                                        job.sink,
                                        JobPlacement{options_.site.name, "", "", false, note},
                                        std::nullopt,
                                        {}});
          job.next_try = after + job.backoff;
          job.backoff = std::min(job.backoff * 2, 60.0);
          unsubmitted_.push_back(chunk[i]);
        } else {
          JobExit exit;
          exit.end = JobExit::End::kLost;
          exit.reason = id.status().code() == Code::kUnavailable
                            ? "Slurm did not accept the job for " +
                                  std::to_string(int(after - job.first_try)) +
                                  " s: " + id.status().message()
                            : "Slurm refused the job: " + id.status().message();
          End(chunk[i], exit, pending_callbacks_);
        }
      }
      if (!orphans.empty()) {
        lock.unlock();
        (void)options_.commands->Scancel(orphans);
        lock.lock();
      }
      if (id.ok()) {
        interval_ = options_.poll_min_s;
        next_poll_ = std::min(next_poll_ > 0 ? next_poll_ : after, after + options_.poll_min_s);
      }
    }
  }
}

void SlurmBackend::Poll(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  squeue_calls_++;
  Result<std::string> out = options_.commands->SqueueJson();
  Result<std::map<std::string, SlurmJobStatus>> statuses =
      out.ok() ? ParseSqueueJson(*out, SlurmJobName(options_.site))
               : Result<std::map<std::string, SlurmJobStatus>>(out.status());
  lock.lock();
  double now = Now();
  if (!statuses.ok()) {
    // The controller may be down for a while: jobs are not lost, only late.
    std::fprintf(stderr, "kiln: slurm %s: %s\n", options_.site.name.c_str(),
                 statuses.status().message().c_str());
    interval_ = std::min(std::max(interval_ * 2, options_.poll_min_s), options_.poll_max_s);
    next_poll_ = now + interval_;
    return;
  }
  bool changed = false;
  std::vector<std::string> ids;
  for (const auto& [id, job] : jobs_) {
    if (!job.slurm_id.empty()) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    Job& job = jobs_.at(id);
    auto s = statuses->find(job.slurm_id);
    if (s == statuses->end()) {
      // Gone from squeue: it ended more than MinJobAge ago (or the
      // listing raced with its submission: wait one more poll).
      if (++job.missing < 2) continue;
      changed = true;
      JobExit exit;
      if (auto code = ResultExitCode(job.request.bundle)) {
        exit.end = JobExit::End::kExited;
        exit.exit_code = *code;
        exit.cancelled = job.cancel_requested && *code == 143;
        if (*code != 0) exit.reason = "exit code " + std::to_string(*code);
      } else {
        exit.end = JobExit::End::kLost;
        exit.reason = "Slurm no longer knows job " + job.slurm_id + " and it left no result";
      }
      End(id, exit, pending_callbacks_);
      continue;
    }
    job.missing = 0;
    SlurmOutcome o = MapSlurmState(s->second, job.cancel_requested, job.request.resources.memory_mb,
                                   job.request.limits.timeout_s);
    switch (o.kind) {
      case SlurmOutcome::Kind::kWaiting:
        if (job.running || o.note != job.last_note) {
          changed = true;
          job.running = false;
          job.last_note = o.note;
          pending_callbacks_.push_back(
              {id,
               job.sink,
               JobPlacement{options_.site.name, "", job.slurm_id, false, o.note},
               std::nullopt,
               {}});
        }
        break;
      case SlurmOutcome::Kind::kRunning:
        if (!job.running) {
          changed = true;
          job.running = true;
          job.last_note.clear();
          pending_callbacks_.push_back(
              {id,
               job.sink,
               JobPlacement{options_.site.name, s->second.nodes, job.slurm_id, true, ""},
               std::nullopt,
               {}});
        }
        break;
      case SlurmOutcome::Kind::kEnded:
        changed = true;
        if (!job.running && !s->second.nodes.empty()) {
          // It ran and ended between two polls: still say where.
          pending_callbacks_.push_back(
              {id,
               job.sink,
               JobPlacement{options_.site.name, s->second.nodes, job.slurm_id, true, ""},
               std::nullopt,
               {}});
        }
        End(id, o.exit, pending_callbacks_);
        break;
    }
  }
  interval_ = changed ? options_.poll_min_s
                      : std::min(std::max(interval_ * 2, options_.poll_min_s), options_.poll_max_s);
  next_poll_ = now + interval_;
}

void SlurmBackend::End(const std::string& job_id, JobExit exit, std::vector<Callback>& out) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  Job job = std::move(it->second);
  jobs_.erase(it);
  std::erase(unsubmitted_, job_id);
  if (options_.files) options_.files->Close(job_id);
  if (!job.slurm_id.empty()) Journal(nlohmann::json{{"job", job_id}, {"ended", true}}.dump());
  out.push_back({job_id, job.sink, std::nullopt, std::move(exit), job.request.bundle});
}

void SlurmBackend::Run(std::vector<Callback>& callbacks) {
  for (Callback& c : callbacks) {
    if (c.placed) c.sink->OnPlaced(c.job_id, *c.placed);
    if (!c.exit) continue;
    // The lines the job wrote but could not push (killed, or the server
    // was unreachable) come from its events file, before its end.
    uint64_t delivered = options_.events->Close(c.job_id);
    if (!c.bundle.empty()) {
      LinesAfter(EventsFile(c.bundle), delivered, [&](std::vector<std::string> lines) {
        c.sink->OnEvents(c.job_id, std::move(lines));
      });
    }
    c.sink->OnExit(c.job_id, *c.exit);
  }
}

}  // namespace kiln
