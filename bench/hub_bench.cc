// hub_bench: the "Server" figures — collaboration latency through a real
// server, and the REST tree endpoint.
//
// The server is wired like `kiln serve` (src/server/serve.cc): SqliteStore
// (durable: WAL, synchronous=FULL) in a scratch folder, Repository, Access,
// Metrics, Hub, RegisterApi, HttpServer with the default options (2 I/O
// threads), authentication off, on a loopback port. --store=memory swaps in
// a MemoryStore (what src/server/testing/server_fixture.h uses) to separate
// the cost of durability.
//
// Collaboration: --clients WebSocket clients (default 50, each with its own
// reader thread) subscribe to branch main of a generated --hub-nodes project.
// One paced sender thread sends patches at a fixed rate, each from a random
// client: one set_attr on a random operation instance whose value carries the
// patch id ("kb:<id>"). A patch's latency runs from its scheduled send time
// (so a sender that falls behind is counted, not hidden) to the moment the
// LAST of the other clients has read its broadcast; the sender's own copy is
// its acknowledgement, reported apart. First a --seconds run at --rate
// (default 500/s, goal p99 <= 20 ms), then --step-seconds runs at each of
// --rates while p99 stays <= 100 ms; the highest such rate (all patches
// delivered, >= 95% of the asked rate sent) is the sustained rate. If the
// first rate already fails, --down-rates are tried instead.
//
// REST: GET /api/v1/projects/{p}/tree of a generated --tree-nodes project
// (default 10k), --tree-requests times on one keep-alive connection (goal
// p50/p99 <= 20 ms); the first request (tree not cached yet) is reported apart.
//
// Clients, sender and server share this machine's cores: on a 2-core machine
// the 50 reader threads compete with the server, so figures are pessimistic.
//
// Run: build-bench/bench/hub_bench [--help]; bench/run runs it with the rest.
#include <atomic>
#include <cinttypes>
#include <random>
#include <sstream>
#include <thread>

#include "access/access.h"
#include "bench/harness.h"
#include "bench/raw_ws.h"
#include "core/clock.h"
#include "model/repository.h"
#include "model/testing/generate.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/hub.h"
#include "server/metrics.h"
#include "server/testing/client.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace kiln::bench {
namespace {

constexpr const char* kHubProject = "hub";
constexpr const char* kTreeProject = "tree10k";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// The server, wired as `kiln serve` wires it.
class BenchServer {
 public:
  BenchServer(ObjectStore& store, int threads)
      : repo(store, SystemClock::Get()),
        access(store, SystemClock::Get()),
        hub(repo, access, metrics),
        ctx{repo, access, hub, metrics, store, false} {
    RegisterApi(router, ctx);
    ServerOptions options;
    options.port = 0;
    options.threads = threads;
    Authenticator auth = [this](const HttpRequest& r) {
      return AuthenticateRequest(access, false, r);
    };
    server = Take(HttpServer::Start(options, router, auth, &hub, metrics), "start the server");
  }
  ~BenchServer() { server->Stop(); }
  uint16_t port() const { return server->port(); }

  Repository repo;
  Access access;
  Metrics metrics;
  Hub hub;
  ApiContext ctx;
  Router router;
  std::unique_ptr<HttpServer> server;
};

// Creates `name` with a generated project of `nodes` nodes on main.
GeneratedProject MakeProject(Repository& repo, const std::string& name, size_t nodes) {
  Take(repo.CreateProject(name, "hub_bench", "bench"), "create project " + name);
  GeneratedProject g = GenerateProjectPatch({.nodes = nodes, .seed = name});
  CommitRequest req{name, "main", "bench", "generate", std::nullopt};
  Take(repo.Commit(req, g.patch), "commit project " + name);
  return g;
}

// What every reader knows about one patch.
struct PatchRecord {
  // Set by the sender thread before the patch goes out; atomics because the
  // readers learn of the patch through the server, not through memory.
  std::atomic<int64_t> scheduled_ns{0};
  std::atomic<int> sender{-1};
  std::atomic<int> remaining{0};  // other clients still to read it
  std::atomic<int64_t> last_ns{0};
  std::atomic<int64_t> ack_ns{0};
};

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

struct StepResult {
  double rate = 0;
  long sent = 0, delivered = 0;
  double p50 = 0, p99 = 0, max = 0, ack_p50 = 0, ack_p99 = 0;
  double sent_rate = 0, lag_p99 = 0;
  long resyncs = 0, rejects = 0;
  double group_factor = 0;
  bool sustained(double p99_limit) const {
    return delivered == sent && p99 <= p99_limit && sent_rate >= 0.95 * rate && resyncs == 0;
  }
};

class Collab {
 public:
  Collab(uint16_t port, int clients, std::vector<std::string> targets, long capacity)
      : targets_(std::move(targets)),
        records_(new PatchRecord[size_t(capacity)]),
        capacity_(capacity) {
    for (int i = 0; i < clients; ++i) {
      clients_.push_back(Take(RawWs::Connect(port, "/api/v1/ws"), "connect client"));
    }
    for (int i = 0; i < clients; ++i) {
      readers_.emplace_back([this, i] { ReadLoop(i); });
      std::string sub = R"({"type":"subscribe","project":")" + std::string(kHubProject) +
                        R"(","branch":"main","client":"c)" + std::to_string(i) + "\"}";
      Check(clients_[size_t(i)]->SendText(sub), "subscribe");
    }
    auto start = SteadyClock::now();
    while (subscribed_.load() < clients) {
      if (MillisSince(start) > 120'000) Die("clients did not all subscribe within 120 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    subscribe_ms_ = MillisSince(start);
  }

  ~Collab() {
    for (auto& c : clients_) c->Shutdown();
    for (auto& t : readers_) t.join();
  }

  double subscribe_ms() const { return subscribe_ms_; }

  // Sends rate*seconds patches at `rate`, then waits for them to arrive.
  StepResult Step(double rate, double seconds, std::mt19937_64& rng) {
    StepResult r;
    r.rate = rate;
    long n = std::max<long>(1, long(rate * seconds));
    if (next_id_ + n > capacity_) Die("patch record capacity exceeded");
    const long first = next_id_;
    next_id_ += n;
    const int clients = int(clients_.size());
    rejects_ = 0;
    long resyncs0 = resyncs_.load();
    std::vector<double> lag_ms;
    lag_ms.reserve(size_t(n));
    const int64_t interval_ns = int64_t(1e9 / rate);
    const int64_t t0 = NowNs() + 20'000'000;
    int64_t last_send = t0;
    std::uniform_int_distribution<int> pick_client(0, clients - 1);
    std::uniform_int_distribution<size_t> pick_node(0, targets_.size() - 1);
    for (long k = 0; k < n; ++k) {
      long id = first + k;
      PatchRecord& rec = records_[id];
      const int64_t scheduled = t0 + k * interval_ns;
      const int sender = pick_client(rng);
      rec.scheduled_ns.store(scheduled);
      rec.sender.store(sender);
      rec.remaining.store(clients - 1);
      rec.last_ns.store(0);
      rec.ack_ns.store(0);
      std::string msg = R"({"type":"patch","project":")" + std::string(kHubProject) +
                        R"(","branch":"main","client":"c)" + std::to_string(sender) +
                        R"(","seq":)" + std::to_string(id) +
                        R"(,"ops":[{"op":"set_attr","node":")" + targets_[pick_node(rng)] +
                        R"(","name":"note","value":"kb:)" + std::to_string(id) + "\"}]}";
      int64_t now = NowNs();
      if (now < scheduled) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(scheduled - now));
        now = NowNs();
      }
      lag_ms.push_back(double(now - scheduled) / 1e6);
      Check(clients_[size_t(sender)]->SendText(msg), "send patch");
      last_send = NowNs();
    }
    r.sent = n;
    r.sent_rate = double(n) / (std::max<int64_t>(last_send - t0, interval_ns) / 1e9);
    r.lag_p99 = Percentile(lag_ms, 99);

    // Drain: wait while broadcasts keep arriving; give up after 10 s without
    // progress (lost patches count as infinitely late).
    auto Delivered = [&] {
      long d = 0;
      for (long id = first; id < first + n; ++id) d += records_[id].remaining.load() == 0;
      return d;
    };
    long delivered = Delivered(), seen = -1;
    auto progress = SteadyClock::now();
    while (delivered < n && MillisSince(progress) < 10'000) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      delivered = Delivered();
      if (delivered != seen) {
        seen = delivered;
        progress = SteadyClock::now();
      }
    }
    // Acks of the last patches may trail the other copies slightly.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::vector<double> lat, ack;
    for (long id = first; id < first + n; ++id) {
      PatchRecord& rec = records_[id];
      if (rec.remaining.load() == 0) {
        lat.push_back(double(rec.last_ns.load() - rec.scheduled_ns.load()) / 1e6);
      } else {
        lat.push_back(1e9);
      }
      if (int64_t a = rec.ack_ns.load()) ack.push_back(double(a - rec.scheduled_ns.load()) / 1e6);
    }
    r.delivered = delivered;
    r.p50 = Percentile(lat, 50);
    r.p99 = Percentile(lat, 99);
    r.max = Percentile(lat, 100);
    r.ack_p50 = Percentile(ack, 50);
    r.ack_p99 = Percentile(ack, 99);
    r.resyncs = resyncs_.load() - resyncs0;
    r.rejects = rejects_.load();
    return r;
  }

 private:
  void ReadLoop(int me) {
    RawWs& ws = *clients_[size_t(me)];
    std::string msg;
    while (ws.Read(&msg)) {
      size_t v = msg.find(R"("value":"kb:)");
      if (v != std::string::npos && msg.find(R"("type":"commit")") != std::string::npos) {
        int64_t now = NowNs();
        long id = std::strtol(msg.c_str() + v + 12, nullptr, 10);
        if (id < 0 || id >= capacity_) continue;
        PatchRecord& rec = records_[id];
        if (rec.sender.load() == me) {
          rec.ack_ns.store(now);
        } else {
          AtomicMax(rec.last_ns, now);
          rec.remaining.fetch_sub(1);
        }
        continue;
      }
      if (msg.find(R"("type":"subscribed")") != std::string::npos) {
        ++subscribed_;
      } else if (msg.find(R"("type":"resync")") != std::string::npos) {
        ++resyncs_;
      } else if (msg.find(R"("type":"reject")") != std::string::npos ||
                 msg.find(R"("type":"error")") != std::string::npos) {
        if (rejects_++ == 0) Note("client %d was told: %s", me, msg.substr(0, 300).c_str());
      }
    }
  }

  std::vector<std::string> targets_;
  std::unique_ptr<PatchRecord[]> records_;
  long capacity_;
  long next_id_ = 0;
  std::vector<std::unique_ptr<RawWs>> clients_;
  std::vector<std::thread> readers_;
  std::atomic<int> subscribed_{0};
  std::atomic<long> resyncs_{0}, rejects_{0};
  double subscribe_ms_ = 0;
};

std::vector<double> ParseRates(const std::string& s) {
  std::vector<double> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stod(item));
  }
  return out;
}

std::string RateLabel(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f/s", rate);
  return buf;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  using namespace kiln;
  using namespace kiln::bench;
  Flags flags(argc, argv);
  std::string store_kind =
      flags.Str("store", "sqlite", "sqlite (durable, like kiln serve) or memory");
  int threads = int(flags.Int("server-threads", 2, "server I/O threads (kiln serve default: 2)"));
  int clients = int(flags.Int("clients", 50, "WebSocket clients subscribed to one branch"));
  long hub_nodes = flags.Int("hub-nodes", 10'000, "nodes of the project the clients edit");
  double rate = flags.Double("rate", 500, "patches/s of the main run (all clients together)");
  double seconds = flags.Double("seconds", 10, "length of the main run");
  std::string rates = flags.Str("rates", "1000,2000,4000", "step-up rates after the main run");
  std::string down_rates = flags.Str("down-rates", "250,100,50", "rates tried if --rate fails");
  double step_seconds = flags.Double("step-seconds", 4, "length of each step-up run");
  double p99_limit = flags.Double("p99-limit", 100, "ms: a step is sustained below this p99");
  long tree_nodes = flags.Int("tree-nodes", 10'000, "nodes of the project GET .../tree returns");
  long tree_requests = flags.Int("tree-requests", 100, "GET .../tree requests measured");
  bool keep = flags.Bool("keep", false, "keep the scratch folder");
  flags.Finish(
      "hub_bench: patch-to-broadcast latency with many WebSocket clients on one branch, and "
      "GET .../tree, through a real server on loopback.");

  ScratchDir dir("kiln-hub-bench", keep);
  std::unique_ptr<ObjectStore> store;
  SqliteStore* sqlite = nullptr;
  std::vector<double> fsync_ms = FsyncProbe(dir.path());
  if (store_kind == "sqlite") {
    auto s = Take(SqliteStore::Open(dir.path() + "/kiln.db"), "open the store");
    sqlite = s.get();
    store = std::move(s);
  } else if (store_kind == "memory") {
    store = std::make_unique<MemoryStore>();
  } else {
    Die("--store must be sqlite or memory");
  }
  Table table("hub_bench: " + std::to_string(clients) + " clients, store " + store_kind + " (" +
              std::to_string(std::thread::hardware_concurrency()) +
              " cpus shared by server and clients; noisy)");
  auto total = SteadyClock::now();
  BenchServer server(*store, threads);
  table.AddText("setup", "server",
                (sqlite ? std::string("SqliteStore (durable, synchronous=FULL)")
                        : std::string("MemoryStore")) +
                    ", " + std::to_string(threads) + " I/O threads, auth off, loopback");
  table.Add("setup", "disk: 4 KiB write + fdatasync p50", Percentile(fsync_ms, 50), "ms");
  table.Add("setup", "disk: 4 KiB write + fdatasync p99", Percentile(fsync_ms, 99), "ms");

  // ---- REST: GET the whole tree of a 10k-node project.
  {
    MakeProject(server.repo, kTreeProject, size_t(tree_nodes));
    auto tree = Take(
        server.repo.LoadTree(Take(server.repo.BranchHead(kTreeProject, "main"), "head")), "tree");
    // The server-side rendering alone, in process, for comparison.
    std::vector<double> render;
    for (int i = 0; i < 10; ++i) {
      auto t = SteadyClock::now();
      std::string json = tree->ToJsonString();
      render.push_back(MillisSince(t));
    }
    // The commit above left the tree in the Repository's cache, as any
    // commit does: requests cost the JSON rendering and the transfer.
    testing::HttpClient http("127.0.0.1", server.port());
    std::string target = std::string("/api/v1/projects/") + kTreeProject + "/tree";
    std::vector<double> ms;
    size_t bytes = 0;
    for (long i = 0; i < tree_requests; ++i) {
      auto t = SteadyClock::now();
      auto res = Take(http.Request("GET", target), "GET " + target);
      ms.push_back(MillisSince(t));
      if (res.status != 200) Die("GET " + target + ": HTTP " + std::to_string(res.status));
      bytes = res.body.size();
    }
    std::string s = "GET tree";
    table.AddText(
        s, "project",
        std::to_string(tree->size()) + " nodes, " + std::to_string(bytes / 1024) + " KiB of JSON");
    table.Add(s, "p50 (" + std::to_string(ms.size()) + " requests)", Percentile(ms, 50), "ms",
              Goal::AtMost(20));
    table.Add(s, "p99", Percentile(ms, 99), "ms", Goal::AtMost(20));
    table.Add(s, "max", Percentile(ms, 100), "ms");
    table.Add(s, "of which Tree::ToJsonString p50", Percentile(render, 50), "ms");
    Note("GET tree: p50 %.1f ms p99 %.1f ms", Percentile(ms, 50), Percentile(ms, 99));
  }

  // ---- Collaboration on one branch.
  GeneratedProject g = MakeProject(server.repo, kHubProject, size_t(hub_nodes));
  std::vector<double> up = ParseRates(rates), down = ParseRates(down_rates);
  long capacity = long(rate * seconds) + 16;
  for (double r : up) capacity += long(r * step_seconds) + 16;
  for (double r : down) capacity += long(r * step_seconds) + 16;
  std::mt19937_64 rng(42);
  Collab collab(server.port(), clients, g.operations, capacity);
  table.Add("collab", "subscribe " + std::to_string(clients) + " clients (snapshots)",
            collab.subscribe_ms(), "ms");
  table.AddText("collab", "edited project",
                std::to_string(hub_nodes) + "+ nodes; set_attr on one of " +
                    std::to_string(g.operations.size()) + " operations");

  uint64_t w0 = sqlite ? sqlite->writes() : 0, t0 = sqlite ? sqlite->transactions() : 0;
  Note("collab: %.0f patches/s for %.0f s", rate, seconds);
  StepResult main_run = collab.Step(rate, seconds, rng);
  uint64_t w1 = sqlite ? sqlite->writes() : 0, t1 = sqlite ? sqlite->transactions() : 0;
  {
    std::string s = "collab " + RateLabel(rate);
    table.Add(s, "patches sent", double(main_run.sent), "");
    table.Add(s, "patches delivered to all", double(main_run.delivered), "");
    table.Add(s, "send rate achieved", main_run.sent_rate, "/s");
    table.Add(s, "all-received latency p50", main_run.p50, "ms");
    table.Add(s, "all-received latency p99", main_run.p99, "ms", Goal::AtMost(20));
    table.Add(s, "all-received latency max", main_run.max, "ms");
    table.Add(s, "sender ack latency p50", main_run.ack_p50, "ms");
    table.Add(s, "sender ack latency p99", main_run.ack_p99, "ms");
    table.Add(s, "sender lag p99 (sleep jitter)", main_run.lag_p99, "ms");
    if (sqlite) {
      table.Add(s, "store writes / transactions", t1 > t0 ? double(w1 - w0) / double(t1 - t0) : 0,
                "x");
    }
    table.Add(s, "resyncs / rejects", double(main_run.resyncs + main_run.rejects), "");
    Note("collab %.0f/s: p50 %.2f ms p99 %.2f ms delivered %ld/%ld", rate, main_run.p50,
         main_run.p99, main_run.delivered, main_run.sent);
  }

  // ---- Step the rate up (or down, if the main rate is not sustained).
  double best = main_run.sustained(p99_limit) ? rate : 0;
  std::vector<double> steps = main_run.sustained(p99_limit) ? up : down;
  std::string dir_label = main_run.sustained(p99_limit) ? "step up" : "step down";
  for (double r : steps) {
    Note("collab: %s to %.0f patches/s for %.0f s", dir_label.c_str(), r, step_seconds);
    StepResult st = collab.Step(r, step_seconds, rng);
    auto ms = [](double v) { return v >= 1e8 ? std::string("lost") : Table::Format(v) + " ms"; };
    char buf[120];
    std::snprintf(buf, sizeof buf, "; delivered %ld/%ld; sent %.0f/s", st.delivered, st.sent,
                  st.sent_rate);
    std::string text = "p50 " + ms(st.p50) + ", p99 " + ms(st.p99) + ", max " + ms(st.max) + buf;
    table.AddText(dir_label, RateLabel(r) + (st.sustained(p99_limit) ? " ok" : " NOT sustained"),
                  text);
    Note("collab %.0f/s: %s", r, text.c_str());
    bool ok = st.sustained(p99_limit);
    if (ok) best = std::max(best, r);
    if (main_run.sustained(p99_limit) ? !ok : ok) break;
  }
  table.Add("collab", "highest sustained rate (p99 <= " + Table::Format(p99_limit) + " ms)", best,
            "/s");
  table.Add("total", "benchmark wall time", MillisSince(total) / 1000, "s");
  table.Print();
  return 0;
}
