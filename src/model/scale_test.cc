// Behaviour at scale on a generated 100k-node project: an edit writes only
// the path to the root. Timings are printed for information, never asserted
// (see bench/ for measurements).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "model/meta.h"
#include "model/repository.h"
#include "model/testing/generate.h"
#include "model/tree.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace kiln {
namespace {

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

class Scale : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto start = std::chrono::steady_clock::now();
    auto tree = GenerateProjectTree({.nodes = 100'000}, &info_);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    std::printf("generate 100k: %.1f ms (%zu nodes)\n", MillisSince(start), tree->size());
    store_ = new MemoryStore;
    WriteBatch batch;
    start = std::chrono::steady_clock::now();
    auto root = tree->Write(&batch);
    ASSERT_TRUE(root.ok());
    std::printf("write all: %.1f ms\n", MillisSince(start));
    ASSERT_TRUE(store_->Write(batch).ok());
    root_ = *root;
    size_ = tree->size();
  }
  static void TearDownTestSuite() { delete store_; }

  static GeneratedProject info_;
  static MemoryStore* store_;
  static Digest root_;
  static size_t size_;
};

GeneratedProject Scale::info_;
MemoryStore* Scale::store_;
Digest Scale::root_;
size_t Scale::size_;

TEST_F(Scale, LoadIsComplete) {
  ASSERT_GE(size_, 100'000u);
  auto start = std::chrono::steady_clock::now();
  auto tree = Tree::Load(*store_, root_);
  double ms = MillisSince(start);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  std::printf("load %zu nodes: %.1f ms\n", tree->size(), ms);
  EXPECT_EQ(tree->size(), size_);
  EXPECT_EQ(*tree->RootDigest(), root_);
  EXPECT_TRUE(CheckAllRules(*tree).ok());
}

TEST_F(Scale, OneAttributeEditWritesOnlyThePathToTheRoot) {
  auto tree = Tree::Load(*store_, root_);
  ASSERT_TRUE(tree.ok());
  // A port of an operation in the last pipeline: the deepest kind of node.
  auto op = tree->Find(info_.operations.back());
  ASSERT_TRUE(op);
  NodeRef port = op->child(0);
  size_t depth = 0;
  for (auto p = port.parent(); p; p = p->parent()) ++depth;
  EXPECT_GE(depth, 5u);

  constexpr int kRounds = 200;
  double total_ms = 0;
  for (int i = 0; i < kRounds; ++i) {
    Patch patch;
    patch.ops.push_back(
        PatchOp::SetAttr(std::string(port.guid()), "dataType", i % 2 ? "tensor" : "any"));
    WriteBatch batch;
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(tree->Apply(patch).ok());
    auto root = tree->Write(&batch);
    total_ms += MillisSince(start);
    ASSERT_TRUE(root.ok());
    ASSERT_EQ(batch.objects().size(), depth + 1);
    EXPECT_FALSE(tree->dirty());
  }
  std::printf("one-attribute edit + write on %zu nodes: %.1f us average\n", tree->size(),
              1000 * total_ms / kRounds);
}

// Commits of one-attribute edits through Repository on a 100k-node project:
// each must write the path plus the commit object and move the branch.
void CommitLatency(ObjectStore& store, const char* label) {
  FakeClock clock;
  Repository repo(store, clock);
  ASSERT_TRUE(repo.CreateProject("big", "", "bench").ok());
  GeneratedProject g = GenerateProjectPatch({.nodes = 100'000});
  CommitRequest req{"big", "main", "bench", "generate", std::nullopt};
  ASSERT_TRUE(repo.Commit(req, g.patch).ok());
  std::vector<double> ms;
  for (int i = 0; i < 200; ++i) {
    Patch p;
    p.ops.push_back(
        PatchOp::SetAttr(g.operations[size_t(i * 7919) % g.operations.size()], "lr", 0.001 * i));
    req.message = "edit";
    auto start = std::chrono::steady_clock::now();
    auto c = repo.Commit(req, p);
    ms.push_back(MillisSince(start));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s: commit of a one-attribute edit on 100k nodes: p50 %.3f ms, p90 %.3f ms\n", label,
              ms[ms.size() / 2], ms[ms.size() * 9 / 10]);
}

TEST(ScaleCommit, MemoryStore) {
  MemoryStore store;
  CommitLatency(store, "MemoryStore");
}

TEST(ScaleCommit, SqliteStore) {
  std::string path = ::testing::TempDir() + "/kiln-model-scale.db";
  std::filesystem::remove(path);
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  CommitLatency(**store, "SqliteStore");
  store->reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

}  // namespace
}  // namespace kiln
