// RunsStore: the record of what ran — executions, jobs, their events (logs,
// metrics, progress, figures, state changes), the action cache and the
// provenance of artifacts — in SQLite (runs.db, beside kiln.db), or in
// PostgreSQL where several servers share their runs ([database] kind =
// "postgres"; every write then sends NOTIFY kiln_runs, docs/execution.md).
//
// Runs are not versioned with the model: they reference the commit they ran.
// Losing runs.db loses history and the cache, never the model. Schema in
// docs/execution.md. Writes use WAL with synchronous=NORMAL: a power loss may
// drop the last few events, never corrupt the file; the action cache is only
// written after a job's outputs are safely in the artifact store, so a cache
// entry never names missing outputs.
//
// Event sequence numbers are assigned here (1, 2, 3… per job) in append
// order; readers page through a job's events by "after seq".
//
// Writers that change many rows at once (the Driver, every time it advances
// an execution) use Write(RunsBatch): one transaction for the lot instead of
// one per row. Prepared statements are kept for the life of the store.
//
// Ownership: owns its SQLite connection and prepared statements.
// Thread-safety: all methods are safe from any thread (one mutex).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "runs/records.h"

namespace kiln {

class SqlConnection;

struct NewEvent {
  double time = 0;
  std::string kind;
  std::string name;
  std::string payload;
};

// Writes applied together in ONE transaction by RunsStore::Write: all or
// nothing. Job rows are upserts of the whole record (only the last record of
// a job in the batch is written); events are appended in order and get their
// seq; provenance before cache entries (a cache entry always has its
// records); execution rows last.
struct RunsBatch {
  std::vector<JobRecord> jobs;
  std::vector<std::pair<std::string, NewEvent>> events;  // (job id, event)
  std::vector<ProvenanceRecord> provenance;
  std::vector<CacheEntry> cache;
  std::vector<ExecutionRecord> executions;
  std::vector<ArtifactGrant> grants;

  bool empty() const {
    return jobs.empty() && events.empty() && provenance.empty() && cache.empty() &&
           executions.empty() && grants.empty();
  }
};

struct EventQuery {
  int64_t after_seq = 0;  // events with seq > after_seq
  std::string kind;       // "" = every kind
  size_t limit = 1000;
};

class RunsStore {
 public:
  // Opens or creates the SQLite database (":memory:" for tests).
  static Result<std::unique_ptr<RunsStore>> Open(const std::string& path);
  // Connects to PostgreSQL (libpq conninfo) and creates the tables there if
  // missing. Every write then notifies channel kRunsChannel on commit.
  static Result<std::unique_ptr<RunsStore>> OpenPostgres(const std::string& conninfo);
  static constexpr const char* kRunsChannel = "kiln_runs";
  ~RunsStore();
  RunsStore(const RunsStore&) = delete;
  RunsStore& operator=(const RunsStore&) = delete;

  // ---- executions and jobs
  // Inserts the execution and its jobs in one transaction.
  Status CreateExecution(const ExecutionRecord& execution, const std::vector<JobRecord>& jobs);
  Status UpdateExecution(const ExecutionRecord& execution);
  Result<ExecutionRecord> GetExecution(const std::string& id);
  // Newest first; project "" = all projects.
  Result<std::vector<ExecutionRecord>> ListExecutions(const std::string& project,
                                                      size_t limit = 100);
  // Executions still marked running that `server` drives (those of servers
  // without a name too; "" = every server's), for reconciliation after a restart.
  Result<std::vector<ExecutionRecord>> ListRunningExecutions(const std::string& server = "");

  Status UpdateJob(const JobRecord& job);
  Result<JobRecord> GetJob(const std::string& id);
  // In plan order.
  Result<std::vector<JobRecord>> ListJobs(const std::string& execution);

  // Applies the batch in one transaction (nothing of it on error); returns
  // batch.events with their seq, in batch order. A job or execution that does
  // not exist is NotFound (and nothing is written).
  Result<std::vector<EventRecord>> Write(const RunsBatch& batch);

  // ---- events
  // Appends events of one job in one transaction; returns them with their seq.
  Result<std::vector<EventRecord>> AppendEvents(const std::string& job,
                                                const std::vector<NewEvent>& events);
  Result<std::vector<EventRecord>> Events(const std::string& job, const EventQuery& query);
  // The seq of the job's last event (0 when none).
  Result<int64_t> LastSeq(const std::string& job);
  // Every point of one metric, by step order of arrival.
  Result<std::vector<MetricPoint>> MetricSeries(const std::string& job, const std::string& name);
  // The names of the job's metrics.
  Result<std::vector<std::string>> MetricNames(const std::string& job);
  // The last value of each of the job's metrics.
  Result<std::map<std::string, double>> LastMetrics(const std::string& job);
  // The latest revision of each figure of the job.
  Result<std::vector<EventRecord>> Figures(const std::string& job);

  // ---- action cache (only successful jobs are ever put here)
  Status PutCache(const CacheEntry& entry);
  // nullopt on a miss.
  Result<std::optional<CacheEntry>> GetCache(const Digest& key);
  Status DeleteCache(const Digest& key);

  // ---- provenance
  Status PutProvenance(const ProvenanceRecord& record);
  // Every record of the artifact (the same bytes may have been made twice),
  // oldest first, with their operation snapshots.
  Result<std::vector<ProvenanceRecord>> GetProvenance(const Digest& artifact);
  // The jobs of the project's executions that made the artifact, oldest
  // first (records without their snapshot text; see OperationSnapshot).
  Result<std::vector<Producer>> Producers(const std::string& project, const Digest& artifact);
  // The first of Producers(): the job that first made these bytes in the
  // project, nullopt when none did. Records never change and a later one is
  // never earlier, so answers are kept (up to kMaxCachedProducers, then the
  // cache starts over): a second walk of a long lineage reads no rows.
  // nullptr when none.
  Result<std::shared_ptr<const Producer>> FirstProducer(const std::string& project,
                                                        const Digest& artifact);
  static constexpr size_t kMaxCachedProducers = 20000;
  // The records of one job: one per output.
  Result<std::vector<Producer>> JobProvenance(const std::string& job);
  // The project's jobs that took the artifact as an input.
  Result<std::vector<std::string>> JobsUsing(const std::string& project, const Digest& artifact);
  // A snapshot by its digest (ProvenanceRecord::operation_digest).
  Result<std::string> OperationSnapshot(const Digest& digest);

  // ---- cancels asked of another server (several servers on one store)
  // Leaves the request for r.server (one per target; a second is a no-op).
  Status RequestCancel(const CancelRequest& request);
  // Removes and returns the requests left for `server`.
  Result<std::vector<CancelRequest>> TakeCancelRequests(const std::string& server);

  // ---- sweeps (docs/sweeps.md); their trials are executions naming them
  Status CreateSweep(const SweepRecord& sweep);
  Result<SweepRecord> GetSweep(const std::string& id);
  // Newest first.
  Result<std::vector<SweepRecord>> ListSweeps(const std::string& project, size_t limit = 100);
  // The sweep's executions, by trial index.
  Result<std::vector<ExecutionRecord>> SweepTrials(const std::string& sweep);

  // ---- which project has which artifact (docs/access.md, "Artifacts")
  // Records grants (existing ones are kept as they were).
  Status Grant(const std::vector<ArtifactGrant>& grants);
  Result<bool> ProjectHasArtifact(const std::string& project, const Digest& digest);
  // The project's grant of the artifact (how it got it), nullopt when it has none.
  Result<std::optional<ArtifactGrant>> GetGrant(const std::string& project, const Digest& digest);
  // The projects that have the artifact.
  Result<std::vector<std::string>> ProjectsWithArtifact(const Digest& digest);

  // For garbage collection (docs/storage.md, "Collecting garbage"): every
  // artifact a run names — an output or input of a provenance record, a
  // job's outputs, an action-cache entry's outputs.
  Result<std::set<Digest>> ArtifactsNamedByRuns();
  // Each granted artifact's newest grant (ms) and the projects granted it.
  struct GrantSummary {
    int64_t newest_ms = 0;
    std::vector<std::string> projects;
  };
  Result<std::map<Digest, GrantSummary>> GrantSummaries();
  // Forgets every project's grant of the artifact (its bytes were deleted).
  Status RevokeGrants(const Digest& digest);
  // Jobs of the project's executions that have outputs, newest first.
  Result<std::vector<ProjectJobOutputs>> ListProjectOutputs(const std::string& project,
                                                            size_t limit = 1000);
  // True when this Open created the grants table (a database from before
  // grants existed): the caller backfills what the model lists (serve.cc).
  bool grants_created() const { return grants_created_; }

 private:
  explicit RunsStore(std::unique_ptr<SqlConnection> db);
  static Result<std::unique_ptr<RunsStore>> Init(std::unique_ptr<SqlConnection> db);
  bool postgres() const;
  // Appended to an ORDER BY of text: byte order on both engines.
  std::string Bytewise() const;
  Status Exec(const std::string& sql);
  // Tells other servers (PostgreSQL) that runs changed: NOTIFY kiln_runs
  // with `payload` ("" or "cancel <server id>"); inside a transaction it
  // goes out when the change is committed.
  Status NotifyLocked(const std::string& payload = "");
  // Brings an older runs.db up to this schema (added columns and tables).
  Status Migrate();
  // Whether the PostgreSQL database has every table, index and column of
  // this version (then a start changes nothing and locks no table).
  Result<bool> PostgresSchemaCurrent();
  Result<int64_t> NextSeqLocked(const std::string& job);

 public:
  // `sql`, prepared once and kept by the connection. With mu_ held.
  struct CachedSql {
    std::string sql;
  };

 private:
  static CachedSql PreparedLocked(const std::string& sql) { return CachedSql{sql}; }
  Status UpdateJobLocked(const JobRecord& job);
  Status UpdateExecutionLocked(const ExecutionRecord& execution);
  Status AppendEventLocked(const std::string& job, const NewEvent& event, EventRecord* out);
  Status PutCacheLocked(const CacheEntry& entry);
  Status PutProvenanceLocked(const ProvenanceRecord& record);

  Status GrantLocked(const ArtifactGrant& grant);

  std::mutex mu_;
  std::unique_ptr<SqlConnection> db_;
  bool grants_created_ = false;
  std::unordered_map<std::string, int64_t> last_seq_;  // job → last seq, guarded by mu_
  // FirstProducer's answers by project and artifact, guarded by mu_.
  std::unordered_map<std::string, std::unordered_map<Digest, std::shared_ptr<const Producer>>>
      first_producers_;
  size_t cached_producers_ = 0;  // guarded by mu_
};

// JSON text of outputs {"name": {"digest","serializer","size"}} and back.
std::string OutputsToJson(const Outputs& outputs);
Result<Outputs> OutputsFromJson(const std::string& text);

}  // namespace kiln
