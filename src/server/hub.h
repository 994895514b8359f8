// Hub: the collaboration hub. Every change to a branch made through the
// server goes through here, from WebSocket clients and REST alike:
//
//   - patches that arrive while a branch's commit is being written queue up
//     and are committed together next, as a chain of commits in one write
//     (one fsync), so a busy branch commits in batches;
//   - patches to one branch are ordered by that branch's lock, applied to the
//     head (a patch whose base is stale is simply applied to the newer head:
//     per field, the last writer wins; only a patch that is invalid on the
//     head is rejected, with the reason), committed, and broadcast — commit,
//     parent, operations, author, and the sender's client id and sequence
//     number — to every subscriber; the sender's copy is its acknowledgement;
//   - a subscriber gets the head and its tree, or only the commits since one
//     it already has (catch-up after a reconnect), then every commit live;
//   - presence: who is on the branch and which nodes each has selected;
//   - a subscriber whose send queue overflows is told to resynchronise and
//     dropped from the branch, so a slow client never slows the others.
// Protocol: docs/protocol.md. Message decoding: hub_messages.h.
//
// The hub keeps each active branch's head Tree in memory, so a commit costs
// the patch and the path to the root, not a tree load. Commits run on the
// hub's own committer threads, never on the server's I/O threads: a commit
// waits for an fsync, and an I/O thread that waits stalls every connection it
// serves (their broadcasts and their next patches alike).
//
// Ownership: borrows the Repository, Access and Metrics (they outlive it);
// owns branch states and its committer threads (the destructor commits what
// is queued, then joins them); holds connections weakly.
// Thread-safety: all methods are safe from any thread; patches to one branch
// are serialised by that branch's mutex, different branches run in parallel.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>

#include "access/access.h"
#include "core/task_queue.h"
#include "model/repository.h"
#include "server/http_server.h"
#include "server/hub_messages.h"
#include "server/metrics.h"

namespace kiln {

struct HubCommit {
  Digest commit;
  Digest parent;
};

class Hub : public WebSocketHandler {
 public:
  // `committer_threads` commit different branches in parallel; one branch
  // is always committed by one thread at a time.
  Hub(Repository& repo, Access& access, Metrics& metrics, size_t committer_threads = 2);
  ~Hub() override;

  // Applies `patch` to the head of project/branch and commits it (REST and
  // WebSocket both come here). `client`/`seq` are echoed in the broadcast.
  Result<HubCommit> SubmitPatch(const std::string& project, const std::string& branch,
                                const Patch& patch, const std::string& author,
                                const std::string& client, int64_t seq);
  // Tells subscribers of a branch that it moved outside the hub (merge,
  // import, CLI): they resynchronise.
  void BranchMoved(const std::string& project, const std::string& branch);
  // Another server on the same database committed `commit` on the branch
  // (PostgresRefWatcher): its subscribers here get it as a commit message
  // (the diff from the head they have) when it follows that head, else a
  // resync. A commit this hub made itself is recognised and skipped.
  void CommittedElsewhere(const std::string& project, const std::string& branch,
                          const Digest& commit);

  void OnOpen(const std::shared_ptr<WebSocketConnection>& conn) override;
  void OnMessage(const std::shared_ptr<WebSocketConnection>& conn,
                 const std::string& message) override;
  void OnClose(const std::shared_ptr<WebSocketConnection>& conn) override;

  // Lets clients watch executions ("watch" messages); without it they are
  // told that no compute backend runs here.
  void set_execution_watch(class ExecutionWatch* watch) { watch_ = watch; }

  // How many recent commits per branch are kept for catch-up.
  static constexpr size_t kRecentCommits = 512;

 private:
  struct RecentCommit {
    Digest commit, parent;
    std::string message_json;  // the broadcast as sent
  };
  struct Subscriber {
    std::weak_ptr<WebSocketConnection> conn;
    std::string user;
    std::string client;
    std::vector<std::string> selection;  // guids of the selected nodes
  };
  // A patch waiting for its branch's committer.
  struct Pending {
    Patch patch;
    std::string author, client;
    int64_t seq = 0;
    std::function<void(const Result<HubCommit>&)> done;  // called once, in commit order
  };
  struct Branch {
    // Patches queue here (queue_mu); one thread at a time (`committing`)
    // drains the queue and commits everything queued as a chain of commits
    // in one store write, so N concurrent patches cost one fsync.
    std::mutex queue_mu;
    std::deque<Pending> queue;
    bool committing = false;

    std::mutex mu;  // the tree, head, subscribers and recent commits
    std::string project, name;
    std::shared_ptr<Tree> tree;  // at `head`, written (not dirty)
    std::optional<Digest> head;
    std::map<uint64_t, Subscriber> subscribers;  // by connection id
    std::deque<RecentCommit> recent;
    std::string snapshot;  // the snapshot message of snapshot_commit
    std::optional<Digest> snapshot_commit;
  };

  std::shared_ptr<Branch> GetBranch(const std::string& project, const std::string& branch);
  // Queues a patch; if no committer is draining the branch, starts one on
  // the committer threads. Never waits for the commit.
  void Enqueue(const std::shared_ptr<Branch>& b, Pending pending);
  // Commits the branch's queue in batches until it is empty.
  void Drain(const std::shared_ptr<Branch>& b);
  void CommitBatch(Branch& b, std::vector<Pending>& batch);
  // Brings `b.tree` to the branch's current head (loading if it moved).
  Status SyncHead(Branch& b);
  void Broadcast(Branch& b, const std::string& message, uint64_t skip_conn = 0);
  std::string PresenceMessage(Branch& b);
  void Unsubscribe(uint64_t conn_id, const std::string& key);

  void HandleSubscribe(const std::shared_ptr<WebSocketConnection>& conn, const ClientMessage& m);
  void HandlePatch(const std::shared_ptr<WebSocketConnection>& conn, const ClientMessage& m);
  void HandleSelect(const std::shared_ptr<WebSocketConnection>& conn, const ClientMessage& m);

  Repository& repo_;
  Access& access_;
  Metrics& metrics_;
  class ExecutionWatch* watch_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Branch>> branches_;  // "project\nbranch"
  std::map<uint64_t, std::set<std::string>> subscriptions_;  // connection → branch keys
  // Last: destroyed first, so queued commits finish while the rest is alive.
  TaskQueue committer_;
};

}  // namespace kiln
