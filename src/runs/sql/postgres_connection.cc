// SqlConnection on PostgreSQL (libpq): the runs of several servers in one
// database (sql_connection.h). Text results; parameters sent as text with
// their types named (text, int8, float8).
#include <libpq-fe.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <vector>

#include "runs/sql/sql_connection.h"
#include "store/postgres_store.h"

namespace kiln {
namespace {

constexpr Oid kTextOid = 25, kInt8Oid = 20, kFloat8Oid = 701;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status PgError(PGconn* conn, PGresult* r) {
  std::string msg =
      Trim(r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  // XX001 data_corrupted, XX002 index_corrupted.
  if (state && (std::string_view(state) == "XX001" || std::string_view(state) == "XX002")) {
    return Corruption("postgres: " + msg);
  }
  return IOError("postgres: " + msg);
}

// The settings every session of ours runs with: an acknowledged record is
// on the server's disk; notices need no chatter.
constexpr const char* kSessionSettings =
    "SET synchronous_commit = on; SET client_min_messages = warning";

// The one libpq connection and how to bring it back: a connection found
// broken is reset (and its settings applied again) before the next call,
// and a call that began outside any transaction and failed because the
// connection broke under it (PostgreSQL restarted, an idle connection was
// cut) runs once more on the new one. A call inside a transaction is never
// repeated: the transaction is gone, its caller rolls back and gets the
// error.
class PostgresLink {
 public:
  explicit PostgresLink(PGconn* conn) : conn_(conn) {}
  ~PostgresLink() { PQfinish(conn_); }
  PGconn* conn() const { return conn_; }

  // `call` sends one command and returns its result (null: out of memory).
  template <typename Call>
  PGresult* Run(const Call& call) {
    if (PQstatus(conn_) != CONNECTION_OK) Reset();
    bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    PGresult* r = call(conn_);
    if (!Failed(r) || !idle || PQstatus(conn_) == CONNECTION_OK) return r;
    PQclear(r);
    Reset();
    return call(conn_);
  }
  static bool Failed(PGresult* r) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
  }

 private:
  void Reset() {
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, kSessionSettings));
  }
  PGconn* conn_;
};

class PostgresStatement : public SqlStatement {
 public:
  PostgresStatement(PostgresLink* link, std::string sql) : link_(link), sql_(std::move(sql)) {}
  ~PostgresStatement() override { PQclear(result_); }

  void BindText(int i, const std::string& v) override { Set(i, v, kTextOid); }
  void BindInt(int i, int64_t v) override { Set(i, std::to_string(v), kInt8Oid); }
  void BindReal(int i, double v) override {
    if (std::isnan(v)) return Set(i, "NaN", kFloat8Oid);
    if (std::isinf(v)) return Set(i, v > 0 ? "Infinity" : "-Infinity", kFloat8Oid);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    Set(i, buf, kFloat8Oid);
  }
  void BindNull(int i) override {
    Grow(i);
    values_[size_t(i - 1)].reset();
    types_[size_t(i - 1)] = 0;  // NULL fits any column: PostgreSQL infers its type
  }

  Result<bool> Step() override {
    if (!result_) {
      std::vector<const char*> values;
      for (const auto& v : values_) values.push_back(v ? v->c_str() : nullptr);
      result_ = link_->Run([&](PGconn* conn) {
        return PQexecParams(conn, sql_.c_str(), int(values.size()), types_.data(), values.data(),
                            nullptr, nullptr, /*resultFormat=*/0);
      });
      if (PostgresLink::Failed(result_)) {
        Status err = PgError(link_->conn(), result_);
        PQclear(result_);
        result_ = nullptr;
        return err;
      }
      row_ = -1;
      const char* tuples = PQcmdTuples(result_);
      changes_ = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
    }
    ++row_;
    return row_ < PQntuples(result_);
  }
  std::string Text(int i) const override {
    return std::string(PQgetvalue(result_, row_, i), size_t(PQgetlength(result_, row_, i)));
  }
  int64_t Int(int i) const override {
    return std::strtoll(PQgetvalue(result_, row_, i), nullptr, 10);
  }
  double Real(int i) const override { return std::strtod(PQgetvalue(result_, row_, i), nullptr); }
  bool IsNull(int i) const override { return PQgetisnull(result_, row_, i) != 0; }
  int64_t Changes() const override { return changes_; }
  void Reset() override {
    PQclear(result_);
    result_ = nullptr;
    values_.clear();
    types_.clear();
    changes_ = 0;
  }

 private:
  void Grow(int i) {
    if (size_t(i) > values_.size()) {
      values_.resize(size_t(i));
      types_.resize(size_t(i), kTextOid);
    }
  }
  void Set(int i, std::string v, Oid type) {
    Grow(i);
    values_[size_t(i - 1)] = std::move(v);
    types_[size_t(i - 1)] = type;
  }

  PostgresLink* link_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  int64_t changes_ = 0;
};

class PostgresConnection : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : link_(conn) {}
  ~PostgresConnection() override { cached_.clear(); }
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(const std::string& sql) override {
    std::string text = sql == "BEGIN IMMEDIATE" ? "BEGIN" : sql;
    PGresult* r = link_.Run([&](PGconn* conn) { return PQexec(conn, text.c_str()); });
    Status s = PostgresLink::Failed(r) ? PgError(link_.conn(), r) : Status::Ok();
    PQclear(r);
    return s;
  }
  SqlStatement* PrepareCached(const std::string& sql) override {
    auto& slot = cached_[sql];
    if (!slot) slot = std::make_unique<PostgresStatement>(&link_, PostgresParameters(sql));
    return slot.get();
  }
  std::unique_ptr<SqlStatement> Prepare(const std::string& sql) override {
    return std::make_unique<PostgresStatement>(&link_, PostgresParameters(sql));
  }

 private:
  PostgresLink link_;  // before the statements, which point at it
  std::unordered_map<std::string, std::unique_ptr<PostgresStatement>> cached_;
};

}  // namespace

std::string PostgresParameters(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int last = 0;
  char quote = 0;  // inside '…' or "…"
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
    int n = j > i + 1 ? std::atoi(sql.substr(i + 1, j - i - 1).c_str()) : last + 1;
    last = std::max(last, n);
    out += '$' + std::to_string(n);
    i = j - 1;
  }
  return out;
}

Result<std::unique_ptr<SqlConnection>> OpenPostgresConnection(const std::string& conninfo) {
  // A server that does not answer is given up on after 10 s (when
  // connecting, and when a broken connection is reset under the store's
  // lock); a connect_timeout in `conninfo` comes later, so it wins.
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"10", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    std::string why = conn ? Trim(PQerrorMessage(conn)) : "out of memory";
    PQfinish(conn);
    return IOError("cannot connect to PostgreSQL (" + DescribePostgresConninfo(conninfo) +
                   ") for runs: " + why);
  }
  auto c = std::make_unique<PostgresConnection>(conn);
  // An acknowledged record is on the server's disk; notices of other
  // servers' writes need no chatter on this connection.
  KILN_RETURN_IF_ERROR(c->Exec(kSessionSettings));
  return std::unique_ptr<SqlConnection>(std::move(c));
}

}  // namespace kiln
