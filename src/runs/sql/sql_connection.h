// SqlConnection: the one database connection RunsStore speaks through, on
// SQLite (runs.db, the embedded default) or PostgreSQL (several servers
// sharing their runs, docs/execution.md "Runs on PostgreSQL").
//
// RunsStore's SQL is written once, in the subset both engines accept:
// ON CONFLICT upserts, "user" quoted, ?N or ? parameters. The PostgreSQL
// connection rewrites parameters to $N and "BEGIN IMMEDIATE" to "BEGIN";
// the few statements that cannot be shared (schema types, JSON functions)
// are chosen by dialect() in RunsStore.
//
// Parameters are typed by the C++ value bound (text, int8, float8), so
// PostgreSQL never has to guess a parameter's type.
//
// Ownership: a connection owns its handle and its cached statements; a
// statement borrowed with cached = true belongs to the connection.
// Thread-safety: none; RunsStore serializes every call with its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace kiln {

enum class SqlDialect { kSqlite, kPostgres };

// One statement: bind parameters (1-based), then Step through its rows.
class SqlStatement {
 public:
  virtual ~SqlStatement() = default;
  virtual void BindText(int i, const std::string& v) = 0;
  virtual void BindInt(int i, int64_t v) = 0;
  virtual void BindReal(int i, double v) = 0;
  virtual void BindNull(int i) = 0;
  // true: a row is ready; false: no more rows (the statement ran).
  virtual Result<bool> Step() = 0;
  virtual std::string Text(int i) const = 0;
  virtual int64_t Int(int i) const = 0;
  virtual double Real(int i) const = 0;
  virtual bool IsNull(int i) const = 0;
  // Rows an INSERT, UPDATE or DELETE changed (after its Step).
  virtual int64_t Changes() const = 0;
  // Ready to bind and run again.
  virtual void Reset() = 0;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs `sql` (one or more statements, no parameters).
  virtual Status Exec(const std::string& sql) = 0;
  // A statement for `sql`. cached: prepared once and kept by the connection
  // (the caller must Reset it when done and never delete it); otherwise
  // the caller owns it. Preparation errors surface at the first Step.
  virtual SqlStatement* PrepareCached(const std::string& sql) = 0;
  virtual std::unique_ptr<SqlStatement> Prepare(const std::string& sql) = 0;
};

// Opens or creates an SQLite file (":memory:" for tests), WAL mode.
Result<std::unique_ptr<SqlConnection>> OpenSqliteConnection(const std::string& path);
// Connects to PostgreSQL (libpq conninfo or URI) with synchronous_commit on.
// IOError names the server (never the password) and libpq's message.
Result<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& conninfo);

// ?N → $N and ? → $(last + 1) outside quotes: SQLite's parameters in
// PostgreSQL's spelling. Pure (tested on its own).
std::string PostgresParameters(const std::string& sql);

}  // namespace kiln
