#include "model/export.h"

#include <gtest/gtest.h>

#include "core/guid.h"
#include "model/meta.h"
#include "model/repository.h"
#include "store/memory_store.h"

namespace kiln {
namespace {

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(repo_.CreateProject("sky", "survey", "ada").ok());
    folder_ = NewGuid();
    Patch p{std::nullopt,
            "data",
            {PatchOp::Create(folder_, RootGuid(), MetaGuid("Folder"), {{"name", Value("data")}})}};
    ASSERT_TRUE(repo_.Commit({"sky", "main", "ada", "data", std::nullopt}, p).ok());
    auto head = repo_.BranchHead("sky", "main");
    ASSERT_TRUE(repo_.CreateBranch("sky", "exp", *head).ok());
    ASSERT_TRUE(repo_.CreateTag("sky", "v1", *head).ok());
    Patch q{std::nullopt, "rename", {PatchOp::SetAttr(folder_, "name", Value("raw"))}};
    ASSERT_TRUE(repo_.Commit({"sky", "exp", "bob", "rename", std::nullopt}, q).ok());
  }
  MemoryStore store_;
  FakeClock clock_;
  Repository repo_{store_, clock_};
  std::string folder_;
};

TEST_F(ExportTest, RoundTripIsByteIdentical) {
  ExportStats stats;
  auto file = ExportProject(store_, "sky", &stats);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(stats.refs, 4u);  // project, heads/main, heads/exp, tags/v1
  EXPECT_GT(stats.objects, 10u);

  MemoryStore other;
  ASSERT_TRUE(ImportProject(other, *file, "").ok());
  auto again = ExportProject(other, "sky");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *file);

  Repository other_repo(other, clock_);
  EXPECT_EQ(*other_repo.BranchHead("sky", "exp"), *repo_.BranchHead("sky", "exp"));
  auto log = other_repo.Log(*other_repo.Resolve("sky", "exp"));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 3u);
  EXPECT_EQ((*other_repo.LoadTree(*other_repo.Resolve("sky", "v1")))->ToJsonString(),
            (*repo_.LoadTree(*repo_.Resolve("sky", "v1")))->ToJsonString());
}

TEST_F(ExportTest, ImportUnderAnotherNameAndRefuseExisting) {
  auto file = ExportProject(store_, "sky");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ImportProject(store_, *file, "").code(), Code::kAlreadyExists);
  ASSERT_TRUE(ImportProject(store_, *file, "sky-copy").ok());
  auto info = repo_.GetProject("sky-copy");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->description, "survey");
  EXPECT_EQ(*repo_.BranchHead("sky-copy", "main"), *repo_.BranchHead("sky", "main"));
  EXPECT_EQ(ImportProject(store_, *file, "bad/name").code(), Code::kInvalidArgument);
  EXPECT_EQ(ExportProject(store_, "nothing").status().code(), Code::kNotFound);
}

TEST_F(ExportTest, DamagedFilesAreRefusedAndWriteNothing) {
  auto file = ExportProject(store_, "sky");
  ASSERT_TRUE(file.ok());
  MemoryStore other;
  std::string flipped = *file;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_EQ(ImportProject(other, flipped, "").code(), Code::kCorruption);
  EXPECT_EQ(ImportProject(other, file->substr(0, file->size() - 1), "").code(), Code::kCorruption);
  EXPECT_EQ(ImportProject(other, "hello", "").code(), Code::kCorruption);
  EXPECT_EQ(other.object_count(), 0u);
  EXPECT_TRUE(other.ListRefs("")->empty());
}

}  // namespace
}  // namespace kiln
