// provenance_bench: what provenance costs (issue 13, docs/provenance.md).
//
//   (1) the lineage of an artifact at the end of a 10,000-step derivation
//       chain (each job made one artifact from the previous one), walked up
//       and turned into the API's JSON text, as the route does: goal <= 50 ms;
//   (2) a 100-job DAG run by the local backend with provenance recording on
//       and off, side by side (runs interleaved, forced): goal <= 1 % more
//       time with it on.
//
// Usage: provenance_bench [--chain 10000] [--walks 20] [--width 10] [--depth 10]
//                         [--runs 5] [--slots 2]
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench/dag.h"
#include "compute/local_backend.h"
#include "provenance/lineage.h"
#include "provenance/lineage_json.h"
#include "scheduler/driver.h"
#include "storage/local_artifact_store.h"
#include "store/sqlite_store.h"

namespace kiln::bench {
namespace {

// A chain data → job 1 → a1 → job 2 → a2 … → job n → an, recorded as the
// driver records it (one execution, batches of 1,000 jobs).
Digest RecordChain(RunsStore& runs, long n) {
  ExecutionRecord e;
  e.id = "chain";
  e.project = "lab";
  e.pipeline = "pipe";
  e.user = "bench";
  std::vector<JobRecord> jobs;
  for (long i = 1; i <= n; ++i) {
    JobRecord j;
    j.id = "job-" + std::to_string(i);
    j.execution = e.id;
    j.name = "step " + std::to_string(i);
    j.state = JobState::kSucceeded;
    jobs.push_back(std::move(j));
  }
  Check(runs.CreateExecution(e, jobs), "create the chain's execution");
  Digest data = Digest::Of("data");
  Check(runs.Grant({{"lab", data, "upload", 1, "bench", "data.bin"}}), "grant");
  // Ten operations' code, as a pipeline of a few distinct operations would have.
  std::vector<std::string> snapshots;
  for (int k = 0; k < 10; ++k) {
    snapshots.push_back(nlohmann::json{
        {"name", "Op" + std::to_string(k)},
        {"code", std::string(1500, char('a' + k))},
        {"attributes",
         {{"k", k}}}}.dump());
  }
  Digest previous = data;
  RunsBatch batch;
  for (long i = 1; i <= n; ++i) {
    JobRecord& j = jobs[size_t(i - 1)];
    Digest made = Digest::Of("artifact " + std::to_string(i));
    j.outputs["y"] = {made, "pickle", 100};
    batch.jobs.push_back(j);
    batch.provenance.push_back({made,
                                "y",
                                j.id,
                                e.id,
                                snapshots[size_t(i % 10)],
                                {{"x", previous}},
                                i,
                                "lab",
                                R"({"python":"3.11"})",
                                i,
                                ""});
    batch.grants.push_back({"lab", made, "job", i});
    previous = made;
    if (batch.jobs.size() == 1000) {
      Take(runs.Write(batch), "record the chain");
      batch = RunsBatch();
    }
  }
  if (!batch.empty()) Take(runs.Write(batch), "record the chain");
  return previous;
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  long chain = flags.Int("chain", 10000, "steps of the derivation chain");
  long walks = flags.Int("walks", 20, "lineage walks to time");
  long width = flags.Int("width", 10, "DAG width");
  long depth = flags.Int("depth", 10, "DAG depth");
  long runs_each = flags.Int("runs", 5, "forced DAG runs with recording on, and as many off");
  long slots = flags.Int("slots", 2, "compute slots");
  flags.Finish("provenance_bench: lineage walks and the cost of recording provenance");
  ::setenv("OMP_NUM_THREADS", "1", 1);

  ScratchDir scratch("kiln-provenance-bench", false);
  const std::string dir = scratch.path();
  Table table("provenance_bench");

  // ---- (1) lineage of a long chain.
  {
    const std::string s1 = "(1) lineage, " + std::to_string(chain) + "-step chain";
    auto runs = Take(RunsStore::Open(dir + "/chain.db"), "open runs.db");
    auto t = SteadyClock::now();
    Digest end = RecordChain(*runs, chain);
    table.Add(s1, "recording the chain", MillisSince(t), "ms");
    // The first walk reads every record from runs.db; later ones find the
    // producers the store keeps (RunsStore::FirstProducer).
    {
      auto cold = Take(RunsStore::Open(dir + "/chain.db"), "reopen runs.db");
      auto t0 = SteadyClock::now();
      LineageGraph g = Take(WalkLineage(*cold, {"lab", end, LineageDirection::kUp, chain}), "walk");
      std::string text = LineageToJson(g);
      table.Add(s1, "first walk + JSON (store just opened)", MillisSince(t0), "ms");
    }
    std::vector<double> walk_ms, json_ms, total_ms;
    size_t bytes = 0, jobs = 0;
    for (long w = 0; w < walks; ++w) {
      auto t0 = SteadyClock::now();
      LineageGraph g = Take(WalkLineage(*runs, {"lab", end, LineageDirection::kUp, chain}), "walk");
      double walked = MillisSince(t0);
      std::string text = LineageToJson(g);
      double total = MillisSince(t0);
      walk_ms.push_back(walked);
      json_ms.push_back(total - walked);
      total_ms.push_back(total);
      bytes = text.size();
      jobs = g.jobs.size();
    }
    if (jobs != size_t(chain)) Die("the walk found " + std::to_string(jobs) + " jobs");
    table.AddText(s1, "graph",
                  std::to_string(jobs) + " jobs, " + std::to_string(jobs + 1) + " artifacts, " +
                      std::to_string(bytes / 1024) + " KiB of JSON");
    table.Add(s1, "walk p50", Percentile(walk_ms, 50), "ms");
    table.Add(s1, "JSON text p50", Percentile(json_ms, 50), "ms");
    table.Add(s1, "walk + JSON p50", Percentile(total_ms, 50), "ms", Goal::AtMost(50));
    table.Add(s1, "walk + JSON p90", Percentile(total_ms, 90), "ms");
  }

  // ---- (2) recording on and off, side by side.
  {
    const Dag dag{width, depth};
    const std::string s2 = "(2) recording, " + std::to_string(dag.jobs()) + "-job DAG";
    RuntimeFingerprint runtime = Take(ProbeRuntime(), "probe the Python runtime");
    LocalBackendOptions bo;
    bo.slots = size_t(slots);
    auto backend = Take(LocalBackend::Start(bo), "start the LocalBackend");
    auto store = Take(SqliteStore::Open(dir + "/kiln.db"), "open kiln.db");
    Repository repo(*store, SystemClock::Get());
    auto runs = Take(RunsStore::Open(dir + "/runs.db"), "open runs.db");
    auto artifacts = Take(LocalArtifactStore::Open(dir + "/artifacts"), "open artifacts");
    std::string pipeline = CreateDagProject(repo, "dag", dag);
    // Off, on, and off again: the two offs say how far apart equal runs are.
    std::unique_ptr<Driver> drivers[3];
    for (int on = 0; on < 3; ++on) {
      DriverOptions o;
      o.work_dir = dir + "/work" + std::to_string(on);
      o.runtime = runtime;
      o.env["OMP_NUM_THREADS"] = "1";
      o.record_provenance = on == 1;
      drivers[on] = Take(Driver::Open(repo, *runs, *artifacts, *backend, o), "open driver");
    }
    std::vector<double> ms[3];
    for (long r = 0; r < runs_each + 1; ++r) {
      for (int on = 0; on < 3; ++on) {
        StartRequest req;
        req.project = "dag";
        req.pipeline = pipeline;
        req.user = "bench";
        req.force = true;
        auto t = SteadyClock::now();
        std::string id = Take(drivers[on]->Start(req), "start");
        ExecutionRecord e = Take(drivers[on]->Wait(id, 600000), "wait");
        double took = MillisSince(t);
        if (e.state != ExecutionState::kSucceeded) Die("the DAG failed: " + e.reason);
        if (r > 0) ms[on].push_back(took);  // the first pair warms up
      }
    }
    double off = Percentile(ms[0], 50), on = Percentile(ms[1], 50), off2 = Percentile(ms[2], 50);
    table.Add(s2, "recording off: forced run p50", off, "ms");
    table.Add(s2, "recording on: forced run p50", on, "ms");
    table.Add(s2, "recording off again (noise): p50", off2, "ms");
    table.Add(s2, "off again / off - 1 (noise)", (off2 / off - 1) * 100, "%");
    table.Add(s2, "on / mean(off) - 1", (on / ((off + off2) / 2) - 1) * 100, "%", Goal::AtMost(1));
    for (auto& d : drivers) d.reset();
  }
  table.Print();
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) { return kiln::bench::Main(argc, argv); }
