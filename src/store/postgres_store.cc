// PostgresStore: see postgres_store.h. All parameters and results travel in
// libpq's binary format (bytea as raw bytes, bytea[] in PostgreSQL's array
// wire format), so objects are never hex-escaped.
#include "store/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace kiln {
namespace {

// Type OIDs from pg_type (stable across PostgreSQL versions).
constexpr Oid kByteaOid = 17;
constexpr Oid kTextOid = 25;
constexpr Oid kByteaArrayOid = 1001;

// One INSERT of objects carries at most this many bytes or objects, so a huge
// batch does not become one parameter near PostgreSQL's 1 GiB field limit.
constexpr size_t kMaxInsertBytes = 32u << 20;
constexpr size_t kMaxInsertObjects = 10000;
// GetMany asks for at most this many digests per query.
constexpr size_t kMaxDigestsPerQuery = 1000;
// Write() retries a transaction the server aborted as a deadlock victim or
// serialization failure; the batch is then re-applied from the start.
constexpr int kMaxWriteAttempts = 4;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string DescribePostgresConninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (!opts) {
    std::string msg = err ? Trim(err) : "unparseable";
    PQfreemem(err);
    return "an invalid conninfo (" + msg + ")";
  }
  std::string out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    std::string_view k = o->keyword;
    if (!o->val || !*o->val) continue;
    if (k == "host" || k == "hostaddr" || k == "port" || k == "dbname" || k == "user" ||
        k == "service") {
      if (!out.empty()) out += ' ';
      out += std::string(k) + "=" + o->val;
    }
  }
  PQconninfoFree(opts);
  return out.empty() ? "the default server (PGHOST, PGPORT)" : out;
}

namespace {

// A parameter in binary format.
struct Param {
  std::string_view value;
  Oid type;
};

void PutBigEndian32(std::string& out, uint32_t v) {
  char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(b, 4);
}

// PostgreSQL's binary array format for a one-dimensional bytea[] without
// NULLs: ndim, has-nulls flag, element type, length, lower bound, then each
// element as (length, bytes).
std::string EncodeByteaArray(const std::vector<std::string_view>& items) {
  size_t total = 20;
  for (auto item : items) total += 4 + item.size();
  std::string out;
  out.reserve(total);
  PutBigEndian32(out, 1);
  PutBigEndian32(out, 0);
  PutBigEndian32(out, kByteaOid);
  PutBigEndian32(out, uint32_t(items.size()));
  PutBigEndian32(out, 1);
  for (auto item : items) {
    PutBigEndian32(out, uint32_t(item.size()));
    out.append(item);
  }
  return out;
}

std::string_view Value(const PgResult& r, int row, int col) {
  return {PQgetvalue(r.get(), row, col), size_t(PQgetlength(r.get(), row, col))};
}

// One libpq connection; used by one thread at a time (the pool's lease).
struct Connection {
  PGconn* conn = nullptr;
  // SQLSTATE of the last failed statement ("" after a success): Write()
  // retries on deadlocks and serialization failures.
  std::string last_sqlstate;

  ~Connection() { PQfinish(conn); }

  Status Error(PGresult* r, const std::string& what) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    last_sqlstate = state ? state : "";
    std::string msg =
        Trim(r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    // XX001 data_corrupted, XX002 index_corrupted.
    if (last_sqlstate == "XX001" || last_sqlstate == "XX002") return Corruption(what + ": " + msg);
    return IOError(what + ": " + msg);
  }

  Result<PgResult> Run(const char* sql, std::initializer_list<Param> params,
                       const std::string& what) {
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<Oid> types;
    for (const Param& p : params) {
      // A non-null pointer even for an empty value: null would mean SQL NULL.
      values.push_back(p.value.data() ? p.value.data() : "");
      lengths.push_back(int(p.value.size()));
      formats.push_back(1);
      types.push_back(p.type);
    }
    PGresult* r = PQexecParams(conn, sql, int(values.size()), types.data(), values.data(),
                               lengths.data(), formats.data(), /*resultFormat=*/1);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      last_sqlstate.clear();
      return PgResult(r);
    }
    Status s = Error(r, what);
    PQclear(r);
    return s;
  }

  // Statements without parameters; `sql` may hold several.
  Status RunScript(const char* sql, const std::string& what) {
    PGresult* r = PQexec(conn, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : Error(r, what);
    if (s.ok()) last_sqlstate.clear();
    PQclear(r);
    return s;
  }
};

Result<std::optional<Digest>> ParseRefDigest(std::string_view name, std::string_view raw) {
  Result<Digest> d = Digest::FromBytes(raw);
  if (!d.ok()) return Corruption("ref '" + std::string(name) + "' holds a malformed digest");
  return std::optional<Digest>(*d);
}

}  // namespace

struct PostgresStore::Impl {
  std::string conninfo;
  std::string description;  // for messages: no password
  Options options;

  // The pool: idle connections, and how many exist (idle or lent).
  std::mutex mu;
  std::condition_variable returned;
  std::vector<std::unique_ptr<Connection>> idle;
  int open = 0;

  Result<std::unique_ptr<Connection>> Connect() {
    // Keywords before "dbname" are defaults the conninfo may override
    // (expand_dbname = 1 expands it in place).
    const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
    const char* values[] = {"10", "kiln", conninfo.c_str(), nullptr};
    auto c = std::make_unique<Connection>();
    c->conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!c->conn) return IOError("connect to PostgreSQL at " + description + ": out of memory");
    if (PQstatus(c->conn) != CONNECTION_OK) {
      return IOError("connect to PostgreSQL at " + description + ": " +
                     Trim(PQerrorMessage(c->conn)));
    }
    // The durability guarantee rests on synchronous_commit; a server or
    // role default of "off" must not weaken it. The compare-and-swap
    // statements rely on READ COMMITTED re-checking a row a concurrent
    // transaction changed.
    // client_min_messages: no NOTICE ("relation already exists, skipping")
    // on stderr through libpq's default notice processor.
    KILN_RETURN_IF_ERROR(
        c->RunScript("SET synchronous_commit = on; "
                     "SET default_transaction_isolation = 'read committed'; "
                     "SET client_min_messages = warning",
                     "configure the connection to " + description));
    return c;
  }

  // Borrows a connection until the Lease is destroyed.
  class Lease {
   public:
    Lease(Impl* impl, std::unique_ptr<Connection> c) : impl_(impl), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (c_) impl_->Release(std::move(c_));
    }
    Connection& operator*() { return *c_; }
    Connection* operator->() { return c_.get(); }

   private:
    Impl* impl_;
    std::unique_ptr<Connection> c_;
  };

  Result<Lease> Acquire() {
    std::unique_lock lock(mu);
    returned.wait(lock, [&] { return !idle.empty() || open < options.max_connections; });
    if (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      return Lease(this, std::move(c));
    }
    ++open;
    lock.unlock();
    Result<std::unique_ptr<Connection>> c = Connect();
    if (!c.ok()) {
      lock.lock();
      --open;
      returned.notify_one();
      return c.status();
    }
    return Lease(this, std::move(c).value());
  }

  // A connection that broke, or was left inside a transaction, is closed
  // rather than handed to the next caller.
  void Release(std::unique_ptr<Connection> c) {
    bool reusable =
        PQstatus(c->conn) == CONNECTION_OK && PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    if (!reusable) c.reset();
    std::lock_guard lock(mu);
    if (reusable) {
      idle.push_back(std::move(c));
    } else {
      --open;
    }
    returned.notify_one();
  }

  // Applies `refs` (sorted by name) and `objects` in one transaction.
  Status WriteOnce(Connection& c, const std::vector<const std::pair<Digest, std::string>*>& objects,
                   const std::vector<const RefUpdate*>& refs) {
    KILN_RETURN_IF_ERROR(c.RunScript("BEGIN", "begin a write on " + description));
    Status s = ApplyInTransaction(c, objects, refs);
    if (!s.ok()) {
      // Keep the SQLSTATE of the failure, not of the rollback.
      std::string state = c.last_sqlstate;
      (void)c.RunScript("ROLLBACK", "rollback");
      c.last_sqlstate = state;
      return s;
    }
    Status commit = c.RunScript("COMMIT", "commit on " + description);
    if (!commit.ok() && PQstatus(c.conn) != CONNECTION_OK) {
      return IOError(commit.message() +
                     " (the connection broke during COMMIT: the batch may or "
                     "may not have been applied)");
    }
    return commit;
  }

  Status ApplyInTransaction(Connection& c,
                            const std::vector<const std::pair<Digest, std::string>*>& objects,
                            const std::vector<const RefUpdate*>& refs) {
    // Objects first, in digest order; then refs, in name order. A
    // transaction waiting on an object never holds a ref lock, and each phase
    // takes its locks in one global order, so concurrent writers cannot
    // deadlock on each other.
    for (size_t begin = 0; begin < objects.size();) {
      std::vector<std::string_view> digests, bytes;
      size_t size = 0, end = begin;
      while (end < objects.size() &&
             (end == begin || (size < kMaxInsertBytes && end - begin < kMaxInsertObjects))) {
        digests.push_back(objects[end]->first.Raw());
        bytes.push_back(objects[end]->second);
        size += objects[end]->second.size();
        ++end;
      }
      std::string d = EncodeByteaArray(digests), b = EncodeByteaArray(bytes);
      KILN_RETURN_IF_ERROR(c.Run("INSERT INTO objects (digest, bytes) "
                                 "SELECT * FROM unnest($1::bytea[], $2::bytea[]) "
                                 "ON CONFLICT (digest) DO NOTHING",
                                 {{d, kByteaArrayOid}, {b, kByteaArrayOid}},
                                 "write objects on " + description)
                               .status());
      begin = end;
    }
    for (const RefUpdate* u : refs) {
      Param name{u->name, kTextOid};
      std::string what = "write ref " + u->name + " on " + description;
      if (u->force) {
        if (u->desired) {
          KILN_RETURN_IF_ERROR(c.Run("INSERT INTO refs (name, digest) VALUES ($1, $2) "
                                     "ON CONFLICT (name) DO UPDATE SET digest = excluded.digest",
                                     {name, {u->desired->Raw(), kByteaOid}}, what)
                                   .status());
        } else {
          KILN_RETURN_IF_ERROR(c.Run("DELETE FROM refs WHERE name = $1", {name}, what).status());
        }
        continue;
      }
      // The compare-and-swap: the statement touches the row only if it holds
      // the expected value (READ COMMITTED re-reads a row a concurrent
      // transaction changed and re-checks the WHERE clause).
      bool swapped;
      if (u->expected && u->desired) {
        KILN_ASSIGN_OR_RETURN(
            PgResult r,
            c.Run("UPDATE refs SET digest = $3 WHERE name = $1 AND digest = $2",
                  {name, {u->expected->Raw(), kByteaOid}, {u->desired->Raw(), kByteaOid}}, what));
        swapped = std::atoi(PQcmdTuples(r.get())) == 1;
      } else if (u->expected) {
        KILN_ASSIGN_OR_RETURN(PgResult r, c.Run("DELETE FROM refs WHERE name = $1 AND digest = $2",
                                                {name, {u->expected->Raw(), kByteaOid}}, what));
        swapped = std::atoi(PQcmdTuples(r.get())) == 1;
      } else if (u->desired) {
        KILN_ASSIGN_OR_RETURN(PgResult r, c.Run("INSERT INTO refs (name, digest) VALUES ($1, $2) "
                                                "ON CONFLICT (name) DO NOTHING",
                                                {name, {u->desired->Raw(), kByteaOid}}, what));
        swapped = std::atoi(PQcmdTuples(r.get())) == 1;
      } else {
        // "Must not exist, and stays absent": only a check.
        KILN_ASSIGN_OR_RETURN(PgResult r,
                              c.Run("SELECT 1 FROM refs WHERE name = $1", {name}, what));
        swapped = PQntuples(r.get()) == 0;
      }
      if (!swapped) {
        KILN_ASSIGN_OR_RETURN(std::optional<Digest> current, ReadRef(c, u->name));
        return Conflict("ref '" + u->name + "' moved: expected " +
                        (u->expected ? u->expected->Hex() : "absent") + ", found " +
                        (current ? current->Hex() : "absent"));
      }
    }
    // Other processes on the database learn of each moved ref when (and
    // only if) the transaction commits (PostgresRefWatcher).
    for (const RefUpdate* u : refs) {
      std::string payload = u->name + " " + (u->desired ? u->desired->Hex() : "-");
      KILN_RETURN_IF_ERROR(c.Run("SELECT pg_notify('kiln_refs', $1)", {{payload, kTextOid}},
                                 "announce ref " + u->name + " on " + description)
                               .status());
    }
    return Status::Ok();
  }

  Result<std::optional<Digest>> ReadRef(Connection& c, std::string_view name) {
    KILN_ASSIGN_OR_RETURN(PgResult r,
                          c.Run("SELECT digest FROM refs WHERE name = $1", {{name, kTextOid}},
                                "read ref " + std::string(name) + " on " + description));
    if (PQntuples(r.get()) == 0) return std::optional<Digest>();
    return ParseRefDigest(name, Value(r, 0, 0));
  }
};

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo,
                                                           Options options) {
  auto impl = std::make_unique<Impl>();
  impl->conninfo = conninfo;
  impl->description = DescribePostgresConninfo(conninfo);
  impl->options = options;
  if (impl->options.max_connections < 1) impl->options.max_connections = 1;
  {
    KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl->Acquire());
    // The advisory lock serialises schema creation between processes that
    // open the same database at once (CREATE TABLE IF NOT EXISTS alone can
    // fail with a unique violation when two race). COLLATE "C" makes ref
    // names compare and sort bytewise, as ListRefs promises, whatever the
    // database's locale.
    KILN_RETURN_IF_ERROR(c->RunScript(
        "BEGIN; SELECT pg_advisory_xact_lock(7021419087315353966); "
        "CREATE TABLE IF NOT EXISTS objects (digest bytea PRIMARY KEY, bytes bytea NOT NULL); "
        "CREATE TABLE IF NOT EXISTS refs (name text COLLATE \"C\" PRIMARY KEY, "
        "digest bytea NOT NULL); "
        "COMMIT",
        "create the tables on " + impl->description));
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

Result<std::string> PostgresStore::Get(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  KILN_ASSIGN_OR_RETURN(
      PgResult r, c->Run("SELECT bytes FROM objects WHERE digest = $1", {{digest.Raw(), kByteaOid}},
                         "read object " + digest.Hex() + " on " + impl_->description));
  if (PQntuples(r.get()) == 0) return NotFound("no object " + digest.Hex());
  std::string bytes(Value(r, 0, 0));
  if (Digest::Of(bytes) != digest) {
    return Corruption("object " + digest.Hex() + " does not match its digest");
  }
  return bytes;
}

Result<std::vector<std::string>> PostgresStore::GetMany(std::span<const Digest> digests) {
  std::vector<Digest> unique(digests.begin(), digests.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::unordered_map<Digest, std::string> found;
  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  // Objects are immutable and never deleted, so the chunks need no common
  // snapshot.
  for (size_t begin = 0; begin < unique.size(); begin += kMaxDigestsPerQuery) {
    size_t end = std::min(unique.size(), begin + kMaxDigestsPerQuery);
    std::vector<std::string_view> raw;
    for (size_t i = begin; i < end; ++i) raw.push_back(unique[i].Raw());
    std::string array = EncodeByteaArray(raw);
    KILN_ASSIGN_OR_RETURN(
        PgResult r, c->Run("SELECT digest, bytes FROM objects WHERE digest = ANY($1)",
                           {{array, kByteaArrayOid}}, "read objects on " + impl_->description));
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      Result<Digest> d = Digest::FromBytes(Value(r, row, 0));
      if (!d.ok()) return Corruption("an object key is not a digest");
      std::string bytes(Value(r, row, 1));
      if (Digest::Of(bytes) != *d) {
        return Corruption("object " + d->Hex() + " does not match its digest");
      }
      found.emplace(*d, std::move(bytes));
    }
  }
  std::vector<std::string> out;
  out.reserve(digests.size());
  for (const Digest& d : digests) {
    auto it = found.find(d);
    if (it == found.end()) return NotFound("no object " + d.Hex());
    out.push_back(it->second);
  }
  return out;
}

Result<bool> PostgresStore::Contains(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  KILN_ASSIGN_OR_RETURN(
      PgResult r, c->Run("SELECT 1 FROM objects WHERE digest = $1", {{digest.Raw(), kByteaOid}},
                         "contains on " + impl_->description));
  return PQntuples(r.get()) > 0;
}

Status PostgresStore::Write(const WriteBatch& batch) {
  for (const RefUpdate& u : batch.refs()) KILN_RETURN_IF_ERROR(ValidateRefName(u.name));
  // As SqliteStore: a compare-and-swap is checked against the database, which
  // does not show an earlier update of the same ref in the batch.
  for (const RefUpdate& u : batch.refs()) {
    if (u.force) continue;
    for (const RefUpdate& other : batch.refs()) {
      if (&other != &u && other.name == u.name) {
        return InvalidArgument("a batch updates ref '" + u.name + "' twice");
      }
    }
  }
  if (batch.empty()) return Status::Ok();

  std::vector<const std::pair<Digest, std::string>*> objects;
  for (const auto& o : batch.objects()) objects.push_back(&o);
  std::sort(objects.begin(), objects.end(), [](auto* a, auto* b) { return a->first < b->first; });
  objects.erase(std::unique(objects.begin(), objects.end(),
                            [](auto* a, auto* b) { return a->first == b->first; }),
                objects.end());
  std::vector<const RefUpdate*> refs;
  for (const RefUpdate& u : batch.refs()) refs.push_back(&u);
  std::stable_sort(refs.begin(), refs.end(), [](auto* a, auto* b) { return a->name < b->name; });

  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  Status s;
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    s = impl_->WriteOnce(*c, objects, refs);
    // 40P01 deadlock_detected, 40001 serialization_failure: nothing was
    // applied, so trying again is safe.
    if (s.ok() || (c->last_sqlstate != "40P01" && c->last_sqlstate != "40001")) break;
  }
  return s;
}

Result<std::optional<Digest>> PostgresStore::GetRef(std::string_view name) {
  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  return impl_->ReadRef(*c, name);
}

Result<std::vector<std::pair<std::string, Digest>>> PostgresStore::ListRefs(
    std::string_view prefix) {
  // LIKE 'prefix%' with the prefix's own wildcards escaped; on a COLLATE "C"
  // column the planner turns it into an index range scan.
  std::string pattern;
  for (char ch : prefix) {
    if (ch == '\\' || ch == '%' || ch == '_') pattern += '\\';
    pattern += ch;
  }
  pattern += '%';
  KILN_ASSIGN_OR_RETURN(Impl::Lease c, impl_->Acquire());
  KILN_ASSIGN_OR_RETURN(PgResult r,
                        c->Run("SELECT name, digest FROM refs WHERE name LIKE $1 ORDER BY name",
                               {{pattern, kTextOid}}, "list refs on " + impl_->description));
  std::vector<std::pair<std::string, Digest>> out;
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    std::string name(Value(r, row, 0));
    KILN_ASSIGN_OR_RETURN(std::optional<Digest> d, ParseRefDigest(name, Value(r, row, 1)));
    out.emplace_back(std::move(name), *d);
  }
  return out;
}

}  // namespace kiln

namespace kiln {

struct PostgresListener::State {
  std::string conninfo;
  std::string listen;  // "LISTEN <channel>"
  std::function<void(const std::string&)> on_notice;
  std::atomic<bool> stop{false};
};

Result<std::unique_ptr<PostgresListener>> PostgresListener::Start(
    const std::string& conninfo, const std::string& channel,
    std::function<void(const std::string& payload)> on_notice) {
  std::unique_ptr<PostgresListener> w(new PostgresListener());
  w->state_ = std::make_shared<State>();
  w->state_->conninfo = conninfo;
  w->state_->listen = "LISTEN " + channel;
  w->state_->on_notice = std::move(on_notice);
  // The first connection here, so a wrong conninfo fails the start.
  PGconn* first = PQconnectdb(conninfo.c_str());
  if (!first || PQstatus(first) != CONNECTION_OK) {
    std::string why = first ? Trim(PQerrorMessage(first)) : "out of memory";
    PQfinish(first);
    return IOError("listen on PostgreSQL (" + DescribePostgresConninfo(conninfo) + "): " + why);
  }
  PGresult* r = PQexec(first, w->state_->listen.c_str());
  bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!listening) {
    std::string why = Trim(PQerrorMessage(first));
    PQfinish(first);
    return IOError(w->state_->listen + ": " + why);
  }
  w->thread_ = std::thread([state = w->state_, first]() mutable {
    PGconn* conn = first;
    while (!state->stop) {
      if (!conn || PQstatus(conn) != CONNECTION_OK) {
        // The database went away: reconnect once a second until it is back.
        PQfinish(conn);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        conn = PQconnectdb(state->conninfo.c_str());
        if (PQstatus(conn) == CONNECTION_OK) {
          PGresult* res = PQexec(conn, state->listen.c_str());
          PQclear(res);
        }
        continue;
      }
      pollfd fd{PQsocket(conn), POLLIN, 0};
      if (::poll(&fd, 1, 200) < 0 && errno != EINTR) continue;
      if (!PQconsumeInput(conn)) {
        PQreset(conn);
        continue;
      }
      while (PGnotify* n = PQnotifies(conn)) {
        std::string payload = n->extra ? n->extra : "";
        PQfreemem(n);
        state->on_notice(payload);
      }
    }
    PQfinish(conn);
  });
  return w;
}

PostgresListener::~PostgresListener() {
  if (state_) state_->stop = true;
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<PostgresRefWatcher>> PostgresRefWatcher::Start(
    const std::string& conninfo,
    std::function<void(const std::string&, std::optional<Digest>)> on_change) {
  std::unique_ptr<PostgresRefWatcher> w(new PostgresRefWatcher());
  // Payload "<ref> <digest hex | ->".
  KILN_ASSIGN_OR_RETURN(
      w->listener_,
      PostgresListener::Start(
          conninfo, "kiln_refs", [on_change = std::move(on_change)](const std::string& payload) {
            size_t space = payload.rfind(' ');
            if (space == std::string::npos) return;
            std::optional<Digest> digest;
            if (Result<Digest> d = Digest::FromHex(payload.substr(space + 1)); d.ok()) {
              digest = *d;
            }
            on_change(payload.substr(0, space), digest);
          }));
  return w;
}

}  // namespace kiln
