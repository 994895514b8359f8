// PostgresServer: see postgres_server.h. Commands run with fork/exec (no
// shell), their output appended to <folder>/commands.log, which is quoted in
// the error when a step fails.
#include "store/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;

std::string FindBinDir() {
  if (const char* env = std::getenv("KILN_POSTGRES_BIN"); env && *env) return env;
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(entry.path() / "bin" / "initdb")) candidates.push_back(entry.path() / "bin");
  }
  if (!candidates.empty()) {
    // Versions are numbers ("13", "15"): the longest, then largest, name wins.
    std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
      std::string x = a.parent_path().filename(), y = b.parent_path().filename();
      return x.size() != y.size() ? x.size() < y.size() : x < y;
    });
    return candidates.back().string();
  }
  return "";  // rely on $PATH
}

std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? "..." + s.substr(s.size() - max_bytes) : s;
}

// Runs argv, appending its output to `log`; returns the exit status.
Result<int> RunCommand(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("open " + log);
  pid_t pid = fork();
  if (pid < 0) {
    ::close(fd);
    return IOError("fork for " + argv[0]);
  }
  if (pid == 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(fd);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return IOError("waitpid for " + argv[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A port nothing listens on now (the kernel's pick for an ephemeral bind).
Result<int> FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return IOError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(s);
    return IOError("bind an ephemeral port on 127.0.0.1");
  }
  ::close(s);
  return int(ntohs(addr.sin_port));
}

}  // namespace

std::vector<std::string> PostgresServer::Command(const std::string& tool,
                                                 std::vector<std::string> args) const {
  std::vector<std::string> argv;
  if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back(bin_.empty() ? tool : bin_ + "/" + tool);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<int> PostgresServer::StartOn(int port) {
  std::string opts =
      "-p " + std::to_string(port) + " -k " + dir_ + "/sockets" + " -c listen_addresses=127.0.0.1";
  return RunCommand(Command("pg_ctl", {"-D", dir_ + "/data", "-l", dir_ + "/server.log", "-o", opts,
                                       "-w", "-t", "60", "start"}),
                    dir_ + "/commands.log");
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  std::string tmpl = (fs::temp_directory_path() / "kiln-pg-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return IOError("mkdtemp " + tmpl);
  server->dir_ = tmpl;
  server->bin_ = FindBinDir();
  std::string log = server->dir_ + "/commands.log";
  std::string sockets = server->dir_ + "/sockets";
  fs::create_directories(sockets);

  if (geteuid() == 0) {
    // initdb and postgres refuse root: the folder goes to the postgres user.
    passwd* pw = getpwnam("postgres");
    if (!pw)
      return FailedPrecondition(
          "running as root and there is no 'postgres' user to run "
          "PostgreSQL as (apt-get install postgresql creates it)");
    for (const auto& p : {server->dir_, sockets}) {
      if (chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) return IOError("chown " + p);
    }
    // The log is created by us, written by the commands run as postgres.
    std::ofstream(log).close();
    if (chown(log.c_str(), pw->pw_uid, pw->pw_gid) != 0) return IOError("chown " + log);
    server->as_postgres_user_ = true;
  }

  // --no-sync: initdb's own final fsync only; the server keeps fsync on.
  KILN_ASSIGN_OR_RETURN(
      int rc, RunCommand(server->Command("initdb",
                                         {"-D", server->dir_ + "/data", "-U", "postgres",
                                          "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"}),
                         log));
  if (rc != 0) {
    return IOError("initdb (in " + (server->bin_.empty() ? "$PATH" : server->bin_) +
                   ") exited with " + std::to_string(rc) + ":\n" + Tail(log));
  }
  // The port is free when picked, not reserved: another process may take it
  // before the server binds, so try a few.
  for (int attempt = 0; attempt < 5 && !server->running_; ++attempt) {
    KILN_ASSIGN_OR_RETURN(int port, FreePort());
    KILN_ASSIGN_OR_RETURN(rc, server->StartOn(port));
    if (rc == 0) {
      server->port_ = port;
      server->running_ = true;
    }
  }
  if (!server->running_) {
    return IOError("pg_ctl start failed 5 times:\n" + Tail(log) + "\nserver log:\n" +
                   Tail(server->dir_ + "/server.log"));
  }
  return server;
}

Status PostgresServer::CrashAndRestart() {
  // -m immediate: every server process quits at once (SIGQUIT), nothing is
  // flushed or checkpointed; the restart replays the WAL, as after a crash.
  KILN_ASSIGN_OR_RETURN(
      int rc, RunCommand(Command("pg_ctl", {"-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}),
                         dir_ + "/commands.log"));
  if (rc != 0) return IOError("pg_ctl stop -m immediate failed:\n" + Tail(dir_ + "/commands.log"));
  running_ = false;
  KILN_ASSIGN_OR_RETURN(rc, StartOn(port_));
  if (rc != 0) {
    return IOError("pg_ctl start after the crash failed:\n" + Tail(dir_ + "/commands.log") +
                   "\nserver log:\n" + Tail(dir_ + "/server.log"));
  }
  running_ = true;
  return Status::Ok();
}

PostgresServer::~PostgresServer() {
  if (running_) {
    (void)RunCommand(Command("pg_ctl", {"-D", dir_ + "/data", "-m", "fast", "-w", "stop"}),
                     dir_ + "/commands.log");
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::Conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname + " user=postgres";
}

Result<std::string> PostgresServer::CreateDatabase(const std::string& prefix) {
  for (char c : prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return InvalidArgument("database prefix '" + prefix + "' is not [a-z0-9_]");
    }
  }
  std::string name;
  {
    std::lock_guard lock(mu_);
    name = prefix + "_" + std::to_string(++databases_);
  }
  PGconn* conn = PQconnectdb(Conninfo("postgres").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    return IOError("connect to the test server: " + msg);
  }
  PGresult* r = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? Status::Ok()
                 : IOError("CREATE DATABASE " + name + ": " + PQerrorMessage(conn));
  PQclear(r);
  PQfinish(conn);
  KILN_RETURN_IF_ERROR(s);
  return Conninfo(name);
}

Result<PostgresServer*> PostgresServer::Shared() {
  // Started once; the unique_ptr's destructor (at exit) stops it.
  static std::once_flag once;
  static std::unique_ptr<PostgresServer> server;
  static Status status;
  std::call_once(once, [] {
    auto s = Start();
    if (s.ok()) {
      server = std::move(s).value();
    } else {
      status = s.status();
    }
  });
  if (!server) return status;
  return server.get();
}

}  // namespace kiln::testing
