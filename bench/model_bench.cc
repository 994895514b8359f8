// model_bench: the "Foundation" figures of Kiln's versioning engine, side by
// side with git doing the same work on a comparable repository.
//
// Kiln (a generated project of --nodes nodes, default 100k, in a durable
// SqliteStore — WAL, synchronous=FULL — in a scratch folder):
//   (a) single-edit commit latency: set_attr on a random port (the deepest
//       kind of node: root/folder/folder/folder/pipeline/operation/port),
//       committed with Repository::CommitOnTree on a Tree kept in memory at
//       the branch head, as the server's Hub does; p50/p99 over --commits;
//   (b) sustained durable commits/s with --writers threads, each on its own
//       branch of the same project with its own Tree, for --seconds; plus the
//       store's group-commit factor (SqliteStore writes()/transactions());
//   (c) full checkout: Tree::Load of the root from a new SqliteStore handle
//       (new connections, empty caches; the OS page cache stays warm), p50
//       over --checkouts runs;
//   (d) history: a chain of --history commits (each a real one-attribute
//       edit, written in large batches to save setup time), then
//       Repository::Log(first_parent, limit = --history) from a fresh store
//       handle and Repository.
// PostgreSQL (unless --postgres=false): (a) and (b) again, the same code, on
// a PostgresStore in a throwaway server the run starts itself (PostgresServer
// from kiln_postgres_testing: initdb in /tmp, loopback TCP, fsync and
// synchronous_commit on), with the same generated project. The two stores
// take turns in --rounds rounds (SQLite's share of (a), PostgreSQL's, ...;
// the same for (b)), so both see the same disk, whose fsync latency swings
// widely from minute to minute here. The table shows PostgreSQL's figures as
// section (e) and PostgreSQL / SQLite ratios (> 1: PostgreSQL slower for
// latencies, faster for commits/s). Without PostgreSQL installed, the table
// says why and the rest runs.
// git (unless --git=false; default configuration, gc.auto=0), in a folder on
// tmpfs (--git-parent, default /dev/shm): on this VM's disk, creating 100k
// small files takes ~50 s and deleting them ~200 s, which would measure the
// filesystem rather than git, and git on tmpfs pays no fsync — both favour
// git, so the ratios below are conservative for Kiln:
//   a repository of the same number of files in a fanout-50 hierarchy
//   (d00/d00/f000.txt ... 50 x 50 x 40), built with `git fast-import`
//   together with a --history commit chain on top, so setup stays bounded;
//   then per-commit wall time of `git add <file> && git commit -q -m x`
//   (p50 over --git-commits), `git log --oneline | wc -l` over the chain,
//   and checkout of all files with `git worktree add` (files written) and
//   `git read-tree` (index only, no files: the closer analogue of loading a
//   tree into memory).
// The table ends with Kiln-vs-git ratios. Goals (issue "Foundation"): p50
// single commit <= 2 ms, >= 5,000 durable commits/s with 4 writers, full
// checkout of 100k nodes <= 200 ms, >= 20x faster per commit than git.
//
// Run: build-bench/bench/model_bench [--help]; bench/run runs it with the rest.
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "core/clock.h"
#include "model/commit.h"
#include "model/repository.h"
#include "model/testing/generate.h"
#include "model/tree.h"
#include "store/memory_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store/testing/postgres_server.h"

namespace kiln::bench {
namespace {

constexpr const char* kProject = "big";

struct Options {
  long nodes, commits, writers, rounds, checkouts, history, git_commits, git_checkouts;
  double seconds;
  bool git, keep, memory_baseline, postgres;
  std::string git_parent;
};

std::unique_ptr<SqliteStore> OpenStore(const std::string& path) {
  return Take(SqliteStore::Open(path), "open " + path);
}

// One set_attr on `node`; the value changes with `i` so every commit differs.
Patch EditPatch(const std::string& node, long i) {
  Patch p;
  p.ops.push_back(PatchOp::SetAttr(node, "note", "edit " + std::to_string(i)));
  return p;
}

// The guids of the ports of every operation instance: the deepest nodes.
std::vector<std::string> DeepNodes(const Tree& tree, const GeneratedProject& g) {
  std::vector<std::string> out;
  out.reserve(g.operations.size());
  for (const std::string& op : g.operations) {
    auto node = tree.Find(op);
    if (node && node->child_count() > 0) out.emplace_back(node->child(0).guid());
  }
  if (out.empty()) Die("the generated project has no ports");
  return out;
}

// The same single-edit commits on a MemoryStore: the CPU part of a commit
// (patch, encoding, hashing, repository bookkeeping) without any I/O.
std::vector<double> MemoryCommits(const GeneratedProject& g, const std::vector<std::string>& deep,
                                  long commits) {
  MemoryStore store;
  Repository repo(store, SystemClock::Get());
  Take(repo.CreateProject(kProject, "", "bench"), "create project");
  CommitRequest req{kProject, "main", "bench", "generate", std::nullopt};
  Digest head = Take(repo.Commit(req, g.patch), "commit the generated project");
  Tree tree = Take(repo.LoadTree(head), "load tree")->Clone();
  std::mt19937_64 rng(43);
  std::vector<double> ms;
  req.message = "edit";
  for (long i = 0; i < commits + 20; ++i) {
    Patch p = EditPatch(deep[std::uniform_int_distribution<size_t>(0, deep.size() - 1)(rng)], i);
    req.expected_head = head;
    auto t = SteadyClock::now();
    head = Take(repo.CommitOnTree(req, tree, p), "commit");
    if (i >= 20) ms.push_back(MillisSince(t));
  }
  return ms;
}

// ------------------------------------------------------------------ workloads
// (a) and (b) are written against Repository, so the same code runs on the
// SqliteStore and on the PostgresStore.

// A random deep node; each caller passes its own generator.
using Picker = std::function<std::string(std::mt19937_64&)>;

// (a): `commits` single-edit commits, one at a time, on `tree` at `head`
// (both advance), after 20 warm-up commits. Returns each commit's ms.
std::vector<double> SingleCommits(Repository& repo, Tree& tree, Digest& head, const Picker& pick,
                                  std::mt19937_64& rng, long commits) {
  std::vector<double> ms;
  ms.reserve(size_t(commits));
  CommitRequest req{kProject, "main", "bench", "edit", std::nullopt};
  const long warmup = 20;
  for (long i = 0; i < commits + warmup; ++i) {
    Patch p = EditPatch(pick(rng), i);
    req.expected_head = head;
    auto t = SteadyClock::now();
    head = Take(repo.CommitOnTree(req, tree, p), "commit");
    if (i >= warmup) ms.push_back(MillisSince(t));
  }
  return ms;
}

struct ConcurrentRun {
  long commits = 0;
  double seconds = 0;
  std::vector<double> ms;  // every commit's latency, all writers
};

// (b): `writers` threads, each on its own new branch (named `prefix`N) from
// `head` with its own copy of `tree`, commit as fast as they can for
// `seconds`.
ConcurrentRun ConcurrentCommits(Repository& repo, const Tree& tree, const Digest& head,
                                const Picker& pick, long writers, double seconds,
                                const std::string& prefix) {
  struct Writer {
    std::string branch;
    Tree tree;
    Digest head;
    long commits = 0;
    std::vector<double> ms;
  };
  std::vector<std::unique_ptr<Writer>> ws;
  for (long w = 0; w < writers; ++w) {
    std::string branch = prefix + std::to_string(w);
    Check(repo.CreateBranch(kProject, branch, head), "create branch " + branch);
    ws.push_back(std::make_unique<Writer>(Writer{branch, tree.Clone(), head, 0, {}}));
  }
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::thread> threads;
  for (long w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      Writer& me = *ws[size_t(w)];
      std::mt19937_64 r(1000 + uint64_t(w));
      CommitRequest wr{kProject, me.branch, "bench", "edit", std::nullopt};
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        Patch p = EditPatch(pick(r), me.commits);
        wr.expected_head = me.head;
        auto t = SteadyClock::now();
        me.head = Take(repo.CommitOnTree(wr, me.tree, p), "commit on " + me.branch);
        me.ms.push_back(MillisSince(t));
        ++me.commits;
      }
    });
  }
  auto t0 = SteadyClock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  ConcurrentRun run;
  run.seconds = MillisSince(t0) / 1000;
  for (auto& w : ws) {
    run.commits += w->commits;
    run.ms.insert(run.ms.end(), w->ms.begin(), w->ms.end());
  }
  return run;
}

// Adds `more` (another round) to `all`.
void Append(ConcurrentRun& all, const ConcurrentRun& more) {
  all.commits += more.commits;
  all.seconds += more.seconds;
  all.ms.insert(all.ms.end(), more.ms.begin(), more.ms.end());
}

// The share of `total` that round `r` of `rounds` gets (the last one takes the rest).
long RoundShare(long total, long rounds, long r) {
  return r + 1 < rounds ? total / rounds : total - (total / rounds) * (rounds - 1);
}

// What (a) and (b) measured on one store, for the PostgreSQL / SQLite ratios.
struct CommitFigures {
  double p50 = 0, p99 = 0, mean = 0;            // (a)
  double rate = 0, load_p50 = 0, load_p99 = 0;  // (b)
};

// The rows of (a) into `section`; `prefix` names the store on PostgreSQL's.
void AddSingleRows(Table& table, const std::string& section, const std::string& prefix, long rounds,
                   const std::vector<double>& ms, CommitFigures& f) {
  f.p50 = Percentile(ms, 50);
  f.p99 = Percentile(ms, 99);
  f.mean = Mean(ms);
  table.AddText(section, prefix + "commits measured",
                std::to_string(ms.size()) + " (after 20 warm-up" +
                    (rounds > 1 ? " in each of " + std::to_string(rounds) + " rounds)" : ")"));
  table.Add(section, prefix + "latency p50", f.p50, "ms", Goal::AtMost(2.0));
  table.Add(section, prefix + "latency p99", f.p99, "ms");
  table.Add(section, prefix + "latency mean", f.mean, "ms");
  table.Add(section, prefix + "one writer, commits/s", 1000.0 / f.mean, "/s");
}

void AddConcurrentRows(Table& table, const std::string& section, const std::string& prefix,
                       const ConcurrentRun& run, CommitFigures& f) {
  f.rate = double(run.commits) / run.seconds;
  f.load_p50 = Percentile(run.ms, 50);
  f.load_p99 = Percentile(run.ms, 99);
  table.Add(section, prefix + "durable commits/s", f.rate, "/s", Goal::AtLeast(5000));
  table.Add(section, prefix + "commits in run", double(run.commits), "");
  table.Add(section, prefix + "run length", run.seconds, "s");
  table.Add(section, prefix + "latency p50 under load", f.load_p50, "ms");
  table.Add(section, prefix + "latency p99 under load", f.load_p99, "ms");
}

// ------------------------------------------------------------------ Kiln

struct KilnFigures {
  double commit_p50 = 0, commit_p99 = 0;
  CommitFigures commits;
  double checkout_p50 = 0;
  double log_p50 = 0;
  long rounds = 1;  // (a) and (b) alternate with PostgreSQL's in this many rounds
};

// ------------------------------------------------------------------ PostgreSQL

// The PostgreSQL side of (a) and (b): a PostgresStore in a throwaway server
// that this run starts (kiln_postgres_testing: initdb + pg_ctl in /tmp,
// loopback TCP, fsync and synchronous_commit on, so a commit waits for the
// server's WAL flush as SQLite's waits for its own), holding the same
// generated project (same seed, same nodes). RunKiln alternates its (a) and
// (b) with SQLite's in rounds, so both stores see the same disk: this VM's
// fsync latency swings by 30x from one minute to the next.
struct PostgresSide {
  // PostgresServer::Shared(): stopped when the process exits, also through
  // Die() (std::exit runs static destructors), so no server is left behind.
  testing::PostgresServer* server = nullptr;
  std::unique_ptr<PostgresStore> store;
  std::unique_ptr<Repository> repo;
  std::optional<Tree> tree;
  Digest head;
  std::vector<std::string> deep;
  std::mt19937_64 rng{42};  // the same sequence of nodes as SQLite's (a)
  double start_ms = 0, setup_ms = 0;
  // Filled by RunKiln.
  std::vector<double> single_ms;
  ConcurrentRun concurrent;

  std::string Pick(std::mt19937_64& r) const {
    return deep[std::uniform_int_distribution<size_t>(0, deep.size() - 1)(r)];
  }
};

// Starts the server and commits the generated project into it. Returns null
// when no server can be started here (no PostgreSQL installed), with the
// reason in `why`; the benchmark then runs without it.
std::unique_ptr<PostgresSide> StartPostgres(const Options& o, std::string* why) {
  auto pg = std::make_unique<PostgresSide>();
  auto t = SteadyClock::now();
  auto server = testing::PostgresServer::Shared();
  if (!server.ok()) {
    *why = "no PostgreSQL server: " + server.status().ToString();
    Note("postgres: not run: %s", why->c_str());
    return nullptr;
  }
  pg->server = *server;
  pg->start_ms = MillisSince(t);
  std::string conninfo = Take(pg->server->CreateDatabase("model_bench"), "create database");
  PostgresStore::Options options;
  options.max_connections = int(std::max<long>(8, o.writers + 1));
  pg->store = Take(PostgresStore::Open(conninfo, options), "open PostgresStore");
  pg->repo = std::make_unique<Repository>(*pg->store, SystemClock::Get());

  t = SteadyClock::now();
  Take(pg->repo->CreateProject(kProject, "model_bench", "bench"), "create project");
  GeneratedProject g = GenerateProjectPatch({.nodes = size_t(o.nodes)});
  CommitRequest req{kProject, "main", "bench", "generate", std::nullopt};
  pg->head = Take(pg->repo->Commit(req, g.patch), "commit the generated project");
  pg->setup_ms = MillisSince(t);
  pg->tree.emplace(Take(pg->repo->LoadTree(pg->head), "load tree")->Clone());
  pg->deep = DeepNodes(*pg->tree, g);
  Note("postgres: server started in %.0f ms; %zu nodes committed in %.0f ms", pg->start_ms,
       pg->tree->size(), pg->setup_ms);
  return pg;
}

// PostgreSQL's rows (section (e)) and the PostgreSQL / SQLite ratios.
void AddPostgresRows(const Options& o, const PostgresSide& pg, const KilnFigures& k, Table& table) {
  const std::string s = "(e) PostgreSQL";
  table.AddText(s, "store",
                std::to_string(pg.tree->size()) +
                    " nodes, PostgresStore, server on loopback TCP (port " +
                    std::to_string(pg.server->port()) + "), started by this run");
  table.AddText(
      s, "how",
      "(a) and (b) in " + std::to_string(k.rounds) + " rounds, alternating with SQLite's");
  table.Add(s, "server start (initdb + pg_ctl)", pg.start_ms, "ms");
  table.Add(s, "generate + first commit", pg.setup_ms, "ms");
  CommitFigures p;
  AddSingleRows(table, s, "(a) ", k.rounds, pg.single_ms, p);
  AddConcurrentRows(table, s, "(b) " + std::to_string(o.writers) + " writers, ", pg.concurrent, p);
  Note("postgres (a): p50 %.3f ms p99 %.3f ms; (b) %.0f commits/s", p.p50, p.p99, p.rate);

  const CommitFigures& q = k.commits;
  const std::string r = "PostgreSQL / SQLite";
  table.Add(r, "(a) latency p50", p.p50 / q.p50, "x");
  table.Add(r, "(a) latency p99", p.p99 / q.p99, "x");
  table.Add(r, "(a) one writer, commits/s", q.mean / p.mean, "x");
  table.Add(r, "(b) durable commits/s", p.rate / q.rate, "x");
  table.Add(r, "(b) latency p50 under load", p.load_p50 / q.load_p50, "x");
  table.Add(r, "(b) latency p99 under load", p.load_p99 / q.load_p99, "x");
}

// `pg`, when not null, gets its (a) and (b) run here, alternating with SQLite's.
KilnFigures RunKiln(const Options& o, const std::string& dir, PostgresSide* pg, Table& table) {
  KilnFigures f;
  f.rounds = pg ? std::max<long>(1, o.rounds) : 1;
  const std::string db = dir + "/kiln.db";
  auto store = OpenStore(db);
  Repository repo(*store, SystemClock::Get());

  // ---- setup: the generated project, committed once.
  auto start = SteadyClock::now();
  Take(repo.CreateProject(kProject, "model_bench", "bench"), "create project");
  GeneratedProject g = GenerateProjectPatch({.nodes = size_t(o.nodes)});
  CommitRequest req{kProject, "main", "bench", "generate", std::nullopt};
  Digest head = Take(repo.Commit(req, g.patch), "commit the generated project");
  double setup_ms = MillisSince(start);
  auto cached = Take(repo.LoadTree(head), "load tree");
  Tree tree = cached->Clone();  // the caller's own, as the Hub keeps one
  cached.reset();
  const size_t nodes = tree.size();
  std::vector<std::string> deep = DeepNodes(tree, g);
  Note("kiln: %zu nodes generated and committed in %.0f ms", nodes, setup_ms);
  table.AddText("setup", "kiln project", std::to_string(nodes) + " nodes, SqliteStore (durable)");
  table.Add("setup", "kiln generate + first commit", setup_ms, "ms");
  {
    std::vector<double> fs = FsyncProbe(dir);
    table.Add("setup", "disk: 4 KiB write + fdatasync p50", Percentile(fs, 50), "ms");
    table.Add("setup", "disk: 4 KiB write + fdatasync p99", Percentile(fs, 99), "ms");
    Note("disk fdatasync p50 %.2f ms", Percentile(fs, 50));
  }

  std::mt19937_64 rng(42);
  Picker pick = [&](std::mt19937_64& r) {
    return deep[std::uniform_int_distribution<size_t>(0, deep.size() - 1)(r)];
  };

  // ---- (a) single-edit commit latency.
  {
    std::vector<double> ms;
    for (long r = 0; r < f.rounds; ++r) {
      long n = RoundShare(o.commits, f.rounds, r);
      std::vector<double> more = SingleCommits(repo, tree, head, pick, rng, n);
      ms.insert(ms.end(), more.begin(), more.end());
      if (pg) {
        Picker pg_pick = [pg](std::mt19937_64& g) { return pg->Pick(g); };
        more = SingleCommits(*pg->repo, *pg->tree, pg->head, pg_pick, pg->rng, n);
        pg->single_ms.insert(pg->single_ms.end(), more.begin(), more.end());
      }
    }
    std::string s = "(a) single commit";
    AddSingleRows(table, s, "", f.rounds, ms, f.commits);
    f.commit_p50 = f.commits.p50;
    f.commit_p99 = f.commits.p99;
    Note("kiln (a): p50 %.3f ms p99 %.3f ms", f.commit_p50, f.commit_p99);
    if (o.memory_baseline) {
      std::vector<double> mem = MemoryCommits(g, deep, o.commits);
      table.Add(s, "latency p50, MemoryStore (CPU only)", Percentile(mem, 50), "ms");
      table.Add(s, "latency p99, MemoryStore (CPU only)", Percentile(mem, 99), "ms");
      Note("kiln (a) MemoryStore: p50 %.3f ms", Percentile(mem, 50));
    }
  }

  // ---- (b) sustained durable commits/s, concurrent writers on own branches.
  {
    uint64_t writes = 0, tx = 0;
    ConcurrentRun run;
    const double seconds = o.seconds / double(f.rounds);
    for (long r = 0; r < f.rounds; ++r) {
      const std::string prefix = "writer-" + std::to_string(r) + "-";
      uint64_t writes0 = store->writes(), tx0 = store->transactions();
      Append(run, ConcurrentCommits(repo, tree, head, pick, o.writers, seconds, prefix));
      writes += store->writes() - writes0;
      tx += store->transactions() - tx0;
      if (pg) {
        Picker pg_pick = [pg](std::mt19937_64& g) { return pg->Pick(g); };
        Append(pg->concurrent, ConcurrentCommits(*pg->repo, *pg->tree, pg->head, pg_pick, o.writers,
                                                 seconds, prefix));
      }
    }
    std::string s = "(b) " + std::to_string(o.writers) + " writers";
    table.AddText(s, "layout", "one branch each, same project, own Tree each");
    AddConcurrentRows(table, s, "", run, f.commits);
    table.Add(s, "store writes / transactions", tx ? double(writes) / double(tx) : 0, "x");
    Note("kiln (b): %.0f commits/s, group factor %.2f", f.commits.rate,
         tx ? double(writes) / double(tx) : 0.0);
  }

  // ---- (c) full checkout from a new store handle.
  {
    CommitObject c = Take(repo.ReadCommit(head), "read head commit");
    std::vector<double> ms;
    for (long i = 0; i < o.checkouts; ++i) {
      auto fresh = OpenStore(db);
      auto t = SteadyClock::now();
      Tree loaded = Take(Tree::Load(*fresh, c.root), "checkout");
      ms.push_back(MillisSince(t));
      if (loaded.size() != nodes) Die("checkout loaded a tree of another size");
    }
    f.checkout_p50 = Percentile(ms, 50);
    std::string s = "(c) checkout";
    table.AddText(s, "how", "Tree::Load of the root, new SqliteStore handle, page cache warm");
    table.Add(s, "full checkout p50", f.checkout_p50, "ms", Goal::AtMost(200));
    table.Add(s, "full checkout min", Percentile(ms, 0), "ms");
    table.Add(s, "full checkout max", Percentile(ms, 100), "ms");
    Note("kiln (c): checkout p50 %.1f ms", f.checkout_p50);
  }

  // ---- (d) history of --history commits.
  {
    // Each commit of the chain is a real one-attribute edit (new path to the
    // root, new commit object), written 500 commits per store write: the
    // chain is the same as one built commit by commit, without 10k fsyncs.
    auto t = SteadyClock::now();
    const std::string ref = "projects/" + std::string(kProject) + "/heads/history";
    Check(repo.CreateBranch(kProject, "history", head), "create branch history");
    Digest parent = head, flushed = head;
    int64_t time_ms = SystemClock::Get().NowMillis();
    WriteBatch batch;
    for (long i = 0; i < o.history; ++i) {
      Check(tree.Apply(EditPatch(pick(rng), i)), "apply");
      Digest root = Take(tree.Write(&batch), "write tree");
      parent = batch.Put(EncodeCommit({root, {parent}, "bench", "history", time_ms + i}));
      if ((i + 1) % 500 == 0 || i + 1 == o.history) {
        batch.UpdateRef({ref, flushed, parent});
        Check(store->Write(batch), "write history");
        batch = WriteBatch();
        flushed = parent;
      }
    }
    double build_ms = MillisSince(t);
    std::vector<double> ms;
    size_t got = 0;
    for (int run = 0; run < 3; ++run) {
      auto fresh = OpenStore(db);
      Repository fresh_repo(*fresh, SystemClock::Get());
      auto t1 = SteadyClock::now();
      auto log =
          Take(fresh_repo.Log(parent, {.first_parent = true, .limit = size_t(o.history)}), "log");
      ms.push_back(MillisSince(t1));
      got = log.size();
    }
    f.log_p50 = Percentile(ms, 50);
    double all_ms;
    {
      auto fresh = OpenStore(db);
      Repository fresh_repo(*fresh, SystemClock::Get());
      auto t1 = SteadyClock::now();
      Take(fresh_repo.Log(parent, {.first_parent = false, .limit = size_t(o.history)}), "log");
      all_ms = MillisSince(t1);
    }
    std::string s = "(d) history";
    table.Add(s, "build chain (batched writes)", build_ms, "ms");
    table.Add(s, "commits walked", double(got), "");
    table.Add(s, "Log first_parent p50 (3 runs)", f.log_p50, "ms");
    table.Add(s, "Log all ancestors (1 run)", all_ms, "ms");
    Note("kiln (d): log of %zu commits p50 %.1f ms", got, f.log_p50);
  }
  return f;
}

// ------------------------------------------------------------------ git

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

// Runs a shell command; dies when it fails. Returns its wall time in ms.
double Sh(const std::string& cmd) {
  auto t = SteadyClock::now();
  int rc = std::system(cmd.c_str());
  double ms = MillisSince(t);
  if (rc != 0) Die("command failed (" + std::to_string(rc) + "): " + cmd);
  return ms;
}

// Runs a command and returns its standard output.
std::string ShOut(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) Die("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) Die("command failed: " + cmd);
  return out;
}

// File i of the fanout-50 hierarchy: 50 top folders x 50 subfolders x files.
std::string GitPath(long i, long per_leaf) {
  long leaf = i / per_leaf, file = i % per_leaf;
  char buf[64];
  std::snprintf(buf, sizeof buf, "d%02ld/d%02ld/f%03ld.txt", (leaf / 50) % 50, leaf % 50, file);
  return buf;
}

std::string GitContent(long i, long version) {
  return "name: node " + std::to_string(i) + "\nbase: Step\nversion: " + std::to_string(version) +
         "\nattrs: {lr: 0.001, epochs: 10, note: \"a synthetic file of the benchmark\"}\n";
}

void FastImportData(FILE* f, const std::string& data) {
  std::fprintf(f, "data %zu\n", data.size());
  std::fwrite(data.data(), 1, data.size(), f);
  std::fputc('\n', f);
}

struct GitFigures {
  double commit_p50 = 0, log_p50 = 0, checkout_p50 = 0, read_tree_p50 = 0;
};

GitFigures RunGit(const Options& o, Table& table) {
  GitFigures f;
  std::error_code ec;
  std::string parent = o.git_parent;
  if (!std::filesystem::is_directory(parent, ec) || ::access(parent.c_str(), W_OK) != 0) {
    parent = "";  // no tmpfs here: the default scratch parent
  }
  ScratchDir scratch("kiln-model-bench-git", o.keep, parent);
  const std::string& dir = scratch.path();
  const std::string repo = dir + "/git";
  const std::string g = "git -C " + Quote(repo) + " ";
  // Files per leaf folder so that 50 x 50 leaves hold --nodes files.
  const long per_leaf = std::max<long>(1, (o.nodes + 2499) / 2500);
  const long files = o.nodes;

  // ---- setup with fast-import: the tree in one commit, then the chain.
  auto start = SteadyClock::now();
  Sh("git init -q -b main " + Quote(repo));
  Sh(g + "config user.name bench && " + g + "config user.email bench@example.com && " + g +
     "config gc.auto 0");
  FILE* fi = popen((g + "fast-import --quiet --done").c_str(), "w");
  if (!fi) Die("cannot start git fast-import");
  long t = 1'700'000'000;
  std::fprintf(fi, "commit refs/heads/main\ncommitter bench <bench@example.com> %ld +0000\n", t);
  FastImportData(fi, "import");
  for (long i = 0; i < files; ++i) {
    std::fprintf(fi, "M 100644 inline %s\n", GitPath(i, per_leaf).c_str());
    FastImportData(fi, GitContent(i, 0));
  }
  std::fputc('\n', fi);
  std::mt19937_64 rng(7);
  for (long c = 0; c < o.history; ++c) {
    long i = std::uniform_int_distribution<long>(0, files - 1)(rng);
    std::fprintf(fi, "commit refs/heads/main\ncommitter bench <bench@example.com> %ld +0000\n",
                 t + 1 + c);
    FastImportData(fi, "history " + std::to_string(c));
    std::fprintf(fi, "M 100644 inline %s\n", GitPath(i, per_leaf).c_str());
    FastImportData(fi, GitContent(i, c + 1));
    std::fputc('\n', fi);
  }
  std::fprintf(fi, "done\n");
  if (pclose(fi) != 0) Die("git fast-import failed");
  double setup_ms = MillisSince(start);
  Note("git: %ld files + %ld commits imported in %.0f ms", files, o.history, setup_ms);
  table.AddText(
      "setup", "git repository",
      std::to_string(files) + " files (50x50 folders), default config, gc.auto=0, in " + dir);
  table.Add("setup", "git fast-import (files + chain)", setup_ms, "ms");

  // ---- checkout of every file: a new worktree each run (files + index).
  {
    std::vector<double> ms, rt;
    for (long i = 0; i < o.git_checkouts; ++i) {
      std::string wt = dir + "/wt" + std::to_string(i);
      ms.push_back(Sh(g + "worktree add -q --detach " + Quote(wt) + " main"));
      Sh(g + "worktree remove --force " + Quote(wt));
      // Index only: every tree object read, nothing written to the disk but
      // the index file.
      std::string index = dir + "/index" + std::to_string(i);
      rt.push_back(Sh("GIT_INDEX_FILE=" + Quote(index) + " " + g + "read-tree main"));
      std::filesystem::remove(index);
    }
    f.checkout_p50 = Percentile(ms, 50);
    f.read_tree_p50 = Percentile(rt, 50);
    std::string s = "(c) checkout";
    table.Add(s, "git worktree add p50 (" + std::to_string(ms.size()) + " runs)", f.checkout_p50,
              "ms");
    table.Add(s, "git read-tree (index only) p50", f.read_tree_p50, "ms");
    Note("git checkout: worktree p50 %.0f ms, read-tree p50 %.0f ms", f.checkout_p50,
         f.read_tree_p50);
  }

  // ---- per-commit: change one file, git add + git commit.
  {
    Sh(g + "checkout -q -f main");
    std::vector<double> ms;
    for (long c = 0; c < o.git_commits + 2; ++c) {
      long i = std::uniform_int_distribution<long>(0, files - 1)(rng);
      std::string path = GitPath(i, per_leaf);
      {
        std::ofstream out(repo + "/" + path, std::ios::trunc);
        out << GitContent(i, 1'000'000 + c);
      }
      double one = Sh("cd " + Quote(repo) + " && git add " + path + " && git commit -q -m x");
      if (c >= 2) ms.push_back(one);  // the first two warm the index and caches
    }
    f.commit_p50 = Percentile(ms, 50);
    std::string s = "(a) single commit";
    table.Add(s, "git add+commit p50 (" + std::to_string(ms.size()) + " commits)", f.commit_p50,
              "ms");
    table.Add(s, "git add+commit p99", Percentile(ms, 99), "ms");
    Note("git commit p50 %.1f ms", f.commit_p50);
  }

  // ---- history.
  {
    std::vector<double> ms;
    std::string count;
    for (int run = 0; run < 3; ++run) {
      auto t0 = SteadyClock::now();
      count = ShOut(g + "log --oneline | wc -l");
      ms.push_back(MillisSince(t0));
    }
    while (!count.empty() && (count.back() == '\n' || count.back() == ' ')) count.pop_back();
    f.log_p50 = Percentile(ms, 50);
    std::string s = "(d) history";
    table.AddText(s, "git commits counted", count);
    table.Add(s, "git log --oneline | wc -l p50", f.log_p50, "ms");
  }
  return f;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  using namespace kiln::bench;
  Flags flags(argc, argv);
  Options o;
  o.nodes = flags.Int("nodes", 100'000, "nodes in the generated project (files in git)");
  o.commits = flags.Int("commits", 1000, "(a) single-edit commits measured");
  o.writers = flags.Int("writers", 4, "(b) concurrent writers, one branch each");
  o.seconds = flags.Double("seconds", 5, "(b) length of the concurrent run");
  o.checkouts = flags.Int("checkouts", 5, "(c) checkout runs");
  o.history = flags.Int("history", 10'000, "(d) commits in the history chain");
  o.git = flags.Bool("git", true, "also measure git side by side");
  o.git_commits = flags.Int("git-commits", 20, "git commits measured");
  o.git_checkouts = flags.Int("git-checkouts", 3, "git checkout runs");
  o.git_parent = flags.Str("git-parent", "/dev/shm",
                           "where git's scratch folder goes (tmpfs: see the file comment)");
  o.memory_baseline =
      flags.Bool("memory-baseline", true, "(a) also commit on a MemoryStore (CPU-only cost)");
  o.postgres = flags.Bool("postgres", true,
                          "(a) and (b) also on a PostgresStore, in a server this run starts");
  o.rounds =
      flags.Int("rounds", 4, "(a), (b): SQLite and PostgreSQL take turns in this many rounds");
  o.keep = flags.Bool("keep", false, "keep the scratch folder");
  flags.Finish(
      "model_bench: Kiln commit latency, concurrent durable commits, checkout and history "
      "on a generated project in SqliteStore, beside PostgresStore (commits) and git.");

  ScratchDir dir("kiln-model-bench", o.keep);
  Note("scratch folder %s", dir.path().c_str());
  Table table("model_bench: " + std::to_string(o.nodes) + " nodes (" +
              std::to_string(std::thread::hardware_concurrency()) +
              " cpus; shared machine: noisy)");
  auto total = SteadyClock::now();
  std::unique_ptr<PostgresSide> pg;
  std::string pg_missing;
  if (o.postgres) pg = StartPostgres(o, &pg_missing);
  KilnFigures k = RunKiln(o, dir.path(), pg.get(), table);
  if (o.git) {
    GitFigures g = RunGit(o, table);
    std::string s = "kiln vs git";
    table.Add(s, "per commit: git p50 / kiln p50", g.commit_p50 / k.commit_p50, "x",
              Goal::AtLeast(20));
    table.Add(s, "checkout: git worktree / kiln load", g.checkout_p50 / k.checkout_p50, "x");
    table.Add(s, "checkout: git read-tree / kiln load", g.read_tree_p50 / k.checkout_p50, "x");
    table.Add(s, "history: git log / kiln Log", g.log_p50 / k.log_p50, "x");
  }
  if (pg) {
    AddPostgresRows(o, *pg, k, table);
    pg.reset();  // closes the connections; the server stops at exit
  } else if (o.postgres) {
    table.AddText("(e) PostgreSQL", "not run", pg_missing);
  }
  table.Add("total", "benchmark wall time", MillisSince(total) / 1000, "s");
  table.Print();
  return 0;
}
