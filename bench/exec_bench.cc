// exec_bench: the "Run pipelines" figures — Kiln's Driver running real Python
// operations through the LocalBackend's warm zygote, side by side with
// snakemake, cwltool and a bare loop of python3 processes doing the same work.
//
// Kiln is wired as `kiln serve` wires it, in a scratch folder: a durable
// SqliteStore (kiln.db), a RunsStore (runs.db), a LocalArtifactStore, one
// LocalBackend (--slots, default 2) shared by every part, and a Driver.
//
//   (1) A DAG of --width x --depth jobs (default 10 x 10 = 100): layer 0 holds
//       source jobs (y = i); job (l, i) of every later layer takes the outputs
//       of (l-1, i) and (l-1, (i+1) % width) and returns a + b + 1 — chains
//       with a fan-out of 2 and a fan-in of 2 between layers. Timed
//       Driver::Start → Driver::Wait with force=true (nothing cached), median
//       of --kiln-runs. The same DAG as a generated Snakefile run by
//       `snakemake --cores <slots>` in a fresh folder (each rule a
//       `python3 -c` shell step that reads its input files and writes its
//       output file), as a generated CWL workflow (two CommandLineTools doing
//       the same) run by `cwltool --parallel` (the full DAG: ~10 s for 100
//       jobs here; --cwl-width/--cwl-depth run a smaller one and extrapolate
//       per job), and
//       as a bare sequential loop of `/usr/bin/python3 -c` processes (posix_spawn
//       + waitpid, same code and files, no scheduler at all). Wall time, time
//       per job (wall / jobs: the ops are trivial, so this is overhead), and
//       the ratios to Kiln. Goal: Kiln >= 20x faster than snakemake.
//   (2) Dispatch latency, job ready → operation code running: a chain of
//       --chain jobs (default 60), forced, each job ready only when the one
//       before it finished, run --chain-runs times; per job, the Python
//       side's own "running" state event (emitted just before execute()) minus
//       the driver's queued_ms, as tests/execution does. p50/p99 (goal p50 <=
//       10 ms). Also launch → running (started_ms → "running") for the DAG's
//       jobs, where ready jobs wait for a slot.
//   (3) A fully cached re-run of a --big-width x --big-depth DAG (default
//       50 x 20 = 1,000 jobs): one forced run fills the action cache, then
//       --cached-runs runs with force=false, each timed Start → Wait returned
//       (every job must come back `cached`). Goal <= 100 ms.
//   (4) Training: the digits example (examples/digits/project.json, committed
//       on a new project as SeedExamples does for `kiln serve`) run forced in Kiln; the Train
//       job's started_ms → finished_ms (the driver's view: fork, inputs,
//       training, events, outputs stored), vs bench/exec_bench/digits_direct.py,
//       which imports the same operation files and times only Train.execute()
//       in one plain python3 process. OMP_NUM_THREADS = --omp-threads in both:
//       set in this process's environment before the zygote starts (for
//       numpy's BLAS pool, fixed when the zygote imports it) and in every
//       job's env (kiln.job applies it to the preloaded torch).
//       Alternated --train-runs (3) times, best of each. Goal: Kiln within
//       3% of direct.
//
// Run: build-bench/bench/exec_bench [--help]; bench/run --only exec.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/dag.h"
#include "bench/harness.h"
#include "compute/local_backend.h"
#include "core/guid.h"
#include "model/patch.h"
#include "model/repository.h"
#include "pipeline/testing/pipeline_builder.h"
#include "scheduler/driver.h"
#include "storage/local_artifact_store.h"
#include "store/sqlite_store.h"

extern char** environ;

namespace kiln::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
  long width, depth, kiln_runs, chain, chain_runs, big_width, big_depth, cached_runs;
  long cwl_width, cwl_depth, slots, omp_threads, train_runs;
  bool snakemake, cwl, bare, train, keep;
  long light_zygotes, train_epochs;
  std::string source_dir;
};

// ------------------------------------------------------------------ helpers

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs `cmd` with /bin/sh, output to `log`; returns wall ms, or -1 on failure
// (the log's tail goes to stderr).
double Sh(const std::string& cmd, const std::string& log) {
  auto t = SteadyClock::now();
  int rc = std::system((cmd + " >" + Quote(log) + " 2>&1").c_str());
  double ms = MillisSince(t);
  if (rc != 0) {
    Note("command failed (%d): %s", rc, cmd.c_str());
    std::system(("tail -n 20 " + Quote(log) + " >&2").c_str());
    return -1;
  }
  return ms;
}

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string FirstLine(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof buf, p)) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// CPU time (ms) to fork a copy of a light worker (Kiln's modules imported,
// heap frozen) and let it exit at once, parent and child together: what a
// job costs before it does anything, in any design that forks a fresh
// process per job. -1 when it cannot be measured.
double ForkFloorMs(const std::string& python_dir, const std::string& dir) {
  const std::string script = dir + "/fork_floor.py";
  std::ofstream(script) << R"(import gc, os, resource
import kiln, kiln.job, kiln.serializers, kiln.interface, kiln.zygote
gc.collect(); gc.freeze()
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
n = 300
t = cpu()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print((cpu() - t) / n * 1000)
)";
  std::string out =
      FirstLine("PYTHONPATH=" + Quote(python_dir) + " /usr/bin/python3 " + Quote(script));
  try {
    return std::stod(out);
  } catch (...) {
    Note("fork floor: %s", out.c_str());
    return -1;
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) Die("cannot write " + path);
}

// ------------------------------------------------------------------ Kiln

struct Kiln {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Repository> repo;
  std::unique_ptr<RunsStore> runs;
  std::unique_ptr<LocalArtifactStore> artifacts;
  std::unique_ptr<Driver> driver;
};

std::string CreateDagProject(Kiln& k, const std::string& name, const Dag& dag) {
  return CreateDagProject(*k.repo, name, dag);
}

struct RunResult {
  std::string id;
  double ms = 0;  // Start → Wait returned
  ExecutionRecord exec;
  std::vector<JobRecord> jobs;
  size_t Count(JobState s) const {
    size_t n = 0;
    for (const auto& j : jobs) n += j.state == s;
    return n;
  }
};

RunResult RunPipeline(Kiln& k, const std::string& project, const std::string& pipeline, bool force,
                      int timeout_ms = 600000) {
  StartRequest req;
  req.project = project;
  req.pipeline = pipeline;
  req.user = "bench";
  req.force = force;
  RunResult r;
  auto t = SteadyClock::now();
  r.id = Take(k.driver->Start(req), "start " + project);
  r.exec = Take(k.driver->Wait(r.id, timeout_ms), "wait for " + project);
  r.ms = MillisSince(t);
  r.jobs = Take(k.runs->ListJobs(r.id), "list jobs");
  if (r.exec.state != ExecutionState::kSucceeded) {
    for (const auto& j : r.jobs) {
      if (j.state == JobState::kFailed) Note("job %s failed: %s", j.name.c_str(), j.reason.c_str());
    }
    Die("execution of " + project + " did not succeed: " + r.exec.reason);
  }
  return r;
}

// The job's own (Python-side) state events: state name → Unix seconds.
std::map<std::string, double> PythonStates(Kiln& k, const JobRecord& j) {
  std::map<std::string, double> out;
  auto events =
      Take(k.runs->Events(j.id, {.after_seq = 0, .kind = "state", .limit = 100}), "events");
  for (const auto& e : events) {
    auto p = nlohmann::json::parse(e.payload, nullptr, false);
    if (p.is_discarded() || !p.contains("job")) continue;  // the driver's own state events
    std::string s = p.value("state", "");
    if (!s.empty() && !out.count(s)) out[s] = p.contains("time") ? p["time"].get<double>() : e.time;
  }
  return out;
}

// ------------------------------------------------------------------ peers

// A Snakefile of the DAG: one rule for sources, one for steps (wildcards).
std::string Snakefile(const Dag& dag) {
  std::ostringstream s;
  s << "W = " << dag.width << "\nD = " << dag.depth << "\n"
    << "wildcard_constraints:\n    l=\"[0-9]+\",\n    i=\"[0-9]+\"\n\n"
    << "rule all:\n    input: expand(\"out/j{l}_{i}.txt\", l=range(D), i=range(W))\n\n"
    << "rule src:\n    output: \"out/j0_{i}.txt\"\n"
    << "    shell: \"/usr/bin/python3 -c '" << kSrcCode << "' {wildcards.i} > {output}\"\n\n"
    << "def step_inputs(wc):\n    l, i = int(wc.l), int(wc.i)\n"
    << "    return [f\"out/j{l-1}_{i}.txt\", f\"out/j{l-1}_{(i+1) % W}.txt\"]\n\n"
    << "rule step:\n    input: step_inputs\n    output: \"out/j{l}_{i}.txt\"\n"
    << "    wildcard_constraints:\n        l=\"[1-9][0-9]*\"\n"
    << "    shell: \"/usr/bin/python3 -c '" << kStepCode << "' {input} > {output}\"\n";
  return s.str();
}

// CWL (JSON is YAML): two CommandLineTools and a workflow of the DAG.
void WriteCwl(const Dag& dag, const std::string& dir) {
  using nlohmann::json;
  auto tool = [](const char* code, json inputs) {
    return json{{"cwlVersion", "v1.2"},
                {"class", "CommandLineTool"},
                {"baseCommand", json::array({"/usr/bin/python3", "-c", code})},
                {"inputs", inputs},
                {"stdout", "y.txt"},
                {"outputs", {{"y", {{"type", "File"}, {"outputBinding", {{"glob", "y.txt"}}}}}}}};
  };
  WriteFile(
      dir + "/src.cwl",
      tool(kSrcCode, {{"i", {{"type", "int"}, {"inputBinding", {{"position", 1}}}}}}).dump(1));
  WriteFile(dir + "/step.cwl",
            tool(kStepCode, {{"a", {{"type", "File"}, {"inputBinding", {{"position", 1}}}}},
                             {"b", {{"type", "File"}, {"inputBinding", {{"position", 2}}}}}})
                .dump(1));
  json steps = json::object(), outputs = json::object();
  for (long l = 0; l < dag.depth; ++l) {
    for (long i = 0; i < dag.width; ++i) {
      std::string name = Dag::Name(l, i);
      if (l == 0) {
        steps[name] = {{"run", "src.cwl"}, {"in", {{"i", {{"default", i}}}}}, {"out", {"y"}}};
      } else {
        steps[name] = {
            {"run", "step.cwl"},
            {"in",
             {{"a", Dag::Name(l - 1, i) + "/y"}, {"b", Dag::Name(l - 1, dag.Next(i)) + "/y"}}},
            {"out", {"y"}}};
      }
      if (l == dag.depth - 1)
        outputs["o_" + name] = {{"type", "File"}, {"outputSource", name + "/y"}};
    }
  }
  json wf{{"cwlVersion", "v1.2"},
          {"class", "Workflow"},
          {"inputs", json::object()},
          {"outputs", outputs},
          {"steps", steps}};
  WriteFile(dir + "/dag.cwl", wf.dump(1));
  WriteFile(dir + "/job.json", "{}\n");
}

// Runs /usr/bin/python3 -c code args... with stdout to `out`; false on failure.
bool Spawn(const std::vector<std::string>& args, const std::string& out) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The bare loop: every job as its own python3 process, one after the other.
double BareLoop(const Dag& dag, const std::string& dir) {
  fs::create_directories(dir);
  auto file = [&](long l, long i) { return dir + "/" + Dag::Name(l, i) + ".txt"; };
  auto t = SteadyClock::now();
  for (long l = 0; l < dag.depth; ++l) {
    for (long i = 0; i < dag.width; ++i) {
      bool ok = l == 0 ? Spawn({"/usr/bin/python3", "-c", kSrcCode, std::to_string(i)}, file(l, i))
                       : Spawn({"/usr/bin/python3", "-c", kStepCode, file(l - 1, i),
                                file(l - 1, dag.Next(i))},
                               file(l, i));
      if (!ok) Die("bare loop: python3 failed for " + Dag::Name(l, i));
    }
  }
  return MillisSince(t);
}

// The value of the last job of the last layer, computed directly.
long Expected(const Dag& dag, long column) {
  std::vector<long> v(size_t(dag.width));
  for (long i = 0; i < dag.width; ++i) v[size_t(i)] = i;
  for (long l = 1; l < dag.depth; ++l) {
    std::vector<long> n(v.size());
    for (long i = 0; i < dag.width; ++i) n[size_t(i)] = v[size_t(i)] + v[size_t(dag.Next(i))] + 1;
    v.swap(n);
  }
  return v[size_t(column)];
}

bool FileHolds(const std::string& path, long value) {
  std::ifstream in(path);
  long v = 0;
  return bool(in >> v) && v == value;
}

// ------------------------------------------------------------------ digits

struct DirectTrain {
  double train_ms = -1;
  double accuracy = 0;
  int torch_threads = 0;
};

DirectTrain RunDirect(const Options& o, const std::string& dir) {
  std::string log = dir + "/direct.log";
  std::string cmd = "OMP_NUM_THREADS=" + std::to_string(o.omp_threads) +
                    " MKL_NUM_THREADS=" + std::to_string(o.omp_threads) +
                    " OPENBLAS_NUM_THREADS=" + std::to_string(o.omp_threads) +
                    " MPLBACKEND=Agg /usr/bin/python3 " +
                    Quote(o.source_dir + "/bench/exec_bench/digits_direct.py") + " " +
                    Quote(o.source_dir) + " " + std::to_string(o.train_epochs);
  DirectTrain d;
  if (Sh(cmd, log) < 0) return d;
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') last = line;
  }
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (j.is_discarded()) return d;
  d.train_ms = j["train_s"].get<double>() * 1000;
  d.accuracy = j["accuracy"].get<double>();
  d.torch_threads = j["torch_threads"].get<int>();
  return d;
}

// The digits example project, created as SeedExamples (server/serve.h) does
// for `kiln serve`: its project.json patch committed on a new project.
// `epochs` > 0 sets the Train instance's epochs (as a user would in the
// inspector).
void SeedDigits(Kiln& k, const std::string& path, long epochs) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) Die("cannot read " + path);
  std::string json = text.str();
  if (epochs > 0) {
    auto doc = nlohmann::json::parse(json);
    std::set<std::string> trains;  // the definition and the instance are both "Train"
    for (const auto& op : doc["ops"]) {
      if (op.value("op", "") == "create" && op.contains("attrs") &&
          op["attrs"].value("name", "") == "Train") {
        trains.insert(op.value("guid", ""));
      }
    }
    for (auto& op : doc["ops"]) {
      if (trains.contains(op.value("guid", "")) && trains.contains(op.value("base", ""))) {
        op["attrs"]["epochs"] = epochs;
      }
    }
    json = doc.dump();
  }
  Patch patch = Take(ParsePatchJson(json), "parse " + path);
  Digest first = Take(k.repo->CreateProject("digits", patch.message, "bench"), "create digits");
  Take(k.repo->Commit({"digits", "main", "bench", patch.message, first}, patch), "commit digits");
}

// torch's thread count as a Kiln job sees it (printed into its log).
std::string ProbeJobThreads(Kiln& k) {
  PipelineBuilder b("probe");
  b.CreatePipeline();
  std::string def = b.Definition("Probe",
                                 "import os, torch\n"
                                 "class Probe:\n"
                                 "    def execute(self):\n"
                                 "        print('threads', torch.get_num_threads(), "
                                 "os.environ.get('OMP_NUM_THREADS'))\n",
                                 {}, {});
  b.Instance(def, "probe");
  Take(k.repo->CreateProject("probe", "", "bench"), "create probe");
  Take(k.repo->Commit({"probe", "main", "bench", "probe", std::nullopt}, b.Build()),
       "commit probe");
  RunResult r = RunPipeline(k, "probe", b.pipeline(), true);
  auto logs = Take(k.runs->Events(r.jobs.at(0).id, {.after_seq = 0, .kind = "log", .limit = 100}),
                   "probe logs");
  for (const auto& e : logs) {
    auto p = nlohmann::json::parse(e.payload, nullptr, false);
    std::string text = p.is_discarded() ? e.payload : p.value("text", p.value("line", e.payload));
    size_t at = text.find("threads ");
    if (at != std::string::npos) {
      std::string s = text.substr(at + 8);
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      return s;
    }
  }
  return "?";
}

// ------------------------------------------------------------------ main

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  Options o;
  o.width = flags.Int("width", 10, "(1) DAG width: parallel chains");
  o.depth = flags.Int("depth", 10, "(1) DAG depth: layers (jobs = width x depth)");
  o.kiln_runs = flags.Int("kiln-runs", 3, "(1) Kiln runs of the DAG (median reported)");
  o.snakemake = flags.Bool("snakemake", true, "(1) run snakemake (if installed)");
  o.cwl = flags.Bool("cwl", true, "(1) run cwltool (if installed)");
  o.cwl_width = flags.Int("cwl-width", 0, "(1) width of cwltool's DAG (0 = --width)");
  o.cwl_depth = flags.Int("cwl-depth", 0,
                          "(1) depth of cwltool's DAG (0 = --depth; per job "
                          "extrapolated when smaller)");
  o.bare = flags.Bool("bare", true, "(1) run the bare python3 loop");
  o.chain = flags.Int("chain", 60, "(2) jobs in the dispatch-latency chain");
  o.chain_runs = flags.Int("chain-runs", 2, "(2) forced runs of the chain");
  o.big_width = flags.Int("big-width", 50, "(3) width of the cached DAG");
  o.big_depth = flags.Int("big-depth", 20, "(3) depth of the cached DAG");
  o.cached_runs = flags.Int("cached-runs", 5, "(3) fully cached re-runs timed");
  o.train = flags.Bool("train", true, "(4) run the digits training comparison");
  o.train_runs = flags.Int("train-runs", 3, "(4) Kiln and direct runs each, alternated (best)");
  o.train_epochs =
      flags.Int("train-epochs", 0, "(4) epochs of Train in both (0 = the example's own, 15)");
  o.omp_threads = flags.Int("omp-threads", 1, "(4) OMP_NUM_THREADS for Kiln and direct alike");
  o.slots = flags.Int("slots", 2, "LocalBackend slots = snakemake --cores");
  o.light_zygotes =
      flags.Int("light-zygotes", 1,
                "LocalBackend light workers (0: every job forks from a torch-loaded one)");
  o.keep = flags.Bool("keep", false, "keep the scratch folder");
  o.source_dir = flags.Str("source-dir", LocalBackend::DefaultPythonPath().parent_path().string(),
                           "Kiln's source tree (examples/, python/, bench/exec_bench/)");
  flags.Finish(
      "exec_bench: Kiln running pipelines vs snakemake, cwltool and bare python3 "
      "(issue \"Run pipelines\")");

  // Equal thread counts everywhere: the zygote imports torch at start, so its
  // environment decides torch's threads for every job.
  std::string threads = std::to_string(o.omp_threads);
  for (const char* k : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    ::setenv(k, threads.c_str(), 1);
  }
  ::setenv("MPLBACKEND", "Agg", 0);

  ScratchDir scratch("kiln-exec-bench", o.keep);
  const std::string dir = scratch.path();
  const Dag dag{o.width, o.depth};
  Table table("exec_bench: " + std::to_string(dag.jobs()) + "-job DAG (" + std::to_string(o.width) +
              " x " + std::to_string(o.depth) + "), " + std::to_string(o.slots) + " slots");
  table.AddText("setup", "machine",
                std::to_string(std::thread::hardware_concurrency()) + " cpus, load " +
                    FirstLine("cut -d' ' -f1-3 /proc/loadavg"));
  {
    std::vector<double> fs = FsyncProbe(dir, 50);
    table.Add("setup", "disk: 4 KiB write + fdatasync p50", Percentile(fs, 50), "ms");
  }

  // ---- Kiln: stores, backend, driver.
  auto t0 = SteadyClock::now();
  RuntimeFingerprint runtime = Take(ProbeRuntime(), "probe the Python runtime");
  double probe_ms = MillisSince(t0);
  LocalBackendOptions bo;
  bo.slots = size_t(o.slots);
  bo.light_zygotes = int(o.light_zygotes);
  t0 = SteadyClock::now();
  auto backend = Take(LocalBackend::Start(bo), "start the LocalBackend");
  double zygote_ms = MillisSince(t0);
  Kiln k;
  k.store = Take(SqliteStore::Open(dir + "/kiln.db"), "open kiln.db");
  k.repo = std::make_unique<Repository>(*k.store, SystemClock::Get());
  k.runs = Take(RunsStore::Open(dir + "/runs.db"), "open runs.db");
  k.artifacts = Take(LocalArtifactStore::Open(dir + "/artifacts"), "open artifacts");
  DriverOptions dopt;
  dopt.work_dir = dir + "/work";
  dopt.runtime = runtime;
  for (const char* key : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    dopt.env[key] = threads;
  }
  k.driver = Take(Driver::Open(*k.repo, *k.runs, *k.artifacts, *backend, dopt), "open driver");
  table.AddText("setup", "kiln", "SqliteStore + runs.db + LocalArtifactStore in " + dir);
  table.Add("setup", "ProbeRuntime (once per server)", probe_ms, "ms");
  table.Add("setup", "LocalBackend::Start (zygote, torch preloaded)", zygote_ms, "ms");
  Note("kiln: zygote ready in %.0f ms", zygote_ms);

  // ---- (1) the DAG in Kiln.
  const std::string s1 = "(1) " + std::to_string(dag.jobs()) + "-job DAG";
  std::string dag_pipeline = CreateDagProject(k, "dag", dag);
  std::vector<double> kiln_ms;
  std::vector<double> launch_ms;  // started_ms → the job's "running"
  for (long r = 0; r < o.kiln_runs; ++r) {
    RunResult run = RunPipeline(k, "dag", dag_pipeline, true);
    if (run.Count(JobState::kSucceeded) != size_t(dag.jobs())) Die("kiln DAG: not every job ran");
    kiln_ms.push_back(run.ms);
    for (const auto& j : run.jobs) {
      auto st = PythonStates(k, j);
      if (st.count("running")) launch_ms.push_back(st["running"] * 1000 - double(j.started_ms));
    }
    Note("kiln DAG run %ld: %.0f ms", r + 1, run.ms);
  }
  const double kiln_wall = Percentile(kiln_ms, 50);
  const double kiln_per_job = kiln_wall / double(dag.jobs());
  table.Add(s1, "kiln: wall (Start -> Wait, force; median)", kiln_wall, "ms");
  table.Add(s1, "kiln: wall, best of " + std::to_string(o.kiln_runs), Percentile(kiln_ms, 0), "ms");
  table.Add(s1, "kiln: per job", kiln_per_job, "ms");

  double snake_wall = -1, cwl_per_job = -1, bare_wall = -1;
  if (o.snakemake) {
    if (!Executable("/usr/bin/snakemake")) {
      table.AddText(s1, "snakemake", "not installed (apt-get install snakemake)");
    } else {
      std::string sdir = dir + "/snakemake";
      fs::create_directories(sdir);
      WriteFile(sdir + "/Snakefile", Snakefile(dag));
      std::string version = FirstLine("snakemake --version");
      Note("snakemake %s: running %ld jobs with --cores %ld", version.c_str(), dag.jobs(), o.slots);
      snake_wall = Sh("cd " + Quote(sdir) + " && snakemake --cores " + std::to_string(o.slots) +
                          " --quiet --snakefile Snakefile",
                      dir + "/snakemake.log");
      bool right =
          FileHolds(sdir + "/out/" + Dag::Name(dag.depth - 1, 0) + ".txt", Expected(dag, 0));
      if (snake_wall < 0 || !right) {
        table.AddText(s1, "snakemake", "failed (see stderr)");
        snake_wall = -1;
      } else {
        table.AddText(s1, "snakemake: version", version + ", --cores " + std::to_string(o.slots));
        table.Add(s1, "snakemake: wall", snake_wall, "ms");
        table.Add(s1, "snakemake: per job", snake_wall / double(dag.jobs()), "ms");
      }
    }
  }
  if (o.cwl) {
    if (!Executable("/usr/bin/cwltool")) {
      table.AddText(s1, "cwltool", "not installed (apt-get install cwltool)");
    } else {
      const Dag small{o.cwl_width > 0 ? o.cwl_width : o.width,
                      o.cwl_depth > 0 ? o.cwl_depth : o.depth};
      std::string cdir = dir + "/cwl";
      fs::create_directories(cdir + "/out");
      WriteCwl(small, cdir);
      std::string version = FirstLine("cwltool --version");
      Note("cwltool %s: running %ld jobs", version.c_str(), small.jobs());
      double ms = Sh("cd " + Quote(cdir) + " && cwltool --quiet --parallel --outdir out " +
                         "--tmpdir-prefix " + Quote(cdir + "/tmp/") + " dag.cwl job.json",
                     dir + "/cwltool.log");
      if (ms < 0) {
        table.AddText(s1, "cwltool", "failed (see stderr)");
      } else {
        cwl_per_job = ms / double(small.jobs());
        bool same = small.jobs() == dag.jobs();
        table.AddText(s1, "cwltool: version",
                      version + ", --parallel" +
                          (same ? std::string()
                                : ", a " + std::to_string(small.jobs()) + "-job DAG (" +
                                      std::to_string(small.width) + " x " +
                                      std::to_string(small.depth) + "), extrapolated per job"));
        table.Add(s1, "cwltool: wall, " + std::to_string(small.jobs()) + " jobs", ms, "ms");
        table.Add(s1, "cwltool: per job", cwl_per_job, "ms");
        if (!same) {
          table.Add(s1, "cwltool: wall, extrapolated to " + std::to_string(dag.jobs()) + " jobs",
                    cwl_per_job * double(dag.jobs()), "ms");
        }
      }
    }
  }
  if (o.bare) {
    bare_wall = BareLoop(dag, dir + "/bare");
    table.Add(s1, "bare python3 loop: wall (sequential)", bare_wall, "ms");
    table.Add(s1, "bare python3 loop: per job", bare_wall / double(dag.jobs()), "ms");
    Note("bare loop: %.0f ms", bare_wall);
  }
  if (snake_wall > 0) {
    table.Add(s1, "ratio snakemake / kiln", snake_wall / kiln_wall, "x", Goal::AtLeast(20));
  }
  if (double floor = ForkFloorMs(o.source_dir + "/python", dir); floor > 0) {
    // The DAG cannot take less than its jobs' fork + exit spread over the
    // slots (2 slots = 2 cores here, shared with everything else).
    double bound = floor * double(dag.jobs()) / double(o.slots);
    table.Add(s1, "floor: fork + exit of a light worker's copy, CPU per job", floor, "ms");
    table.Add(s1, "floor: the DAG at that CPU per job over the slots", bound, "ms");
    if (snake_wall > 0) {
      table.Add(s1, "ratio snakemake / floor (most a fork-per-job design reaches)",
                snake_wall / bound, "x");
    }
  }
  if (cwl_per_job > 0)
    table.Add(s1, "ratio cwltool / kiln (per job)", cwl_per_job / kiln_per_job, "x");
  if (bare_wall > 0) table.Add(s1, "ratio bare loop / kiln", bare_wall / kiln_wall, "x");

  // ---- (2) dispatch latency on a chain.
  {
    const std::string s2 = "(2) dispatch";
    PipelineBuilder b("chain");
    b.CreatePipeline();
    std::string src = b.Definition("Src", kSrcOp, {}, {"y"}, {{"i", 0}});
    std::string step = b.Definition("Step", kStepOp, {"a", "b"}, {"y"}, {{"i", 0}});
    std::string prev = b.Instance(src, "c0", {{"i", 0}});
    for (long i = 1; i < o.chain; ++i) {
      std::string op = b.Instance(step, "c" + std::to_string(i), {{"i", int64_t(i)}});
      b.Connect(prev, "y", op, "a").Connect(prev, "y", op, "b");
      prev = op;
    }
    Take(k.repo->CreateProject("chain", "", "bench"), "create chain");
    Take(k.repo->Commit({"chain", "main", "bench", "chain", std::nullopt}, b.Build()),
         "commit chain");
    std::vector<double> ready_ms, turn_ms, wall;
    // Where a chain link's time goes (medians): driver, zygote, Python, driver.
    std::vector<double> ph_launch, ph_fork, ph_load, ph_exec, ph_collect;
    for (long r = 0; r < o.chain_runs; ++r) {
      RunResult run = RunPipeline(k, "chain", b.pipeline(), true);
      wall.push_back(run.ms);
      for (const auto& j : run.jobs) {
        auto st = PythonStates(k, j);
        if (st.count("running")) ready_ms.push_back(st["running"] * 1000 - double(j.queued_ms));
        turn_ms.push_back(double(j.finished_ms - j.queued_ms));
        if (st.count("starting") && st.count("running") && st.count("succeeded")) {
          double starting = st["starting"] * 1000, running = st["running"] * 1000,
                 done = st["succeeded"] * 1000;
          ph_launch.push_back(double(j.started_ms - j.queued_ms));
          ph_fork.push_back(starting - double(j.started_ms));
          ph_load.push_back(running - starting);
          ph_exec.push_back(done - running);
          ph_collect.push_back(double(j.finished_ms) - done);
        }
      }
    }
    table.AddText(s2, "sample",
                  std::to_string(ready_ms.size()) + " jobs: a chain of " + std::to_string(o.chain) +
                      ", " + std::to_string(o.chain_runs) + " forced runs");
    table.Add(s2, "ready -> code running p50", Percentile(ready_ms, 50), "ms", Goal::AtMost(10));
    table.Add(s2, "ready -> code running p90", Percentile(ready_ms, 90), "ms");
    table.Add(s2, "ready -> code running p99", Percentile(ready_ms, 99), "ms");
    table.Add(s2, "ready -> finished p50 (one chain link)", Percentile(turn_ms, 50), "ms");
    table.Add(s2, "chain wall / jobs", Mean(wall) / double(o.chain), "ms");
    table.Add(s2, "link p50: queued -> launched (driver)", Percentile(ph_launch, 50), "ms");
    table.Add(s2, "link p50: launched -> job starting (zygote fork)", Percentile(ph_fork, 50),
              "ms");
    table.Add(s2, "link p50: starting -> running (load code, inputs)", Percentile(ph_load, 50),
              "ms");
    table.Add(s2, "link p50: running -> succeeded (execute, save)", Percentile(ph_exec, 50), "ms");
    table.Add(s2, "link p50: succeeded -> finished (exit seen, outputs stored)",
              Percentile(ph_collect, 50), "ms");
    table.Add(s2, "DAG jobs: launched -> code running p50", Percentile(launch_ms, 50), "ms");
    table.Add(s2, "DAG jobs: launched -> code running p99", Percentile(launch_ms, 99), "ms");
    Note("dispatch: p50 %.1f ms p99 %.1f ms (n=%zu)", Percentile(ready_ms, 50),
         Percentile(ready_ms, 99), ready_ms.size());
  }

  // ---- (3) fully cached re-run of a big DAG.
  {
    const Dag big{o.big_width, o.big_depth};
    const std::string s3 = "(3) cached " + std::to_string(big.jobs());
    std::string pipeline = CreateDagProject(k, "big", big);
    Note("filling the cache: %ld jobs", big.jobs());
    RunResult fill = RunPipeline(k, "big", pipeline, true, 1800000);
    table.Add(s3, "fill run (force, every job runs)", fill.ms / 1000, "s");
    table.Add(s3, "fill run per job", fill.ms / double(big.jobs()), "ms");
    std::vector<double> ms, recorded;
    size_t cached = 0;
    for (long r = 0; r < o.cached_runs; ++r) {
      RunResult run = RunPipeline(k, "big", pipeline, false);
      ms.push_back(run.ms);
      recorded.push_back(double(run.exec.finished_ms - run.exec.created_ms));
      cached = run.Count(JobState::kCached);
      if (cached != size_t(big.jobs())) Note("cached re-run: only %zu jobs cached", cached);
    }
    table.AddText(s3, "jobs cached in the re-runs",
                  std::to_string(cached) + " of " + std::to_string(big.jobs()));
    table.Add(s3, "re-run Start -> Wait p50 of " + std::to_string(o.cached_runs),
              Percentile(ms, 50), "ms", Goal::AtMost(100));
    table.Add(s3, "re-run Start -> Wait best", Percentile(ms, 0), "ms");
    table.Add(s3, "re-run created -> finished (runs.db) p50", Percentile(recorded, 50), "ms");
    Note("cached re-run: p50 %.1f ms", Percentile(ms, 50));
  }

  // ---- (4) training the digits model.
  if (o.train) {
    const std::string s4 = "(4) digits Train";
    SeedDigits(k, o.source_dir + "/examples/digits/project.json", o.train_epochs);
    std::string pipeline = DeriveGuid("digits", "pipeline/Digits classifier");
    std::string job_threads = ProbeJobThreads(k);
    std::vector<double> kiln_train, kiln_exec, direct;
    DirectTrain last;
    for (long r = 0; r < o.train_runs; ++r) {
      last = RunDirect(o, dir);
      if (last.train_ms < 0) Die("the direct digits script failed");
      direct.push_back(last.train_ms);
      Note("direct Train: %.0f ms (accuracy %.3f)", last.train_ms, last.accuracy);
      RunResult run = RunPipeline(k, "digits", pipeline, true);
      for (const auto& j : run.jobs) {
        if (j.name != "Train") continue;
        kiln_train.push_back(double(j.finished_ms - j.started_ms));
        auto st = PythonStates(k, j);
        if (st.count("running") && st.count("succeeded")) {
          kiln_exec.push_back((st["succeeded"] - st["running"]) * 1000);
        }
        Note("kiln Train: %.0f ms", double(j.finished_ms - j.started_ms));
      }
    }
    if (kiln_train.empty()) Die("no Train job in the digits pipeline");
    double kt = Percentile(kiln_train, 0), dt = Percentile(direct, 0);
    if (o.train_epochs > 0) table.Add(s4, "epochs (--train-epochs)", double(o.train_epochs), "");
    table.AddText(s4, "threads",
                  "OMP_NUM_THREADS=" + threads + "; torch threads: direct " +
                      std::to_string(last.torch_threads) + ", in a Kiln job " + job_threads +
                      " (torch, env)");
    table.Add(s4, "direct python3: Train.execute, best of " + std::to_string(o.train_runs), dt,
              "ms");
    table.Add(s4, "kiln: Train job started -> finished, best", kt, "ms");
    table.Add(s4, "kiln: Train job's own running -> succeeded, best", Percentile(kiln_exec, 0),
              "ms");
    table.Add(s4, "direct accuracy (last run)", last.accuracy, "");
    table.Add(s4, "kiln / direct - 1", (kt / dt - 1) * 100, "%", Goal::AtMost(3));
  }

  table.Print();
  k.driver.reset();
  backend.reset();
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) { return kiln::bench::Main(argc, argv); }
