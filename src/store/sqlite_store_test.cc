// SQLite-specific behaviour: persistence, corruption on disk, group commit.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <thread>

namespace kiln {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("kiln-sqlite-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "kiln.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, SurvivesReopen) {
  Digest d;
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    WriteBatch b;
    d = b.Put("durable");
    b.UpdateRef({"heads/main", std::nullopt, d});
    ASSERT_TRUE((*store)->Write(b).ok());
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(**(*store)->GetRef("heads/main"), d);
  EXPECT_EQ(*(*store)->Get(d), "durable");
}

TEST_F(SqliteStoreTest, BytesDamagedOnDiskAreCorruption) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  WriteBatch b;
  Digest d = b.Put("precious bytes");
  ASSERT_TRUE((*store)->Write(b).ok());

  // Damage the row behind the store's back, as a bad disk or a stray tool would.
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE objects SET data = ?1 WHERE digest = ?2", -1, &st, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(st, 1, "precious bytez", 14, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, d.Raw().data(), 32, SQLITE_STATIC);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);

  Result<std::string> r = (*store)->Get(d);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find(d.Hex()), std::string::npos);
}

TEST_F(SqliteStoreTest, NotADatabaseIsAClearError) {
  {
    FILE* f = fopen(path_.c_str(), "w");
    fputs(
        "this is not a database, it is a text file with enough bytes to look like a header "
        "to sqlite when it opens it.",
        f);
    fclose(f);
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path_), std::string::npos);
}

TEST_F(SqliteStoreTest, ConcurrentWritersShareTransactions) {
  auto opened = SqliteStore::Open(path_);
  ASSERT_TRUE(opened.ok());
  SqliteStore& store = **opened;
  constexpr int kThreads = 8, kCommits = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        WriteBatch b;
        b.Put(std::to_string(t) + "/" + std::to_string(i));
        ASSERT_TRUE(store.Write(b).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store.writes(), uint64_t(kThreads * kCommits));
  // Not a timing assert: with 8 writers queued behind each fsync, at least
  // some transactions must carry more than one batch.
  EXPECT_LT(store.transactions(), store.writes());
}

TEST_F(SqliteStoreTest, TwoHandlesOnOneFileSeeEachOther) {
  auto a = SqliteStore::Open(path_);
  auto b = SqliteStore::Open(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  WriteBatch w;
  Digest d = w.Put("shared");
  w.UpdateRef({"r", std::nullopt, d});
  ASSERT_TRUE((*a)->Write(w).ok());
  EXPECT_EQ(**(*b)->GetRef("r"), d);
  WriteBatch again;
  again.UpdateRef({"r", std::nullopt, d});
  EXPECT_EQ((*b)->Write(again).code(), Code::kConflict);
}

}  // namespace
}  // namespace kiln
