// The collectors and the deletion against real stores: a repository (in
// memory), runs.db (SQLite, in a temporary folder) and a local artifact
// store, in a scenario built so that exactly one artifact is garbage.
#include "gc/gc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "core/clock.h"
#include "core/guid.h"
#include "model/meta.h"
#include "storage/local_artifact_store.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kiln-gc-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    runs_ = std::move(RunsStore::Open((dir_ / "runs.db").string())).value();
    artifacts_ = std::move(LocalArtifactStore::Open(dir_ / "artifacts")).value();
    ASSERT_TRUE(repo_.CreateProject("lab", "", "ada").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  Digest Put(const std::string& bytes) {
    std::istringstream in(bytes);
    auto info = artifacts_->PutStream(in);
    EXPECT_TRUE(info.ok());
    EXPECT_TRUE(runs_->Grant({{"lab", info->digest, "upload", 1000}}).ok());
    return info->digest;
  }
  // A node naming `digest` as an Artifact node does; returns its guid.
  std::string Name(const Digest& digest, const std::string& branch = "main") {
    std::string guid = NewGuid();
    Patch p;
    p.message = "name it";
    p.ops = {
        PatchOp::Create(guid, RootGuid(), MetaGuid("Folder"), {{"digest", Value(digest.Hex())}})};
    auto c = repo_.Commit({"lab", branch, "ada", "edit", std::nullopt}, p);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return guid;
  }
  void Unname(const std::string& guid) {
    Patch p;
    p.message = "drop it";
    p.ops = {PatchOp::Delete(guid)};
    ASSERT_TRUE(repo_.Commit({"lab", "main", "ada", "edit", std::nullopt}, p).ok());
  }

  fs::path dir_;
  MemoryStore store_;
  FakeClock clock_;
  Repository repo_{store_, clock_};
  std::unique_ptr<RunsStore> runs_;
  std::unique_ptr<LocalArtifactStore> artifacts_;
};

TEST_F(GcTest, OnlyWhatNothingReferencesIsGarbageAndOnlyThatIsDeleted) {
  Digest head = Put("named by the head of main");
  Name(head);
  Digest history = Put("named only by an older commit");
  Unname(Name(history));
  Digest tagged = Put("named only on a tag");
  {
    ASSERT_TRUE(repo_.CreateBranch("lab", "side", *repo_.BranchHead("lab", "main")).ok());
    Name(tagged, "side");
    ASSERT_TRUE(repo_.CreateTag("lab", "v1", *repo_.BranchHead("lab", "side")).ok());
    ASSERT_TRUE(repo_.DeleteBranch("lab", "side").ok());
  }
  Digest output = Put("a job's output");
  ProvenanceRecord record;
  record.artifact = output;
  record.output = "out";
  record.job = "j1";
  record.execution = "e1";
  record.operation = "{}";
  record.project = "lab";
  record.inputs = {{"x", Put("a job's input")}};
  ASSERT_TRUE(runs_->PutProvenance(record).ok());
  // Named only by a branch deleted since: no commit of a branch or tag names it.
  Digest garbage = Put("named only by a deleted branch");
  ASSERT_TRUE(repo_.CreateBranch("lab", "scratch", *repo_.BranchHead("lab", "main")).ok());
  Name(garbage, "scratch");
  ASSERT_TRUE(repo_.DeleteBranch("lab", "scratch").ok());

  GcOptions o;
  o.grace_ms = 0;  // nothing is young here
  auto plan = PlanGarbage(repo_, *runs_, *artifacts_, o);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->garbage.size(), 1u);
  EXPECT_EQ(plan->garbage[0].artifact.digest, garbage);
  EXPECT_EQ(plan->garbage[0].projects, std::vector<std::string>{"lab"});
  EXPECT_EQ(plan->kept_by_history, 3u);  // head, history, tagged
  EXPECT_EQ(plan->kept_by_runs, 2u);     // the output and the input

  // With the default grace period the fresh upload is kept.
  EXPECT_TRUE(PlanGarbage(repo_, *runs_, *artifacts_, GcOptions{})->garbage.empty());

  // Asked to delete the garbage and a referenced artifact: only the garbage goes.
  auto deleted = DeleteGarbage(repo_, *runs_, *artifacts_, {garbage, head}, o);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->deleted, 1u);
  EXPECT_EQ(deleted->skipped, 1u);
  EXPECT_FALSE(*artifacts_->Exists(garbage));
  EXPECT_TRUE(*artifacts_->Exists(head));
  EXPECT_FALSE(*runs_->ProjectHasArtifact("lab", garbage));
  EXPECT_TRUE(*runs_->ProjectHasArtifact("lab", head));
  EXPECT_TRUE(PlanGarbage(repo_, *runs_, *artifacts_, o)->garbage.empty());
}

// Named again between the listing and the deletion: it is not deleted.
TEST_F(GcTest, AnArtifactNamedAfterThePlanIsKept) {
  Digest d = Put("about to be used");
  GcOptions o;
  o.grace_ms = 0;
  auto plan = PlanGarbage(repo_, *runs_, *artifacts_, o);
  ASSERT_EQ(plan->garbage.size(), 1u);
  Name(d);
  auto deleted = DeleteGarbage(repo_, *runs_, *artifacts_, {d}, o);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted, 0u);
  EXPECT_TRUE(*artifacts_->Exists(d));
}

}  // namespace
}  // namespace kiln
