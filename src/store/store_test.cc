// Behaviour every ObjectStore backend must share, run against each of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "store/memory_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "store/testing/postgres_server.h"

namespace kiln {
namespace {

struct Backend {
  std::string name;
  std::function<std::unique_ptr<ObjectStore>(const std::string& dir)> open;
};

class ObjectStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kiln-store-test-" + std::to_string(::getpid()) + "-" + GetParam().name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = GetParam().open(dir_.string());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreTest, PutAndGetByDigest) {
  WriteBatch b;
  Digest d = b.Put("hello");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(*store_->Get(d), "hello");
  EXPECT_TRUE(*store_->Contains(d));
  Digest missing = Digest::Of("absent");
  EXPECT_EQ(store_->Get(missing).status().code(), Code::kNotFound);
  EXPECT_FALSE(*store_->Contains(missing));
  std::vector<Digest> both{d, d};
  auto many = store_->GetMany(both);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 2u);
  std::vector<Digest> with_missing{d, missing};
  EXPECT_EQ(store_->GetMany(with_missing).status().code(), Code::kNotFound);
}

TEST_P(ObjectStoreTest, RefsMoveByCompareAndSwap) {
  Digest a = Digest::Of("a"), b = Digest::Of("b");
  WriteBatch create;
  create.UpdateRef({"projects/p/heads/main", std::nullopt, a});
  ASSERT_TRUE(store_->Write(create).ok());
  EXPECT_EQ(**store_->GetRef("projects/p/heads/main"), a);

  // Creating it again loses: it exists.
  EXPECT_EQ(store_->Write(create).code(), Code::kConflict);

  WriteBatch stale;
  Digest orphan = stale.Put("object of a lost batch");
  stale.UpdateRef({"projects/p/heads/main", b, a});
  Status s = store_->Write(stale);
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_NE(s.message().find("projects/p/heads/main"), std::string::npos);
  // Nothing of a lost batch is applied, not even its objects.
  EXPECT_FALSE(*store_->Contains(orphan));

  WriteBatch move;
  move.UpdateRef({"projects/p/heads/main", a, b});
  ASSERT_TRUE(store_->Write(move).ok());
  EXPECT_EQ(**store_->GetRef("projects/p/heads/main"), b);

  WriteBatch del;
  del.UpdateRef({"projects/p/heads/main", b, std::nullopt});
  ASSERT_TRUE(store_->Write(del).ok());
  EXPECT_FALSE(store_->GetRef("projects/p/heads/main")->has_value());
}

TEST_P(ObjectStoreTest, ListRefsByPrefix) {
  WriteBatch b;
  for (const char* name : {"projects/a/heads/main", "projects/a/tags/v1", "projects/ab/heads/x",
                           "projects/b/heads/main"}) {
    b.UpdateRef({name, std::nullopt, Digest::Of(name)});
  }
  ASSERT_TRUE(store_->Write(b).ok());
  auto refs = store_->ListRefs("projects/a/");
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].first, "projects/a/heads/main");
  EXPECT_EQ((*refs)[1].first, "projects/a/tags/v1");
  EXPECT_EQ(store_->ListRefs("")->size(), 4u);
}

TEST_P(ObjectStoreTest, BadRefNamesAreRefused) {
  for (const char* bad : {"", "/x", "x/", "a//b", "a/../b", "a b", "a/./b"}) {
    WriteBatch b;
    b.UpdateRef({bad, std::nullopt, Digest::Of("x"), false});
    EXPECT_EQ(store_->Write(b).code(), Code::kInvalidArgument) << bad;
  }
}

TEST_P(ObjectStoreTest, ConcurrentWritersEachMoveTheirOwnRef) {
  constexpr int kThreads = 4, kCommits = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string ref = "w/" + std::to_string(t);
      std::optional<Digest> head;
      for (int i = 0; i < kCommits; ++i) {
        WriteBatch b;
        Digest d = b.Put("writer " + std::to_string(t) + " commit " + std::to_string(i));
        b.UpdateRef({ref, head, d});
        if (!store_->Write(b).ok()) failures++;
        head = d;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    auto head = store_->GetRef("w/" + std::to_string(t));
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ(*store_->Get(**head),
              "writer " + std::to_string(t) + " commit " + std::to_string(kCommits - 1));
  }
}

TEST_P(ObjectStoreTest, RacingCompareAndSwapHasOneWinner) {
  WriteBatch init;
  Digest base = Digest::Of("base");
  init.UpdateRef({"race", std::nullopt, base});
  ASSERT_TRUE(store_->Write(init).ok());
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      WriteBatch b;
      Digest d = b.Put("contender " + std::to_string(t));
      b.UpdateRef({"race", base, d});
      Status s = store_->Write(b);
      if (s.ok()) wins++;
      if (s.code() == Code::kConflict) conflicts++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ObjectStoreTest,
    ::testing::Values(Backend{"memory",
                              [](const std::string&) { return std::make_unique<MemoryStore>(); }},
                      Backend{"sqlite",
                              [](const std::string& dir) -> std::unique_ptr<ObjectStore> {
                                auto s = SqliteStore::Open(dir + "/kiln.db");
                                if (!s.ok()) return nullptr;
                                return std::move(s).value();
                              }},
                      // A fresh database per test on one server per test binary.
                      Backend{"postgres",
                              [](const std::string&) -> std::unique_ptr<ObjectStore> {
                                auto server = testing::PostgresServer::Shared();
                                if (!server.ok()) {
                                  ADD_FAILURE() << server.status().ToString();
                                  return nullptr;
                                }
                                auto conninfo = (*server)->CreateDatabase("store_test");
                                if (!conninfo.ok()) {
                                  ADD_FAILURE() << conninfo.status().ToString();
                                  return nullptr;
                                }
                                auto s = PostgresStore::Open(*conninfo);
                                if (!s.ok()) {
                                  ADD_FAILURE() << s.status().ToString();
                                  return nullptr;
                                }
                                return std::move(s).value();
                              }}),
    [](const auto& info) { return info.param.name; });

TEST(MemoryStore, CorruptObjectIsReportedNotReturned) {
  MemoryStore store;
  WriteBatch b;
  Digest d = b.Put("original");
  ASSERT_TRUE(store.Write(b).ok());
  store.CorruptForTest(d, "tampered");
  EXPECT_EQ(store.Get(d).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace kiln
