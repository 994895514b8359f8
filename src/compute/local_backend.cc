#include "compute/local_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compute/process_tree.h"

extern char** environ;

#ifndef KILN_PYTHON_DIR
#define KILN_PYTHON_DIR "python"
#endif

namespace kiln {

namespace fs = std::filesystem;

// One zygote: its process and protocol pipes.
struct LocalBackend::Proc {
  bool light = false;  // preloads only Kiln (options_.light_preload)
  int pid = -1;
  int to = -1, from = -1;
  uint64_t baseline_vsize = 0;  // VmSize when ready (memory limits add it)
  std::string read_buf;
};

struct LocalBackend::Job {
  int64_t rid = 0;
  size_t proc = 0;  // which zygote runs it
  JobRequest request;
  JobSink* sink = nullptr;
  fs::path events_path;
  fs::path result_path;
  int events_fd = -1;
  std::string partial;         // an incomplete last line of the events file
  bool skipping_line = false;  // dropping a line over kMaxEventLine up to its newline
  // The process ended while events were still unread: reported (OnExit)
  // once the tail has caught up, so a job's events all come before its end.
  std::optional<JobExit> pending_exit;
  int pid = 0;
  int watch = -1;  // inotify watch on the bundle folder
  bool cancel_requested = false;
  // The job's final event said it succeeded and the sink was told (OnExit):
  // the process is still tearing down; the zygote's `exited` only cleans up.
  bool reported = false;
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  std::vector<ProcessId> tree;  // what was alive when cancel was asked
  ~Job() {
    if (events_fd >= 0) ::close(events_fd);
  }
};

namespace {

// What one look at a job's events file reads at most, and the longest event
// line kept (a figure is the largest event a job writes).
constexpr size_t kTailBytes = 1 << 20;
constexpr size_t kMaxEventLine = 32 << 20;

std::string Num(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

// Whether `lines` hold the job's final state event saying it succeeded
// (kiln.job writes it last, after result.json and every output).
bool FinalSuccess(const std::vector<std::string>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->find("\"state\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(*it, nullptr, false);
    if (!j.is_object() || j.value("type", "") != "state") continue;
    std::string state = j.value("state", "");
    if (state == "succeeded") {
      return j.contains("exit_code") && j["exit_code"].is_number_integer() &&
             j["exit_code"].get<int>() == 0;
    }
    if (state == "failed" || state == "cancelled") return false;
  }
  return false;
}

uint64_t VmSizeBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

}  // namespace

fs::path LocalBackend::DefaultPythonPath() { return KILN_PYTHON_DIR; }

LocalBackend::LocalBackend(LocalBackendOptions options) : options_(std::move(options)) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  slots_ = options_.slots ? options_.slots : cores;
  if (options_.python_path.empty()) options_.python_path = DefaultPythonPath();
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::Start(LocalBackendOptions options) {
  std::unique_ptr<LocalBackend> b(new LocalBackend(std::move(options)));
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return IOError("pipe failed");
  b->wake_r_ = wake[0];
  b->wake_w_ = wake[1];
  // Without inotify (a limit reached) the event files are polled instead.
  b->inotify_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  {
    std::lock_guard lock(b->mu_);
    size_t n =
        b->options_.zygotes > 0 ? size_t(b->options_.zygotes) : std::min<size_t>(b->slots_, 2);
    b->full_count_ = std::max<size_t>(1, n);
    size_t light = size_t(std::max(0, b->options_.light_zygotes));
    b->procs_.resize(b->full_count_ + light);
    for (size_t i = b->full_count_; i < b->procs_.size(); ++i) b->procs_[i].light = true;
    // All start at once: the preload (~2 s with torch) runs in parallel.
    for (Proc& p : b->procs_) KILN_RETURN_IF_ERROR(b->SpawnZygote(p));
    for (Proc& p : b->procs_) KILN_RETURN_IF_ERROR(b->WaitReady(p));
  }
  b->thread_ = std::thread([p = b.get()] { p->Loop(); });
  return b;
}

LocalBackend::~LocalBackend() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    // EOF on its stdin: a zygote kills every job's group and exits.
    for (Proc& p : procs_) {
      if (p.to >= 0) ::close(p.to);
      p.to = -1;
    }
  }
  if (wake_w_ >= 0) (void)!::write(wake_w_, "x", 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  // Give them their few seconds to clean up, then make sure.
  for (int i = 0; i < 500; ++i) {
    bool left = false;
    for (Proc& p : procs_) {
      if (p.pid > 0 && ::waitpid(p.pid, nullptr, WNOHANG) == p.pid) p.pid = -1;
      left = left || p.pid > 0;
    }
    if (!left) break;
    ::usleep(10000);
  }
  for (Proc& p : procs_) {
    if (p.pid > 0) {
      ::kill(p.pid, SIGKILL);
      ::waitpid(p.pid, nullptr, 0);
    }
    if (p.from >= 0) ::close(p.from);
  }
  if (inotify_ >= 0) ::close(inotify_);
  ::close(wake_r_);
  ::close(wake_w_);
}

int LocalBackend::zygote_pid() const {
  std::lock_guard lock(mu_);
  return procs_.empty() ? -1 : procs_[0].pid;
}

int LocalBackend::light_zygote_pid() const {
  std::lock_guard lock(mu_);
  return procs_.size() > full_count_ ? procs_[full_count_].pid : -1;
}

int LocalBackend::zygote_pid_of(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  auto it = by_job_id_.find(job_id);
  if (it == by_job_id_.end()) return -1;
  return procs_[jobs_.at(it->second)->proc].pid;
}

int LocalBackend::zygote_starts() const {
  std::lock_guard lock(mu_);
  return starts_;
}

Status LocalBackend::SpawnZygote(Proc& proc) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return IOError(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls (the server is multi-threaded).
  // Spares: each zygote's share of the slots among those of its kind.
  size_t of_kind = proc.light ? procs_.size() - full_count_ : full_count_;
  int prefork =
      options_.prefork >= 0
          ? options_.prefork
          : int(std::min<size_t>(4, (slots_ + of_kind - 1) / std::max<size_t>(1, of_kind)));
  std::vector<std::string> args = {options_.python,
                                   "-m",
                                   "kiln.zygote",
                                   "--preload",
                                   proc.light ? options_.light_preload : options_.preload,
                                   "--prefork",
                                   std::to_string(prefork),
                                   "--kill-grace",
                                   Num(options_.kill_grace_s)};
  std::vector<std::string> env;
  std::string pythonpath = "PYTHONPATH=" + fs::absolute(options_.python_path).string();
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (kv.rfind("PYTHONPATH=", 0) == 0) {
      pythonpath += ":" + kv.substr(11);
      continue;
    }
    env.push_back(kv);
  }
  env.push_back(pythonpath);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::setsid();  // signals aimed at the server's group do not hit the workers
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  proc.to = in[1];
  proc.from = out[0];
  proc.pid = pid;
  proc.read_buf.clear();
  ++starts_;
  return Status::Ok();
}

Status LocalBackend::WaitReady(Proc& proc) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.ready_timeout_s);
  for (;;) {
    size_t nl = proc.read_buf.find('\n');
    if (nl != std::string::npos) {
      std::string line = proc.read_buf.substr(0, nl);
      proc.read_buf.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "ready") {
        proc.baseline_vsize = VmSizeBytes(proc.pid);
        if (proc.light) {
          // The standard library, and the top-level packages it preloaded.
          for (const char* key : {"stdlib", "preloaded"}) {
            if (!j.contains(key) || !j[key].is_array()) continue;
            for (const auto& m : j[key]) {
              if (!m.is_string()) continue;
              std::string name = m.get<std::string>();
              light_modules_.insert(name.substr(0, name.find('.')));
            }
          }
          light_modules_.insert("kiln");
        }
        return Status::Ok();
      }
      continue;  // not ours to interpret before ready
    }
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now())
                       .count());
    if (left <= 0) return IOError("the Python worker did not become ready in time");
    pollfd p{proc.from, POLLIN, 0};
    int r = ::poll(&p, 1, left);
    if (r < 0 && errno != EINTR) return IOError(std::string("poll: ") + std::strerror(errno));
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(proc.from, buf, sizeof buf);
    if (n <= 0) {
      int status = 0;
      ::waitpid(proc.pid, &status, 0);
      proc.pid = -1;
      return IOError("the Python worker (" + options_.python +
                     " -m kiln.zygote) exited before it was ready (status " +
                     std::to_string(status) + "); is PYTHONPATH " + options_.python_path.string() +
                     " right?");
    }
    proc.read_buf.append(buf, size_t(n));
  }
}

Status LocalBackend::SendLocked(Proc& proc, const std::string& line) {
  if (proc.to < 0) return IOError("the Python worker is not running");
  std::string data = line + "\n";
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t w = ::write(proc.to, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IOError(std::string("writing to the Python worker: ") + std::strerror(errno));
    }
    p += w;
    left -= size_t(w);
  }
  return Status::Ok();
}

Status LocalBackend::Submit(const JobRequest& request, JobSink* sink) {
  // Where the job writes its events: the spec says (docs/job-protocol.md).
  fs::path events = request.bundle / "events.jsonl";
  fs::path result = request.bundle / "result.json";
  {
    std::ifstream in(request.bundle / "spec.json");
    auto spec = nlohmann::json::parse(in, nullptr, false);
    if (spec.is_object() && spec.contains("events") && spec["events"].is_string()) {
      events = request.bundle / spec["events"].get<std::string>();
    }
    if (spec.is_object() && spec.contains("result") && spec["result"].is_string()) {
      result = request.bundle / spec["result"].get<std::string>();
    }
  }
  std::lock_guard lock(mu_);
  if (stop_) return FailedPrecondition("the local backend is shutting down");
  // A job that needs only what a light zygote imports cheaply goes to one.
  // In turn among those of a kind: the zygote that took the job before is
  // likely still forking its replacement spare.
  bool light = procs_.size() > full_count_ && request.modules.has_value() &&
               !light_modules_.empty() &&
               std::all_of(request.modules->begin(), request.modules->end(),
                           [&](const std::string& m) { return light_modules_.contains(m); });
  size_t pi = light ? full_count_ + next_light_++ % (procs_.size() - full_count_)
                    : next_full_++ % full_count_;
  Proc& proc = procs_[pi];
  if (proc.to < 0) {
    // A previous zygote died and the restart failed: try again now.
    KILN_RETURN_IF_ERROR(SpawnZygote(proc));
    KILN_RETURN_IF_ERROR(WaitReady(proc));
  }
  auto job = std::make_unique<Job>();
  job->rid = next_rid_++;
  job->proc = pi;
  job->request = request;
  job->sink = sink;
  job->events_path = events;
  job->result_path = result;

  nlohmann::json env = nlohmann::json::object();
  // An operation's job_cpus, else the machine's cores shared by the slots.
  std::string threads = std::to_string(
      request.resources.cpus > 0
          ? size_t(request.resources.cpus)
          : std::max<size_t>(1, std::max(1u, std::thread::hardware_concurrency()) / slots_));
  for (const char* k : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    env[k] = threads;
  }
  for (const auto& [k, v] : request.env) env[k] = v;
  nlohmann::json limits = nlohmann::json::object();
  if (request.limits.timeout_s > 0) limits["timeout_s"] = request.limits.timeout_s;
  if (request.limits.cpu_s > 0) limits["cpu_s"] = request.limits.cpu_s;
  if (request.limits.memory_bytes > 0) {
    limits["memory_bytes"] = request.limits.memory_bytes + proc.baseline_vsize;
  }
  nlohmann::json req = {{"id", job->rid},   {"op", "run"}, {"bundle", request.bundle.string()},
                        {"limits", limits}, {"env", env},  {"kill_grace_s", options_.kill_grace_s}};
  if (inotify_ >= 0) {
    // Any write in the bundle folder (events.jsonl) wakes the reader.
    job->watch =
        ::inotify_add_watch(inotify_, request.bundle.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO);
  }
  KILN_RETURN_IF_ERROR(SendLocked(proc, req.dump()));
  by_job_id_[request.job_id] = job->rid;
  jobs_[job->rid] = std::move(job);
  return Status::Ok();
}

Status LocalBackend::Cancel(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = by_job_id_.find(job_id);
  if (it == by_job_id_.end()) return NotFound("job " + job_id + " is not running");
  Job& job = *jobs_.at(it->second);
  job.cancel_requested = true;
  if (job.pid > 0) job.tree = ProcessTree(job.pid);
  nlohmann::json req = {
      {"id", "cancel-" + std::to_string(job.rid)}, {"op", "cancel"}, {"run", job.rid}};
  return SendLocked(procs_[job.proc], req.dump());
}

bool LocalBackend::TailLocked(Job& job, std::vector<std::string>* lines) {
  if (job.events_fd < 0) {
    job.events_fd = ::open(job.events_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (job.events_fd < 0) return false;  // not created yet
  }
  // At most kTailBytes a look: a job that prints gigabytes is read (and
  // delivered, and written to runs.db) a bounded piece at a time, however
  // far ahead of the reader it is.
  char buf[65536];
  size_t taken = 0;
  bool more = false;
  size_t start = 0;
  for (;;) {
    if (taken >= kTailBytes) {
      more = true;
      break;
    }
    ssize_t n = ::read(job.events_fd, buf, sizeof buf);
    if (n <= 0) break;
    taken += size_t(n);
    std::string_view got(buf, size_t(n));
    if (job.skipping_line) {
      size_t nl = got.find('\n');
      if (nl == std::string_view::npos) continue;
      job.skipping_line = false;
      got.remove_prefix(nl + 1);
    }
    job.partial.append(got);
    if (job.partial.size() - start > kMaxEventLine &&
        job.partial.find('\n', start) == std::string::npos) {
      // One line larger than any event: dropped, not held.
      job.partial.erase(start);
      job.skipping_line = true;
    }
  }
  for (size_t nl; (nl = job.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) lines->push_back(job.partial.substr(start, nl - start));
  }
  job.partial.erase(0, start);
  return more;
}

void LocalBackend::HandleLine(const std::string& line, std::vector<std::function<void()>>* out) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer()) return;
  int64_t rid = j["id"].get<int64_t>();
  auto it = jobs_.find(rid);
  if (it == jobs_.end()) return;
  Job& job = *it->second;
  std::string event = j.value("event", "");
  if (event == "started") {
    job.pid = j.value("pid", 0);
    if (job.cancel_requested) {
      // Cancelled before it started: the zygote knows it by now and kills it.
      job.tree = ProcessTree(job.pid);
    }
    return;
  }
  if (event != "exited" && event != "error") return;
  if (job.reported) {
    // Its end was reported from its final event; the process is gone now.
    if (!job.tree.empty()) KillAll(job.tree);
    ForgetLocked(it);
    return;
  }
  std::vector<std::string> lines;
  bool more = TailLocked(job, &lines);
  if (!more && !job.partial.empty()) {
    lines.push_back(std::move(job.partial));  // a last line without \n
  }
  JobExit exit;
  if (event == "error") {
    exit.end = JobExit::End::kLost;
    exit.reason = "the Python worker refused the job: " + j.value("message", "");
  } else {
    exit.timed_out = j.value("timed_out", false);
    exit.cancelled = j.value("cancelled", false) || (job.cancel_requested && !exit.timed_out);
    exit.wall_s = j.value("wall_s", 0.0);
    if (j.contains("rusage") && j["rusage"].is_object()) {
      exit.max_rss_kb = j["rusage"].value("maxrss_kb", uint64_t{0});
    }
    if (j.contains("signal") && j["signal"].is_number_integer()) {
      exit.end = JobExit::End::kSignaled;
      exit.signal = j["signal"].get<int>();
      exit.reason = std::string("killed by signal ") + std::to_string(exit.signal) + " (" +
                    strsignal(exit.signal) + ")";
    } else {
      exit.exit_code = j.value("exit_code", 0);
      if (exit.exit_code != 0) {
        exit.reason = "exited with status " + std::to_string(exit.exit_code);
      }
    }
    if (exit.timed_out) {
      exit.reason = "timed out after " + Num(job.request.limits.timeout_s) + " s";
    } else if (exit.cancelled) {
      exit.reason = "cancelled";
    }
  }
  // Whatever the job started and left behind goes with it.
  if (!job.tree.empty()) KillAll(job.tree);
  JobSink* sink = job.sink;
  std::string id = job.request.job_id;
  if (more) {
    // Events still unread: the end is reported after them (Loop).
    job.pending_exit = exit;
    if (!lines.empty()) {
      out->push_back(
          [sink, id, lines = std::move(lines)]() mutable { sink->OnEvents(id, std::move(lines)); });
    }
    return;
  }
  ForgetLocked(it);
  out->push_back([sink, id, lines = std::move(lines), exit]() mutable {
    if (!lines.empty()) sink->OnEvents(id, std::move(lines));
    sink->OnExit(id, exit);
  });
}

void LocalBackend::ForgetLocked(std::map<int64_t, std::unique_ptr<Job>>::iterator it) {
  Job& job = *it->second;
  if (job.watch >= 0) ::inotify_rm_watch(inotify_, job.watch);  // EINVAL once the folder is gone
  auto by_id = by_job_id_.find(job.request.job_id);
  if (by_id != by_job_id_.end() && by_id->second == job.rid) by_job_id_.erase(by_id);
  jobs_.erase(it);
}

void LocalBackend::ReportSuccessLocked(Job& job, std::vector<std::function<void()>>* out) {
  job.reported = true;
  by_job_id_.erase(job.request.job_id);  // Cancel: it has ended
  JobExit exit;
  exit.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - job.submitted).count();
  JobSink* sink = job.sink;
  std::string id = job.request.job_id;
  out->push_back([sink, id, exit] { sink->OnExit(id, exit); });
}

void LocalBackend::ZygoteDied(size_t pi, std::vector<std::function<void()>>* out) {
  Proc& proc = procs_[pi];
  int status = 0;
  if (proc.pid > 0) ::waitpid(proc.pid, &status, 0);
  std::string how = WIFSIGNALED(status)
                        ? "was killed by signal " + std::to_string(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = *it->second;
    if (job.proc != pi) {
      ++it;
      continue;
    }
    // Its children were reparented; their groups are theirs to lose.
    if (job.pid > 0) {
      KillAll(ProcessTree(job.pid));
      ::killpg(job.pid, SIGKILL);
    }
    if (!job.reported) {  // else it had finished; only its teardown was left
      std::vector<std::string> lines;
      TailLocked(job, &lines);
      JobExit exit;
      exit.end = JobExit::End::kLost;
      exit.reason = "the local Python worker (zygote) " + how + " while the job ran";
      if (job.pending_exit) exit = *job.pending_exit;  // it had ended before
      JobSink* sink = job.sink;
      std::string id = job.request.job_id;
      out->push_back([sink, id, lines = std::move(lines), exit]() mutable {
        if (!lines.empty()) sink->OnEvents(id, std::move(lines));
        sink->OnExit(id, exit);
      });
    }
    auto next = std::next(it);
    ForgetLocked(it);
    it = next;
  }
  ::close(proc.from);
  proc.from = -1;
  if (proc.to >= 0) ::close(proc.to);
  proc.to = -1;
  proc.pid = -1;
  if (stop_) return;
  // A fresh one for the jobs to come; if it fails, Submit tries again.
  if (SpawnZygote(proc).ok() && !WaitReady(proc).ok()) {
    if (proc.pid > 0) {
      ::kill(proc.pid, SIGKILL);
      ::waitpid(proc.pid, nullptr, 0);
    }
    ::close(proc.to);
    ::close(proc.from);
    proc.to = proc.from = -1;
    proc.pid = -1;
  }
}

void LocalBackend::Loop() {
  bool more_pending = false;  // some job's events file had more than one look's worth
  for (;;) {
    std::vector<std::function<void()>> deliveries;
    // wake, inotify, then one per zygote (-1 when it is gone: poll skips it).
    std::vector<pollfd> fds = {{wake_r_, POLLIN, 0}, {inotify_, POLLIN, 0}};
    bool busy, watched = true;
    {
      std::lock_guard lock(mu_);
      bool open = false;
      for (const Proc& p : procs_) {
        fds.push_back({p.from, POLLIN, 0});
        open = open || p.from >= 0;
      }
      if (stop_ && !open) return;
      busy = !jobs_.empty();
      for (const auto& [rid, job] : jobs_) watched = watched && (job->watch >= 0 || job->reported);
    }
    // Event files are read when inotify says their folder changed; the
    // timeout is a safety net (and the only way for a folder not watched).
    int timeout = !busy ? 200 : watched ? std::max(options_.poll_ms, 100) : options_.poll_ms;
    if (more_pending) timeout = 0;  // a job's events are still being read
    int r = ::poll(fds.data(), fds.size(), timeout);
    if (r < 0 && errno != EINTR) return;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      while (::read(wake_r_, buf, sizeof buf) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      alignas(inotify_event) char buf[4096];
      while (::read(inotify_, buf, sizeof buf) > 0) {
      }
    }
    {
      std::lock_guard lock(mu_);
      for (size_t pi = 0; pi < procs_.size(); ++pi) {
        Proc& proc = procs_[pi];
        const pollfd& pf = fds[2 + pi];
        if (pf.fd < 0 || pf.fd != proc.from || !(pf.revents & (POLLIN | POLLHUP | POLLERR))) {
          continue;
        }
        char buf[65536];
        ssize_t n = ::read(proc.from, buf, sizeof buf);
        if (n <= 0) {
          if (stop_) {
            // Shutting down: the zygote said bye and closed; its jobs are gone.
            ::close(proc.from);
            proc.from = -1;
            for (auto it = jobs_.begin(); it != jobs_.end();) {
              Job& job = *it->second;
              if (job.proc != pi) {
                ++it;
                continue;
              }
              if (!job.reported) {
                JobExit exit;
                exit.end = JobExit::End::kLost;
                exit.reason = "the local backend shut down";
                JobSink* sink = job.sink;
                std::string id = job.request.job_id;
                deliveries.push_back([sink, id, exit] { sink->OnExit(id, exit); });
              }
              auto next = std::next(it);
              ForgetLocked(it);
              it = next;
            }
          } else {
            ZygoteDied(pi, &deliveries);
          }
        } else {
          proc.read_buf.append(buf, size_t(n));
          for (size_t nl; (nl = proc.read_buf.find('\n')) != std::string::npos;) {
            std::string line = proc.read_buf.substr(0, nl);
            proc.read_buf.erase(0, nl + 1);
            HandleLine(line, &deliveries);
          }
        }
      }
      // Stream what running jobs wrote since the last look. A job whose
      // final event says it succeeded is reported ended now: its outputs and
      // result.json are complete, and the process's exit (tearing down a
      // copy of the zygote takes milliseconds) is not waited for.
      more_pending = false;
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        Job* job = it->second.get();
        if (job->reported) {
          ++it;
          continue;
        }
        std::vector<std::string> lines;
        bool more = TailLocked(*job, &lines);
        more_pending = more_pending || more;
        JobSink* sink = job->sink;
        std::string id = job->request.job_id;
        if (job->pending_exit && !more) {
          // Caught up with a job that has ended: its last events, then its end.
          if (!job->partial.empty()) lines.push_back(std::move(job->partial));
          deliveries.push_back(
              [sink, id, lines = std::move(lines), exit = *job->pending_exit]() mutable {
                if (!lines.empty()) sink->OnEvents(id, std::move(lines));
                sink->OnExit(id, exit);
              });
          auto next = std::next(it);
          ForgetLocked(it);
          it = next;
          continue;
        }
        ++it;
        if (lines.empty()) continue;
        // result.json is written before the final event: an operation that
        // emits a "succeeded" state of its own is not taken for finished.
        bool done = !job->pending_exit && !job->cancel_requested && FinalSuccess(lines) &&
                    ::access(job->result_path.c_str(), F_OK) == 0;
        deliveries.push_back([sink, id, lines = std::move(lines)]() mutable {
          sink->OnEvents(id, std::move(lines));
        });
        if (done) ReportSuccessLocked(*job, &deliveries);
      }
    }
    for (auto& d : deliveries) d();
  }
}

}  // namespace kiln
