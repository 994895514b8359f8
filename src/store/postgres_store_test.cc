// PostgreSQL-specific behaviour: connection errors, reopen, corruption in the
// table, the connection pool under more callers than connections, LIKE
// wildcards in ListRefs prefixes, batches split over several INSERTs, and two
// processes' worth of stores creating the schema at once. Runs on the test
// binary's shared throwaway server (store/testing/postgres_server.h).
#include "store/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <mutex>
#include <thread>

#include "store/testing/postgres_server.h"

namespace kiln {
namespace {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::PostgresServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    auto conninfo = server_->CreateDatabase("pg_store_test");
    ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
    conninfo_ = *conninfo;
  }
  // Runs SQL directly, bypassing the store.
  void Sql(const std::string& sql) {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
  }
  testing::PostgresServer* server_ = nullptr;
  std::string conninfo_;
};

TEST_F(PostgresStoreTest, ServerDownIsAnIOErrorNamingTheConnection) {
  // Port 1 (tcpmux): nothing listens there, connecting is refused at once.
  std::string conninfo = "host=127.0.0.1 port=1 dbname=kiln user=kiln password=secret";
  auto s = PostgresStore::Open(conninfo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kIOError);
  EXPECT_NE(s.status().message().find("host=127.0.0.1 port=1"), std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("refused"), std::string::npos) << s.status().message();
  EXPECT_EQ(s.status().message().find("secret"), std::string::npos) << "leaks the password";
}

TEST_F(PostgresStoreTest, WrongDatabaseAndBadConninfoAreIOErrors) {
  auto missing = PostgresStore::Open(server_->Conninfo("no_such_database"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kIOError);
  EXPECT_NE(missing.status().message().find("no_such_database"), std::string::npos)
      << missing.status().message();
  auto garbage = PostgresStore::Open("host=127.0.0.1 bogus_keyword=1");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), Code::kIOError);
  EXPECT_NE(garbage.status().message().find("bogus_keyword"), std::string::npos)
      << garbage.status().message();
}

TEST_F(PostgresStoreTest, SurvivesReopen) {
  Digest d;
  {
    auto store = PostgresStore::Open(conninfo_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    WriteBatch b;
    d = b.Put("kept");
    b.UpdateRef({"projects/p/heads/main", std::nullopt, d});
    ASSERT_TRUE((*store)->Write(b).ok());
  }
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->Get(d), "kept");
  EXPECT_EQ(**(*store)->GetRef("projects/p/heads/main"), d);
}

TEST_F(PostgresStoreTest, TamperedRowIsCorruptionNotData) {
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  WriteBatch b;
  Digest d = b.Put("original");
  Digest other = b.Put("untouched");
  ASSERT_TRUE((*store)->Write(b).ok());
  Sql("UPDATE objects SET bytes = 'tampered'::bytea WHERE digest = '\\x" + d.Hex() + "'");
  EXPECT_EQ((*store)->Get(d).status().code(), Code::kCorruption);
  std::vector<Digest> both{other, d};
  EXPECT_EQ((*store)->GetMany(both).status().code(), Code::kCorruption);
  EXPECT_EQ(*(*store)->Get(other), "untouched");
}

TEST_F(PostgresStoreTest, EmptyObjectAndGetManyOrderWithRepeats) {
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  WriteBatch b;
  Digest empty = b.Put("");
  Digest x = b.Put("x"), y = b.Put("y");
  b.Put("x");  // the same object twice in one batch
  ASSERT_TRUE((*store)->Write(b).ok());
  EXPECT_EQ(*(*store)->Get(empty), "");
  std::vector<Digest> asked{y, empty, x, y};
  auto got = (*store)->GetMany(asked);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (std::vector<std::string>{"y", "", "x", "y"}));
}

TEST_F(PostgresStoreTest, ListRefsPrefixWildcardsAreLiteral) {
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  WriteBatch b;
  for (const char* name : {"a_b/1", "axb/1", "a.b/1", "A_b/1"}) {
    b.UpdateRef({name, std::nullopt, Digest::Of(name)});
  }
  ASSERT_TRUE((*store)->Write(b).ok());
  auto refs = (*store)->ListRefs("a_");
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].first, "a_b/1");
  // Byte order (COLLATE "C"), whatever the database's locale: 'A' (0x41)
  // before 'a' (0x61); after "a": '.' (0x2e) < '_' (0x5f) < 'x' (0x78).
  auto all = (*store)->ListRefs("");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (auto& [n, d] : *all) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"A_b/1", "a.b/1", "a_b/1", "axb/1"}));
}

TEST_F(PostgresStoreTest, MoreCallersThanConnectionsShareThePool) {
  PostgresStore::Options options;
  options.max_connections = 2;
  auto store = PostgresStore::Open(conninfo_, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::optional<Digest> head;
      for (int i = 0; i < 20; ++i) {
        WriteBatch b;
        Digest d = b.Put("t" + std::to_string(t) + " i" + std::to_string(i));
        b.UpdateRef({"pool/" + std::to_string(t), head, d});
        if (!(*store)->Write(b).ok()) failures++;
        if (!(*store)->Get(d).ok()) failures++;
        head = d;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto refs = (*store)->ListRefs("pool/");
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(refs->size(), 8u);
}

TEST_F(PostgresStoreTest, LargeBatchSpansSeveralInsertsAndStaysAtomic) {
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // More objects than one INSERT carries (10000), then a lost CAS: none of
  // them may remain.
  WriteBatch lost;
  std::vector<Digest> digests;
  for (int i = 0; i < 12000; ++i) digests.push_back(lost.Put("object " + std::to_string(i)));
  lost.UpdateRef({"big", Digest::Of("not the current value"), digests[0]});
  EXPECT_EQ((*store)->Write(lost).code(), Code::kConflict);
  EXPECT_FALSE(*(*store)->Contains(digests.front()));
  EXPECT_FALSE(*(*store)->Contains(digests.back()));

  WriteBatch won;
  for (int i = 0; i < 12000; ++i) won.Put("object " + std::to_string(i));
  won.UpdateRef({"big", std::nullopt, digests[0]});
  ASSERT_TRUE((*store)->Write(won).ok());
  auto all = (*store)->GetMany(digests);  // 12 GetMany chunks
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)[11999], "object 11999");
}

TEST_F(PostgresStoreTest, ConcurrentOpensOfAFreshDatabaseAllSucceed) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto s = PostgresStore::Open(conninfo_);
      if (!s.ok()) {
        ADD_FAILURE() << s.status().ToString();
        failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(PostgresStoreTest, ForceAndDeleteOfAbsentRef) {
  auto store = PostgresStore::Open(conninfo_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Digest a = Digest::Of("a"), b = Digest::Of("b");
  WriteBatch force;
  force.UpdateRef({"f", std::nullopt, a, /*force=*/true});
  ASSERT_TRUE((*store)->Write(force).ok());
  WriteBatch force_again;
  force_again.UpdateRef({"f", std::nullopt, b, /*force=*/true});
  ASSERT_TRUE((*store)->Write(force_again).ok());
  EXPECT_EQ(**(*store)->GetRef("f"), b);
  // "Must not exist and stays absent" holds for a missing ref, loses for "f".
  WriteBatch absent;
  absent.UpdateRef({"never", std::nullopt, std::nullopt});
  EXPECT_TRUE((*store)->Write(absent).ok());
  WriteBatch present;
  present.UpdateRef({"f", std::nullopt, std::nullopt});
  Status s = (*store)->Write(present);
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_NE(s.message().find("ref 'f' moved: expected absent, found " + b.Hex()), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// "<writer> <parent digest hex or ->": a commit object of the test below.
std::string CommitBytes(int writer, int seq, const std::optional<Digest>& parent) {
  return std::to_string(writer) + " " + std::to_string(seq) + " " + (parent ? parent->Hex() : "-");
}

std::optional<Digest> ParentOf(const std::string& commit) {
  std::string parent = commit.substr(commit.rfind(' ') + 1);
  if (parent == "-") return std::nullopt;
  return *Digest::FromHex(parent);
}

// The server itself crashes (every process killed without a flush, as in a
// power cut of the database host minus the page cache) while two threads
// commit; after its WAL recovery, every commit it acknowledged is there.
// This is what synchronous_commit = on buys: with it off, commits of the last
// WAL writer cycle are acknowledged before they are in the WAL and vanish.
TEST(PostgresServerCrash, AcknowledgedCommitsSurviveAServerCrash) {
  auto server = testing::PostgresServer::Start();  // its own: this test kills it
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto conninfo = (*server)->CreateDatabase("server_crash");
  ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
  constexpr int kWriters = 2, kRounds = 2;
  std::vector<Digest> acked[kWriters];
  int total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto store = PostgresStore::Open(*conninfo);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        std::string ref = "crash/" + std::to_string(w);
        auto head = (*store)->GetRef(ref);
        if (!head.ok()) return;
        std::optional<Digest> parent = *head;
        // Commit until the crash breaks the connection.
        for (int seq = 0;; ++seq) {
          WriteBatch b;
          Digest d = b.Put(CommitBytes(w, seq, parent));
          b.UpdateRef({ref, parent, d});
          if (!(*store)->Write(b).ok()) return;
          std::lock_guard lock(mu);
          acked[w].push_back(d);
          parent = d;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * round));
    Status crash = (*server)->CrashAndRestart();
    for (auto& t : threads) t.join();
    ASSERT_TRUE(crash.ok()) << crash.ToString();
    store->reset();

    auto reopened = PostgresStore::Open(*conninfo);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    for (int w = 0; w < kWriters; ++w) {
      ASSERT_FALSE(acked[w].empty()) << "round " << round << ": writer " << w << " got no ack";
      auto all = (*reopened)->GetMany(acked[w]);
      ASSERT_TRUE(all.ok()) << "round " << round << ", writer " << w << ": "
                            << all.status().ToString();
      // The ref is at the last ack, or one past it (committed, then the
      // connection broke before the reply).
      auto head = (*reopened)->GetRef("crash/" + std::to_string(w));
      ASSERT_TRUE(head.ok() && head->has_value());
      if (**head != acked[w].back()) {
        auto bytes = (*reopened)->Get(**head);
        ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
        EXPECT_EQ(ParentOf(*bytes), acked[w].back()) << "ref " << w << " lost acknowledged moves";
      }
    }
  }
  for (auto& a : acked) total_acks += int(a.size());
  std::cout << "server crash test: " << kRounds << " crashes, " << total_acks
            << " acknowledged commits, all present\n";
}

}  // namespace
}  // namespace kiln
