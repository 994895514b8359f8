#include "provenance/lineage.h"

#include <gtest/gtest.h>

#include "provenance/lineage_json.h"

namespace kiln {
namespace {

// Records runs the way the driver does: one execution per job, its records
// in one batch.
class History {
 public:
  History() { store = std::move(RunsStore::Open(":memory:").value()); }

  void Upload(const std::string& project, const Digest& d, const std::string& file) {
    ASSERT_TRUE(store->Grant({{project, d, "upload", 5, "ada", file}}).ok());
  }

  // Job `id` of `project` ran `code` on `inputs` and made `outputs`.
  void Job(const std::string& project, const std::string& id, const std::string& code,
           std::map<std::string, Digest> inputs, std::map<std::string, Digest> outputs,
           const std::string& cached_from = "") {
    ExecutionRecord e;
    e.id = "e-" + id;
    e.project = project;
    e.pipeline = "pipe";
    e.commit = Digest::Of("c-" + id);
    e.user = "ada";
    e.created_ms = ++clock_;
    JobRecord j;
    j.id = id;
    j.execution = e.id;
    j.node = "node-" + code;
    j.name = "op " + code;
    j.state = cached_from.empty() ? JobState::kSucceeded : JobState::kCached;
    for (const auto& [name, d] : outputs) j.outputs[name] = {d, "json", 7};
    ASSERT_TRUE(store->CreateExecution(e, {j}).ok());
    RunsBatch batch;
    batch.jobs.push_back(j);
    std::string snapshot = R"({"name":"op )" + code + R"(","code":")" + code + R"("})";
    for (const auto& [name, d] : outputs) {
      batch.provenance.push_back({d, name, id, e.id, snapshot, inputs, ++clock_, project,
                                  R"({"python":"3.11"})", clock_, cached_from});
      batch.grants.push_back({project, d, "job", clock_});
    }
    ASSERT_TRUE(store->Write(batch).ok());
  }

  LineageGraph Walk(const std::string& project, const Digest& d,
                    LineageDirection dir = LineageDirection::kUp, int64_t depth = 100) {
    auto g = WalkLineage(*store, {project, d, dir, depth});
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(*g) : LineageGraph{};
  }

  std::unique_ptr<RunsStore> store;

 private:
  int64_t clock_ = 100;
};

const Digest kData = Digest::Of("data"), kX = Digest::Of("x"), kY = Digest::Of("y");

// data (uploaded) → A → x → B → y
class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.Upload("lab", kData, "spectra.csv");
    h.Job("lab", "A", "clean", {{"raw", kData}}, {{"x", kX}});
    h.Job("lab", "B", "fit", {{"x", kX}}, {{"model", kY}});
  }
  History h;
};

TEST_F(LineageTest, UpFollowsProducersToTheUploadedData) {
  LineageGraph g = h.Walk("lab", kY);
  ASSERT_EQ(g.artifacts.size(), 3u);
  EXPECT_EQ(g.artifacts[0].digest, kY);
  EXPECT_EQ(g.artifacts[0].job, "B");
  EXPECT_EQ(g.artifacts[1].digest, kX);
  EXPECT_EQ(g.artifacts[1].level, 1);
  EXPECT_EQ(g.artifacts[2].digest, kData);
  EXPECT_EQ(g.artifacts[2].level, 2);
  ASSERT_TRUE(g.artifacts[2].grant.has_value());
  EXPECT_EQ(g.artifacts[2].grant->how, "upload");
  EXPECT_EQ(g.artifacts[2].grant->source, "spectra.csv");
  ASSERT_EQ(g.jobs.size(), 2u);
  EXPECT_EQ(g.jobs[0].producer->record.job, "B");
  EXPECT_EQ(g.jobs[0].level, 1);
  EXPECT_EQ(g.jobs[1].producer->record.job, "A");
  EXPECT_EQ(g.jobs[1].producer->job_name, "op clean");
  EXPECT_EQ(g.used.size(), 2u);
  EXPECT_EQ(g.generated.size(), 2u);
  EXPECT_EQ(g.operations.size(), 2u);
  EXPECT_FALSE(g.truncated);
}

TEST_F(LineageTest, DepthBoundsTheWalk) {
  LineageGraph g = h.Walk("lab", kY, LineageDirection::kUp, 1);
  EXPECT_TRUE(g.truncated);
  ASSERT_EQ(g.jobs.size(), 1u);
  EXPECT_EQ(g.artifacts.size(), 2u);
  EXPECT_EQ(g.artifacts[1].job, "A");  // its producer is named, beyond the depth
  LineageGraph only = h.Walk("lab", kY, LineageDirection::kUp, 0);
  EXPECT_EQ(only.artifacts.size(), 1u);
  EXPECT_TRUE(only.jobs.empty());
  EXPECT_FALSE(WalkLineage(*h.store, {"lab", kY, LineageDirection::kUp, -1}).ok());
}

TEST_F(LineageTest, DownFindsWhatWasMadeFromIt) {
  LineageGraph g = h.Walk("lab", kData, LineageDirection::kDown);
  ASSERT_EQ(g.jobs.size(), 2u);
  EXPECT_EQ(g.jobs[0].producer->record.job, "A");
  EXPECT_EQ(g.jobs[0].level, -1);
  EXPECT_EQ(g.jobs[1].level, -2);
  ASSERT_EQ(g.artifacts.size(), 3u);
  EXPECT_EQ(g.artifacts[2].digest, kY);
  EXPECT_EQ(g.artifacts[2].level, -2);
  LineageGraph both = h.Walk("lab", kX, LineageDirection::kBoth);
  EXPECT_EQ(both.jobs.size(), 2u);
  EXPECT_EQ(both.artifacts.size(), 3u);
}

TEST_F(LineageTest, AnotherProjectsRecordsOfTheSameBytesAreNeverFollowed) {
  // The same bytes, made in "rival" by other code from other data.
  h.Upload("rival", Digest::Of("secret"), "secret.csv");
  h.Job("rival", "R", "secret code", {{"raw", Digest::Of("secret")}}, {{"x", kX}});
  h.Job("rival", "R2", "fit", {{"x", kX}}, {{"model", kY}});
  LineageGraph g = h.Walk("lab", kY);
  for (const LineageJob& j : g.jobs) EXPECT_NE(j.producer->record.project, "rival");
  for (const std::string& op : g.operations) {
    EXPECT_EQ(op.find("secret"), std::string::npos);
  }
  LineageGraph rival = h.Walk("rival", kX);
  ASSERT_EQ(rival.jobs.size(), 1u);
  EXPECT_EQ(rival.jobs[0].producer->record.job, "R");
  // Down from the shared bytes: each project sees its own jobs only.
  LineageGraph down = h.Walk("rival", kX, LineageDirection::kDown);
  ASSERT_EQ(down.jobs.size(), 1u);
  EXPECT_EQ(down.jobs[0].producer->record.job, "R2");
}

TEST_F(LineageTest, ACacheHitKeepsTheOriginalProducer) {
  h.Job("lab", "B2", "fit", {{"x", kX}}, {{"model", kY}}, "B");
  LineageGraph g = h.Walk("lab", kY);
  EXPECT_EQ(g.jobs[0].producer->record.job, "B");  // the earliest: the original
  // In a project that hit the cache of another project's job, the producer
  // is its own cached job, and of the original only that it exists.
  h.Upload("fork", kX, "x.json");
  h.Job("fork", "F", "fit", {{"x", kX}}, {{"model", kY}}, "B");
  LineageGraph fork = h.Walk("fork", kY);
  ASSERT_EQ(fork.jobs.size(), 1u);
  EXPECT_EQ(fork.jobs[0].producer->record.job, "F");
  EXPECT_EQ(fork.jobs[0].producer->state, "cached");
  EXPECT_TRUE(fork.jobs[0].cached_from_other_project);
  EXPECT_TRUE(LineageToProv(fork)["wasInformedBy"].is_null());  // B is not named
  nlohmann::json j = nlohmann::json::parse(LineageToJson(fork));
  EXPECT_EQ(j["jobs"][0]["cached_from"], nlohmann::json({{"other_project", true}}));
  // Within one project the link names the original.
  h.Job("lab", "B3", "fit", {{"x", kX}}, {{"model", Digest::Of("y3")}}, "B");
  LineageGraph same = h.Walk("lab", Digest::Of("y3"));
  EXPECT_EQ(same.jobs[0].cached_from_execution, "e-B");
  EXPECT_EQ(nlohmann::json::parse(LineageToJson(same))["jobs"][0]["cached_from"]["job"], "B");
}

TEST_F(LineageTest, EqualSnapshotsAreListedOnce) {
  h.Job("lab", "C", "fit", {{"x", kY}}, {{"model", Digest::Of("z")}});
  LineageGraph g = h.Walk("lab", Digest::Of("z"));
  EXPECT_EQ(g.jobs.size(), 3u);
  EXPECT_EQ(g.operations.size(), 2u);  // fit twice, clean once
  EXPECT_EQ(g.jobs[0].operation, g.jobs[1].operation);
}

TEST_F(LineageTest, JsonAndProvJson) {
  LineageGraph g = h.Walk("lab", kY);
  nlohmann::json j = nlohmann::json::parse(LineageToJson(g, {{kData, "spectra.csv"}}));
  EXPECT_EQ(j["artifact"], kY.Hex());
  EXPECT_EQ(j["artifacts"][0]["origin"]["kind"], "job");
  EXPECT_EQ(j["artifacts"][0]["serializer"], "json");
  EXPECT_EQ(j["artifacts"][2]["origin"]["kind"], "upload");
  EXPECT_EQ(j["artifacts"][2]["origin"]["user"], "ada");
  EXPECT_EQ(j["artifacts"][2]["name"], "spectra.csv");
  EXPECT_EQ(j["jobs"][1]["inputs"]["raw"], kData.Hex());
  EXPECT_EQ(j["jobs"][1]["runtime"]["python"], "3.11");
  EXPECT_EQ(j["operations"][j["jobs"][1]["operation"].get<size_t>()]["code"], "clean");
  EXPECT_EQ(j["used"].size(), 2u);

  nlohmann::json prov = LineageToProv(g);
  EXPECT_EQ(prov["entity"].size(), 3u);
  EXPECT_EQ(prov["activity"].size(), 2u);
  EXPECT_EQ(prov["used"].size(), 2u);
  EXPECT_EQ(prov["wasGeneratedBy"].size(), 2u);
  EXPECT_EQ(prov["wasAttributedTo"].size(), 1u);
  EXPECT_EQ(prov["activity"]["job:A"]["kiln:code"], "clean");
  EXPECT_TRUE(prov["agent"].contains("user:ada"));
}

TEST_F(LineageTest, JsonTextEscapesWhatNeedsIt) {
  // The snapshot in History::Job is built by hand: keep the code JSON-safe
  // there and put the awkward characters in the job's name only.
  h.Job("lab", "Q\"uote\n\x01", "fit", {{"x", kY}, {"in\"put", kX}}, {{"model", Digest::Of("q")}});
  nlohmann::json j = nlohmann::json::parse(LineageToJson(h.Walk("lab", Digest::Of("q"))));
  EXPECT_EQ(j["jobs"][0]["id"], "Q\"uote\n\x01");
  EXPECT_EQ(j["jobs"][0]["inputs"]["in\"put"], kX.Hex());
  EXPECT_EQ(j["jobs"][0]["inputs"]["x"], kY.Hex());
}

}  // namespace
}  // namespace kiln
