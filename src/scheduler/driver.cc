#include "scheduler/driver.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "core/guid.h"
#include "model/meta.h"
#include "pipeline/bundle.h"
#include "pipeline/python_imports.h"

namespace kiln {

namespace fs = std::filesystem;

struct Driver::Execution {
  Execution(Plan p, ExecutionPlan s) : plan(std::move(p)), state(std::move(s)) {}
  ExecutionRecord rec;
  Plan plan;
  ExecutionPlan state;
  std::vector<JobRecord> jobs;
  std::vector<std::optional<Digest>> keys;
  // What each job has sent so far (OnEvents): its log bytes, points per metric.
  struct Output {
    uint64_t log_bytes = 0;
    bool truncated = false;
    std::map<std::string, uint64_t> metric_points;
  };
  std::vector<Output> output;
  std::set<std::string> force_nodes;
  JobLimits limits;
  bool cancelling = false;
  std::string cancel_reason;
  bool finished = false;
  bool detached = false;  // the server stops and leaves its jobs to the next process
  struct Artifact {
    std::string guid, name, job, serializer;
    Digest digest;
    uint64_t size = 0;
  };
  std::vector<Artifact> artifacts;
};

struct Driver::Notice {
  struct Commit {
    std::string project, branch;
    Digest commit;
  };
  // Events written in the same runs.db batch: [first, first + count) of
  // its events, resolved to records (with their seq) when it is written.
  struct Events {
    std::string execution;
    size_t first = 0, count = 0;
  };
  std::variant<ExecutionRecord, JobRecord, Events, Commit> what;
};

namespace {

// Folder under the root that holds the Artifact nodes executions make.
std::string ArtifactsFolderGuid() { return DeriveGuid(RootGuid(), "kiln-artifacts"); }

double Seconds(int64_t ms) { return double(ms) / 1000.0; }

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Points of one metric sent live before they are thinned out (every power
// of two and every 1000th after that): a million points stay a few thousand
// messages, and the full series is in runs.db.
constexpr uint64_t kLiveMetricPoints = 1000;

}  // namespace

Driver::Driver(Repository& repo, RunsStore& runs, ArtifactStore& artifacts, ComputeBackend& backend,
               DriverOptions options)
    : repo_(repo),
      runs_(runs),
      artifacts_(artifacts),
      backend_(backend),
      options_(std::move(options)) {
  std::string host = options_.host;
  if (host.empty()) {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0) host = name;
  }
  runtime_json_ = nlohmann::json{
      {"python", options_.runtime.python},
      {"torch", options_.runtime.torch},
      {"kiln", options_.runtime.kiln},
      {"backend", options_.backend_name},
      {"host", host}}.dump();
}

Result<std::unique_ptr<Driver>> Driver::Open(Repository& repo, RunsStore& runs,
                                             ArtifactStore& artifacts, ComputeBackend& backend,
                                             DriverOptions options) {
  std::error_code ec;
  fs::create_directories(options.work_dir / "jobs", ec);
  if (ec) return IOError("cannot create " + options.work_dir.string() + ": " + ec.message());
  std::unique_ptr<Driver> d(new Driver(repo, runs, artifacts, backend, std::move(options)));
  KILN_RETURN_IF_ERROR(d->Reconcile());
  return d;
}

Status Driver::Reconcile() {
  KILN_ASSIGN_OR_RETURN(auto running, runs_.ListRunningExecutions(options_.server_id));
  const std::string reason = "server restarted";
  int64_t now = options_.clock->NowMillis();
  for (ExecutionRecord& e : running) {
    KILN_ASSIGN_OR_RETURN(auto jobs, runs_.ListJobs(e.id));
    // Jobs a backend still runs (in Slurm) are followed again, and the
    // execution goes on.
    auto resumed = Resume(e, jobs);
    if (!resumed.ok()) {
      std::fprintf(stderr, "kiln: driver: cannot resume execution %s: %s\n", e.id.c_str(),
                   resumed.status().message().c_str());
    } else if (*resumed) {
      continue;
    }
    // One transaction per execution: it is reconciled entirely or not at all.
    RunsBatch batch;
    for (JobRecord& j : jobs) {
      if (IsTerminal(j.state)) continue;
      j.state = j.state == JobState::kPending ? JobState::kSkipped : JobState::kFailed;
      j.reason = reason;
      j.finished_ms = now;
      batch.jobs.push_back(j);
      nlohmann::json payload = {{"state", JobStateName(j.state)}, {"reason", reason}};
      batch.events.emplace_back(j.id, NewEvent{Seconds(now), "state", "", payload.dump()});
    }
    e.state = ExecutionState::kFailed;
    e.reason = reason;
    e.finished_ms = now;
    batch.executions.push_back(e);
    KILN_RETURN_IF_ERROR(runs_.Write(batch).status());
  }
  return Status::Ok();
}

Result<bool> Driver::Resume(const ExecutionRecord& rec, const std::vector<JobRecord>& records) {
  bool any_alive = false;
  for (const JobRecord& j : records) {
    any_alive = any_alive || j.state == JobState::kRunning || j.state == JobState::kQueued;
  }
  if (!any_alive) return false;
  KILN_ASSIGN_OR_RETURN(auto tree, repo_.LoadTree(rec.commit));
  KILN_ASSIGN_OR_RETURN(Plan plan, CompilePipeline(*tree, rec.pipeline, options_.generator));
  KILN_ASSIGN_OR_RETURN(AttributeOverrides overrides, OverridesFromJson(rec.overrides));
  KILN_RETURN_IF_ERROR(ApplyOverrides(plan, overrides));
  std::map<std::string, const JobRecord*> by_node;
  for (const JobRecord& j : records) by_node[j.node] = &j;
  if (by_node.size() != plan.jobs.size()) return false;  // not the plan it ran
  std::vector<std::string> names;
  std::vector<std::pair<size_t, size_t>> edges;
  for (const PlanJob& j : plan.jobs) names.push_back(j.name);
  for (const PlanEdge& e : plan.edges) edges.emplace_back(e.from, e.to);
  KILN_ASSIGN_OR_RETURN(ExecutionPlan state, ExecutionPlan::Create(std::move(names), edges));
  auto owned = std::make_unique<Execution>(std::move(plan), std::move(state));
  Execution& e = *owned;
  e.rec = rec;
  e.limits = options_.default_limits;
  for (const PlanJob& pj : e.plan.jobs) {
    auto it = by_node.find(pj.node);
    if (it == by_node.end()) return false;
    e.jobs.push_back(*it->second);
  }
  e.keys.resize(e.jobs.size());
  e.output.resize(e.jobs.size());
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < e.jobs.size(); ++i) jobs_[e.jobs[i].id] = {&e, i};
    // Which jobs the backend still has. Their callbacks wait for mu_.
    std::set<size_t> adopted;
    for (size_t i = 0; i < e.jobs.size(); ++i) {
      const JobRecord& j = e.jobs[i];
      bool alive = j.state == JobState::kRunning || j.state == JobState::kQueued;
      if (alive && e.plan.jobs[i].kind == OperationKind::kOperation &&
          backend_.Adopt(j.id, this).ok()) {
        adopted.insert(i);
        ++running_;  // its OnExit will come, whatever the walk below makes of it
      }
    }
    if (adopted.empty()) {
      for (const JobRecord& j : e.jobs) jobs_.erase(j.id);
      return false;
    }
    std::string id = rec.id;
    active_[id] = std::move(owned);
    // Walk the plan as it went: finished operations keep their outputs,
    // adopted ones run on, the rest are ready again (their inputs' jobs
    // are done) or wait for their upstream as before.
    for (;;) {
      std::vector<size_t> ready = e.state.TakeReady();
      if (ready.empty()) break;
      for (size_t i : ready) {
        JobRecord& j = e.jobs[i];
        e.keys[i] = j.cache_key;
        bool operation = e.plan.jobs[i].kind == OperationKind::kOperation;
        if (operation && (j.state == JobState::kSucceeded || j.state == JobState::kCached)) {
          (void)e.state.Start(i);
          (void)(j.state == JobState::kCached ? e.state.Cache(i) : e.state.Succeed(i));
        } else if (adopted.count(i)) {
          (void)e.state.Start(i);
          if (j.cache_key && !computing_.count(*j.cache_key)) {
            computing_[*j.cache_key] = j.id;
            computing_key_[j.id] = *j.cache_key;
          }
        } else if (operation && (j.state == JobState::kFailed || j.state == JobState::kCancelled)) {
          (void)e.state.Start(i);
          auto skipped = j.state == JobState::kFailed ? e.state.Fail(i, j.reason)
                                                      : e.state.Cancel(i, j.reason);
          if (skipped.ok()) {
            for (size_t s : *skipped) SetJob(e, s, JobState::kSkipped, e.state.reason(s));
          }
        } else {
          Ready(e, i);
        }
      }
    }
    // An adopted job the walk did not reach (an upstream failed on the way,
    // so it was skipped) must not run on unseen.
    for (size_t i : adopted) {
      if (e.state.state(i) != JobState::kRunning) (void)backend_.Cancel(e.jobs[i].id);
    }
    Dispatch();
    if (active_.count(id)) MaybeFinish(e);  // Dispatch may have finished it
  }
  Deliver();
  return true;
}

Driver::~Driver() {
  std::unique_lock lock(mu_);
  shutting_down_ = true;  // nothing new is launched from here on
  for (auto& [id, e] : active_) {
    if (e->finished) continue;
    // Jobs that outlive the server (in Slurm) are left running: the next
    // process adopts them and the execution goes on (Resume).
    bool detached = false;
    for (size_t j = 0; j < e->jobs.size(); ++j) {
      if (e->state.state(j) != JobState::kRunning) continue;
      if (backend_.Detach(e->jobs[j].id)) {
        detached = true;
        jobs_.erase(e->jobs[j].id);
        if (running_ > 0) --running_;
      }
    }
    if (detached) {
      // Its other running jobs are stopped but not recorded as ended: the
      // records keep them running, and Resume readies them again.
      e->detached = true;
      for (size_t j = 0; j < e->jobs.size(); ++j) {
        if (e->state.state(j) == JobState::kRunning && jobs_.count(e->jobs[j].id)) {
          (void)backend_.Cancel(e->jobs[j].id);
        }
      }
      continue;
    }
    e->cancelling = true;
    e->cancel_reason = "server shutting down";
    auto out = e->state.CancelAll(e->cancel_reason);
    for (size_t j : out.running) (void)backend_.Cancel(e->jobs[j].id);
  }
  // The backend holds pointers to us until every job reported its exit.
  cv_.wait_for(lock, std::chrono::seconds(30), [&] { return running_ == 0; });
  lock.unlock();
  // A backend thread may still be inside OnExit/OnEvents (delivering the
  // last notices) after running_ reached zero: wait until it has left.
  while (callbacks_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Jobs that did not report within the wait (and detached ones): no
  // backend calls into this driver after it is gone.
  backend_.Unbind(this);
}

// ---------------------------------------------------------------- starting

Result<std::string> Driver::Start(const StartRequest& req) {
  if (req.user.empty()) return InvalidArgument("an execution needs a user");
  if (!req.backend.empty()) {
    JobRequest ask;
    ask.resources.backend = req.backend;
    KILN_RETURN_IF_ERROR(backend_.Admit(ask));
  }
  Digest commit;
  if (req.commit) {
    commit = *req.commit;
  } else {
    KILN_ASSIGN_OR_RETURN(commit, repo_.Resolve(req.project, req.ref));
  }
  std::string branch;
  if (repo_.BranchHead(req.project, req.ref).ok()) branch = req.ref;
  KILN_ASSIGN_OR_RETURN(auto tree, repo_.LoadTree(commit));
  KILN_ASSIGN_OR_RETURN(Plan plan, CompilePipeline(*tree, req.pipeline, options_.generator));
  KILN_RETURN_IF_ERROR(ApplyOverrides(plan, req.overrides));
  // An Input reads only what the project has (docs/access.md): a digest
  // alone — another project's, or one computed from guessed bytes — reads
  // nothing, and the answer is the same whether the bytes exist or not.
  for (const PlanJob& pj : plan.jobs) {
    if (pj.kind != OperationKind::kInput || !pj.artifact) continue;
    KILN_ASSIGN_OR_RETURN(bool has, runs_.ProjectHasArtifact(req.project, *pj.artifact));
    if (!has) {
      return FailedPrecondition("Input '" + pj.name + "': artifact " +
                                pj.artifact->Hex().substr(0, 12) + "… is not in project " +
                                req.project);
    }
  }
  std::vector<std::string> names;
  std::vector<std::pair<size_t, size_t>> edges;
  for (const PlanJob& j : plan.jobs) names.push_back(j.name);
  for (const PlanEdge& e : plan.edges) edges.emplace_back(e.from, e.to);
  KILN_ASSIGN_OR_RETURN(ExecutionPlan state, ExecutionPlan::Create(std::move(names), edges));

  auto e = std::make_unique<Execution>(std::move(plan), std::move(state));
  e->rec.id = NewGuid();
  e->rec.server = options_.server_id;
  e->rec.project = req.project;
  e->rec.pipeline = req.pipeline;
  e->rec.commit = commit;
  e->rec.ref = req.ref;
  e->rec.branch = branch;
  e->rec.user = req.user;
  e->rec.force = req.force;
  e->rec.created_ms = options_.clock->NowMillis();
  e->rec.overrides = OverridesToJson(req.overrides);
  e->rec.sweep = req.sweep;
  e->rec.sweep_trial = req.sweep_trial;
  e->rec.backend = req.backend;
  e->force_nodes = req.force_nodes;
  e->limits = req.limits.value_or(options_.default_limits);
  for (const PlanJob& pj : e->plan.jobs) {
    JobRecord j;
    j.id = NewGuid();
    j.execution = e->rec.id;
    j.node = pj.node;
    j.name = pj.name;
    e->jobs.push_back(std::move(j));
    if (req.force) e->force_nodes.insert(pj.node);
  }
  e->keys.resize(e->jobs.size());
  e->output.resize(e->jobs.size());
  KILN_RETURN_IF_ERROR(repo_.CreateTag(req.project, "run/" + e->rec.id, commit));
  KILN_RETURN_IF_ERROR(runs_.CreateExecution(e->rec, e->jobs));

  std::string id = e->rec.id;
  {
    std::lock_guard lock(mu_);
    Execution& ex = *e;
    for (size_t i = 0; i < ex.jobs.size(); ++i) jobs_[ex.jobs[i].id] = {&ex, i};
    active_[id] = std::move(e);
    Push({ex.rec});
    Advance(ex);
    Dispatch();
  }
  Deliver();
  return id;
}

Result<std::string> Driver::Rerun(const std::string& execution, const std::string& user,
                                  bool force) {
  KILN_ASSIGN_OR_RETURN(ExecutionRecord e, runs_.GetExecution(execution));
  StartRequest req;
  req.project = e.project;
  req.pipeline = e.pipeline;
  req.ref = e.branch.empty() ? e.commit.Hex() : e.branch;
  req.commit = e.commit;
  req.user = user;
  req.force = force;
  KILN_ASSIGN_OR_RETURN(req.overrides, OverridesFromJson(e.overrides));
  req.backend = e.backend;
  return Start(req);
}

Result<std::string> Driver::RerunJob(const std::string& job, const std::string& user) {
  KILN_ASSIGN_OR_RETURN(JobRecord j, runs_.GetJob(job));
  KILN_ASSIGN_OR_RETURN(ExecutionRecord e, runs_.GetExecution(j.execution));
  StartRequest req;
  req.project = e.project;
  req.pipeline = e.pipeline;
  req.ref = e.branch.empty() ? e.commit.Hex() : e.branch;
  req.commit = e.commit;
  req.user = user;
  req.force_nodes = {j.node};
  KILN_ASSIGN_OR_RETURN(req.overrides, OverridesFromJson(e.overrides));
  req.backend = e.backend;
  return Start(req);
}

// ---------------------------------------------------------------- the state machine

void Driver::Push(Notice notice) { notices_.push_back(std::move(notice)); }

void Driver::SetJob(Execution& e, size_t i, JobState state, std::string reason) {
  JobRecord& j = e.jobs[i];
  int64_t now = options_.clock->NowMillis();
  j.state = state;
  j.reason = std::move(reason);
  if (state == JobState::kQueued) j.queued_ms = now;
  if (state == JobState::kRunning) j.started_ms = now;
  if (IsTerminal(state)) {
    j.finished_ms = now;
    // It computed a key others wait for: they get its outputs (ReleaseWaiters).
    if (auto k = computing_key_.find(j.id); k != computing_key_.end()) {
      if (auto c = computing_.find(k->second); c != computing_.end() && c->second == j.id) {
        computing_.erase(c);
      }
      computing_key_.erase(k);
      ended_.push_back({j.id, state, j.outputs});
    }
  }
  nlohmann::json payload = {{"state", JobStateName(state)}};
  if (!j.reason.empty()) payload["reason"] = j.reason;
  writes_.jobs.push_back(j);
  writes_.events.emplace_back(j.id, NewEvent{Seconds(now), "state", "", payload.dump()});
  Push({j});
  Push({Notice::Events{e.rec.id, writes_.events.size() - 1, 1}});
}

// Applies a terminal transition to the plan and mirrors every job it
// touched (the job itself, the ones it skipped) into the records.
void Driver::ApplyTransition(Execution& e, size_t i, JobState state, const std::string& reason) {
  std::vector<size_t> skipped;
  Status st;
  switch (state) {
    case JobState::kSucceeded:
      st = e.state.Succeed(i);
      break;
    case JobState::kCached:
      st = e.state.Cache(i);
      break;
    case JobState::kFailed: {
      auto r = e.state.Fail(i, reason);
      st = r.status();
      if (r.ok()) skipped = *r;
      break;
    }
    case JobState::kCancelled: {
      auto r = e.state.Cancel(i, reason);
      st = r.status();
      if (r.ok()) skipped = *r;
      break;
    }
    default:
      st = Internal("not a terminal transition");
  }
  if (!st.ok()) return;  // e.g. a job cancelled while its result came in
  SetJob(e, i, state, reason);
  for (size_t s : skipped) SetJob(e, s, JobState::kSkipped, e.state.reason(s));
}

void Driver::FailJob(Execution& e, size_t i, const std::string& reason) {
  ApplyTransition(e, i, JobState::kFailed, reason);
}

std::map<std::string, Digest> Driver::InputDigests(const Execution& e, size_t i) const {
  std::map<std::string, Digest> in;
  for (const PlanEdge& edge : e.plan.edges) {
    if (edge.to != i) continue;
    const Outputs& outs = e.jobs[edge.from].outputs;
    auto it = outs.find(edge.output);
    if (it != outs.end()) in[edge.input] = it->second.digest;
  }
  return in;
}

void Driver::Advance(Execution& e) {
  for (;;) {
    std::vector<size_t> ready = e.state.TakeReady();
    if (ready.empty()) break;
    for (size_t i : ready) Ready(e, i);
  }
  MaybeFinish(e);
}

// The runtime a provenance record names: the server's, with where the job
// ran when its backend said so (a Slurm node, not this host).
std::string Driver::RuntimeJson(const JobRecord& j) const {
  if (j.backend.empty()) return runtime_json_;
  nlohmann::json r = nlohmann::json::parse(runtime_json_);
  r["backend"] = j.backend;
  if (!j.host.empty()) r["host"] = j.host;
  if (!j.backend_job.empty()) r["backend_job"] = j.backend_job;
  return r.dump();
}

void Driver::Ready(Execution& e, size_t i) {
  SetJob(e, i, JobState::kQueued, "");
  const PlanJob& pj = e.plan.jobs[i];
  JobRecord& j = e.jobs[i];
  std::map<std::string, Digest> inputs = InputDigests(e, i);
  if (inputs.size() != pj.inputs.size()) {
    FailJob(e, i, "an upstream job did not produce the output this job reads");
    return;
  }
  Digest key = CacheKey(pj, inputs, options_.runtime);
  e.keys[i] = key;
  j.cache_key = key;
  if (pj.kind == OperationKind::kInput) {
    auto size = artifacts_.Size(*pj.artifact);
    if (!size.ok()) {
      FailJob(e, i, "input artifact " + pj.artifact->Hex() + ": " + size.status().message());
      return;
    }
    j.outputs[pj.outputs[0]] = OutputRef{*pj.artifact, pj.serializer, *size};
    (void)e.state.Start(i);
    ApplyTransition(e, i, JobState::kSucceeded, "");
    return;
  }
  if (pj.kind == OperationKind::kOutput) {
    for (const PlanEdge& edge : e.plan.edges) {
      if (edge.to != i) continue;
      const JobRecord& from = e.jobs[edge.from];
      const OutputRef& o = from.outputs.at(edge.output);
      std::string name = pj.inputs.size() == 1 ? pj.name : pj.name + "/" + edge.input;
      // Named by what it is, not by the execution: re-running a pipeline
      // that produces the same bytes adds nothing to the project.
      e.artifacts.push_back({DeriveGuid(pj.node + "/" + edge.input, o.digest.Hex()), name, from.id,
                             o.serializer, o.digest, o.size});
    }
    (void)e.state.Start(i);
    ApplyTransition(e, i, JobState::kSucceeded, "");
    return;
  }
  if (!e.force_nodes.count(pj.node)) {
    if (auto made = unwritten_cache_.find(key); made != unwritten_cache_.end()) {
      TakeCached(e, i, made->second.outputs, made->second.job);
      return;
    }
    auto hit = runs_.GetCache(key);
    bool usable = hit.ok() && hit->has_value();
    // An entry whose artifacts were deleted is a miss.
    if (usable) {
      for (const auto& [name, o] : (*hit)->outputs) {
        auto exists = artifacts_.Exists(o.digest);
        usable = usable && exists.ok() && *exists;
      }
    }
    if (usable) {
      TakeCached(e, i, (*hit)->outputs, (*hit)->job);
      return;
    }
  }
  // A job no backend can ever run fails now, with the reason, rather
  // than waiting forever (docs/compute.md).
  JobRequest ask;
  ask.job_id = j.id;
  ask.limits = LimitsOf(e, i);
  ask.resources = ResourcesOf(e, i);
  if (Status admitted = backend_.Admit(ask); !admitted.ok()) {
    FailJob(e, i, admitted.message());
    return;
  }
  QueueOrWait(e, i, e.force_nodes.count(pj.node) > 0);
}

JobResources Driver::ResourcesOf(const Execution& e, size_t i) const {
  const PlanJob& pj = e.plan.jobs[i];
  JobResources r = pj.asks;
  if (r.backend.empty()) r.backend = e.rec.backend;
  if (r.backend.empty()) {
    if (auto op = options_.route_operations.find(pj.name); op != options_.route_operations.end()) {
      r.backend = op->second;
    } else if (auto p = options_.route_pipelines.find(e.plan.name);
               p != options_.route_pipelines.end()) {
      r.backend = p->second;
    } else if (auto g = options_.route_pipelines.find(e.plan.pipeline);
               g != options_.route_pipelines.end()) {
      r.backend = g->second;
    }
  }
  return r;
}

void Driver::TakeCached(Execution& e, size_t i, const Outputs& outputs,
                        const std::string& from_job) {
  const PlanJob& pj = e.plan.jobs[i];
  JobRecord& j = e.jobs[i];
  j.outputs = outputs;
  // The same code on the same inputs (which this project has) made these
  // bytes: the project has them now too. Its own records keep the
  // producer: this job, and the job that made them first.
  int64_t now = options_.clock->NowMillis();
  std::string snapshot = options_.record_provenance ? OperationSnapshot(pj) : "";
  std::map<std::string, Digest> inputs = InputDigests(e, i);
  for (const auto& [name, o] : j.outputs) {
    writes_.grants.push_back({e.rec.project, o.digest, "job", now});
    if (options_.record_provenance) {
      writes_.provenance.push_back({o.digest, name, j.id, e.rec.id, snapshot, inputs, now,
                                    e.rec.project, RuntimeJson(j), now, from_job});
    }
  }
  ApplyTransition(e, i, JobState::kCached, "");
}

void Driver::QueueOrWait(Execution& e, size_t i, bool forced) {
  const Digest& key = *e.keys[i];
  auto computing = computing_.find(key);
  if (computing != computing_.end() && !forced) {
    waiters_[computing->second].emplace_back(e.rec.id, i);
    return;
  }
  if (computing == computing_.end()) {
    computing_[key] = e.jobs[i].id;
    computing_key_[e.jobs[i].id] = key;
  }
  queue_.emplace_back(e.rec.id, i);
}

void Driver::ReleaseWaiters() {
  while (!ended_.empty()) {
    Ended ended = std::move(ended_.back());
    ended_.pop_back();
    auto w = waiters_.find(ended.job);
    if (w == waiters_.end()) continue;
    std::vector<std::pair<std::string, size_t>> waiting = std::move(w->second);
    waiters_.erase(w);
    bool made = IsDone(ended.state);
    for (const auto& [id, i] : waiting) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Execution& e = *it->second;
      if (e.state.state(i) != JobState::kQueued) continue;  // cancelled meanwhile
      if (made) {
        TakeCached(e, i, ended.outputs, ended.job);
        Advance(e);  // may finish e
      } else {
        QueueOrWait(e, i, false);  // it failed: the first waiter computes the key
      }
    }
  }
}

void Driver::Dispatch() {
  if (shutting_down_) return;
  for (;;) {
    ReleaseWaiters();
    while (running_ < backend_.Slots() && !queue_.empty()) {
      auto [id, i] = queue_.front();
      queue_.pop_front();
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Execution& e = *it->second;
      if (e.state.state(i) != JobState::kQueued) continue;  // cancelled while it waited
      Launch(e, i);
      MaybeFinish(e);
    }
    if (ended_.empty()) break;
  }
}

void Driver::Launch(Execution& e, size_t i) {
  const PlanJob& pj = e.plan.jobs[i];
  JobRecord& j = e.jobs[i];
  fs::path dir = options_.work_dir / "jobs" / j.id;
  std::map<std::string, BundleInput> inputs;
  for (const PlanEdge& edge : e.plan.edges) {
    if (edge.to != i) continue;
    const OutputRef& o = e.jobs[edge.from].outputs.at(edge.output);
    auto path = artifacts_.Materialize(o.digest, dir / "inputs");
    if (!path.ok()) {
      FailJob(e, i, "input '" + edge.input + "': " + path.status().message());
      return;
    }
    inputs[edge.input] = {*path, o.serializer};
  }
  std::map<std::string, std::string> env = options_.env;
  // The project's Python environments (kiln.venv) live beside the bundles,
  // unless the server's environment names a folder ($KILN_VENVS).
  if (!pj.requirements.empty() && !env.contains("KILN_VENVS") && !std::getenv("KILN_VENVS")) {
    env["KILN_VENVS"] = fs::absolute(options_.work_dir / "venvs").string();
  }
  Status st = WriteBundle(dir, j.id, pj, inputs, env);
  if (!st.ok()) {
    FailJob(e, i, "cannot write the job's bundle: " + st.message());
    return;
  }
  std::vector<std::string> serializers;
  for (const auto& [name, input] : inputs) serializers.push_back(input.serializer);
  JobRequest request{j.id, fs::absolute(dir),           LimitsOf(e, i),
                     env,  JobModules(pj, serializers), ResourcesOf(e, i)};
  st = backend_.Submit(request, this);
  if (!st.ok()) {
    FailJob(e, i, "the compute backend refused the job: " + st.message());
    return;
  }
  ++running_;
  (void)e.state.Start(i);
  // A backend that reports placement says when it really runs (OnPlaced);
  // until then the job counts from here, should it end unseen.
  if (!backend_.ReportsPlacement()) {
    SetJob(e, i, JobState::kRunning, "");
  } else {
    j.started_ms = options_.clock->NowMillis();
  }
}

// ---------------------------------------------------------------- backend callbacks

void Driver::OnEvents(const std::string& job_id, std::vector<std::string> lines) {
  CallbackGuard guard(callbacks_);
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    Execution& e = *it->second.first;
    Execution::Output& out = e.output[it->second.second];
    // Live listeners get runs of consecutive events; a metric thinned out
    // for live display ends a run (it is still written).
    size_t run_start = writes_.events.size();
    auto end_run = [&] {
      size_t end = writes_.events.size();
      if (end > run_start) Push({Notice::Events{e.rec.id, run_start, end - run_start}});
    };
    for (std::string& line : lines) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;  // a torn line: skip it, keep the rest
      NewEvent ev;
      ev.time = j.value("time", Seconds(options_.clock->NowMillis()));
      ev.kind = j.value("type", "log");
      bool live = true;
      if (ev.kind == "metric") {
        ev.name = j.value("name", "");
        uint64_t n = ++out.metric_points[ev.name];
        live = n <= kLiveMetricPoints || (n & (n - 1)) == 0 || n % kLiveMetricPoints == 0;
      } else if (ev.kind != "state") {
        // Logs, figures, progress: bounded per job.
        if (out.truncated) continue;
        if (out.log_bytes + line.size() > options_.max_log_bytes) {
          out.truncated = true;
          nlohmann::json note = {
              {"type", "log"},
              {"stream", "stderr"},
              {"time", ev.time},
              {"text", "kiln: this job's output passed its limit of " +
                           MiB(options_.max_log_bytes) +
                           "; the rest was dropped (kiln serve --job-log-mb raises the limit)\n"}};
          line = note.dump();
          ev.kind = "log";
        }
        out.log_bytes += line.size();
      }
      if (ev.kind == "figure" && j.contains("figure")) ev.name = j["figure"].dump();
      if (!live) end_run();
      ev.payload = std::move(line);
      writes_.events.emplace_back(job_id, std::move(ev));
      if (!live) run_start = writes_.events.size();
    }
    end_run();
  }
  Deliver();
}

JobLimits Driver::LimitsOf(const Execution& e, size_t i) {
  JobLimits limits = e.limits;
  const PlanJob& pj = e.plan.jobs[i];
  if (pj.memory_bytes) limits.memory_bytes = *pj.memory_bytes;
  if (pj.timeout_s) limits.timeout_s = *pj.timeout_s;
  return limits;
}

std::string Driver::FailureReason(const Execution& e, size_t i, const JobExit& exit) {
  const JobRecord& j = e.jobs[i];
  const JobLimits limits = LimitsOf(e, i);
  // A backend that words its own time-out (Slurm: the limit it applied, in
  // whole minutes) is kept; else the limit this job had.
  if (exit.timed_out && exit.reason.rfind("timed out:", 0) == 0) return exit.reason;
  if (exit.timed_out && limits.timeout_s <= 0 && !exit.reason.empty()) return exit.reason;
  if (exit.timed_out) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", limits.timeout_s);
    return std::string("timed out: the job ran longer than its timeout of ") + buf + " s";
  }
  auto result = ReadResult(options_.work_dir / "jobs" / j.id);
  if (result.ok() && !result->error_type.empty()) {
    std::string what = result->error_type + ": " + result->error_message;
    if (!result->error_file.empty() && result->error_line > 0) {
      what += " (" + result->error_file + " line " + std::to_string(result->error_line) + ")";
    }
    if (result->error_type == "MemoryError" && limits.memory_bytes) {
      return "exceeded its memory limit of " + MiB(limits.memory_bytes) + " (" + what + ")";
    }
    return what;
  }
  std::string reason = exit.reason.empty() ? "the job failed" : exit.reason;
  if (exit.end == JobExit::End::kSignaled && limits.memory_bytes) {
    reason += " (it may have exceeded its memory limit of " + MiB(limits.memory_bytes) + ")";
  }
  if (exit.end == JobExit::End::kExited && exit.exit_code != 0 && exit.reason.empty()) {
    reason = "the job exited with status " + std::to_string(exit.exit_code);
  }
  return reason;
}

Status Driver::CollectOutputs(Execution& e, size_t i) {
  const PlanJob& pj = e.plan.jobs[i];
  JobRecord& j = e.jobs[i];
  fs::path dir = options_.work_dir / "jobs" / j.id;
  KILN_ASSIGN_OR_RETURN(JobResult result, ReadResult(dir));
  if (result.status != "succeeded") {
    return FailedPrecondition("the job exited 0 but its result says " + result.status);
  }
  Outputs outputs;
  for (const std::string& name : pj.outputs) {
    auto it = result.outputs.find(name);
    if (it == result.outputs.end()) {
      return FailedPrecondition("the operation did not return output '" + name +
                                "' (its ports and its code's return statement differ)");
    }
    KILN_ASSIGN_OR_RETURN(ArtifactInfo info, StoreOutput(e.rec.project, it->second));
    if (it->second.sha256 && *it->second.sha256 != info.digest) {
      return Corruption("output '" + name + "' changed after the job wrote it");
    }
    outputs[name] = OutputRef{info.digest, it->second.serializer, info.size};
  }
  j.outputs = outputs;
  int64_t now = options_.clock->NowMillis();
  // The outputs are in the artifact store; provenance and the cache entry go
  // into runs.db in one batch, with the job's new state.
  std::string snapshot = options_.record_provenance ? OperationSnapshot(pj) : "";
  std::map<std::string, Digest> inputs = InputDigests(e, i);
  for (const auto& [name, o] : outputs) {
    if (options_.record_provenance) {
      writes_.provenance.push_back({o.digest, name, j.id, e.rec.id, snapshot, inputs, now,
                                    e.rec.project, RuntimeJson(j), j.started_ms, ""});
    }
    writes_.grants.push_back({e.rec.project, o.digest, "job", now});
  }
  if (e.keys[i]) {
    writes_.cache.push_back({*e.keys[i], outputs, j.id, now});
    unwritten_cache_[*e.keys[i]] = {outputs, j.id, batches_swapped_};
  }
  return Status::Ok();
}

Result<ArtifactInfo> Driver::StoreOutput(const std::string& project, const ResultOutput& output) {
  // Content already in the store (a re-run that made the same bytes): hash
  // the file here and skip the store's copy and fsyncs. Only when the job
  // named a digest that exists, so new content is still hashed once.
  if (output.sha256) {
    auto exists = artifacts_.Exists(*output.sha256);
    if (exists.ok() && *exists) {
      std::ifstream in(output.path, std::ios::binary);
      if (!in) return NotFound("no file " + output.path.string());
      Sha256Hasher hasher;
      std::vector<char> buf(1 << 16);
      uint64_t size = 0;
      while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        std::streamsize n = in.gcount();
        if (n <= 0) break;
        hasher.Update(buf.data(), size_t(n));
        size += uint64_t(n);
      }
      if (in.bad()) return IOError("cannot read " + output.path.string());
      Digest digest = hasher.Finish();
      if (digest == *output.sha256) return ArtifactInfo{digest, size};
    }
  }
  if (options_.store_output) return options_.store_output(project, output.path);
  return artifacts_.PutFile(output.path);
}

void Driver::OnPlaced(const std::string& job_id, const JobPlacement& placement) {
  CallbackGuard guard(callbacks_);
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    Execution& e = *it->second.first;
    size_t i = it->second.second;
    JobRecord& j = e.jobs[i];
    j.backend = placement.backend;
    if (!placement.host.empty() || placement.running) j.host = placement.host;
    if (!placement.backend_job.empty()) j.backend_job = placement.backend_job;
    if (IsTerminal(j.state)) {
      // It ended before its placement arrived (a quick job): keep where it ran.
      writes_.jobs.push_back(j);
      Push({j});
    } else if (placement.running && j.state != JobState::kRunning) {
      SetJob(e, i, JobState::kRunning, "");
    } else if (!placement.running && (j.state != JobState::kQueued || j.reason != placement.note)) {
      // Waiting where it was sent (Slurm's queue, a free GPU): queued, with why.
      JobState was = j.state;
      int64_t started = j.started_ms, queued = j.queued_ms;
      SetJob(e, i, JobState::kQueued, placement.note);
      if (was == JobState::kRunning) j.started_ms = started;
      if (was == JobState::kQueued) j.queued_ms = queued;  // still the same wait
    } else {
      writes_.jobs.push_back(j);
      Push({j});
    }
  }
  Deliver();
}

void Driver::OnExit(const std::string& job_id, const JobExit& exit) {
  CallbackGuard guard(callbacks_);
  bool keep = true;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    Execution& e = *it->second.first;
    size_t i = it->second.second;
    if (running_ > 0) --running_;
    if (shutting_down_ && e.detached) {
      // Stopped by the shutdown of an execution the next process resumes:
      // its record stays as it was.
      jobs_.erase(it);
      cv_.notify_all();
      return;
    }
    JobRecord& j = e.jobs[i];
    if (exit.end == JobExit::End::kExited) j.exit_code = exit.exit_code;
    keep = options_.keep_bundles;
    if (exit.succeeded()) {
      Status st = CollectOutputs(e, i);
      if (st.ok()) {
        ApplyTransition(e, i, JobState::kSucceeded, "");
      } else {
        keep = true;
        FailJob(e, i, st.message());
      }
    } else if (exit.cancelled) {
      keep = true;
      ApplyTransition(e, i, JobState::kCancelled,
                      e.cancel_reason.empty() ? "cancelled" : e.cancel_reason);
    } else {
      keep = true;
      FailJob(e, i, FailureReason(e, i, exit));
    }
    if (!keep) ++removing_;
    Advance(e);
    Dispatch();
    cv_.notify_all();
  }
  Deliver();
  // Off the critical path: the next jobs are dispatched and recorded.
  if (!keep) {
    std::error_code ec;
    fs::remove_all(options_.work_dir / "jobs" / job_id, ec);
    std::lock_guard lock(mu_);
    --removing_;
    cv_.notify_all();
  }
}

// ---------------------------------------------------------------- ending

void Driver::MaybeFinish(Execution& e) {
  if (e.finished || !e.state.Done()) return;
  e.finished = true;
  size_t failed = e.state.CountIn(JobState::kFailed);
  size_t cancelled = e.state.CountIn(JobState::kCancelled);
  if (failed) {
    e.rec.state = ExecutionState::kFailed;
    e.rec.reason = std::to_string(failed) + (failed == 1 ? " job" : " jobs") + " failed";
  } else if (cancelled || e.cancelling) {
    e.rec.state = ExecutionState::kCancelled;
    e.rec.reason = e.cancel_reason.empty() ? "cancelled" : e.cancel_reason;
  } else {
    e.rec.state = ExecutionState::kSucceeded;
  }
  Status st = CommitArtifacts(e);
  if (!st.ok() && e.rec.reason.empty()) e.rec.reason = "artifacts not committed: " + st.message();
  e.rec.finished_ms = options_.clock->NowMillis();
  writes_.executions.push_back(e.rec);
  Push({e.rec});
  for (const JobRecord& j : e.jobs) jobs_.erase(j.id);
  active_.erase(e.rec.id);  // e is gone from here on
  cv_.notify_all();
}

Status Driver::CommitArtifacts(Execution& e) {
  if (e.artifacts.empty() || e.rec.branch.empty()) return Status::Ok();
  // One commit for the whole execution, on the branch's current head
  // (never the run commit: the branch may have moved on meanwhile).
  for (int attempt = 0; attempt < 5; ++attempt) {
    KILN_ASSIGN_OR_RETURN(Digest head, repo_.BranchHead(e.rec.project, e.rec.branch));
    KILN_ASSIGN_OR_RETURN(auto tree, repo_.LoadTree(head));
    Patch patch;
    patch.message = "Artifacts of execution " + e.rec.id;
    size_t creates = 0;
    if (!tree->Contains(ArtifactsFolderGuid())) {
      patch.ops.push_back(PatchOp::Create(ArtifactsFolderGuid(), RootGuid(), MetaGuid("Folder"),
                                          {{"name", "Artifacts"}}));
    }
    for (const auto& a : e.artifacts) {
      if (tree->Contains(a.guid)) continue;
      ++creates;
      patch.ops.push_back(PatchOp::Create(a.guid, ArtifactsFolderGuid(), MetaGuid("Artifact"),
                                          {{"name", a.name},
                                           {"digest", a.digest.Hex()},
                                           {"size", int64_t(a.size)},
                                           {"serializer", a.serializer},
                                           {"job", a.job},
                                           {"execution", e.rec.id},
                                           {"commit", e.rec.commit.Hex()}}));
    }
    if (creates == 0) return Status::Ok();  // nothing new: no commit
    CommitRequest req{e.rec.project, e.rec.branch, e.rec.user, patch.message, head};
    auto c = repo_.Commit(req, patch);
    if (c.ok()) {
      e.rec.artifacts = *c;
      Push({Notice::Commit{e.rec.project, e.rec.branch, *c}});
      return Status::Ok();
    }
    if (c.status().code() != Code::kConflict) return c.status();
  }
  return Conflict("the branch kept moving; artifacts not committed");
}

// ---------------------------------------------------------------- cancel, wait

Status Driver::Cancel(const std::string& execution, const std::string& user) {
  {
    std::lock_guard lock(mu_);
    auto it = active_.find(execution);
    if (it == active_.end()) return NotFound("execution " + execution + " is not in flight");
    Execution& e = *it->second;
    e.cancelling = true;
    e.cancel_reason = "cancelled by " + user;
    auto out = e.state.CancelAll(e.cancel_reason);
    for (size_t j : out.cancelled) SetJob(e, j, JobState::kCancelled, e.cancel_reason);
    for (size_t j : out.running) (void)backend_.Cancel(e.jobs[j].id);
    MaybeFinish(e);
    Dispatch();  // jobs of other executions that waited on a cancelled one queue again
  }
  Deliver();
  return Status::Ok();
}

Status Driver::CancelJob(const std::string& job, const std::string& user) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return NotFound("job " + job + " is not in flight");
    Execution& e = *it->second.first;
    size_t i = it->second.second;
    JobState s = e.state.state(i);
    if (s == JobState::kRunning) {
      e.cancel_reason = "cancelled by " + user;
      return backend_.Cancel(job);
    }
    if (s != JobState::kQueued) {
      // A pending job is not ready yet: cancel the execution, or the job it waits for.
      return FailedPrecondition("job " + job + " is " + JobStateName(s));
    }
    ApplyTransition(e, i, JobState::kCancelled, "cancelled by " + user);
    Advance(e);
    Dispatch();
  }
  Deliver();
  return Status::Ok();
}

Result<ExecutionRecord> Driver::Wait(const std::string& execution, int timeout_ms) {
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
          // Also wait until listeners heard the end.
          return !active_.count(execution) && notices_.empty() && writes_.empty() && !delivering_ &&
                 removing_ == 0;
        })) {
      return ResourceExhausted("execution " + execution + " still running after " +
                               std::to_string(timeout_ms) + " ms");
    }
  }
  return runs_.GetExecution(execution);
}

bool Driver::InFlight(const std::string& execution) {
  std::lock_guard lock(mu_);
  return active_.count(execution) > 0;
}

// ---------------------------------------------------------------- listeners

uint64_t Driver::Subscribe(const std::string& execution, ExecutionListener* listener) {
  std::lock_guard lock(listeners_mu_);
  uint64_t id = next_listener_++;
  listeners_[id] = {execution, listener};
  return id;
}

void Driver::Unsubscribe(uint64_t id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

void Driver::Deliver() {
  for (;;) {
    std::deque<Notice> batch;
    RunsBatch writes;
    uint64_t batch_number = 0;
    {
      std::lock_guard lock(mu_);
      if (delivering_) return;  // the thread delivering now will take ours too
      if (notices_.empty() && writes_.empty()) return;
      delivering_ = true;
      batch.swap(notices_);
      std::swap(writes, writes_);
      batch_number = batches_swapped_++;
    }
    // Records first, in one transaction, so that a listener who queries
    // runs.db sees what it was told about.
    std::vector<EventRecord> stored;
    if (!writes.empty()) {
      auto written = runs_.Write(writes);
      // runs.db trouble must not stop executions; the records lag behind.
      if (written.ok()) {
        stored = std::move(*written);
      } else {
        std::fprintf(stderr, "kiln: driver: writing runs.db failed: %s\n",
                     written.status().ToString().c_str());
      }
    }
    std::vector<std::pair<std::string, ExecutionListener*>> targets;
    {
      std::lock_guard lock(listeners_mu_);
      for (const auto& [id, l] : listeners_) targets.push_back(l);
    }
    for (const Notice& n : batch) {
      if (auto* c = std::get_if<Notice::Commit>(&n.what)) {
        if (options_.on_commit) options_.on_commit(c->project, c->branch, c->commit);
        continue;
      }
      for (const auto& [filter, l] : targets) {
        if (auto* e = std::get_if<ExecutionRecord>(&n.what)) {
          if (filter.empty() || filter == e->id) l->OnExecution(*e);
        } else if (auto* j = std::get_if<JobRecord>(&n.what)) {
          if (filter.empty() || filter == j->execution) l->OnJob(*j);
        } else if (auto* ev = std::get_if<Notice::Events>(&n.what)) {
          if (ev->first + ev->count > stored.size()) continue;  // not written: no seq
          if (!filter.empty() && filter != ev->execution) continue;
          std::vector<EventRecord> events(stored.begin() + ptrdiff_t(ev->first),
                                          stored.begin() + ptrdiff_t(ev->first + ev->count));
          l->OnEvents(ev->execution, events);
        }
      }
    }
    std::lock_guard lock(mu_);
    // runs.db has them now (or failed to take them: then they are lost
    // either way, as a restarted server would lose them).
    std::erase_if(unwritten_cache_,
                  [&](const auto& entry) { return entry.second.batch <= batch_number; });
    delivering_ = false;
    cv_.notify_all();
  }
}

}  // namespace kiln
