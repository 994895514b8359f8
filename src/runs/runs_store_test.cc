#include "runs/runs_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "store/testing/postgres_server.h"

namespace kiln {
namespace {

ExecutionRecord Execution(const std::string& id, int64_t created) {
  ExecutionRecord e;
  e.id = id;
  e.project = "digits";
  e.pipeline = "p-guid";
  e.commit = Digest::Of("commit");
  e.ref = "main";
  e.branch = "main";
  e.user = "ada";
  e.created_ms = created;
  return e;
}

JobRecord Job(const std::string& id, const std::string& execution) {
  JobRecord j;
  j.id = id;
  j.execution = execution;
  j.node = "node-" + id;
  j.name = "op " + id;
  return j;
}

// Every test runs on SQLite and on PostgreSQL (a server the test binary
// starts, a new database per test): the store's behaviour is the same.
class RunsStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      auto server = testing::PostgresServer::Shared();
      ASSERT_TRUE(server.ok()) << server.status().ToString();
      auto conninfo = (*server)->CreateDatabase("runs_test");
      ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
      location_ = *conninfo;
    } else {
      dir_ = std::filesystem::temp_directory_path() /
             ("kiln-runs-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
      std::filesystem::create_directories(dir_);
      location_ = (dir_ / "runs.db").string();
    }
    Reopen();
  }
  void TearDown() override {
    store.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // Closes the store and opens the same database again.
  void Reopen() {
    store.reset();
    auto s =
        GetParam() == "postgres" ? RunsStore::OpenPostgres(location_) : RunsStore::Open(location_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store = std::move(*s);
  }
  std::unique_ptr<RunsStore> store;
  std::string location_;
  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Engines, RunsStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(RunsStoreTest, ExecutionsAndJobs) {
  ASSERT_TRUE(store->CreateExecution(Execution("e1", 10), {Job("b", "e1"), Job("a", "e1")}).ok());
  ASSERT_TRUE(store->CreateExecution(Execution("e2", 20), {}).ok());
  EXPECT_FALSE(store->CreateExecution(Execution("e1", 30), {}).ok());  // ids are unique

  auto e = store->GetExecution("e1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->commit, Digest::Of("commit"));
  EXPECT_EQ(e->state, ExecutionState::kRunning);
  EXPECT_FALSE(e->artifacts.has_value());
  EXPECT_EQ(store->GetExecution("nope").status().code(), Code::kNotFound);

  auto list = store->ListExecutions("digits");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "e2");  // newest first
  EXPECT_TRUE(store->ListExecutions("other")->empty());

  auto jobs = store->ListJobs("e1");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].id, "b");  // plan order, not id order

  JobRecord j = (*jobs)[0];
  j.state = JobState::kSucceeded;
  j.cache_key = Digest::Of("key");
  j.exit_code = 0;
  j.started_ms = 5;
  j.outputs["model"] = OutputRef{Digest::Of("w"), "torch", 12};
  ASSERT_TRUE(store->UpdateJob(j).ok());
  auto back = store->GetJob("b");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->state, JobState::kSucceeded);
  EXPECT_EQ(back->cache_key, Digest::Of("key"));
  EXPECT_EQ(back->exit_code, 0);
  EXPECT_EQ(back->outputs, j.outputs);
  EXPECT_EQ(store->UpdateJob(Job("zz", "e1")).code(), Code::kNotFound);

  e->state = ExecutionState::kFailed;
  e->reason = "server restarted";
  e->finished_ms = 99;
  e->artifacts = Digest::Of("artifacts");
  ASSERT_TRUE(store->UpdateExecution(*e).ok());
  EXPECT_EQ(store->GetExecution("e1")->reason, "server restarted");
  EXPECT_EQ(store->GetExecution("e1")->artifacts, Digest::Of("artifacts"));
  auto running = store->ListRunningExecutions();
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].id, "e2");
}

TEST_P(RunsStoreTest, EventsByOffsetMetricsAndFigures) {
  ASSERT_TRUE(store->CreateExecution(Execution("e", 1), {Job("j", "e")}).ok());
  std::vector<NewEvent> batch = {
      {1.0, "log", "", R"({"line":"one"})"},
      {1.1, "metric", "loss", R"({"name":"loss","value":0.5,"step":0})"},
      {1.2, "figure", "1", R"({"figure":1,"revision":1})"},
      {1.3, "metric", "loss", R"({"name":"loss","value":"nan","step":1})"},
      {1.4, "log", "", R"({"line":"two"})"},
      {1.5, "figure", "1", R"({"figure":1,"revision":2})"},
      {1.6, "figure", "2", R"({"figure":2,"revision":1})"},
      {1.7, "metric", "acc", R"({"name":"acc","value":0.9})"},
  };
  auto appended = store->AppendEvents("j", batch);
  ASSERT_TRUE(appended.ok());
  ASSERT_EQ(appended->size(), batch.size());
  EXPECT_EQ((*appended)[0].seq, 1);
  EXPECT_EQ((*appended)[7].seq, 8);
  // A later batch continues the sequence.
  auto more = store->AppendEvents("j", {{2.0, "log", "", R"({"line":"three"})"}});
  EXPECT_EQ((*more)[0].seq, 9);

  auto logs = store->Events("j", {.after_seq = 0, .kind = "log", .limit = 10});
  ASSERT_EQ(logs->size(), 3u);
  EXPECT_EQ((*logs)[1].seq, 5);
  auto after = store->Events("j", {.after_seq = 5, .kind = "log", .limit = 10});
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].seq, 9);
  EXPECT_EQ(store->Events("j", {.after_seq = 0, .kind = "", .limit = 4})->size(), 4u);

  auto loss = store->MetricSeries("j", "loss");
  ASSERT_EQ(loss->size(), 2u);
  EXPECT_EQ((*loss)[0].value, 0.5);
  EXPECT_TRUE(std::isnan((*loss)[1].value));
  EXPECT_EQ((*loss)[1].step, 1);
  EXPECT_EQ(*store->MetricNames("j"), (std::vector<std::string>{"acc", "loss"}));

  auto figures = store->Figures("j");
  ASSERT_EQ(figures->size(), 2u);
  EXPECT_EQ((*figures)[0].payload, R"({"figure":1,"revision":2})");  // latest revision only
  EXPECT_EQ((*figures)[1].name, "2");
}

TEST_P(RunsStoreTest, SeqSurvivesReopen) {
  ASSERT_TRUE(store->AppendEvents("j", {{1, "log", "", "{}"}, {2, "log", "", "{}"}}).ok());
  Reopen();
  auto more = store->AppendEvents("j", {{3, "log", "", "{}"}});
  ASSERT_TRUE(more.ok());
  EXPECT_EQ((*more)[0].seq, 3);
  auto events = store->Events("j", {});
  ASSERT_EQ(events->size(), 3u);
  EXPECT_DOUBLE_EQ((*events)[2].time, 3);
}

// Times are milliseconds since 1970 (past 2^31) and sizes past 2^32: every
// integer column holds 64 bits, on both engines.
TEST_P(RunsStoreTest, TodaysMillisecondsFitEveryColumn) {
  const int64_t now = 1'796'000'000'000;
  ExecutionRecord e = Execution("e1", now);
  e.finished_ms = now + 1;
  JobRecord j = Job("a", "e1");
  j.queued_ms = now;
  ASSERT_TRUE(store->CreateExecution(e, {j}).ok());
  j.started_ms = now + 2;
  j.finished_ms = now + 3;
  j.outputs["y"] = OutputRef{Digest::Of("y"), "raw", 1ull << 40};
  ProvenanceRecord p{Digest::Of("y"), "y", "a", "e1", "{}", {}, now};
  p.started_ms = now + 2;
  p.project = "digits";
  RunsBatch batch;
  batch.jobs.push_back(j);
  batch.provenance.push_back(p);
  batch.cache.push_back({Digest::Of("key"), j.outputs, "a", now});
  batch.grants.push_back({"digits", Digest::Of("y"), "job", now, "ada", ""});
  batch.events.emplace_back("a", NewEvent{double(now) / 1000, "log", "", "{}"});
  auto written = store->Write(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(store->GetExecution("e1")->created_ms, now);
  EXPECT_EQ(store->GetJob("a")->finished_ms, now + 3);
  EXPECT_EQ(store->GetJob("a")->outputs, j.outputs);
  auto producers = store->Producers("digits", Digest::Of("y"));
  ASSERT_EQ(producers->size(), 1u);
  EXPECT_EQ((*producers)[0].record.started_ms, now + 2);
  EXPECT_EQ((*store->GetCache(Digest::Of("key")))->created_ms, now);
  EXPECT_EQ((*store->GetGrant("digits", Digest::Of("y")))->created_ms, now);
  EXPECT_DOUBLE_EQ((*store->Events("a", {}))[0].time, double(now) / 1000);
  EXPECT_EQ(store->JobProvenance("a")->size(), 1u);
}

// Several servers on one store: each reconciles only the executions it
// drives (and those from before servers had names).
TEST_P(RunsStoreTest, RunningExecutionsOfOneServer) {
  ExecutionRecord a = Execution("a", 1), b = Execution("b", 2), old = Execution("old", 3);
  a.server = "host-a";
  b.server = "host-b";
  ASSERT_TRUE(store->CreateExecution(a, {}).ok());
  ASSERT_TRUE(store->CreateExecution(b, {}).ok());
  ASSERT_TRUE(store->CreateExecution(old, {}).ok());
  auto ids = [](const Result<std::vector<ExecutionRecord>>& list) {
    std::vector<std::string> out;
    for (const ExecutionRecord& e : *list) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(ids(store->ListRunningExecutions("host-a")), (std::vector<std::string>{"a", "old"}));
  EXPECT_EQ(ids(store->ListRunningExecutions("host-b")), (std::vector<std::string>{"b", "old"}));
  EXPECT_EQ(ids(store->ListRunningExecutions()), (std::vector<std::string>{"a", "b", "old"}));
  EXPECT_EQ(store->GetExecution("b")->server, "host-b");
}

// A cancel left for another server is taken once, by that server only.
TEST_P(RunsStoreTest, CancelRequestsAreTakenOnceByTheirServer) {
  ASSERT_TRUE(store->RequestCancel({"e1", "execution", "host-a", "ada", 5}).ok());
  ASSERT_TRUE(store->RequestCancel({"j7", "job", "host-a", "bob", 6}).ok());
  ASSERT_TRUE(store->RequestCancel({"e1", "execution", "host-a", "bob", 7}).ok());  // no second
  ASSERT_TRUE(store->RequestCancel({"e2", "execution", "host-b", "ada", 8}).ok());
  auto taken = store->TakeCancelRequests("host-a");
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_EQ(taken->size(), 2u);
  std::map<std::string, CancelRequest> by_target;
  for (const CancelRequest& r : *taken) by_target[r.target] = r;
  EXPECT_EQ(by_target["e1"].user, "ada");
  EXPECT_EQ(by_target["e1"].kind, "execution");
  EXPECT_EQ(by_target["j7"].kind, "job");
  EXPECT_EQ(by_target["j7"].created_ms, 6);
  EXPECT_TRUE(store->TakeCancelRequests("host-a")->empty());
  Reopen();  // requests are in the store, not in memory
  ASSERT_EQ(store->TakeCancelRequests("host-b")->size(), 1u);
}

TEST_P(RunsStoreTest, ActionCacheAndProvenance) {
  Digest key = Digest::Of("key");
  EXPECT_FALSE(store->GetCache(key)->has_value());
  CacheEntry entry{key, {{"out", OutputRef{Digest::Of("o"), "json", 3}}}, "job1", 7};
  ASSERT_TRUE(store->PutCache(entry).ok());
  auto hit = store->GetCache(key);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->outputs, entry.outputs);
  EXPECT_EQ((*hit)->job, "job1");
  ASSERT_TRUE(store->DeleteCache(key).ok());
  EXPECT_FALSE(store->GetCache(key)->has_value());

  ProvenanceRecord r{Digest::Of("o"),          "out", "job1", "e1", R"({"code":"..."})",
                     {{"x", Digest::Of("x")}}, 5};
  ASSERT_TRUE(store->PutProvenance(r).ok());
  auto prov = store->GetProvenance(Digest::Of("o"));
  ASSERT_EQ(prov->size(), 1u);
  EXPECT_EQ((*prov)[0].job, "job1");
  EXPECT_EQ((*prov)[0].output, "out");
  EXPECT_EQ((*prov)[0].inputs.at("x"), Digest::Of("x"));
  EXPECT_TRUE(store->GetProvenance(Digest::Of("none"))->empty());
}

// docs/access.md, "Artifacts": a project has an artifact only by a grant.
TEST_P(RunsStoreTest, GrantsSayWhichProjectHasAnArtifact) {
  Digest a = Digest::Of("a"), b = Digest::Of("b");
  EXPECT_FALSE(*store->ProjectHasArtifact("digits", a));
  ASSERT_TRUE(store->Grant({{"digits", a, "upload", 1}, {"sky", a, "job", 2}}).ok());
  ASSERT_TRUE(store->Grant({{"digits", a, "job", 3}}).ok());  // kept as it was
  EXPECT_TRUE(*store->ProjectHasArtifact("digits", a));
  EXPECT_FALSE(*store->ProjectHasArtifact("digits", b));
  EXPECT_FALSE(*store->ProjectHasArtifact("other", a));
  auto projects = store->ProjectsWithArtifact(a);
  ASSERT_TRUE(projects.ok());
  EXPECT_EQ(*projects, (std::vector<std::string>{"digits", "sky"}));
  // In a batch, with the rest of a job's records.
  RunsBatch batch;
  batch.grants.push_back({"sky", b, "job", 4});
  ASSERT_TRUE(store->Write(batch).ok());
  EXPECT_TRUE(*store->ProjectHasArtifact("sky", b));
}

TEST_P(RunsStoreTest, ProjectOutputsListJobsWithOutputsNewestFirst) {
  ASSERT_TRUE(store->CreateExecution(Execution("e1", 1), {Job("j1", "e1"), Job("j2", "e1")}).ok());
  JobRecord j1 = Job("j1", "e1");
  j1.state = JobState::kSucceeded;
  j1.finished_ms = 10;
  j1.outputs = {{"model", OutputRef{Digest::Of("m"), "torch", 9}}};
  JobRecord j2 = Job("j2", "e1");
  j2.state = JobState::kCached;
  j2.finished_ms = 20;
  j2.outputs = {{"score", OutputRef{Digest::Of("s"), "json", 4}}};
  ASSERT_TRUE(store->UpdateJob(j1).ok());
  ASSERT_TRUE(store->UpdateJob(j2).ok());
  auto list = store->ListProjectOutputs("digits");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].job, "j2");
  EXPECT_EQ((*list)[0].job_name, "op j2");
  EXPECT_EQ((*list)[0].pipeline, "p-guid");
  EXPECT_EQ((*list)[1].outputs.at("model").digest, Digest::Of("m"));
  EXPECT_TRUE(store->ListProjectOutputs("sky")->empty());
}

TEST_P(RunsStoreTest, WriteAppliesABatchInOneTransaction) {
  {
    Status created = store->CreateExecution(Execution("e1", 10), {Job("a", "e1"), Job("b", "e1")});
    ASSERT_TRUE(created.ok()) << created.ToString();
  }
  RunsBatch batch;
  JobRecord a = Job("a", "e1");
  a.state = JobState::kQueued;
  batch.jobs.push_back(a);
  a.state = JobState::kSucceeded;  // the last record of a job wins
  a.outputs["y"] = OutputRef{Digest::Of("y"), "pickle", 1};
  batch.jobs.push_back(a);
  batch.events.emplace_back("a", NewEvent{1, "state", "", R"({"state":"queued"})"});
  batch.events.emplace_back("b", NewEvent{1, "log", "", R"({"line":"x"})"});
  batch.events.emplace_back("a", NewEvent{2, "state", "", R"({"state":"succeeded"})"});
  batch.provenance.push_back({Digest::Of("y"), "y", "a", "e1", "{}", {}, 5});
  batch.cache.push_back({Digest::Of("key"), a.outputs, "a", 5});
  ExecutionRecord e = Execution("e1", 10);
  e.state = ExecutionState::kSucceeded;
  e.finished_ms = 20;
  batch.executions.push_back(e);
  auto written = store->Write(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 3u);
  EXPECT_EQ((*written)[0].job, "a");
  EXPECT_EQ((*written)[0].seq, 1);
  EXPECT_EQ((*written)[1].seq, 1);  // b's own sequence
  EXPECT_EQ((*written)[2].seq, 2);
  EXPECT_EQ(store->GetJob("a")->state, JobState::kSucceeded);
  EXPECT_EQ(store->GetJob("a")->outputs, a.outputs);
  EXPECT_EQ(store->GetJob("a")->node, "node-a");
  EXPECT_EQ(store->GetExecution("e1")->state, ExecutionState::kSucceeded);
  EXPECT_TRUE(store->GetCache(Digest::Of("key"))->has_value());
  EXPECT_EQ(store->GetProvenance(Digest::Of("y"))->size(), 1u);

  // All or nothing: a batch naming a job that does not exist writes none of it.
  RunsBatch bad;
  JobRecord b = Job("b", "e1");
  b.state = JobState::kFailed;
  bad.jobs.push_back(b);
  bad.jobs.push_back(Job("nope", "e1"));
  bad.events.emplace_back("b", NewEvent{3, "log", "", "{}"});
  EXPECT_EQ(store->Write(bad).status().code(), Code::kNotFound);
  EXPECT_EQ(store->GetJob("b")->state, JobState::kPending);
  EXPECT_EQ(store->Events("b", {})->size(), 1u);
  // ...and the sequence goes on where the table is.
  auto more = store->AppendEvents("b", {{4, "log", "", "{}"}});
  ASSERT_TRUE(more.ok());
  EXPECT_EQ((*more)[0].seq, 2);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// OutputsFromJson reads its own format by hand and anything else with
// nlohmann: both ways give the same outputs.
TEST(OutputsJson, RoundTripsPlainAndEscapedNames) {
  for (const Outputs& outputs : {Outputs{}, Outputs{{"model", {Digest::Of("m"), "torch", 0}}},
                                 Outputs{{"a", {Digest::Of("a"), "json", 12}},
                                         {"b", {Digest::Of("b"), "pickle", 1ull << 40}}},
                                 Outputs{{"we\"ird\\name", {Digest::Of("w"), "raw", 3}},
                                         {"ünï", {Digest::Of("u"), "raw", 4}}}}) {
    auto back = OutputsFromJson(OutputsToJson(outputs));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, outputs) << OutputsToJson(outputs);
  }
  // Whitespace or another key order: not the plain form, still read.
  auto spaced = OutputsFromJson(R"({ "x" : {"size": 2, "serializer": "raw", "digest": ")" +
                                Digest::Of("x").Hex() + R"("} })");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->at("x").size, 2u);
  EXPECT_EQ(OutputsFromJson("{\"x\":{\"digest\":\"zz\"").status().code(), Code::kCorruption);
  EXPECT_EQ(OutputsFromJson("not json").status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// PostgreSQL restarting (a crash: connections cut) under an open store: the
// next call outside a transaction reconnects and goes through; the schema is
// not created again by a second Open (nothing missing: no table is locked).
TEST(PostgresRunsStore, KeepsWorkingAfterTheServerRestarts) {
  auto server = testing::PostgresServer::Shared();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto conninfo = (*server)->CreateDatabase("runs_restart");
  ASSERT_TRUE(conninfo.ok());
  auto store = RunsStore::OpenPostgres(*conninfo);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ExecutionRecord e;
  e.id = "e1";
  e.project = "p";
  e.commit = Digest::Of("c");
  ASSERT_TRUE((*store)->CreateExecution(e, {}).ok());
  ASSERT_TRUE((*server)->CrashAndRestart().ok());
  e.id = "e2";
  Status created = (*store)->CreateExecution(e, {});
  ASSERT_TRUE(created.ok()) << created.ToString();
  EXPECT_EQ((*store)->ListExecutions("p")->size(), 2u);
  auto again = RunsStore::OpenPostgres(*conninfo);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE((*again)->grants_created());
  EXPECT_EQ((*again)->ListExecutions("p")->size(), 2u);
}

}  // namespace
}  // namespace kiln
