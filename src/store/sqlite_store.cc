#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace kiln {
namespace {

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return Corruption(msg);
  return IOError(msg);
}

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Status Prepare(sqlite3* db, const char* sql) {
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, std::string("prepare ") + sql);
    return Status::Ok();
  }
  sqlite3_stmt* get() { return stmt_; }
  void BindBlob(int i, std::string_view b) {
    sqlite3_bind_blob(stmt_, i, b.data(), int(b.size()), SQLITE_STATIC);
  }
  void BindText(int i, std::string_view t) {
    sqlite3_bind_text(stmt_, i, t.data(), int(t.size()), SQLITE_STATIC);
  }
  std::string_view ColumnBlob(int i) {
    const void* p = sqlite3_column_blob(stmt_, i);
    return {static_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, i))};
  }
  std::string_view ColumnText(int i) {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    return {reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, i))};
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return Corruption(msg);
    return IOError(msg);
  }
  return Status::Ok();
}

Result<sqlite3*> OpenConnection(const std::string& path, bool sync) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open " + path);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 10000);
  // Memory-mapped reads and a 64 MiB page cache: object keys are random
  // digests, so without them most lookups of a checkout are a pread each.
  (void)Exec(db, "PRAGMA mmap_size=1073741824");
  (void)Exec(db, "PRAGMA cache_size=-65536");
  // A file that is not a database fails here, at the first statement.
  Status s = Exec(db, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  if (!s.ok()) {
    sqlite3_close(db);
    return s;
  }
  return db;
}

// A reader connection plus its prepared statements. sqlite3_close_v2 lets the
// connection close once the statements (destroyed after this body) finalize.
struct Reader {
  sqlite3* db = nullptr;
  Statement get_object, get_ref, list_refs, contains;
  ~Reader() { sqlite3_close_v2(db); }
};

}  // namespace

struct SqliteStore::Impl {
  std::string path;
  Options options;

  // Writer side: the connection and the queue of pending writes.
  struct PendingWrite {
    const WriteBatch* batch;
    Status status;
    bool done = false;
  };
  std::mutex write_mu;
  std::condition_variable write_cv;
  std::deque<PendingWrite*> queue;
  sqlite3* writer = nullptr;
  Statement w_put_object, w_get_ref, w_set_ref, w_delete_ref;

  // Reader side: idle connections ready for reuse.
  std::mutex reader_mu;
  std::vector<std::unique_ptr<Reader>> idle_readers;

  std::atomic<uint64_t> writes{0}, transactions{0};

  // Statements are members declared after `writer`, so they finalize after
  // this body; sqlite3_close_v2 waits for them.
  ~Impl() { sqlite3_close_v2(writer); }

  Result<std::unique_ptr<Reader>> AcquireReader() {
    {
      std::lock_guard lock(reader_mu);
      if (!idle_readers.empty()) {
        auto r = std::move(idle_readers.back());
        idle_readers.pop_back();
        return r;
      }
    }
    KILN_ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(path, options.sync));
    auto r = std::make_unique<Reader>();
    r->db = db;
    KILN_RETURN_IF_ERROR(r->get_object.Prepare(db, "SELECT data FROM objects WHERE digest = ?1"));
    KILN_RETURN_IF_ERROR(r->contains.Prepare(db, "SELECT 1 FROM objects WHERE digest = ?1"));
    KILN_RETURN_IF_ERROR(r->get_ref.Prepare(db, "SELECT digest FROM refs WHERE name = ?1"));
    KILN_RETURN_IF_ERROR(
        r->list_refs.Prepare(db, "SELECT name, digest FROM refs WHERE name >= ?1 ORDER BY name"));
    return r;
  }

  void ReleaseReader(std::unique_ptr<Reader> r) {
    std::lock_guard lock(reader_mu);
    idle_readers.push_back(std::move(r));
  }

  // Reads one object on `r`; verifies its digest.
  Result<std::string> ReadObject(Reader& r, const Digest& digest) {
    Statement& st = r.get_object;
    st.BindBlob(1, digest.Raw());
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) {
      st.Reset();
      return NotFound("no object " + digest.Hex());
    }
    if (rc != SQLITE_ROW) {
      Status s = SqliteError(r.db, rc, "read object " + digest.Hex());
      st.Reset();
      return s;
    }
    std::string bytes(st.ColumnBlob(0));
    st.Reset();
    if (Digest::Of(bytes) != digest) {
      return Corruption("object " + digest.Hex() + " does not match its digest");
    }
    return bytes;
  }

  Result<std::optional<Digest>> ReadRef(sqlite3* db, Statement& st, std::string_view name) {
    st.BindText(1, name);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) {
      st.Reset();
      return std::optional<Digest>();
    }
    if (rc != SQLITE_ROW) {
      Status s = SqliteError(db, rc, "read ref " + std::string(name));
      st.Reset();
      return s;
    }
    Result<Digest> d = Digest::FromBytes(st.ColumnBlob(0));
    st.Reset();
    if (!d.ok()) return Corruption("ref '" + std::string(name) + "' holds a malformed digest");
    return std::optional<Digest>(*d);
  }

  // Applies one batch inside the open transaction. A lost compare-and-swap is
  // reported before anything of the batch is written.
  Status ApplyBatch(const WriteBatch& batch) {
    for (const RefUpdate& u : batch.refs()) {
      if (u.force) continue;
      KILN_ASSIGN_OR_RETURN(std::optional<Digest> current, ReadRef(writer, w_get_ref, u.name));
      if (current != u.expected) {
        return Conflict("ref '" + u.name + "' moved: expected " +
                        (u.expected ? u.expected->Hex() : "absent") + ", found " +
                        (current ? current->Hex() : "absent"));
      }
      // Later updates of the same ref in this batch are checked against the
      // database, which does not show this one yet; batches that move one ref
      // twice are not a use case, so refuse them plainly.
      for (const RefUpdate& other : batch.refs()) {
        if (&other != &u && other.name == u.name) {
          return InvalidArgument("a batch updates ref '" + u.name + "' twice");
        }
      }
    }
    for (const auto& [digest, bytes] : batch.objects()) {
      w_put_object.BindBlob(1, digest.Raw());
      w_put_object.BindBlob(2, bytes);
      int rc = sqlite3_step(w_put_object.get());
      w_put_object.Reset();
      if (rc != SQLITE_DONE) return SqliteError(writer, rc, "write object");
    }
    for (const RefUpdate& u : batch.refs()) {
      Statement& st = u.desired ? w_set_ref : w_delete_ref;
      st.BindText(1, u.name);
      if (u.desired) st.BindBlob(2, u.desired->Raw());
      int rc = sqlite3_step(st.get());
      st.Reset();
      if (rc != SQLITE_DONE) return SqliteError(writer, rc, "write ref " + u.name);
    }
    return Status::Ok();
  }

  // Commits `group` in one transaction; sets each write's status.
  void CommitGroup(std::vector<PendingWrite*>& group) {
    transactions.fetch_add(1, std::memory_order_relaxed);
    Status begin = Exec(writer, "BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (PendingWrite* w : group) w->status = begin;
      return;
    }
    for (PendingWrite* w : group) {
      Status s = Exec(writer, "SAVEPOINT batch");
      if (s.ok()) {
        s = ApplyBatch(*w->batch);
        if (!s.ok()) {
          Status undo = Exec(writer, "ROLLBACK TO batch");
          if (!undo.ok()) s = undo;
        }
        Status release = Exec(writer, "RELEASE batch");
        if (s.ok() && !release.ok()) s = release;
      }
      w->status = s;
    }
    Status commit = Exec(writer, "COMMIT");
    if (!commit.ok()) {
      (void)Exec(writer, "ROLLBACK");
      for (PendingWrite* w : group) {
        if (w->status.ok()) w->status = commit;
      }
    }
  }
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path, Options options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  Result<sqlite3*> writer = OpenConnection(path, options.sync);
  if (!writer.ok()) return writer.status().WithContext(path);
  impl->writer = *writer;
  sqlite3* db = impl->writer;
  KILN_RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL").WithContext(path));
  KILN_RETURN_IF_ERROR(
      Exec(db,
           "CREATE TABLE IF NOT EXISTS objects (digest BLOB PRIMARY KEY, data BLOB "
           "NOT NULL) WITHOUT ROWID;"
           "CREATE TABLE IF NOT EXISTS refs (name TEXT PRIMARY KEY, digest BLOB NOT "
           "NULL) WITHOUT ROWID;")
          .WithContext(path));
  KILN_RETURN_IF_ERROR(impl->w_put_object.Prepare(
      db, "INSERT OR IGNORE INTO objects (digest, data) VALUES (?1, ?2)"));
  KILN_RETURN_IF_ERROR(impl->w_get_ref.Prepare(db, "SELECT digest FROM refs WHERE name = ?1"));
  KILN_RETURN_IF_ERROR(
      impl->w_set_ref.Prepare(db,
                              "INSERT INTO refs (name, digest) VALUES (?1, ?2) "
                              "ON CONFLICT(name) DO UPDATE SET digest = excluded.digest"));
  KILN_RETURN_IF_ERROR(impl->w_delete_ref.Prepare(db, "DELETE FROM refs WHERE name = ?1"));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<std::string> SqliteStore::Get(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(auto reader, impl_->AcquireReader());
  Result<std::string> r = impl_->ReadObject(*reader, digest);
  impl_->ReleaseReader(std::move(reader));
  return r;
}

Result<std::vector<std::string>> SqliteStore::GetMany(std::span<const Digest> digests) {
  KILN_ASSIGN_OR_RETURN(auto reader, impl_->AcquireReader());
  // One read transaction for the lot: one snapshot, and no per-statement
  // transaction cost.
  Status s = Exec(reader->db, "BEGIN");
  std::vector<std::string> out;
  if (s.ok()) {
    // Read in key order (neighbouring keys share B-tree pages), answer in
    // the order asked.
    std::vector<size_t> order(digests.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return digests[a] < digests[b]; });
    out.resize(digests.size());
    for (size_t i : order) {
      Result<std::string> r = impl_->ReadObject(*reader, digests[i]);
      if (!r.ok()) {
        s = r.status();
        break;
      }
      out[i] = std::move(r).value();
    }
    (void)Exec(reader->db, "COMMIT");
  }
  impl_->ReleaseReader(std::move(reader));
  if (!s.ok()) return s;
  return out;
}

Result<bool> SqliteStore::Contains(const Digest& digest) {
  KILN_ASSIGN_OR_RETURN(auto reader, impl_->AcquireReader());
  Statement& st = reader->contains;
  st.BindBlob(1, digest.Raw());
  int rc = sqlite3_step(st.get());
  st.Reset();
  Result<bool> out = rc == SQLITE_ROW    ? Result<bool>(true)
                     : rc == SQLITE_DONE ? Result<bool>(false)
                                         : Result<bool>(SqliteError(reader->db, rc, "contains"));
  impl_->ReleaseReader(std::move(reader));
  return out;
}

Status SqliteStore::Write(const WriteBatch& batch) {
  for (const RefUpdate& u : batch.refs()) KILN_RETURN_IF_ERROR(ValidateRefName(u.name));
  impl_->writes.fetch_add(1, std::memory_order_relaxed);
  Impl::PendingWrite me{&batch, Status::Ok()};
  std::unique_lock lock(impl_->write_mu);
  impl_->queue.push_back(&me);
  impl_->write_cv.wait(lock, [&] { return me.done || impl_->queue.front() == &me; });
  if (me.done) return me.status;

  // This writer leads: take everything queued so far.
  std::vector<Impl::PendingWrite*> group;
  for (auto* w : impl_->queue) {
    if (int(group.size()) >= impl_->options.max_group) break;
    group.push_back(w);
  }
  lock.unlock();
  impl_->CommitGroup(group);
  lock.lock();
  for (auto* w : group) {
    impl_->queue.pop_front();
    w->done = true;
  }
  impl_->write_cv.notify_all();
  return me.status;
}

Result<std::optional<Digest>> SqliteStore::GetRef(std::string_view name) {
  KILN_ASSIGN_OR_RETURN(auto reader, impl_->AcquireReader());
  auto r = impl_->ReadRef(reader->db, reader->get_ref, name);
  impl_->ReleaseReader(std::move(reader));
  return r;
}

Result<std::vector<std::pair<std::string, Digest>>> SqliteStore::ListRefs(std::string_view prefix) {
  KILN_ASSIGN_OR_RETURN(auto reader, impl_->AcquireReader());
  Statement& st = reader->list_refs;
  st.BindText(1, prefix);
  std::vector<std::pair<std::string, Digest>> out;
  Status s;
  while (true) {
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      s = SqliteError(reader->db, rc, "list refs");
      break;
    }
    std::string_view name = st.ColumnText(0);
    if (!name.starts_with(prefix)) break;
    Result<Digest> d = Digest::FromBytes(st.ColumnBlob(1));
    if (!d.ok()) {
      s = Corruption("ref '" + std::string(name) + "' holds a malformed digest");
      break;
    }
    out.emplace_back(std::string(name), *d);
  }
  st.Reset();
  impl_->ReleaseReader(std::move(reader));
  if (!s.ok()) return s;
  return out;
}

uint64_t SqliteStore::writes() const { return impl_->writes.load(); }
uint64_t SqliteStore::transactions() const { return impl_->transactions.load(); }

}  // namespace kiln
