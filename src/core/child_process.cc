#include "core/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace kiln {
namespace {

// Closes what it holds when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  auto add = [&vars](const std::string& kv) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv;
  };
  for (char** e = environ; e && *e; ++e) add(*e);
  for (const std::string& kv : extra) add(kv);
  std::vector<std::string> out;
  for (auto& [name, kv] : vars) out.push_back(std::move(kv));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Appends what `fd` has to `out` up to `max`; false at end of file.
bool Drain(int fd, std::string* out, size_t max, bool* truncated) {
  char buf[16384];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t room = out->size() < max ? max - out->size() : 0;
  if (size_t(n) > room) *truncated = true;
  out->append(buf, std::min(size_t(n), room));
  return true;
}

}  // namespace

Result<ChildProcessResult> RunChildProcess(const ChildProcessOptions& options) {
  if (options.argv.empty()) return InvalidArgument("RunChildProcess needs a program");
  const std::string& program = options.argv[0];
  if (::access(program.c_str(), X_OK) != 0) {
    return NotFound("cannot run " + program + ": " + std::strerror(errno));
  }
  Fd in_parent, in_child, out_parent, out_child, err_parent, err_child;
  {
    int sv[2], out[2], err[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return IOError(std::string("socketpair: ") + std::strerror(errno));
    in_parent.fd = sv[0];
    in_child.fd = sv[1];
    if (::pipe2(out, O_CLOEXEC) != 0) return IOError(std::string("pipe: ") + std::strerror(errno));
    out_parent.fd = out[0];
    out_child.fd = out[1];
    if (::pipe2(err, O_CLOEXEC) != 0) return IOError(std::string("pipe: ") + std::strerror(errno));
    err_parent.fd = err[0];
    err_child.fd = err[1];
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_child.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_child.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills whatever it started; and
  // default signal handling, whatever the server blocks (serve blocks
  // SIGINT/SIGTERM for sigwait).
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = MergedEnvironment(options.env);
  std::vector<char*> argv = Pointers(argv_strings), envp = Pointers(env_strings);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::string why = std::string("cannot run ") + program + ": " + std::strerror(rc);
    if (rc == ENOENT || rc == EACCES || rc == ENOEXEC) return NotFound(why);
    return IOError(why);
  }
  in_child.Close();
  out_child.Close();
  err_child.Close();
  for (Fd* f : {&in_parent, &out_parent, &err_parent}) {
    ::fcntl(f->fd, F_SETFL, ::fcntl(f->fd, F_GETFL) | O_NONBLOCK);
  }

  ChildProcessResult result;
  size_t written = 0;
  if (options.stdin_data.empty()) in_parent.Close();
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  while (out_parent.fd >= 0 || err_parent.fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    int in_at = -1, out_at = -1, err_at = -1;
    if (in_parent.fd >= 0) fds[in_at = n++] = {in_parent.fd, POLLOUT, 0};
    if (out_parent.fd >= 0) fds[out_at = n++] = {out_parent.fd, POLLIN, 0};
    if (err_parent.fd >= 0) fds[err_at = n++] = {err_parent.fd, POLLIN, 0};
    int ready = ::poll(fds, nfds_t(n), int(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (in_at >= 0 && fds[in_at].revents) {
      ssize_t w = ::send(in_parent.fd, options.stdin_data.data() + written,
                         options.stdin_data.size() - written, MSG_NOSIGNAL);
      if (w > 0) written += size_t(w);
      // Done, or the child stopped reading (EPIPE): either way, end of input.
      if (written == options.stdin_data.size() || (w < 0 && errno != EAGAIN && errno != EINTR))
        in_parent.Close();
    }
    if (out_at >= 0 && fds[out_at].revents &&
        !Drain(out_parent.fd, &result.out, options.max_output, &result.output_truncated))
      out_parent.Close();
    if (err_at >= 0 && fds[err_at].revents &&
        !Drain(err_parent.fd, &result.err, options.max_output, &result.output_truncated))
      err_parent.Close();
  }
  // A child may close its output and keep running: it still gets only
  // until the deadline.
  int status = 0;
  pid_t done = 0;
  while (!result.timed_out && (done = ::waitpid(pid, &status, WNOHANG)) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    ::usleep(2000);
  }
  if (done != pid) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace kiln
