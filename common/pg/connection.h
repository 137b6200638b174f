// One libpq connection: connecting with timeouts, running named statements (prepared lazily on
// this connection) and transactions. Pool hands these out; most code uses Pool, not this.
#pragma once

#include <memory>
#include <string>

// Debian installs libpq under postgresql/, and @system//:pq adds no include path.
#include <postgresql/libpq-fe.h>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/pg/result.h"
#include "common/pg/statement.h"

namespace bastion::pg {

struct PGconnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, PGconnDeleter>;

struct ConnectOptions {
  // A libpq connection URI or key=value string, e.g. postgresql://bastion@127.0.0.1:5432/bastion.
  std::string url;
  // libpq counts whole seconds and waits at least 2 s.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Set as the session's statement_timeout so no statement waits forever; zero disables it.
  absl::Duration statement_timeout = absl::Seconds(30);
};

class Tx;

// Not thread-safe: one thread uses a connection at a time (Pool's leases guarantee that).
class Connection {
 public:
  // Connects and sets the session up: statement_timeout, and the UTC / ISO / hex output formats
  // Result's getters parse. Failures are Unavailable.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `statement` with `params` ($1 is params[0]). A named statement is prepared on its first
  // use on this connection. Server errors map as described in errors.h.
  absl::StatusOr<Result> Execute(const Statement& statement, const Params& params = {});

  // Runs trusted SQL with no parameters through the simple query protocol, so `sql` may hold
  // several statements (migrations, BEGIN/COMMIT). Never put values in `sql`.
  absl::Status ExecuteScript(absl::string_view sql, absl::string_view context = "script");

  // Runs `body` between BEGIN and COMMIT; ROLLBACK when `body` or COMMIT fails. Returns body's
  // error, or Aborted when the server rolled back at COMMIT (e.g. an error `body` swallowed).
  absl::Status InTransaction(absl::FunctionRef<absl::Status(Tx&)> body);

  // False once the server connection is lost or MarkBroken() was called.
  bool ok() const;
  // Makes ok() false, e.g. when session state (an advisory lock) could not be cleaned up, so the
  // pool closes this connection instead of reusing it.
  void MarkBroken() { marked_broken_ = true; }
  // False when the server sent something while the connection sat idle: in practice a FATAL
  // before closing it (pg_terminate_backend, restart). Never blocks.
  bool IdleAndAlive();
  // True when no transaction is open (so the connection is clean to reuse).
  bool InIdleTransactionState() const;

  PGconn* raw() const { return conn_.get(); }

 private:
  explicit Connection(ConnPtr conn) : conn_(std::move(conn)) {}
  // The status for a failed `result`; a connection-level failure also marks this broken.
  absl::Status ErrorFrom(const PGresult* result, absl::string_view context);
  absl::Status StatusFor(const PGresult* result, absl::string_view context) const;
  absl::Status Prepare(const Statement& statement);

  ConnPtr conn_;
  bool marked_broken_ = false;
  // Statements prepared on this connection: name -> SQL.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

// The statements of one transaction (see Connection::InTransaction and Pool::InTransaction).
class Tx {
 public:
  explicit Tx(Connection& connection) : connection_(connection) {}

  absl::StatusOr<Result> Execute(const Statement& statement, const Params& params = {}) {
    return connection_.Execute(statement, params);
  }
  // Trusted multi-statement SQL without values; see Connection::ExecuteScript.
  absl::Status ExecuteScript(absl::string_view sql, absl::string_view context = "script") {
    return connection_.ExecuteScript(sql, context);
  }

 private:
  Connection& connection_;
};

}  // namespace bastion::pg
