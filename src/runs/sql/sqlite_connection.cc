// SqlConnection on SQLite: runs.db beside kiln.db (sql_connection.h).
#include <sqlite3.h>

#include <unordered_map>

#include "runs/sql/sql_connection.h"

namespace kiln {
namespace {

class SqliteStatement : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), int(sql.size()), &s_, nullptr);
  }
  ~SqliteStatement() override { sqlite3_finalize(s_); }

  void BindText(int i, const std::string& v) override {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void BindInt(int i, int64_t v) override { sqlite3_bind_int64(s_, i, v); }
  void BindReal(int i, double v) override { sqlite3_bind_double(s_, i, v); }
  void BindNull(int i) override { sqlite3_bind_null(s_, i); }
  Result<bool> Step() override {
    if (rc_ != SQLITE_OK) return IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      changes_ = sqlite3_changes(db_);
      return false;
    }
    return IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string Text(int i) const override {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  int64_t Int(int i) const override { return sqlite3_column_int64(s_, i); }
  double Real(int i) const override { return sqlite3_column_double(s_, i); }
  bool IsNull(int i) const override { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  int64_t Changes() const override { return changes_; }
  void Reset() override {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    changes_ = 0;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
  int64_t changes_ = 0;
};

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    cached_.clear();  // statements before the handle
    sqlite3_close(db_);
  }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return IOError("sqlite: " + msg);
    }
    return Status::Ok();
  }
  SqlStatement* PrepareCached(const std::string& sql) override {
    auto& slot = cached_[sql];
    if (!slot) slot = std::make_unique<SqliteStatement>(db_, sql);
    return slot.get();
  }
  std::unique_ptr<SqlStatement> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(db_, sql);
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cached_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IOError("cannot open " + path + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 10000);
  // A 32 MiB page cache (SQLite's default is 2 MiB): one batch of a
  // thousand jobs' rows and events touches more pages than that.
  KILN_RETURN_IF_ERROR(
      conn->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"));
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace kiln
