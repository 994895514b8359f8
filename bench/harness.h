// A small benchmark harness shared by Kiln's benchmarks: --name=value flags,
// percentiles, a timer, a scratch folder, and a results table that prints each
// figure with its goal and a PASS/MISS label.
//
// Benchmarks report; they never fail on a missed goal (exit code 0), so a
// noisy shared machine cannot break anyone's build. A benchmark that cannot
// run at all (a setup step fails) exits 1 with the reason.
//
// Thread-safety: Table is for one thread; the free functions are reentrant.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace kiln::bench {

using SteadyClock = std::chrono::steady_clock;

inline double MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

// Nearest-rank percentile (p in [0, 100]) of `v`; 0 for an empty sample.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p / 100.0 * double(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

inline double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

// Stops the benchmark: it cannot measure anything meaningful after this.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}
inline void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}
template <typename T>
T Take(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

// Progress lines go to stderr so that stdout holds only the results.
template <typename... Args>
void Note(const char* format, Args... args) {
  std::fprintf(stderr, format, args...);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

// --name=value (or --name for true) flags; anything else is refused.
class Flags {
 public:
  Flags(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "--help" || a == "-h") {
        help_ = true;
        continue;
      }
      if (!a.starts_with("--")) Die("unexpected argument '" + std::string(a) + "'");
      a.remove_prefix(2);
      size_t eq = a.find('=');
      if (eq == std::string_view::npos) {
        values_[std::string(a)] = "true";
      } else {
        values_[std::string(a.substr(0, eq))] = std::string(a.substr(eq + 1));
      }
    }
  }
  long Int(const std::string& name, long fallback, const char* help) {
    Describe(name, std::to_string(fallback), help);
    auto it = Use(name);
    return it ? std::stol(*it) : fallback;
  }
  double Double(const std::string& name, double fallback, const char* help) {
    Describe(name, std::to_string(fallback), help);
    auto it = Use(name);
    return it ? std::stod(*it) : fallback;
  }
  std::string Str(const std::string& name, const std::string& fallback, const char* help) {
    Describe(name, fallback, help);
    auto it = Use(name);
    return it ? *it : fallback;
  }
  bool Bool(const std::string& name, bool fallback, const char* help) {
    Describe(name, fallback ? "true" : "false", help);
    auto it = Use(name);
    return it ? (*it == "true" || *it == "1" || *it == "yes") : fallback;
  }
  // Call after reading every flag: prints the help or refuses unknown flags.
  void Finish(const char* what) {
    if (help_) {
      std::printf("%s\n\nflags:\n%s", what, usage_.c_str());
      std::exit(0);
    }
    for (const auto& [name, value] : values_) {
      if (!used_.count(name)) Die("unknown flag --" + name + " (see --help)");
    }
  }

 private:
  std::optional<std::string> Use(const std::string& name) {
    used_[name] = true;
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void Describe(const std::string& name, const std::string& fallback, const char* help) {
    usage_ += "  --" + name + "=" + fallback + "\n      " + help + "\n";
  }
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
  std::string usage_;
  bool help_ = false;
};

// A goal for one figure: at most or at least `limit`.
struct Goal {
  enum Kind { kNone, kAtMost, kAtLeast } kind = kNone;
  double limit = 0;
  static Goal None() { return {}; }
  static Goal AtMost(double v) { return {kAtMost, v}; }
  static Goal AtLeast(double v) { return {kAtLeast, v}; }
};

// The results, printed as one aligned table at the end.
class Table {
 public:
  explicit Table(std::string title) : title_(std::move(title)) {}

  void Add(const std::string& section, const std::string& metric, double value,
           const std::string& unit, Goal goal = Goal::None()) {
    Row r{section, metric, Format(value) + (unit.empty() ? "" : " " + unit), "", "", false};
    if (goal.kind != Goal::kNone) {
      r.goal = (goal.kind == Goal::kAtMost ? "<= " : ">= ") + Format(goal.limit) + " " + unit;
      bool pass = goal.kind == Goal::kAtMost ? value <= goal.limit : value >= goal.limit;
      r.status = pass ? "PASS" : "MISS";
    }
    rows_.push_back(std::move(r));
  }
  // A row whose value is text (a description, a count with words).
  void AddText(const std::string& section, const std::string& metric, const std::string& text) {
    rows_.push_back(Row{section, metric, text, "", "", true});
  }
  void Print() const {
    size_t w[4] = {7, 6, 5, 4};
    for (const Row& r : rows_) {
      w[0] = std::max(w[0], r.section.size());
      w[1] = std::max(w[1], r.metric.size());
      if (r.text) continue;  // text spans the value and goal columns
      w[2] = std::max(w[2], r.value.size());
      w[3] = std::max(w[3], r.goal.size());
    }
    std::printf("\n== %s ==\n", title_.c_str());
    std::printf("%-*s  %-*s  %*s  %-*s  %s\n", int(w[0]), "section", int(w[1]), "metric", int(w[2]),
                "value", int(w[3]), "goal", "");
    for (const Row& r : rows_) {
      if (r.text) {
        std::printf("%-*s  %-*s  %s\n", int(w[0]), r.section.c_str(), int(w[1]), r.metric.c_str(),
                    r.value.c_str());
        continue;
      }
      std::printf("%-*s  %-*s  %*s  %-*s  %s\n", int(w[0]), r.section.c_str(), int(w[1]),
                  r.metric.c_str(), int(w[2]), r.value.c_str(), int(w[3]), r.goal.c_str(),
                  r.status.c_str());
    }
    std::fflush(stdout);
  }

  static std::string Format(double v) {
    char buf[64];
    double a = v < 0 ? -v : v;
    if (a == 0) return "0";
    if (a >= 1000) {
      std::snprintf(buf, sizeof buf, "%.0f", v);
    } else if (a >= 100) {
      std::snprintf(buf, sizeof buf, "%.1f", v);
    } else if (a >= 1) {
      std::snprintf(buf, sizeof buf, "%.2f", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.3f", v);
    }
    return buf;
  }

 private:
  struct Row {
    std::string section, metric, value, goal, status;
    bool text;
  };
  std::string title_;
  std::vector<Row> rows_;
};

// The disk's own durability cost: 4 KiB write + fdatasync, `n` times, in ms.
// It is the floor under any durable commit (SQLite in WAL mode with
// synchronous=FULL syncs the WAL once per transaction); on a shared VM it
// swings widely between runs, so benchmarks print it beside their figures.
inline std::vector<double> FsyncProbe(const std::string& dir, int n = 100) {
  std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die("cannot create " + path);
  std::string block(4096, 'x');
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    if (::pwrite(fd, block.data(), block.size(), off_t(i % 16) * 4096) < 0) Die("pwrite");
    auto t = SteadyClock::now();
    if (::fdatasync(fd) != 0) Die("fdatasync");
    ms.push_back(MillisSince(t));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return ms;
}

// A fresh folder under `parent` (default: $TMPDIR, else /tmp), removed on
// destruction unless kept.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix, bool keep = false, std::string parent = "")
      : keep_(keep) {
    const char* tmp = std::getenv("TMPDIR");
    if (parent.empty()) parent = tmp && *tmp ? tmp : "/tmp";
    std::string pattern = parent + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) Die("cannot create a scratch folder from " + pattern);
    path_ = buf.data();
  }
  ~ScratchDir() {
    if (keep_) {
      Note("kept %s", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool keep_;
};

}  // namespace kiln::bench
