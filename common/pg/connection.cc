#include "common/pg/connection.h"

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/pg/errors.h"
#include "common/status/status_macros.h"

namespace bastion::pg {
namespace {

std::string Trimmed(const char* message) {
  return std::string(absl::StripAsciiWhitespace(message == nullptr ? "" : message));
}

bool Succeeded(const PGresult* result) {
  ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectOptions& options) {
  // libpq rounds connect_timeout down to whole seconds, and 0 would mean "wait forever".
  const std::string connect_timeout = std::to_string(
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(options.connect_timeout, absl::Seconds(1)))));
  // With expand_dbname, "dbname" holding a URI expands into its parts; the keywords after it
  // override what the URI says.
  const char* keywords[] = {"dbname", "connect_timeout", "fallback_application_name", nullptr};
  const char* values[] = {options.url.c_str(), connect_timeout.c_str(), "bastion", nullptr};
  ConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return absl::UnavailableError("pg: cannot allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's message names host and port but never the password.
    return absl::UnavailableError(
        absl::StrCat("pg: cannot connect: ", Trimmed(PQerrorMessage(conn.get()))));
  }
  auto connection = absl::WrapUnique(new Connection(std::move(conn)));

  int64_t timeout_ms = 0;
  if (options.statement_timeout > absl::ZeroDuration()) {
    timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(options.statement_timeout));
  }
  // Result's getters parse exactly these output formats, whatever the server's defaults are.
  // libpq prints NOTICEs ("already exists, skipping") raw on stderr, among the JSON logs.
  RETURN_IF_ERROR(connection->ExecuteScript(
      absl::StrCat("SET statement_timeout = ", timeout_ms,
                   "; SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET bytea_output = 'hex'"
                   "; SET client_min_messages = 'warning'"),
      "session setup"));
  return connection;
}

absl::StatusOr<Result> Connection::Execute(const Statement& statement, const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& param : params) {
    values.push_back(param.text() ? param.text()->c_str() : nullptr);
  }
  const int count = static_cast<int>(values.size());
  const std::string name(statement.name);
  ResultPtr result;
  if (name.empty()) {
    const std::string sql(statement.sql);
    result.reset(PQexecParams(conn_.get(), sql.c_str(), count, /*paramTypes=*/nullptr,
                              values.data(), /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                              /*resultFormat=*/0));
  } else {
    RETURN_IF_ERROR(Prepare(statement));
    result.reset(PQexecPrepared(conn_.get(), name.c_str(), count, values.data(),
                                /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                                /*resultFormat=*/0));
  }
  if (!Succeeded(result.get())) {
    return ErrorFrom(result.get(), name.empty() ? "statement" : name);
  }
  return Result(std::move(result));
}

absl::Status Connection::Prepare(const Statement& statement) {
  const std::string name(statement.name);
  auto it = prepared_.find(name);
  if (it != prepared_.end()) {
    if (it->second == statement.sql) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("pg: two different statements are named \"", name,
                                            "\"; statement names must be unique"));
  }
  const std::string sql(statement.sql);
  ResultPtr result(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, /*paramTypes=*/nullptr));
  if (!Succeeded(result.get())) return ErrorFrom(result.get(), name);
  // Protocol-level prepared statements outlive a rolled-back transaction, so this stays true.
  prepared_.emplace(name, sql);
  return absl::OkStatus();
}

absl::Status Connection::ExecuteScript(absl::string_view sql, absl::string_view context) {
  ResultPtr result(PQexec(conn_.get(), std::string(sql).c_str()));
  if (!Succeeded(result.get())) return ErrorFrom(result.get(), context);
  return absl::OkStatus();
}

absl::Status Connection::InTransaction(absl::FunctionRef<absl::Status(Tx&)> body) {
  RETURN_IF_ERROR(ExecuteScript("BEGIN", "BEGIN"));
  Tx tx(*this);
  absl::Status status = body(tx);
  if (!status.ok()) {
    // A failed ROLLBACK leaves the connection unusable or mid-transaction; the pool drops it.
    ExecuteScript("ROLLBACK", "ROLLBACK").IgnoreError();
    return status;
  }
  ResultPtr commit(PQexec(conn_.get(), "COMMIT"));
  if (!Succeeded(commit.get())) return ErrorFrom(commit.get(), "COMMIT");
  // COMMIT of a transaction in which a statement failed succeeds but reports ROLLBACK.
  if (absl::string_view(PQcmdStatus(commit.get())) != "COMMIT") {
    return absl::AbortedError(
        "pg: transaction rolled back at COMMIT because a statement in it had failed");
  }
  return absl::OkStatus();
}

bool Connection::ok() const {
  return !marked_broken_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

bool Connection::IdleAndAlive() {
  if (!ok()) return false;
  // An idle session has nothing to tell us; readable data or EOF means the server is closing
  // it (a FATAL from pg_terminate_backend or a shutdown). Rarely it is a harmless
  // ParameterStatus after a config reload; reconnecting then costs little.
  pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
  return poll(&fd, 1, /*timeout=*/0) == 0;
}

bool Connection::InIdleTransactionState() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

absl::Status Connection::ErrorFrom(const PGresult* result, absl::string_view context) {
  absl::Status status = StatusFor(result, context);
  // After a FATAL (e.g. 57P01) libpq may not have seen the socket close yet; never reuse it.
  if (absl::IsUnavailable(status)) MarkBroken();
  return status;
}

absl::Status Connection::StatusFor(const PGresult* result, absl::string_view context) const {
  const std::string where = absl::StrCat("pg: ", context);
  const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate != nullptr && *sqlstate != '\0') {
    // Only the primary message: DETAIL can quote row values, which may be secrets.
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    return StatusFromSqlState(sqlstate, where,
                              primary ? primary : Trimmed(PQresultErrorMessage(result)));
  }
  // No SQLSTATE: libpq itself failed (connection lost, out of memory, unexpected COPY).
  std::string message = Trimmed(result ? PQresultErrorMessage(result) : "");
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_.get()));
  if (message.empty()) message = absl::StrCat("unexpected result ", PQresStatus(PQresultStatus(result)));
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat(where, ": connection lost: ", message));
  }
  return absl::InternalError(absl::StrCat(where, ": ", message));
}

}  // namespace bastion::pg
