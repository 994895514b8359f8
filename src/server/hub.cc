#include "server/hub.h"

#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>

#include "server/execution_watch.h"

namespace kiln {
namespace {

std::string Key(const std::string& project, const std::string& branch) {
  return project + "\n" + branch;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Hub::Hub(Repository& repo, Access& access, Metrics& metrics, size_t committer_threads)
    : repo_(repo),
      access_(access),
      metrics_(metrics),
      committer_(committer_threads, "kiln-commit") {}
Hub::~Hub() = default;

std::shared_ptr<Hub::Branch> Hub::GetBranch(const std::string& project, const std::string& branch) {
  std::lock_guard lock(mu_);
  auto& b = branches_[Key(project, branch)];
  if (!b) {
    b = std::make_shared<Branch>();
    b->project = project;
    b->name = branch;
  }
  return b;
}

Status Hub::SyncHead(Branch& b) {
  KILN_ASSIGN_OR_RETURN(Digest head, repo_.BranchHead(b.project, b.name));
  if (b.tree && b.head == head) return Status::Ok();
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<const Tree> loaded, repo_.LoadTree(head));
  // The hub edits its tree in place, so it takes its own copy.
  b.tree = std::make_shared<Tree>(loaded->Clone());
  if (b.head && !b.recent.empty() && b.recent.back().commit != head) {
    // The branch moved outside the hub: the recent list no longer leads to
    // the head, so catch-up from it would be wrong.
    b.recent.clear();
  }
  b.head = head;
  return Status::Ok();
}

void Hub::Broadcast(Branch& b, const std::string& message, uint64_t skip_conn) {
  std::vector<uint64_t> dropped;
  for (auto& [id, sub] : b.subscribers) {
    if (id == skip_conn) continue;
    auto conn = sub.conn.lock();
    if (!conn) {
      dropped.push_back(id);
      continue;
    }
    if (!conn->Send(message)) {
      // Too far behind: tell it to start over and stop feeding it, so that
      // it cannot hold up anyone else.
      conn->SendControl(Dump({{"type", "resync"},
                              {"project", b.project},
                              {"branch", b.name},
                              {"reason", "too far behind; subscribe again"}}));
      dropped.push_back(id);
    }
  }
  for (uint64_t id : dropped) b.subscribers.erase(id);
}

std::string Hub::PresenceMessage(Branch& b) {
  nlohmann::json users = nlohmann::json::array();
  for (const auto& [id, sub] : b.subscribers) {
    users.push_back({{"connection", id},
                     {"user", sub.user},
                     {"client", sub.client},
                     {"selection", sub.selection}});
  }
  return Dump({{"type", "presence"}, {"project", b.project}, {"branch", b.name}, {"users", users}});
}

Result<HubCommit> Hub::SubmitPatch(const std::string& project, const std::string& branch,
                                   const Patch& patch, const std::string& author,
                                   const std::string& client, int64_t seq) {
  std::promise<Result<HubCommit>> promise;
  std::future<Result<HubCommit>> future = promise.get_future();
  Enqueue(GetBranch(project, branch),
          Pending{patch, author, client, seq,
                  [&promise](const Result<HubCommit>& r) { promise.set_value(r); }});
  return future.get();
}

void Hub::Enqueue(const std::shared_ptr<Branch>& b, Pending pending) {
  {
    std::lock_guard lock(b->queue_mu);
    b->queue.push_back(std::move(pending));
    if (b->committing) return;  // the running committer will take it
    b->committing = true;
  }
  // Refused only while the hub is being destroyed: commit here then.
  if (!committer_.Post([this, b] { Drain(b); })) Drain(b);
}

void Hub::Drain(const std::shared_ptr<Branch>& b) {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::lock_guard lock(b->queue_mu);
      if (b->queue.empty()) {
        b->committing = false;
        return;
      }
      constexpr size_t kMaxBatch = 256;
      while (!b->queue.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(b->queue.front()));
        b->queue.pop_front();
      }
    }
    CommitBatch(*b, batch);
  }
}

void Hub::CommitBatch(Branch& b, std::vector<Pending>& batch) {
  std::lock_guard lock(b.mu);
  std::vector<Repository::ChainItem> items;
  for (const Pending& p : batch) {
    items.push_back({&p.patch, p.author, p.patch.message.empty() ? "edit" : p.patch.message});
  }
  Result<std::vector<Result<Digest>>> results = Status(Code::kInternal, "not tried");
  // A branch moved by someone else (CLI, merge, another server) makes the
  // first try lose its compare-and-swap: reload the head and try once more.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status synced = SyncHead(b);
    if (!synced.ok()) {
      results = synced;
      break;
    }
    results = repo_.CommitChainOnTree(b.project, b.name, *b.head, *b.tree, items);
    if (results.ok() || results.status().code() != Code::kConflict) break;
    b.tree.reset();
  }
  if (!results.ok()) {
    for (Pending& p : batch) {
      metrics_.PatchRejected();
      p.done(results.status());
    }
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = batch[i];
    const Result<Digest>& commit = (*results)[i];
    if (!commit.ok()) {
      metrics_.PatchRejected();
      p.done(commit.status());
      continue;
    }
    metrics_.CommitMade();
    HubCommit out{*commit, *b.head};
    b.head = *commit;
    nlohmann::json ops = nlohmann::json::array();
    for (const PatchOp& op : p.patch.ops) ops.push_back(PatchOpToJson(op));
    std::string message = Dump({{"type", "commit"},
                                {"project", b.project},
                                {"branch", b.name},
                                {"commit", commit->Hex()},
                                {"parent", out.parent.Hex()},
                                {"ops", ops},
                                {"author", p.author},
                                {"message", items[i].message},
                                {"client", p.client},
                                {"seq", p.seq}});
    b.recent.push_back({*commit, out.parent, message});
    if (b.recent.size() > kRecentCommits) b.recent.pop_front();
    Broadcast(b, message);
    p.done(out);
  }
}

void Hub::BranchMoved(const std::string& project, const std::string& branch) {
  std::shared_ptr<Branch> b = GetBranch(project, branch);
  std::lock_guard lock(b->mu);
  b->tree.reset();
  b->recent.clear();
  std::string message = Dump({{"type", "resync"},
                              {"project", project},
                              {"branch", branch},
                              {"reason", "the branch was moved (merge, import or reset)"}});
  for (auto& [id, sub] : b->subscribers) {
    if (auto conn = sub.conn.lock()) conn->SendControl(message);
  }
  b->subscribers.clear();
}

void Hub::CommittedElsewhere(const std::string& project, const std::string& branch,
                             const Digest& commit) {
  std::shared_ptr<Branch> b;
  {
    std::lock_guard lock(mu_);
    auto it = branches_.find(Key(project, branch));
    if (it == branches_.end()) return;  // nobody here follows it
    b = it->second;
  }
  {
    std::lock_guard lock(b->mu);
    if (b->head && *b->head == commit) return;  // this hub's own commit
    if (!b->head) return;  // never loaded here: the next subscriber reads it fresh
    Result<CommitObject> c = repo_.ReadCommit(commit);
    if (c.ok() && c->parents.size() == 1 && c->parents[0] == *b->head) {
      Result<std::vector<PatchOp>> ops = repo_.Diff(*b->head, commit);
      if (ops.ok()) {
        nlohmann::json list = nlohmann::json::array();
        for (const PatchOp& op : *ops) list.push_back(PatchOpToJson(op));
        std::string message = Dump({{"type", "commit"},
                                    {"project", project},
                                    {"branch", branch},
                                    {"commit", commit.Hex()},
                                    {"parent", b->head->Hex()},
                                    {"ops", list},
                                    {"author", c->author},
                                    {"message", c->message},
                                    {"client", ""},
                                    {"seq", 0}});
        b->recent.push_back({commit, *b->head, message});
        if (b->recent.size() > kRecentCommits) b->recent.pop_front();
        b->head = commit;
        b->tree.reset();  // loaded at the new head when next needed
        Broadcast(*b, message);
        return;
      }
    }
  }
  BranchMoved(project, branch);  // not a plain successor: subscribers resynchronise
}

void Hub::OnOpen(const std::shared_ptr<WebSocketConnection>& conn) {
  conn->SendControl(
      Dump({{"type", "welcome"}, {"connection", conn->id()}, {"user", conn->user()}}));
}

void Hub::OnMessage(const std::shared_ptr<WebSocketConnection>& conn, const std::string& text) {
  Result<ClientMessage> m = ParseClientMessage(text);
  if (!m.ok()) return conn->SendControl(ErrorMessage(m.status()));
  if (m->client.empty()) m->client = std::to_string(conn->id());
  switch (m->type) {
    case ClientMessageType::kPing:
      return conn->SendControl(R"({"type":"pong"})");
    case ClientMessageType::kSubscribe:
      return HandleSubscribe(conn, *m);
    case ClientMessageType::kUnsubscribe:
      Unsubscribe(conn->id(), Key(m->project, m->branch));
      return conn->SendControl(
          Dump({{"type", "unsubscribed"}, {"project", m->project}, {"branch", m->branch}}));
    case ClientMessageType::kPatch:
      return HandlePatch(conn, *m);
    case ClientMessageType::kSelect:
      return HandleSelect(conn, *m);
    case ClientMessageType::kWatch:
      if (!watch_) {
        return conn->SendControl(
            ErrorMessage(FailedPrecondition("no compute backend runs on this server")));
      }
      return watch_->Watch(conn, m->execution);
    case ClientMessageType::kUnwatch:
      if (watch_) watch_->Unwatch(conn->id(), m->execution);
      return;
  }
}

void Hub::HandleSubscribe(const std::shared_ptr<WebSocketConnection>& conn,
                          const ClientMessage& m) {
  Status allowed = access_.Check(conn->user(), m.project, Role::kRead);
  if (!allowed.ok()) return conn->SendControl(ErrorMessage(allowed, m.project, m.branch));
  std::shared_ptr<Branch> b = GetBranch(m.project, m.branch);
  {
    std::lock_guard lock(b->mu);
    Status s = SyncHead(*b);
    if (!s.ok()) return conn->SendControl(ErrorMessage(s, m.project, m.branch));
    // Catch up from `since` when the recent commits reach back to it;
    // otherwise (or without `since`) send the whole tree.
    bool caught_up = false;
    if (m.since) {
      if (*m.since == *b->head) {
        caught_up = true;
      } else {
        for (size_t i = 0; i < b->recent.size(); ++i) {
          if (b->recent[i].parent != *m.since) continue;
          for (size_t k = i; k < b->recent.size(); ++k)
            conn->SendControl(b->recent[k].message_json);
          caught_up = true;
          break;
        }
      }
    }
    if (!caught_up) {
      // Rendered once per head and shared by every subscriber until the
      // next commit: a 10k-node tree takes milliseconds to render.
      if (b->snapshot_commit != b->head) {
        nlohmann::json envelope = {{"type", "snapshot"},
                                   {"project", m.project},
                                   {"branch", m.branch},
                                   {"commit", b->head->Hex()}};
        std::string text = Dump(envelope);
        text.pop_back();  // '}'
        b->snapshot = text + ",\"tree\":" + b->tree->ToJsonString() + "}";
        b->snapshot_commit = b->head;
      }
      conn->SendControl(b->snapshot);
    }
    conn->SendControl(Dump({{"type", "subscribed"},
                            {"project", m.project},
                            {"branch", m.branch},
                            {"commit", b->head->Hex()},
                            {"caught_up", caught_up}}));
    b->subscribers[conn->id()] = Subscriber{conn, conn->user(), m.client, {}};
    Broadcast(*b, PresenceMessage(*b));
  }
  std::lock_guard lock(mu_);
  subscriptions_[conn->id()].insert(Key(m.project, m.branch));
}

void Hub::HandlePatch(const std::shared_ptr<WebSocketConnection>& conn, const ClientMessage& m) {
  Status allowed = access_.Check(conn->user(), m.project, Role::kWrite);
  if (!allowed.ok()) {
    return conn->SendControl(ErrorMessage(allowed, m.project, m.branch, m.client, m.seq));
  }
  // Not waited for: this I/O thread goes back to reading while a committer
  // thread writes the patch together with others queued meanwhile.
  std::shared_ptr<Branch> b = GetBranch(m.project, m.branch);
  std::weak_ptr<WebSocketConnection> weak = conn;
  uint64_t conn_id = conn->id();
  Branch* branch = b.get();
  Enqueue(
      b, Pending{m.patch, conn->user(), m.client, m.seq,
                 [weak, conn_id, branch, m](const Result<HubCommit>& r) {
                   auto c = weak.lock();
                   if (!c) return;
                   if (!r.ok()) {
                     c->SendControl(ErrorMessage(r.status(), m.project, m.branch, m.client, m.seq));
                   } else if (!branch->subscribers.count(conn_id)) {
                     // Its acknowledgement is its copy of the broadcast,
                     // if it subscribed; otherwise a direct ack.
                     // (Runs under the branch lock, in CommitBatch.)
                     c->SendControl(Dump({{"type", "ack"},
                                          {"project", m.project},
                                          {"branch", m.branch},
                                          {"commit", r->commit.Hex()},
                                          {"client", m.client},
                                          {"seq", m.seq}}));
                   }
                 }});
}

void Hub::HandleSelect(const std::shared_ptr<WebSocketConnection>& conn, const ClientMessage& m) {
  std::shared_ptr<Branch> b = GetBranch(m.project, m.branch);
  std::lock_guard lock(b->mu);
  auto it = b->subscribers.find(conn->id());
  if (it == b->subscribers.end()) {
    return conn->SendControl(ErrorMessage(
        FailedPrecondition("subscribe to the branch before selecting nodes"), m.project, m.branch));
  }
  it->second.selection = m.nodes;
  Broadcast(*b, PresenceMessage(*b));
}

void Hub::Unsubscribe(uint64_t conn_id, const std::string& key) {
  std::shared_ptr<Branch> b;
  {
    std::lock_guard lock(mu_);
    auto it = branches_.find(key);
    if (it == branches_.end()) return;
    b = it->second;
    if (auto sub = subscriptions_.find(conn_id); sub != subscriptions_.end())
      sub->second.erase(key);
  }
  std::lock_guard lock(b->mu);
  if (b->subscribers.erase(conn_id)) Broadcast(*b, PresenceMessage(*b));
}

void Hub::OnClose(const std::shared_ptr<WebSocketConnection>& conn) {
  if (watch_) watch_->Closed(conn->id());
  std::set<std::string> keys;
  {
    std::lock_guard lock(mu_);
    auto it = subscriptions_.find(conn->id());
    if (it == subscriptions_.end()) return;
    keys = it->second;
    subscriptions_.erase(it);
  }
  for (const std::string& key : keys) Unsubscribe(conn->id(), key);
}

}  // namespace kiln
