// A bounded, thread-safe pool of Postgres connections: the way services talk to their database.
// Connections open lazily, broken ones are dropped and replaced, and every wait has a deadline.
//
//   pg::PoolOptions options;
//   options.url = database_url;
//   pg::Pool pool(options);
//   ASSIGN_OR_RETURN(pg::Result rows, pool.Execute(kGetTenant, {tenant_id}, absl::Seconds(1)));
//   RETURN_IF_ERROR(pool.InTransaction(absl::Seconds(1), [&](pg::Tx& tx) -> absl::Status {
//     RETURN_IF_ERROR(tx.Execute(kInsertTenant, {tenant_id, name}).status());
//     return tx.Execute(kInsertAudit, {tenant_id, "created"}).status();
//   }));
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/pg/connection.h"
#include "common/pg/result.h"
#include "common/pg/statement.h"

namespace bastion::pg {

struct PoolOptions : ConnectOptions {
  // At most this many connections exist at once (leased, idle, or being opened).
  int max_connections = 8;
};

class Pool;

// Exclusive use of one pooled connection; returns it to the pool when destroyed.
class Lease {
 public:
  Lease(Lease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Connection& operator*() const { return *connection_; }
  Connection* operator->() const { return connection_.get(); }

 private:
  friend class Pool;
  Lease(Pool* pool, std::unique_ptr<Connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}
  void Return();

  Pool* pool_ = nullptr;
  std::unique_ptr<Connection> connection_;
};

class Pool {
 public:
  explicit Pool(PoolOptions options);
  // Every Lease must be gone before the pool is destroyed.
  ~Pool() = default;

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection for exclusive use: an idle one, else a new one while under max_connections,
  // else the first one released within `timeout`. DeadlineExceeded when none frees up in time;
  // Unavailable when a new connection cannot be opened (opening one is bounded by
  // connect_timeout, not by `timeout`).
  absl::StatusOr<Lease> Acquire(absl::Duration timeout);

  // Acquires a connection (waiting at most `timeout`) and runs one statement on it. The
  // statement itself is bounded by the statement_timeout option.
  absl::StatusOr<Result> Execute(const Statement& statement, const Params& params,
                                 absl::Duration timeout);

  // Runs `body` in a transaction on one connection (waiting at most `timeout` for it); COMMIT
  // when body returns OK, ROLLBACK otherwise. See Connection::InTransaction.
  absl::Status InTransaction(absl::Duration timeout, absl::FunctionRef<absl::Status(Tx&)> body);

  // Connections leased out (or being opened) right now.
  int in_use() const;
  // Open connections waiting in the pool.
  int idle() const;
  // Connections opened since the pool was created.
  int64_t opened() const;
  // Connections dropped because they were broken or left mid-transaction.
  int64_t broken() const;

 private:
  friend class Lease;
  void Release(std::unique_ptr<Connection> connection);
  // Gives back a slot reserved by Acquire whose connection never materialized.
  void ReleaseSlot(bool count_broken);

  const PoolOptions options_;
  mutable absl::Mutex mu_;
  absl::CondVar slot_freed_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t opened_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t broken_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace bastion::pg
