#include "compute/local_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

struct LocalBackend::Job {
  int64_t rid = 0;
  JobRequest request;
  JobSink* sink = nullptr;
  fs::path events_path;
  int events_fd = -1;
  std::string partial;  // an incomplete last line of the events file
  int pid = 0;
  bool cancel_requested = false;
  std::vector<ProcessId> tree;  // what was alive when cancel was asked
  ~Job() {
    if (events_fd >= 0) ::close(events_fd);
  }
};

namespace {

std::string Num(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
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
  {
    std::lock_guard lock(b->mu_);
    KILN_RETURN_IF_ERROR(b->SpawnZygote());
    KILN_RETURN_IF_ERROR(b->WaitReady());
  }
  b->thread_ = std::thread([p = b.get()] { p->Loop(); });
  return b;
}

LocalBackend::~LocalBackend() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    // EOF on its stdin: the zygote kills every job's group and exits.
    if (to_zygote_ >= 0) ::close(to_zygote_);
    to_zygote_ = -1;
  }
  if (wake_w_ >= 0) (void)!::write(wake_w_, "x", 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (zygote_pid_ > 0) {
    // Give it its few seconds to clean up, then make sure.
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(zygote_pid_, nullptr, WNOHANG) == zygote_pid_) {
        zygote_pid_ = -1;
        break;
      }
      ::usleep(10000);
    }
    if (zygote_pid_ > 0) {
      ::kill(zygote_pid_, SIGKILL);
      ::waitpid(zygote_pid_, nullptr, 0);
    }
  }
  if (from_zygote_ >= 0) ::close(from_zygote_);
  ::close(wake_r_);
  ::close(wake_w_);
}

int LocalBackend::zygote_pid() const {
  std::lock_guard lock(mu_);
  return zygote_pid_;
}

int LocalBackend::zygote_starts() const {
  std::lock_guard lock(mu_);
  return starts_;
}

Status LocalBackend::SpawnZygote() {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return IOError(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls (the server is multi-threaded).
  std::vector<std::string> args = {options_.python,
                                   "-m",
                                   "kiln.zygote",
                                   "--preload",
                                   options_.preload,
                                   "--prefork",
                                   std::to_string(options_.prefork),
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
  to_zygote_ = in[1];
  from_zygote_ = out[0];
  zygote_pid_ = pid;
  read_buf_.clear();
  ++starts_;
  return Status::Ok();
}

Status LocalBackend::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.ready_timeout_s);
  for (;;) {
    size_t nl = read_buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = read_buf_.substr(0, nl);
      read_buf_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == "ready") {
        baseline_vsize_ = VmSizeBytes(zygote_pid_);
        return Status::Ok();
      }
      continue;  // not ours to interpret before ready
    }
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now())
                       .count());
    if (left <= 0) return IOError("the Python worker did not become ready in time");
    pollfd p{from_zygote_, POLLIN, 0};
    int r = ::poll(&p, 1, left);
    if (r < 0 && errno != EINTR) return IOError(std::string("poll: ") + std::strerror(errno));
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(from_zygote_, buf, sizeof buf);
    if (n <= 0) {
      int status = 0;
      ::waitpid(zygote_pid_, &status, 0);
      zygote_pid_ = -1;
      return IOError("the Python worker (" + options_.python +
                     " -m kiln.zygote) exited before it was ready (status " +
                     std::to_string(status) + "); is PYTHONPATH " + options_.python_path.string() +
                     " right?");
    }
    read_buf_.append(buf, size_t(n));
  }
}

Status LocalBackend::SendLocked(const std::string& line) {
  if (to_zygote_ < 0) return IOError("the Python worker is not running");
  std::string data = line + "\n";
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t w = ::write(to_zygote_, p, left);
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
  {
    std::ifstream in(request.bundle / "spec.json");
    auto spec = nlohmann::json::parse(in, nullptr, false);
    if (spec.is_object() && spec.contains("events") && spec["events"].is_string()) {
      events = request.bundle / spec["events"].get<std::string>();
    }
  }
  std::lock_guard lock(mu_);
  if (stop_) return FailedPrecondition("the local backend is shutting down");
  if (to_zygote_ < 0) {
    // A previous zygote died and the restart failed: try again now.
    KILN_RETURN_IF_ERROR(SpawnZygote());
    KILN_RETURN_IF_ERROR(WaitReady());
  }
  auto job = std::make_unique<Job>();
  job->rid = next_rid_++;
  job->request = request;
  job->sink = sink;
  job->events_path = events;

  nlohmann::json env = nlohmann::json::object();
  std::string threads = std::to_string(
      std::max<size_t>(1, std::max(1u, std::thread::hardware_concurrency()) / slots_));
  for (const char* k : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    env[k] = threads;
  }
  for (const auto& [k, v] : request.env) env[k] = v;
  nlohmann::json limits = nlohmann::json::object();
  if (request.limits.timeout_s > 0) limits["timeout_s"] = request.limits.timeout_s;
  if (request.limits.cpu_s > 0) limits["cpu_s"] = request.limits.cpu_s;
  if (request.limits.memory_bytes > 0) {
    limits["memory_bytes"] = request.limits.memory_bytes + baseline_vsize_;
  }
  nlohmann::json req = {{"id", job->rid},   {"op", "run"}, {"bundle", request.bundle.string()},
                        {"limits", limits}, {"env", env},  {"kill_grace_s", options_.kill_grace_s}};
  KILN_RETURN_IF_ERROR(SendLocked(req.dump()));
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
  return SendLocked(req.dump());
}

void LocalBackend::TailLocked(Job& job, std::vector<std::string>* lines) {
  if (job.events_fd < 0) {
    job.events_fd = ::open(job.events_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (job.events_fd < 0) return;  // not created yet
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(job.events_fd, buf, sizeof buf);
    if (n <= 0) break;
    job.partial.append(buf, size_t(n));
  }
  size_t start = 0;
  for (size_t nl; (nl = job.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (nl > start) lines->push_back(job.partial.substr(start, nl - start));
  }
  job.partial.erase(0, start);
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
  std::vector<std::string> lines;
  TailLocked(job, &lines);
  if (!job.partial.empty()) lines.push_back(std::move(job.partial));  // a last line without \n
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
  by_job_id_.erase(id);
  jobs_.erase(it);
  out->push_back([sink, id, lines = std::move(lines), exit]() mutable {
    if (!lines.empty()) sink->OnEvents(id, std::move(lines));
    sink->OnExit(id, exit);
  });
}

void LocalBackend::ZygoteDied(std::vector<std::function<void()>>* out) {
  int status = 0;
  if (zygote_pid_ > 0) ::waitpid(zygote_pid_, &status, 0);
  std::string how = WIFSIGNALED(status)
                        ? "was killed by signal " + std::to_string(WTERMSIG(status))
                        : "exited with status " + std::to_string(WEXITSTATUS(status));
  for (auto& [rid, job] : jobs_) {
    // Its children were reparented; their groups are theirs to lose.
    if (job->pid > 0) {
      KillAll(ProcessTree(job->pid));
      ::killpg(job->pid, SIGKILL);
    }
    std::vector<std::string> lines;
    TailLocked(*job, &lines);
    JobExit exit;
    exit.end = JobExit::End::kLost;
    exit.reason = "the local Python worker (zygote) " + how + " while the job ran";
    JobSink* sink = job->sink;
    std::string id = job->request.job_id;
    out->push_back([sink, id, lines = std::move(lines), exit]() mutable {
      if (!lines.empty()) sink->OnEvents(id, std::move(lines));
      sink->OnExit(id, exit);
    });
  }
  jobs_.clear();
  by_job_id_.clear();
  ::close(from_zygote_);
  from_zygote_ = -1;
  if (to_zygote_ >= 0) ::close(to_zygote_);
  to_zygote_ = -1;
  zygote_pid_ = -1;
  if (stop_) return;
  // A fresh one for the jobs to come; if it fails, Submit tries again.
  if (SpawnZygote().ok() && !WaitReady().ok()) {
    if (zygote_pid_ > 0) {
      ::kill(zygote_pid_, SIGKILL);
      ::waitpid(zygote_pid_, nullptr, 0);
    }
    ::close(to_zygote_);
    ::close(from_zygote_);
    to_zygote_ = from_zygote_ = -1;
    zygote_pid_ = -1;
  }
}

void LocalBackend::Loop() {
  for (;;) {
    std::vector<std::function<void()>> deliveries;
    int fd;
    bool busy;
    {
      std::lock_guard lock(mu_);
      if (stop_ && from_zygote_ < 0) return;
      fd = from_zygote_;
      busy = !jobs_.empty();
    }
    pollfd fds[2] = {{wake_r_, POLLIN, 0}, {fd, POLLIN, 0}};
    int r = ::poll(fds, fd >= 0 ? 2 : 1, busy ? options_.poll_ms : 200);
    if (r < 0 && errno != EINTR) return;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      while (::read(wake_r_, buf, sizeof buf) > 0) {
      }
    }
    {
      std::lock_guard lock(mu_);
      if (fd >= 0 && fd == from_zygote_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        char buf[65536];
        ssize_t n = ::read(from_zygote_, buf, sizeof buf);
        if (n <= 0) {
          if (stop_) {
            // Shutting down: the zygote said bye and closed; jobs are gone.
            ::close(from_zygote_);
            from_zygote_ = -1;
            for (auto& [rid, job] : jobs_) {
              JobExit exit;
              exit.end = JobExit::End::kLost;
              exit.reason = "the local backend shut down";
              JobSink* sink = job->sink;
              std::string id = job->request.job_id;
              deliveries.push_back([sink, id, exit] { sink->OnExit(id, exit); });
            }
            jobs_.clear();
            by_job_id_.clear();
          } else {
            ZygoteDied(&deliveries);
          }
        } else {
          read_buf_.append(buf, size_t(n));
          for (size_t nl; (nl = read_buf_.find('\n')) != std::string::npos;) {
            std::string line = read_buf_.substr(0, nl);
            read_buf_.erase(0, nl + 1);
            HandleLine(line, &deliveries);
          }
        }
      }
      // Stream what running jobs wrote since the last look.
      for (auto& [rid, job] : jobs_) {
        std::vector<std::string> lines;
        TailLocked(*job, &lines);
        if (lines.empty()) continue;
        JobSink* sink = job->sink;
        std::string id = job->request.job_id;
        deliveries.push_back([sink, id, lines = std::move(lines)]() mutable {
          sink->OnEvents(id, std::move(lines));
        });
      }
    }
    for (auto& d : deliveries) d();
  }
}

}  // namespace kiln
