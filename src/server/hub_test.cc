// The collaboration hub over real WebSockets: convergence of many concurrent
// writers, reconnect and catch-up, slow clients, presence, malformed input.
#include "server/hub.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/guid.h"
#include "model/meta.h"
#include "server/testing/client.h"
#include "server/testing/server_fixture.h"

namespace kiln {
namespace {

using json = nlohmann::json;
using testing::ServerFixture;
using testing::WsClient;

std::unique_ptr<WsClient> Connect(ServerFixture& s) {
  auto c = WsClient::Connect("127.0.0.1", s.port(), "/api/v1/ws");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto welcome = (*c)->Receive();
  EXPECT_NE(welcome->find("welcome"), std::string::npos);
  return std::move(c).value();
}

// Reads messages until one of type `type` arrives (others are returned in `skipped`).
json ReceiveType(WsClient& c, const std::string& type, std::vector<json>* skipped = nullptr) {
  for (int i = 0; i < 10000; ++i) {
    auto m = c.Receive(std::chrono::seconds(10));
    if (!m.ok()) {
      ADD_FAILURE() << "waiting for '" << type << "': " << m.status().ToString();
      return json();
    }
    json j = json::parse(*m);
    if (j["type"] == type) return j;
    if (skipped) skipped->push_back(j);
  }
  return json();
}

// A client-side replica: starts from a commit's tree and applies broadcast ops.
struct Replica {
  std::unique_ptr<Tree> tree;
  std::string commit;

  void Start(Repository& repo, const std::string& at) {
    auto t = repo.LoadTree(*Digest::FromHex(at));
    ASSERT_TRUE(t.ok());
    tree = std::make_unique<Tree>((*t)->Clone());
    commit = at;
  }
  void ApplyCommit(const json& m) {
    ASSERT_EQ(m["parent"], commit) << "commits arrived out of order";
    json patch = {{"ops", m["ops"]}};
    auto p = ParsePatchJson(patch.dump());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    Status s = tree->Apply(*p);
    ASSERT_TRUE(s.ok()) << s.ToString();
    commit = m["commit"];
  }
};

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.repo.CreateProject("p", "", "test").ok()); }
  std::string Head() { return server_.repo.BranchHead("p", "main")->Hex(); }
  std::string HeadTreeJson() {
    return (*server_.repo.LoadTree(*server_.repo.BranchHead("p", "main")))->ToJsonString();
  }
  json Subscribe(WsClient& c, const std::string& since = "") {
    json m = {{"type", "subscribe"}, {"project", "p"}, {"branch", "main"}};
    if (!since.empty()) m["since"] = since;
    EXPECT_TRUE(c.Send(m.dump()).ok());
    return m;
  }
  ServerFixture server_;
};

TEST_F(HubTest, TwentyClientsConvergeOnTheServersHead) {
  // Seed 100 folders that everyone fights over.
  std::vector<std::string> nodes;
  Patch seed;
  for (int i = 0; i < 100; ++i) {
    nodes.push_back(NewGuid());
    seed.ops.push_back(PatchOp::Create(nodes.back(), RootGuid(), MetaGuid("Folder"),
                                       {{"name", Value("folder " + std::to_string(i))}}));
  }
  ASSERT_TRUE(server_.hub.SubmitPatch("p", "main", seed, "seed", "seed", 0).ok());

  constexpr int kClients = 20, kPatches = 25;
  std::vector<std::unique_ptr<WsClient>> clients;
  std::vector<Replica> replicas(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Connect(server_));
    Subscribe(*clients[i]);
    json snap = ReceiveType(*clients[i], "snapshot");
    replicas[i].Start(server_.repo, snap["commit"]);
    ReceiveType(*clients[i], "subscribed");
  }

  std::atomic<int> rejected{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<json>> inbox(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(1000 + i);
      std::string me = "client-" + std::to_string(i);
      for (int k = 0; k < kPatches; ++k) {
        const std::string& n = nodes[rng() % nodes.size()];
        json op;
        switch (rng() % 12) {
          case 0:
          case 1:
          case 2:
          case 3:
          case 4:  // the same fields, edited by everyone
            op = {{"op", "set_attr"},
                  {"node", n},
                  {"name", "name"},
                  {"value", me + "/" + std::to_string(k)}};
            break;
          case 5:
          case 6:
          case 7:
            op = {{"op", "set_registry"},
                  {"node", n},
                  {"name", "position"},
                  {"value", {{"x", int(rng() % 500)}, {"y", int(rng() % 500)}}}};
            break;
          case 8:
          case 9:
            op = {{"op", "create"},
                  {"guid", NewGuid()},
                  {"parent", n},
                  {"base", MetaGuid("Folder")},
                  {"attrs", {{"name", "child of " + me}}}};
            break;
          case 10:  // deletes of nodes others are editing
            op = {{"op", "delete"}, {"node", n}};
            break;
          default:
            op = {{"op", "move"}, {"node", n}, {"parent", nodes[rng() % nodes.size()]}};
        }
        json m = {{"type", "patch"}, {"project", "p"}, {"branch", "main"},
                  {"client", me},    {"seq", k},       {"ops", {op}}};
        ASSERT_TRUE(clients[i]->Send(m.dump()).ok());
      }
      // Wait for the verdict on every patch this client sent.
      int answered = 0;
      while (answered < kPatches) {
        auto raw = clients[i]->Receive(std::chrono::seconds(30));
        ASSERT_TRUE(raw.ok()) << raw.status().ToString();
        json j = json::parse(*raw);
        inbox[i].push_back(j);
        if (j["client"] == me && (j["type"] == "commit" || j["type"] == "reject")) {
          answered++;
          if (j["type"] == "reject") rejected++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  // Everyone now reads until their replica reaches the final head.
  std::string head = Head();
  for (int i = 0; i < kClients; ++i) {
    for (const json& j : inbox[i]) {
      if (j["type"] == "commit") replicas[i].ApplyCommit(j);
    }
    while (replicas[i].commit != head) {
      json j = ReceiveType(*clients[i], "commit");
      ASSERT_FALSE(j.is_null());
      replicas[i].ApplyCommit(j);
    }
  }
  std::string server_tree = HeadTreeJson();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(replicas[i].tree->ToJsonString(), server_tree) << "client " << i << " diverged";
  }
  auto log = server_.repo.Log(*Digest::FromHex(head), {.first_parent = true, .limit = 100000});
  int commits = int(log->size()) - 2;  // minus the initial commit and the seed
  EXPECT_EQ(commits + rejected.load(), kClients * kPatches);
  EXPECT_GT(commits, kClients * kPatches / 2);
  std::cout << "convergence: " << commits << " commits, " << rejected.load()
            << " patches rejected (their nodes were deleted or moved under themselves)\n";
}

TEST_F(HubTest, ReconnectCatchesUpWithOnlyTheMissedCommits) {
  auto a = Connect(server_);
  Subscribe(*a);
  json snap = ReceiveType(*a, "snapshot");
  ReceiveType(*a, "subscribed");
  std::string seen = snap["commit"];
  a->Close();
  a.reset();

  std::string folder = NewGuid();
  ASSERT_TRUE(
      server_.hub
          .SubmitPatch(
              "p", "main",
              Patch{std::nullopt, "one", {PatchOp::Create(folder, RootGuid(), MetaGuid("Folder"))}},
              "other", "x", 1)
          .ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        server_.hub
            .SubmitPatch("p", "main",
                         Patch{std::nullopt, "edit", {PatchOp::SetAttr(folder, "n", Value(i))}},
                         "other", "x", 2 + i)
            .ok());
  }
  auto b = Connect(server_);
  Subscribe(*b, seen);
  std::vector<json> before;
  json subscribed = ReceiveType(*b, "subscribed", &before);
  EXPECT_TRUE(subscribed["caught_up"].get<bool>());
  Replica r;
  r.Start(server_.repo, seen);
  int commits = 0;
  for (const json& j : before) {
    ASSERT_NE(j["type"], "snapshot");
    if (j["type"] == "commit") {
      r.ApplyCommit(j);
      commits++;
    }
  }
  EXPECT_EQ(commits, 5);
  EXPECT_EQ(r.commit, Head());
  EXPECT_EQ(r.tree->ToJsonString(), HeadTreeJson());

  // A commit the server no longer remembers (or never knew) gets a snapshot.
  auto c = Connect(server_);
  Subscribe(*c, std::string(64, 'a'));
  json s2 = ReceiveType(*c, "snapshot");
  EXPECT_EQ(s2["commit"], Head());
}

TEST_F(HubTest, SlowClientIsToldToResyncAndOthersAreNotHeldUp) {
  ServerOptions o;
  o.ws_queue_limit_bytes = 4 << 20;
  ServerFixture small(false, o);
  ASSERT_TRUE(small.repo.CreateProject("p", "", "t").ok());
  auto slow = WsClient::Connect("127.0.0.1", small.port(), "/api/v1/ws");
  auto fast = WsClient::Connect("127.0.0.1", small.port(), "/api/v1/ws");
  ASSERT_TRUE(slow.ok() && fast.ok());
  json sub = {{"type", "subscribe"}, {"project", "p"}, {"branch", "main"}};
  ASSERT_TRUE((*slow)->Send(sub.dump()).ok());
  ASSERT_TRUE((*fast)->Send(sub.dump()).ok());
  ReceiveType(**fast, "subscribed");
  std::string folder = NewGuid();
  ASSERT_TRUE(
      small.hub
          .SubmitPatch(
              "p", "main",
              Patch{std::nullopt, "", {PatchOp::Create(folder, RootGuid(), MetaGuid("Folder"))}},
              "w", "w", 0)
          .ok());
  // The slow client reads nothing while 300 commits with big values go by;
  // the fast one reads as they come (counting, not parsing: under the
  // sanitizers parsing 64 KiB messages would make it the slow one).
  std::thread reader([&] {
    int fast_commits = 0;
    while (fast_commits < 301) {
      auto m = (*fast)->Receive(std::chrono::seconds(30));
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      ASSERT_EQ(m->find("\"type\":\"resync\""), std::string::npos) << "the fast client fell behind";
      if (m->find("\"type\":\"commit\"") != std::string::npos) fast_commits++;
    }
  });
  // 64 KiB each: 19 MB in all, more than the kernel's socket buffers hold.
  std::string big(64 << 10, 'x');
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        small.hub
            .SubmitPatch("p", "main",
                         Patch{std::nullopt,
                               "",
                               {PatchOp::SetAttr(folder, "blob", Value(big + std::to_string(i)))}},
                         "w", "w", i + 1)
            .ok());
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  reader.join();
  json resync = ReceiveType(**slow, "resync");
  EXPECT_EQ(resync["branch"], "main");
}

TEST_F(HubTest, PresenceShowsWhoSelectedWhat) {
  auto a = Connect(server_);
  auto b = Connect(server_);
  Subscribe(*a);
  ReceiveType(*a, "subscribed");
  Subscribe(*b);
  ReceiveType(*b, "subscribed");
  std::string g = RootGuid();
  ASSERT_TRUE(
      a->Send(
           json({{"type", "select"}, {"project", "p"}, {"branch", "main"}, {"nodes", {g}}}).dump())
          .ok());
  for (;;) {
    json p = ReceiveType(*b, "presence");
    ASSERT_FALSE(p.is_null());
    bool found = false;
    for (const json& u : p["users"]) {
      if (u["selection"] == json::array({g})) found = true;
    }
    if (found) break;
  }
  a->Close();
  for (;;) {
    json p = ReceiveType(*b, "presence");
    ASSERT_FALSE(p.is_null());
    if (p["users"].size() == 1) break;
  }
}

TEST_F(HubTest, MalformedMessagesGetErrorsAndTheConnectionSurvives) {
  auto a = Connect(server_);
  for (const char* bad :
       {"not json", "[1,2]", R"({"type":"nope"})", R"({"type":"subscribe"})",
        R"({"type":"patch","project":"p","branch":"main","ops":[]})",
        R"({"type":"patch","project":"p","branch":"main","seq":1,"ops":[{"op":"zap"}]})",
        R"({"type":"select","project":"p","branch":"main","nodes":["x"]})",
        R"({"type":"subscribe","project":"p","branch":"main","since":"zz"})",
        R"({"type":"subscribe","project":"ghost","branch":"main"})"}) {
    ASSERT_TRUE(a->Send(bad).ok());
    auto m = a->Receive();
    ASSERT_TRUE(m.ok());
    json j = json::parse(*m);
    EXPECT_TRUE(j["type"] == "error" || j["type"] == "reject") << bad << " → " << *m;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }
  ASSERT_TRUE(a->Send(R"({"type":"ping"})").ok());
  EXPECT_NE(a->Receive()->find("pong"), std::string::npos);
}

TEST_F(HubTest, InvalidPatchOnTheHeadIsRejectedWithTheReason) {
  auto a = Connect(server_);
  Subscribe(*a);
  ReceiveType(*a, "subscribed");
  json m = {{"type", "patch"},
            {"project", "p"},
            {"branch", "main"},
            {"client", "me"},
            {"seq", 7},
            {"ops", {{{"op", "set_attr"}, {"node", NewGuid()}, {"name", "x"}, {"value", 1}}}}};
  ASSERT_TRUE(a->Send(m.dump()).ok());
  json r = ReceiveType(*a, "reject");
  EXPECT_EQ(r["seq"], 7);
  EXPECT_EQ(r["client"], "me");
  EXPECT_EQ(r["error"]["code"], "NotFound");
}

}  // namespace
}  // namespace kiln
