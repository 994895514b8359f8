#include "compute/process_tree.h"

#include <dirent.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace kiln {
namespace {

struct Stat {
  int pid = 0, ppid = 0, pgrp = 0, session = 0;
  char state = '?';
  uint64_t start_time = 0;
};

bool ReadStat(int pid, Stat* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  // The command name may hold spaces and parentheses: parse after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  out->pid = pid;
  rest >> out->state >> out->ppid >> out->pgrp >> out->session;
  std::string skip;
  for (int field = 7; field < 22; ++field) rest >> skip;  // fields 7..21
  rest >> out->start_time;
  return bool(rest);
}

std::vector<Stat> AllProcesses() {
  std::vector<Stat> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    Stat s;
    if (ReadStat(int(pid), &s)) out.push_back(s);
  }
  closedir(d);
  return out;
}

}  // namespace

std::vector<ProcessId> ProcessTree(int root) {
  std::vector<Stat> all = AllProcesses();
  std::multimap<int, const Stat*> children;
  std::map<int, const Stat*> by_pid;
  for (const Stat& s : all) {
    children.emplace(s.ppid, &s);
    by_pid[s.pid] = &s;
  }
  std::vector<ProcessId> out;
  std::map<int, bool> seen;
  std::vector<int> stack{root};
  for (const Stat& s : all) {
    if (s.pid != root && (s.pgrp == root || s.session == root)) stack.push_back(s.pid);
  }
  while (!stack.empty()) {
    int pid = stack.back();
    stack.pop_back();
    if (seen[pid]) continue;
    seen[pid] = true;
    auto it = by_pid.find(pid);
    if (it == by_pid.end() || it->second->state == 'Z') continue;
    out.push_back({pid, it->second->start_time});
    auto [lo, hi] = children.equal_range(pid);
    for (auto c = lo; c != hi; ++c) stack.push_back(c->second->pid);
  }
  return out;
}

bool Alive(const ProcessId& p) {
  Stat s;
  return ReadStat(p.pid, &s) && s.start_time == p.start_time && s.state != 'Z';
}

void KillAll(const std::vector<ProcessId>& processes) {
  for (const ProcessId& p : processes) {
    if (Alive(p)) ::kill(p.pid, SIGKILL);
  }
}

}  // namespace kiln
