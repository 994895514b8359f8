#include "runs/runs_store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>

#include "runs/sql/sql_connection.h"

namespace kiln {
namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, pipeline TEXT NOT NULL, commit_digest TEXT NOT NULL,
  ref TEXT NOT NULL, branch TEXT NOT NULL, "user" TEXT NOT NULL, state TEXT NOT NULL,
  reason TEXT NOT NULL, force INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL, artifacts_commit TEXT);
CREATE INDEX IF NOT EXISTS executions_by_project ON executions(project, created_ms);
CREATE INDEX IF NOT EXISTS executions_by_state ON executions(state);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, execution TEXT NOT NULL, ord INTEGER NOT NULL, node TEXT NOT NULL,
  name TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, cache_key TEXT,
  queued_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL, finished_ms INTEGER NOT NULL,
  exit_code INTEGER, outputs TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_execution ON jobs(execution, ord);
CREATE TABLE IF NOT EXISTS events (
  job TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL, kind TEXT NOT NULL,
  name TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (job, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_kind ON events(job, kind, name, seq);
CREATE TABLE IF NOT EXISTS action_cache (
  cache_key TEXT PRIMARY KEY, outputs TEXT NOT NULL, job TEXT NOT NULL,
  created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS provenance (
  artifact TEXT NOT NULL, job TEXT NOT NULL, output TEXT NOT NULL, execution TEXT NOT NULL,
  operation TEXT NOT NULL, inputs TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (artifact, job, output)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS project_artifacts (
  project TEXT NOT NULL, digest TEXT NOT NULL, how TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (project, digest)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS project_artifacts_by_digest ON project_artifacts(digest);
CREATE TABLE IF NOT EXISTS operation_snapshots (
  digest TEXT PRIMARY KEY, snapshot TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sweeps (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, pipeline TEXT NOT NULL, ref TEXT NOT NULL,
  commit_digest TEXT NOT NULL, "user" TEXT NOT NULL, spec TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sweeps_by_project ON sweeps(project, created_ms);
CREATE TABLE IF NOT EXISTS cancel_requests (
  target TEXT PRIMARY KEY, kind TEXT NOT NULL, server TEXT NOT NULL, "user" TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cancel_requests_by_server ON cancel_requests(server);
CREATE TABLE IF NOT EXISTS provenance_inputs (
  project TEXT NOT NULL, input TEXT NOT NULL, job TEXT NOT NULL,
  PRIMARY KEY (project, input, job)) WITHOUT ROWID;
)sql";

// Columns added after a table first shipped: (table, column, definition).
// Open adds the ones a database lacks (ALTER TABLE), then runs kMigrated.
struct AddedColumn {
  const char* table;
  const char* column;
  const char* definition;
};
const AddedColumn kAddedColumns[] = {
    {"provenance", "project", "TEXT NOT NULL DEFAULT ''"},
    {"provenance", "runtime", "TEXT NOT NULL DEFAULT '{}'"},
    {"provenance", "started_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"provenance", "cached_from", "TEXT NOT NULL DEFAULT ''"},
    {"project_artifacts", "user", "TEXT NOT NULL DEFAULT ''"},
    {"project_artifacts", "source", "TEXT NOT NULL DEFAULT ''"},
    {"executions", "overrides", "TEXT NOT NULL DEFAULT '{}'"},
    {"executions", "sweep", "TEXT NOT NULL DEFAULT ''"},
    {"executions", "sweep_trial", "INTEGER NOT NULL DEFAULT -1"},
    {"executions", "backend", "TEXT NOT NULL DEFAULT ''"},
    {"jobs", "backend", "TEXT NOT NULL DEFAULT ''"},
    {"jobs", "host", "TEXT NOT NULL DEFAULT ''"},
    {"jobs", "backend_job", "TEXT NOT NULL DEFAULT ''"},
    {"executions", "server", "TEXT NOT NULL DEFAULT ''"},
};

// Indexes on added columns, created once the columns exist.
// (None yet: the provenance queries use primary keys, so recording a job's
// outputs writes no index pages besides them — it is on the driver's path.)
const char* kIndexes =
    "CREATE INDEX IF NOT EXISTS executions_by_sweep ON executions(sweep, sweep_trial);";

// SQLite's column types in PostgreSQL's words: INTEGER holds 64 bits in
// SQLite (milliseconds since 1970 overflow PostgreSQL's 32-bit INTEGER),
// REAL is a double (PostgreSQL's REAL is a float).
std::string PostgresTypes(std::string sql) {
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t i = sql.find(from); i != std::string::npos; i = sql.find(from, i + to.size())) {
      sql.replace(i, from.size(), to);
    }
  };
  replace_all(" INTEGER", " BIGINT");
  replace_all(" REAL", " DOUBLE PRECISION");
  replace_all(") WITHOUT ROWID", ")");
  return sql;
}

std::string PostgresSchema() { return PostgresTypes(kSchema); }

const char* kProvenanceColumns =
    "p.artifact, p.job, p.output, p.execution, p.operation, p.inputs, p.created_ms, p.project, "
    "p.runtime, p.started_ms, p.cached_from";

// A statement: its own (deleted on scope exit), or one borrowed from the
// connection's cache (reset on scope exit, kept prepared).
class Stmt {
 public:
  Stmt(const std::unique_ptr<SqlConnection>& db, const std::string& sql)
      : owned_(db->Prepare(sql)), s_(owned_.get()) {}
  Stmt(const std::unique_ptr<SqlConnection>& db, const RunsStore::CachedSql& cached)
      : s_(db->PrepareCached(cached.sql)) {}
  ~Stmt() {
    if (!owned_) s_->Reset();
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& v) {
    s_->BindText(i, v);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    s_->BindInt(i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    s_->BindReal(i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    s_->BindNull(i);
    return *this;
  }
  // A row → true, done → false.
  Result<bool> Step() { return s_->Step(); }
  Status Run() {
    auto r = Step();
    return r.ok() ? Status::Ok() : r.status();
  }
  std::string Text(int i) const { return s_->Text(i); }
  int64_t Int(int i) const { return s_->Int(i); }
  double Real(int i) const { return s_->Real(i); }
  bool IsNull(int i) const { return s_->IsNull(i); }
  int64_t Changes() const { return s_->Changes(); }

 private:
  std::unique_ptr<SqlStatement> owned_;
  SqlStatement* s_;
};

Result<Digest> HexDigest(const std::string& hex) {
  auto d = Digest::FromHex(hex);
  if (!d.ok()) return Corruption("runs.db holds a malformed digest '" + hex + "'");
  return d;
}

const char* kExecutionColumns =
    "id, project, pipeline, commit_digest, ref, branch, \"user\", state, reason, force, "
    "created_ms, "
    "finished_ms, artifacts_commit, overrides, sweep, sweep_trial, backend, server";

// The first column of every row, as text.
Result<std::vector<std::string>> FirstColumn(Stmt& s) {
  std::vector<std::string> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Result<ExecutionRecord> ReadExecution(const Stmt& s) {
  ExecutionRecord e;
  e.id = s.Text(0);
  e.project = s.Text(1);
  e.pipeline = s.Text(2);
  KILN_ASSIGN_OR_RETURN(e.commit, HexDigest(s.Text(3)));
  e.ref = s.Text(4);
  e.branch = s.Text(5);
  e.user = s.Text(6);
  KILN_ASSIGN_OR_RETURN(e.state, ParseExecutionState(s.Text(7)));
  e.reason = s.Text(8);
  e.force = s.Int(9) != 0;
  e.created_ms = s.Int(10);
  e.finished_ms = s.Int(11);
  if (!s.IsNull(12)) {
    KILN_ASSIGN_OR_RETURN(Digest d, HexDigest(s.Text(12)));
    e.artifacts = d;
  }
  e.overrides = s.Text(13);
  e.sweep = s.Text(14);
  e.sweep_trial = s.Int(15);
  e.backend = s.Text(16);
  e.server = s.Text(17);
  return e;
}

const char* kJobColumns =
    "id, execution, node, name, state, reason, cache_key, queued_ms, started_ms, finished_ms, "
    "exit_code, outputs, backend, host, backend_job";

Result<JobRecord> ReadJob(const Stmt& s) {
  JobRecord j;
  j.id = s.Text(0);
  j.execution = s.Text(1);
  j.node = s.Text(2);
  j.name = s.Text(3);
  KILN_ASSIGN_OR_RETURN(j.state, ParseJobState(s.Text(4)));
  j.reason = s.Text(5);
  if (!s.IsNull(6)) {
    KILN_ASSIGN_OR_RETURN(Digest d, HexDigest(s.Text(6)));
    j.cache_key = d;
  }
  j.queued_ms = s.Int(7);
  j.started_ms = s.Int(8);
  j.finished_ms = s.Int(9);
  if (!s.IsNull(10)) j.exit_code = int(s.Int(10));
  KILN_ASSIGN_OR_RETURN(j.outputs, OutputsFromJson(s.Text(11)));
  j.backend = s.Text(12);
  j.host = s.Text(13);
  j.backend_job = s.Text(14);
  return j;
}

EventRecord ReadEvent(const Stmt& s) {
  return EventRecord{s.Text(0), s.Int(1), s.Real(2), s.Text(3), s.Text(4), s.Text(5)};
}

void BindJob(Stmt& s, const JobRecord& j) {
  s.Bind(1, j.id).Bind(2, j.execution).Bind(3, j.node).Bind(4, j.name);
  s.Bind(5, std::string(JobStateName(j.state))).Bind(6, j.reason);
  if (j.cache_key)
    s.Bind(7, j.cache_key->Hex());
  else
    s.BindNull(7);
  s.Bind(8, j.queued_ms).Bind(9, j.started_ms).Bind(10, j.finished_ms);
  if (j.exit_code)
    s.Bind(11, int64_t(*j.exit_code));
  else
    s.BindNull(11);
  s.Bind(12, OutputsToJson(j.outputs));
  s.Bind(13, j.backend).Bind(14, j.host).Bind(15, j.backend_job);
}

}  // namespace

std::string OutputsToJson(const Outputs& outputs) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, o] : outputs) {
    j[name] = {{"digest", o.digest.Hex()}, {"serializer", o.serializer}, {"size", o.size}};
  }
  return j.dump();
}

namespace {

// OutputsToJson's own text, read by hand: {"name":{"digest":"<hex>",
// "serializer":"s","size":N},…} with no escapes. nullopt when the text is
// anything else (nlohmann reads it then). Every job row and lineage step
// reads one.
std::optional<Outputs> PlainOutputs(std::string_view t) {
  if (t.find('\\') != std::string_view::npos || t.size() < 2 || t.front() != '{') return {};
  Outputs out;
  size_t i = 1;
  auto expect = [&](std::string_view lit) {
    if (t.compare(i, lit.size(), lit) != 0) return false;
    i += lit.size();
    return true;
  };
  auto until_quote = [&](std::string* s) {
    size_t end = t.find('"', i);
    if (end == std::string_view::npos) return false;
    *s = std::string(t.substr(i, end - i));
    i = end + 1;
    return true;
  };
  if (expect("}")) return i == t.size() ? std::optional<Outputs>(out) : std::nullopt;
  for (;;) {
    std::string name, hex;
    OutputRef o;
    if (!expect("\"") || !until_quote(&name) || !expect(":{\"digest\":\"") || !until_quote(&hex) ||
        !expect(",\"serializer\":\"") || !until_quote(&o.serializer) || !expect(",\"size\":")) {
      return {};
    }
    size_t digits = 0;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9' && digits < 20; ++i, ++digits) {
      o.size = o.size * 10 + uint64_t(t[i] - '0');
    }
    auto d = Digest::FromHex(hex);
    if (!digits || !d.ok() || !expect("}")) return {};
    o.digest = *d;
    out.emplace(std::move(name), std::move(o));
    if (expect("}")) return i == t.size() ? std::optional<Outputs>(std::move(out)) : std::nullopt;
    if (!expect(",")) return {};
  }
}

}  // namespace

Result<Outputs> OutputsFromJson(const std::string& text) {
  if (std::optional<Outputs> plain = PlainOutputs(text)) return std::move(*plain);
  Outputs out;
  try {
    auto j = nlohmann::json::parse(text);
    for (const auto& [name, o] : j.items()) {
      auto d = Digest::FromHex(o.at("digest").get<std::string>());
      if (!d.ok()) return Corruption("bad output digest in '" + text + "'");
      out[name] =
          OutputRef{*d, o.at("serializer").get<std::string>(), o.at("size").get<uint64_t>()};
    }
  } catch (const nlohmann::json::exception& e) {
    return Corruption(std::string("bad outputs JSON: ") + e.what());
  }
  return out;
}

RunsStore::RunsStore(std::unique_ptr<SqlConnection> db) : db_(std::move(db)) {}
RunsStore::~RunsStore() = default;

bool RunsStore::postgres() const { return db_->dialect() == SqlDialect::kPostgres; }

// Text in byte order, as SQLite sorts it (PostgreSQL would use the
// database's locale).
std::string RunsStore::Bytewise() const { return postgres() ? " COLLATE \"C\"" : ""; }

Result<std::unique_ptr<RunsStore>> RunsStore::Open(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(auto db, OpenSqliteConnection(path));
  return Init(std::move(db));
}

Result<std::unique_ptr<RunsStore>> RunsStore::OpenPostgres(const std::string& conninfo) {
  KILN_ASSIGN_OR_RETURN(auto db, OpenPostgresConnection(conninfo));
  return Init(std::move(db));
}

Result<std::unique_ptr<RunsStore>> RunsStore::Init(std::unique_ptr<SqlConnection> db) {
  std::unique_ptr<RunsStore> store(new RunsStore(std::move(db)));
  bool pg = store->postgres();
  bool had_grants = false;
  {
    Stmt s(store->db_, pg ? "SELECT 1 FROM information_schema.tables WHERE table_name = "
                            "'project_artifacts' AND table_schema = current_schema()"
                          : "SELECT 1 FROM sqlite_master WHERE type='table' AND "
                            "name='project_artifacts'");
    KILN_ASSIGN_OR_RETURN(had_grants, s.Step());
  }
  KILN_ASSIGN_OR_RETURN(bool current, pg ? store->PostgresSchemaCurrent() : false);
  if (pg && !current) {
    // Servers starting at once must not race to create the same tables.
    // (Only when something is missing: even a no-op ADD COLUMN IF NOT
    // EXISTS locks its table, which would stall the other servers' writes.)
    KILN_RETURN_IF_ERROR(store->Exec("BEGIN; SELECT pg_advisory_xact_lock(7336145)"));
    Status st = store->Exec(PostgresSchema());
    if (st.ok()) st = store->Migrate();
    if (!st.ok()) {
      (void)store->Exec("ROLLBACK");
      return st;
    }
    KILN_RETURN_IF_ERROR(store->Exec("COMMIT"));
  } else if (!pg) {
    KILN_RETURN_IF_ERROR(store->Exec(kSchema));
    KILN_RETURN_IF_ERROR(store->Migrate());
  }
  if (!had_grants) {
    store->grants_created_ = true;
    // Outputs made before grants existed belong to their execution's project.
    KILN_RETURN_IF_ERROR(store->Exec(
        "INSERT INTO project_artifacts (project, digest, how, created_ms) SELECT "
        "e.project, p.artifact, 'job', p.created_ms FROM provenance p JOIN executions e ON e.id = "
        "p.execution WHERE true ON CONFLICT DO NOTHING"));
  }
  return store;
}

Status RunsStore::Exec(const std::string& sql) { return db_->Exec(sql); }

namespace {

// The names after `keyword` in `sql` ("CREATE TABLE IF NOT EXISTS name").
std::set<std::string> NamesAfter(const std::string& sql, const std::string& keyword) {
  std::set<std::string> out;
  for (size_t i = sql.find(keyword); i != std::string::npos; i = sql.find(keyword, i + 1)) {
    size_t start = i + keyword.size(), end = start;
    while (end < sql.size() && (isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) {
      ++end;
    }
    out.insert(sql.substr(start, end - start));
  }
  return out;
}

}  // namespace

Result<bool> RunsStore::PostgresSchemaCurrent() {
  std::string all = std::string(kSchema) + kIndexes;
  std::set<std::string> tables = NamesAfter(all, "CREATE TABLE IF NOT EXISTS ");
  std::set<std::string> indexes = NamesAfter(all, "CREATE INDEX IF NOT EXISTS ");
  std::set<std::pair<std::string, std::string>> columns{{"executions", "rowid"}};
  for (const AddedColumn& c : kAddedColumns) columns.emplace(c.table, c.column);
  auto drop_found = [&](const char* sql, auto&& erase) -> Status {
    Stmt s(db_, sql);
    for (;;) {
      KILN_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      erase(s);
    }
  };
  KILN_RETURN_IF_ERROR(drop_found(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
      [&](Stmt& s) { tables.erase(s.Text(0)); }));
  KILN_RETURN_IF_ERROR(
      drop_found("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
                 [&](Stmt& s) { indexes.erase(s.Text(0)); }));
  KILN_RETURN_IF_ERROR(drop_found(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
      "current_schema()",
      [&](Stmt& s) {
        columns.erase({s.Text(0), s.Text(1)});
      }));
  return tables.empty() && indexes.empty() && columns.empty();
}

Status RunsStore::NotifyLocked(const std::string& payload) {
  if (!postgres()) return Status::Ok();
  Stmt s(db_, PreparedLocked(std::string("SELECT pg_notify('") + kRunsChannel + "', ?)"));
  s.Bind(1, payload);
  return s.Run();
}

Status RunsStore::CreateExecution(const ExecutionRecord& e, const std::vector<JobRecord>& jobs) {
  std::lock_guard lock(mu_);
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    Stmt s(db_, (std::string("INSERT INTO executions (") + kExecutionColumns +
                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
                    .c_str());
    s.Bind(1, e.id).Bind(2, e.project).Bind(3, e.pipeline).Bind(4, e.commit.Hex());
    s.Bind(5, e.ref).Bind(6, e.branch).Bind(7, e.user);
    s.Bind(8, std::string(ExecutionStateName(e.state))).Bind(9, e.reason);
    s.Bind(10, int64_t(e.force)).Bind(11, e.created_ms).Bind(12, e.finished_ms);
    if (e.artifacts)
      s.Bind(13, e.artifacts->Hex());
    else
      s.BindNull(13);
    s.Bind(14, e.overrides.empty() ? std::string("{}") : e.overrides).Bind(15, e.sweep);
    s.Bind(16, e.sweep_trial).Bind(17, e.backend).Bind(18, e.server);
    KILN_RETURN_IF_ERROR(s.Run());
    int64_t ord = 0;
    for (const JobRecord& j : jobs) {
      Stmt js(db_, PreparedLocked("INSERT INTO jobs (id, execution, node, name, state, reason, "
                                  "cache_key, queued_ms, started_ms, finished_ms, exit_code, "
                                  "outputs, backend, host, backend_job, ord) "
                                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
      BindJob(js, j);
      js.Bind(16, ord++);
      KILN_RETURN_IF_ERROR(js.Run());
    }
    // New jobs have no events yet: their first seq is 1 without a query.
    for (const JobRecord& j : jobs) last_seq_.emplace(j.id, 0);
    return NotifyLocked();
  };
  Status st = body();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Status RunsStore::UpdateExecution(const ExecutionRecord& e) {
  std::lock_guard lock(mu_);
  KILN_RETURN_IF_ERROR(UpdateExecutionLocked(e));
  return NotifyLocked();
}

Status RunsStore::UpdateExecutionLocked(const ExecutionRecord& e) {
  Stmt s(db_, PreparedLocked("UPDATE executions SET state=?, reason=?, finished_ms=?, "
                             "artifacts_commit=? WHERE id=?"));
  s.Bind(1, std::string(ExecutionStateName(e.state))).Bind(2, e.reason).Bind(3, e.finished_ms);
  if (e.artifacts)
    s.Bind(4, e.artifacts->Hex());
  else
    s.BindNull(4);
  s.Bind(5, e.id);
  KILN_RETURN_IF_ERROR(s.Run());
  if (s.Changes() == 0) return NotFound("no execution " + e.id);
  return Status::Ok();
}

Result<ExecutionRecord> RunsStore::GetExecution(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked(std::string("SELECT ") + kExecutionColumns +
                             " FROM executions WHERE id=?"));
  s.Bind(1, id);
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("no execution " + id);
  return ReadExecution(s);
}

Result<std::vector<ExecutionRecord>> RunsStore::ListExecutions(const std::string& project,
                                                               size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kExecutionColumns +
               " FROM executions WHERE (?1 = '' OR project = ?1) ORDER BY created_ms DESC, rowid "
               "DESC LIMIT ?2")
                  .c_str());
  s.Bind(1, project).Bind(2, int64_t(limit));
  std::vector<ExecutionRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(auto e, ReadExecution(s));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<ExecutionRecord>> RunsStore::ListRunningExecutions(const std::string& server) {
  std::lock_guard lock(mu_);
  Stmt s(db_, std::string("SELECT ") + kExecutionColumns +
                  " FROM executions WHERE state = 'running' AND (?1 = '' OR server = ?1 OR "
                  "server = '') ORDER BY created_ms");
  s.Bind(1, server);
  std::vector<ExecutionRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(auto e, ReadExecution(s));
    out.push_back(std::move(e));
  }
  return out;
}

Status RunsStore::UpdateJob(const JobRecord& j) {
  std::lock_guard lock(mu_);
  KILN_RETURN_IF_ERROR(UpdateJobLocked(j));
  return NotifyLocked();
}

Status RunsStore::UpdateJobLocked(const JobRecord& j) {
  Stmt s(db_, PreparedLocked(
                  // id, execution, node and name never change: assigning them would
                  // rewrite the index entries of every job updated.
                  "UPDATE jobs SET state=?5, reason=?6, cache_key=?7, queued_ms=?8, "
                  "started_ms=?9, finished_ms=?10, exit_code=?11, outputs=?12, backend=?13, "
                  "host=?14, backend_job=?15 WHERE id=?1"));
  BindJob(s, j);
  KILN_RETURN_IF_ERROR(s.Run());
  if (s.Changes() == 0) return NotFound("no job " + j.id);
  return Status::Ok();
}

Result<JobRecord> RunsStore::GetJob(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?"));
  s.Bind(1, id);
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("no job " + id);
  return ReadJob(s);
}

Result<std::vector<JobRecord>> RunsStore::ListJobs(const std::string& execution) {
  std::lock_guard lock(mu_);
  Stmt s(
      db_,
      (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE execution=? ORDER BY ord").c_str());
  s.Bind(1, execution);
  std::vector<JobRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(auto j, ReadJob(s));
    out.push_back(std::move(j));
  }
  return out;
}

Result<int64_t> RunsStore::NextSeqLocked(const std::string& job) {
  auto it = last_seq_.find(job);
  if (it == last_seq_.end()) {
    Stmt s(db_, PreparedLocked("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job=?"));
    s.Bind(1, job);
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    it = last_seq_.emplace(job, row ? s.Int(0) : 0).first;
  }
  return ++it->second;
}

Status RunsStore::AppendEventLocked(const std::string& job, const NewEvent& e, EventRecord* out) {
  KILN_ASSIGN_OR_RETURN(int64_t seq, NextSeqLocked(job));
  Stmt s(db_, PreparedLocked("INSERT INTO events VALUES (?,?,?,?,?,?)"));
  s.Bind(1, job).Bind(2, seq).Bind(3, e.time).Bind(4, e.kind).Bind(5, e.name);
  s.Bind(6, e.payload);
  KILN_RETURN_IF_ERROR(s.Run());
  *out = EventRecord{job, seq, e.time, e.kind, e.name, e.payload};
  return Status::Ok();
}

Result<std::vector<EventRecord>> RunsStore::AppendEvents(const std::string& job,
                                                         const std::vector<NewEvent>& events) {
  RunsBatch batch;
  for (const NewEvent& e : events) batch.events.emplace_back(job, e);
  return Write(batch);
}

Result<std::vector<EventRecord>> RunsStore::Write(const RunsBatch& batch) {
  std::lock_guard lock(mu_);
  std::vector<EventRecord> out;
  if (batch.empty()) return out;
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    // The last record of each job is its state after the batch.
    std::unordered_set<std::string> written;
    for (auto it = batch.jobs.rbegin(); it != batch.jobs.rend(); ++it) {
      if (!written.insert(it->id).second) continue;
      KILN_RETURN_IF_ERROR(UpdateJobLocked(*it));
    }
    out.resize(batch.events.size());
    for (size_t i = 0; i < batch.events.size(); ++i) {
      KILN_RETURN_IF_ERROR(
          AppendEventLocked(batch.events[i].first, batch.events[i].second, &out[i]));
    }
    for (const ProvenanceRecord& r : batch.provenance) KILN_RETURN_IF_ERROR(PutProvenanceLocked(r));
    for (const CacheEntry& c : batch.cache) KILN_RETURN_IF_ERROR(PutCacheLocked(c));
    for (const ArtifactGrant& g : batch.grants) KILN_RETURN_IF_ERROR(GrantLocked(g));
    for (const ExecutionRecord& e : batch.executions)
      KILN_RETURN_IF_ERROR(UpdateExecutionLocked(e));
    return NotifyLocked();
  };
  Status st = body();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    for (const auto& [job, e] : batch.events) last_seq_.erase(job);  // re-read from the table
    return st;
  }
  KILN_RETURN_IF_ERROR(Exec("COMMIT"));
  return out;
}

Result<std::vector<EventRecord>> RunsStore::Events(const std::string& job, const EventQuery& q) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT job, seq, time, kind, name, payload FROM events WHERE job=?1 AND seq>?2 AND "
         "(?3='' OR kind=?3) ORDER BY seq LIMIT ?4");
  s.Bind(1, job).Bind(2, q.after_seq).Bind(3, q.kind).Bind(4, int64_t(q.limit));
  std::vector<EventRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadEvent(s));
  }
  return out;
}

Result<int64_t> RunsStore::LastSeq(const std::string& job) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job=?"));
  s.Bind(1, job);
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

Result<std::vector<MetricPoint>> RunsStore::MetricSeries(const std::string& job,
                                                         const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT time, payload FROM events WHERE job=? AND kind='metric' AND name=? ORDER BY seq");
  s.Bind(1, job).Bind(2, name);
  std::vector<MetricPoint> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    MetricPoint p;
    p.time = s.Real(0);
    auto j = nlohmann::json::parse(s.Text(1), nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    p.step = j.value("step", int64_t(out.size()));
    const auto& v = j["value"];
    if (v.is_number()) {
      p.value = v.get<double>();
    } else if (v.is_string()) {
      std::string t = v.get<std::string>();
      p.value = t == "inf"    ? std::numeric_limits<double>::infinity()
                : t == "-inf" ? -std::numeric_limits<double>::infinity()
                              : std::nan("");
    } else {
      continue;
    }
    out.push_back(p);
  }
  return out;
}

Result<std::vector<std::string>> RunsStore::MetricNames(const std::string& job) {
  std::lock_guard lock(mu_);
  // GROUP BY, not DISTINCT: PostgreSQL orders a DISTINCT only by what it selects.
  Stmt s(db_, "SELECT name FROM events WHERE job=? AND kind='metric' GROUP BY name ORDER BY name" +
                  Bytewise());
  s.Bind(1, job);
  return FirstColumn(s);
}

Result<std::map<std::string, double>> RunsStore::LastMetrics(const std::string& job) {
  std::lock_guard lock(mu_);
  // The last point of each metric: its highest seq.
  Stmt s(db_, PreparedLocked(
                  "SELECT e.name, e.payload FROM events e JOIN (SELECT name, MAX(seq) AS seq FROM "
                  "events WHERE job=?1 AND kind='metric' GROUP BY name) l ON e.name = l.name AND "
                  "e.seq = l.seq WHERE e.job=?1"));
  s.Bind(1, job);
  std::map<std::string, double> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    auto j = nlohmann::json::parse(s.Text(1), nullptr, false);
    if (!j.is_object() || !j.contains("value") || !j["value"].is_number()) continue;
    out[s.Text(0)] = j["value"].get<double>();
  }
  return out;
}

Result<std::vector<EventRecord>> RunsStore::Figures(const std::string& job) {
  std::lock_guard lock(mu_);
  // A later revision of a figure replaces the earlier ones: keep the last.
  Stmt s(db_,
         "SELECT e.job, e.seq, e.time, e.kind, e.name, e.payload FROM events e JOIN "
         "(SELECT name, MAX(seq) AS seq FROM events WHERE job=?1 AND kind='figure' GROUP BY name) "
         "l ON e.name = l.name AND e.seq = l.seq WHERE e.job=?1 ORDER BY e.seq");
  s.Bind(1, job);
  std::vector<EventRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadEvent(s));
  }
  return out;
}

Status RunsStore::PutCache(const CacheEntry& entry) {
  std::lock_guard lock(mu_);
  return PutCacheLocked(entry);
}

Status RunsStore::PutCacheLocked(const CacheEntry& entry) {
  Stmt s(db_,
         PreparedLocked(
             "INSERT INTO action_cache VALUES (?,?,?,?) ON CONFLICT (cache_key) DO UPDATE SET "
             "outputs = excluded.outputs, job = excluded.job, created_ms = excluded.created_ms"));
  s.Bind(1, entry.key.Hex()).Bind(2, OutputsToJson(entry.outputs)).Bind(3, entry.job);
  s.Bind(4, entry.created_ms);
  return s.Run();
}

Result<std::optional<CacheEntry>> RunsStore::GetCache(const Digest& key) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         PreparedLocked("SELECT outputs, job, created_ms FROM action_cache WHERE cache_key=?"));
  s.Bind(1, key.Hex());
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<CacheEntry>();
  CacheEntry e;
  e.key = key;
  KILN_ASSIGN_OR_RETURN(e.outputs, OutputsFromJson(s.Text(0)));
  e.job = s.Text(1);
  e.created_ms = s.Int(2);
  return std::optional<CacheEntry>(std::move(e));
}

Status RunsStore::DeleteCache(const Digest& key) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "DELETE FROM action_cache WHERE cache_key=?");
  s.Bind(1, key.Hex());
  return s.Run();
}

Status RunsStore::PutProvenance(const ProvenanceRecord& r) {
  std::lock_guard lock(mu_);
  return PutProvenanceLocked(r);
}

Status RunsStore::PutProvenanceLocked(const ProvenanceRecord& r) {
  // Jobs of one pipeline share their snapshots run after run: stored once.
  std::string snapshot_hex = Digest::Of(r.operation).Hex();
  {
    Stmt s(db_,
           PreparedLocked("INSERT INTO operation_snapshots VALUES (?,?) ON CONFLICT DO NOTHING"));
    s.Bind(1, snapshot_hex).Bind(2, r.operation);
    KILN_RETURN_IF_ERROR(s.Run());
  }
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, d] : r.inputs) inputs[name] = d.Hex();
  Stmt s(db_, PreparedLocked(
                  "INSERT INTO provenance (artifact, job, output, execution, operation, inputs, "
                  "created_ms, project, runtime, started_ms, cached_from) VALUES "
                  "(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (artifact, job, output) DO UPDATE SET "
                  "execution = excluded.execution, operation = excluded.operation, inputs = "
                  "excluded.inputs, created_ms = excluded.created_ms, project = excluded.project, "
                  "runtime = excluded.runtime, started_ms = excluded.started_ms, cached_from = "
                  "excluded.cached_from"));
  s.Bind(1, r.artifact.Hex()).Bind(2, r.job).Bind(3, r.output).Bind(4, r.execution);
  s.Bind(5, snapshot_hex).Bind(6, inputs.dump()).Bind(7, r.created_ms).Bind(8, r.project);
  s.Bind(9, r.runtime.empty() ? std::string("{}") : r.runtime).Bind(10, r.started_ms);
  s.Bind(11, r.cached_from);
  KILN_RETURN_IF_ERROR(s.Run());
  for (const auto& [name, d] : r.inputs) {
    Stmt u(db_,
           PreparedLocked("INSERT INTO provenance_inputs VALUES (?,?,?) ON CONFLICT DO NOTHING"));
    u.Bind(1, r.project).Bind(2, d.Hex()).Bind(3, r.job);
    KILN_RETURN_IF_ERROR(u.Run());
  }
  return Status::Ok();
}

namespace {

// The inputs column: {"name": "<hex>", …} as PutProvenanceLocked writes
// it. Read by hand when it has no escapes (a lineage walk reads one per
// job; nlohmann's parser was a fifth of the walk), else by nlohmann.
Result<std::map<std::string, Digest>> DigestMapFromJson(const std::string& text) {
  std::map<std::string, Digest> out;
  std::string_view t = text;
  bool plain = t.find('\\') == std::string_view::npos && t.size() >= 2 && t.front() == '{' &&
               t.back() == '}';
  size_t i = 1;
  while (plain && i < t.size() - 1) {
    size_t name_end = t[i] == '"' ? t.find('"', i + 1) : std::string_view::npos;
    if (name_end == std::string_view::npos || t.compare(name_end + 1, 2, ":\"") != 0 ||
        name_end + 3 + 64 >= t.size() || t[name_end + 3 + 64] != '"') {
      plain = false;
      break;
    }
    KILN_ASSIGN_OR_RETURN(Digest d, HexDigest(std::string(t.substr(name_end + 3, 64))));
    out.emplace(std::string(t.substr(i + 1, name_end - i - 1)), d);
    i = name_end + 3 + 65;
    if (i < t.size() - 1) {
      if (t[i] != ',') plain = false;
      ++i;
    }
  }
  if (plain) return out;
  out.clear();
  auto inputs = nlohmann::json::parse(text, nullptr, false);
  if (!inputs.is_object()) return Corruption("runs.db holds malformed inputs '" + text + "'");
  for (const auto& [name, hex] : inputs.items()) {
    if (!hex.is_string()) continue;
    KILN_ASSIGN_OR_RETURN(out[name], HexDigest(hex.get<std::string>()));
  }
  return out;
}

// A provenance row of kProvenanceColumns at columns 0–10 (operation left
// empty: its digest is read into operation_digest).
Result<ProvenanceRecord> ReadProvenance(const Stmt& s) {
  ProvenanceRecord r;
  KILN_ASSIGN_OR_RETURN(r.artifact, HexDigest(s.Text(0)));
  r.job = s.Text(1);
  r.output = s.Text(2);
  r.execution = s.Text(3);
  KILN_ASSIGN_OR_RETURN(r.operation_digest, HexDigest(s.Text(4)));
  KILN_ASSIGN_OR_RETURN(r.inputs, DigestMapFromJson(s.Text(5)));
  r.created_ms = s.Int(6);
  r.project = s.Text(7);
  r.runtime = s.Text(8);
  r.started_ms = s.Int(9);
  r.cached_from = s.Text(10);
  return r;
}

// Producer rows: kProvenanceColumns then the job's and execution's fields.
Result<std::vector<Producer>> ReadProducers(Stmt& s) {
  std::vector<Producer> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Producer p;
    KILN_ASSIGN_OR_RETURN(p.record, ReadProvenance(s));
    p.job_name = s.Text(11);
    p.node = s.Text(12);
    p.state = s.Text(13);
    p.finished_ms = s.Int(14);
    p.pipeline = s.Text(15);
    KILN_ASSIGN_OR_RETURN(p.commit, HexDigest(s.Text(16)));
    KILN_ASSIGN_OR_RETURN(p.outputs, OutputsFromJson(s.Text(17)));
    p.user = s.Text(18);
    out.push_back(std::move(p));
  }
  return out;
}

// CROSS JOIN keeps SQLite's planner from reordering the tables: the
// provenance row by primary key first, then its job and execution by theirs.
// (PostgreSQL's CROSS JOIN takes no ON; its planner needs no such help.)
std::string ProducerSelect(bool postgres) {
  std::string join = postgres ? " JOIN " : " CROSS JOIN ";
  return std::string("SELECT ") + kProvenanceColumns +
         ", j.name, j.node, j.state, j.finished_ms, e.pipeline, e.commit_digest, j.outputs, "
         "e.\"user\" FROM provenance p" +
         join + "jobs j ON j.id = p.job" + join + "executions e ON e.id = p.execution ";
}

}  // namespace

Result<std::vector<ProvenanceRecord>> RunsStore::GetProvenance(const Digest& artifact) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kProvenanceColumns +
               ", o.snapshot FROM provenance p LEFT JOIN operation_snapshots o ON o.digest = "
               "p.operation WHERE p.artifact=? ORDER BY p.created_ms, p.job" +
               Bytewise()));
  s.Bind(1, artifact.Hex());
  std::vector<ProvenanceRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(ProvenanceRecord r, ReadProvenance(s));
    r.operation = s.Text(11);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Producer>> RunsStore::Producers(const std::string& project,
                                                   const Digest& artifact) {
  std::lock_guard lock(mu_);
  // By the primary key's prefix (artifact): the same bytes have few records.
  // Sorted here: an ORDER BY costs SQLite a sorter per query, and a lineage
  // walk makes one query per artifact.
  static const std::string sql[] = {ProducerSelect(false) + "WHERE p.artifact=? AND p.project=?",
                                    ProducerSelect(true) + "WHERE p.artifact=? AND p.project=?"};
  Stmt s(db_, PreparedLocked(sql[postgres() ? 1 : 0]));
  s.Bind(1, artifact.Hex()).Bind(2, project);
  KILN_ASSIGN_OR_RETURN(std::vector<Producer> out, ReadProducers(s));
  std::stable_sort(out.begin(), out.end(), [](const Producer& a, const Producer& b) {
    return std::tie(a.record.created_ms, a.record.job) <
           std::tie(b.record.created_ms, b.record.job);
  });
  return out;
}

Result<std::shared_ptr<const Producer>> RunsStore::FirstProducer(const std::string& project,
                                                                 const Digest& artifact) {
  {
    std::lock_guard lock(mu_);
    auto p = first_producers_.find(project);
    if (p != first_producers_.end()) {
      auto it = p->second.find(artifact);
      if (it != p->second.end()) return it->second;
    }
  }
  KILN_ASSIGN_OR_RETURN(std::vector<Producer> all, Producers(project, artifact));
  if (all.empty()) return std::shared_ptr<const Producer>();  // not kept: a job may make it later
  auto first = std::make_shared<const Producer>(std::move(all.front()));
  std::lock_guard lock(mu_);
  if (cached_producers_ >= kMaxCachedProducers) {
    first_producers_.clear();
    cached_producers_ = 0;
  }
  if (first_producers_[project].emplace(artifact, first).second) ++cached_producers_;
  return first;
}

Result<std::vector<Producer>> RunsStore::JobProvenance(const std::string& job) {
  std::lock_guard lock(mu_);
  // The job's outputs name its records by primary key (artifact, job, output).
  // Each output of the job (a JSON object): SQLite's json_each, PostgreSQL's jsonb_each.
  static const std::string kOutputsOf[] = {
      "jobs j JOIN json_each(j.outputs) o JOIN provenance p ON p.artifact = "
      "json_extract(o.value, '$.digest')",
      "jobs j CROSS JOIN LATERAL jsonb_each(j.outputs::jsonb) o JOIN provenance p ON p.artifact = "
      "o.value->>'digest'"};
  Stmt s(db_, PreparedLocked(std::string("SELECT ") + kProvenanceColumns +
                             ", j.name, j.node, j.state, j.finished_ms, e.pipeline, "
                             "e.commit_digest, j.outputs, e.\"user\" FROM " +
                             kOutputsOf[postgres() ? 1 : 0] +
                             " AND p.job = j.id AND p.output = o.key JOIN executions e ON e.id = "
                             "j.execution WHERE j.id=? ORDER BY p.output" +
                             Bytewise()));
  s.Bind(1, job);
  return ReadProducers(s);
}

Result<std::vector<std::string>> RunsStore::JobsUsing(const std::string& project,
                                                      const Digest& artifact) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("SELECT job FROM provenance_inputs WHERE project=? AND input=?"));
  s.Bind(1, project).Bind(2, artifact.Hex());
  return FirstColumn(s);
}

Result<std::string> RunsStore::OperationSnapshot(const Digest& digest) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("SELECT snapshot FROM operation_snapshots WHERE digest=?"));
  s.Bind(1, digest.Hex());
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("no operation snapshot " + digest.Hex());
  return s.Text(0);
}

Status RunsStore::Migrate() {
  if (postgres()) {
    // A new database has every column already; one made by an older Kiln
    // gains those added since (PostgreSQL says IF NOT EXISTS itself).
    for (const AddedColumn& c : kAddedColumns) {
      KILN_RETURN_IF_ERROR(Exec(std::string("ALTER TABLE ") + c.table +
                                " ADD COLUMN IF NOT EXISTS \"" + c.column + "\"" +
                                PostgresTypes(std::string(" ") + c.definition)));
    }
    // SQLite's implicit rowid orders executions created in the same ms.
    KILN_RETURN_IF_ERROR(Exec("ALTER TABLE executions ADD COLUMN IF NOT EXISTS rowid BIGSERIAL"));
    return Exec(kIndexes);
  }
  bool provenance_migrated = false;
  for (const AddedColumn& c : kAddedColumns) {
    Stmt info(db_, (std::string("SELECT 1 FROM pragma_table_info('") + c.table + "') WHERE name='" +
                    c.column + "'")
                       .c_str());
    KILN_ASSIGN_OR_RETURN(bool has, info.Step());
    if (has) continue;
    KILN_RETURN_IF_ERROR(Exec(
        (std::string("ALTER TABLE ") + c.table + " ADD COLUMN \"" + c.column + "\" " + c.definition)
            .c_str()));
    if (std::string_view(c.column) == "project") provenance_migrated = true;
  }
  if (provenance_migrated) {
    // Records from before: their project is their execution's, their
    // snapshot moves to operation_snapshots, their inputs are indexed.
    KILN_RETURN_IF_ERROR(
        Exec("UPDATE provenance SET project = COALESCE((SELECT e.project FROM executions e "
             "WHERE e.id = provenance.execution), '')"));
    std::vector<std::pair<std::string, std::string>> inline_snapshots;  // (text, digest)
    {
      Stmt s(db_, "SELECT DISTINCT operation FROM provenance WHERE operation LIKE '{%'");
      for (;;) {
        KILN_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        std::string text = s.Text(0);
        inline_snapshots.emplace_back(text, Digest::Of(text).Hex());
      }
    }
    for (const auto& [text, hex] : inline_snapshots) {
      Stmt put(db_, "INSERT OR IGNORE INTO operation_snapshots VALUES (?,?)");
      put.Bind(1, hex).Bind(2, text);
      KILN_RETURN_IF_ERROR(put.Run());
      Stmt set(db_, "UPDATE provenance SET operation=? WHERE operation=?");
      set.Bind(1, hex).Bind(2, text);
      KILN_RETURN_IF_ERROR(set.Run());
    }
    KILN_RETURN_IF_ERROR(
        Exec("INSERT OR IGNORE INTO provenance_inputs SELECT p.project, i.value, p.job FROM "
             "provenance p, json_each(p.inputs) i"));
  }
  return Exec(kIndexes);
}

// ---------------------------------------------------------------- sweeps

Status RunsStore::CreateSweep(const SweepRecord& r) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("INSERT INTO sweeps VALUES (?,?,?,?,?,?,?,?)"));
  s.Bind(1, r.id).Bind(2, r.project).Bind(3, r.pipeline).Bind(4, r.ref).Bind(5, r.commit.Hex());
  s.Bind(6, r.user).Bind(7, r.spec).Bind(8, r.created_ms);
  return s.Run();
}

namespace {
const char* kSweepColumns = "id, project, pipeline, ref, commit_digest, \"user\", spec, created_ms";
Result<SweepRecord> ReadSweep(const Stmt& s) {
  SweepRecord r;
  r.id = s.Text(0);
  r.project = s.Text(1);
  r.pipeline = s.Text(2);
  r.ref = s.Text(3);
  KILN_ASSIGN_OR_RETURN(r.commit, HexDigest(s.Text(4)));
  r.user = s.Text(5);
  r.spec = s.Text(6);
  r.created_ms = s.Int(7);
  return r;
}
}  // namespace

Result<SweepRecord> RunsStore::GetSweep(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kSweepColumns + " FROM sweeps WHERE id=?").c_str());
  s.Bind(1, id);
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("no sweep '" + id + "'");
  return ReadSweep(s);
}

Result<std::vector<SweepRecord>> RunsStore::ListSweeps(const std::string& project, size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kSweepColumns +
               " FROM sweeps WHERE project=? ORDER BY created_ms DESC LIMIT ?")
                  .c_str());
  s.Bind(1, project).Bind(2, int64_t(limit));
  std::vector<SweepRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(SweepRecord r, ReadSweep(s));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ExecutionRecord>> RunsStore::SweepTrials(const std::string& sweep) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kExecutionColumns +
               " FROM executions WHERE sweep=? ORDER BY sweep_trial")
                  .c_str());
  s.Bind(1, sweep);
  std::vector<ExecutionRecord> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    KILN_ASSIGN_OR_RETURN(auto e, ReadExecution(s));
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------- cancel requests

Status RunsStore::RequestCancel(const CancelRequest& r) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("INSERT INTO cancel_requests (target, kind, server, \"user\", "
                             "created_ms) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING"));
  s.Bind(1, r.target).Bind(2, r.kind).Bind(3, r.server).Bind(4, r.user).Bind(5, r.created_ms);
  KILN_RETURN_IF_ERROR(s.Run());
  return NotifyLocked("cancel " + r.server);
}

Result<std::vector<CancelRequest>> RunsStore::TakeCancelRequests(const std::string& server) {
  std::lock_guard lock(mu_);
  // One statement takes and removes them: a request that arrives meanwhile
  // is left for the next call, never lost.
  Stmt s(db_, PreparedLocked("DELETE FROM cancel_requests WHERE server=? RETURNING target, kind, "
                             "\"user\", created_ms"));
  s.Bind(1, server);
  std::vector<CancelRequest> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(CancelRequest{s.Text(0), s.Text(1), server, s.Text(2), s.Int(3)});
  }
  return out;
}

// ---------------------------------------------------------------- grants

Status RunsStore::Grant(const std::vector<ArtifactGrant>& grants) {
  if (grants.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  for (const ArtifactGrant& g : grants) {
    Status st = GrantLocked(g);
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
  }
  return Exec("COMMIT");
}

Status RunsStore::GrantLocked(const ArtifactGrant& g) {
  Stmt s(db_, PreparedLocked(
                  "INSERT INTO project_artifacts (project, digest, how, "
                  "created_ms, \"user\", source) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING"));
  s.Bind(1, g.project).Bind(2, g.digest.Hex()).Bind(3, g.how).Bind(4, g.created_ms);
  s.Bind(5, g.user).Bind(6, g.source);
  return s.Run();
}

Result<std::optional<ArtifactGrant>> RunsStore::GetGrant(const std::string& project,
                                                         const Digest& digest) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         PreparedLocked("SELECT how, created_ms, \"user\", source FROM project_artifacts WHERE "
                        "project=? AND digest=?"));
  s.Bind(1, project).Bind(2, digest.Hex());
  KILN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<ArtifactGrant>();
  return std::optional<ArtifactGrant>(
      ArtifactGrant{project, digest, s.Text(0), s.Int(1), s.Text(2), s.Text(3)});
}

Result<bool> RunsStore::ProjectHasArtifact(const std::string& project, const Digest& digest) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("SELECT 1 FROM project_artifacts WHERE project=? AND digest=?"));
  s.Bind(1, project).Bind(2, digest.Hex());
  return s.Step();
}

Result<std::vector<std::string>> RunsStore::ProjectsWithArtifact(const Digest& digest) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("SELECT project FROM project_artifacts WHERE digest=?"));
  s.Bind(1, digest.Hex());
  return FirstColumn(s);
}

namespace {

// Every run of exactly 64 hex digits in `text` (a JSON column naming
// digests): generous on purpose, since gc keeps what it finds.
void ScanDigests(std::string_view text, std::set<Digest>* out) {
  size_t run = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    bool hex = i < text.size() && isxdigit(static_cast<unsigned char>(text[i]));
    if (hex) {
      ++run;
      continue;
    }
    if (run == 64) {
      Result<Digest> d = Digest::FromHex(text.substr(i - 64, 64));
      if (d.ok()) out->insert(*d);
    }
    run = 0;
  }
}

}  // namespace

Result<std::set<Digest>> RunsStore::ArtifactsNamedByRuns() {
  std::lock_guard lock(mu_);
  std::set<Digest> out;
  for (const char* sql : {"SELECT artifact FROM provenance", "SELECT inputs FROM provenance",
                          "SELECT input FROM provenance_inputs", "SELECT outputs FROM jobs",
                          "SELECT outputs FROM action_cache"}) {
    Stmt s(db_, sql);
    for (;;) {
      KILN_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ScanDigests(s.Text(0), &out);
    }
  }
  return out;
}

Result<std::map<Digest, RunsStore::GrantSummary>> RunsStore::GrantSummaries() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT digest, project, created_ms FROM project_artifacts");
  std::map<Digest, GrantSummary> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Result<Digest> d = Digest::FromHex(s.Text(0));
    if (!d.ok()) continue;
    GrantSummary& g = out[*d];
    g.projects.push_back(s.Text(1));
    g.newest_ms = std::max(g.newest_ms, s.Int(2));
  }
  return out;
}

Status RunsStore::RevokeGrants(const Digest& digest) {
  std::lock_guard lock(mu_);
  Stmt s(db_, PreparedLocked("DELETE FROM project_artifacts WHERE digest=?"));
  s.Bind(1, digest.Hex());
  return s.Run();
}

Result<std::vector<ProjectJobOutputs>> RunsStore::ListProjectOutputs(const std::string& project,
                                                                     size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT e.id, e.pipeline, j.id, j.name, j.outputs, j.finished_ms FROM jobs j JOIN "
         "executions e ON e.id = j.execution WHERE e.project=? AND j.outputs != '{}' AND "
         "j.state IN ('succeeded', 'cached') ORDER BY j.finished_ms DESC LIMIT ?");
  s.Bind(1, project).Bind(2, int64_t(limit));
  std::vector<ProjectJobOutputs> out;
  for (;;) {
    KILN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ProjectJobOutputs o;
    o.execution = s.Text(0);
    o.pipeline = s.Text(1);
    o.job = s.Text(2);
    o.job_name = s.Text(3);
    KILN_ASSIGN_OR_RETURN(o.outputs, OutputsFromJson(s.Text(4)));
    o.finished_ms = s.Int(5);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace kiln
