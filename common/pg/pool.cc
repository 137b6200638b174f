#include "common/pg/pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace bastion::pg {

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Lease::~Lease() { Return(); }

void Lease::Return() {
  if (pool_ != nullptr && connection_ != nullptr) pool_->Release(std::move(connection_));
  pool_ = nullptr;
}

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

absl::StatusOr<Lease> Pool::Acquire(absl::Duration timeout) {
  if (options_.max_connections < 1) {
    return absl::InvalidArgumentError("pg: pool max_connections must be at least 1");
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<Connection> connection;
  {
    absl::MutexLock lock(&mu_);
    // in_use_ + idle_.size() never exceeds max_connections, so an empty idle list at the limit
    // means every connection is leased.
    while (idle_.empty() && in_use_ >= options_.max_connections) {
      if (slot_freed_.WaitWithDeadline(&mu_, deadline) && idle_.empty() &&
          in_use_ >= options_.max_connections) {
        return absl::DeadlineExceededError(
            absl::StrCat("pg: all ", options_.max_connections,
                         " connections stayed busy for ", absl::FormatDuration(timeout)));
      }
    }
    ++in_use_;  // Reserves the slot while connecting or checking outside the lock.
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (connection != nullptr && !connection->IdleAndAlive()) {
    connection.reset();
    absl::MutexLock lock(&mu_);
    ++broken_;
  }
  if (connection == nullptr) {
    absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(options_);
    if (!opened.ok()) {
      ReleaseSlot(/*count_broken=*/false);
      return opened.status();
    }
    connection = *std::move(opened);
    absl::MutexLock lock(&mu_);
    ++opened_;
  }
  return Lease(this, std::move(connection));
}

void Pool::Release(std::unique_ptr<Connection> connection) {
  // A connection left mid-transaction would leak its locks and state into the next lease.
  if (connection->ok() && connection->InIdleTransactionState()) {
    absl::MutexLock lock(&mu_);
    --in_use_;
    idle_.push_back(std::move(connection));
    slot_freed_.Signal();
    return;
  }
  connection.reset();  // Closes the socket outside the lock.
  ReleaseSlot(/*count_broken=*/true);
}

void Pool::ReleaseSlot(bool count_broken) {
  absl::MutexLock lock(&mu_);
  --in_use_;
  if (count_broken) ++broken_;
  slot_freed_.Signal();
}

absl::StatusOr<Result> Pool::Execute(const Statement& statement, const Params& params,
                                     absl::Duration timeout) {
  ASSIGN_OR_RETURN(Lease lease, Acquire(timeout));
  return lease->Execute(statement, params);
}

absl::Status Pool::InTransaction(absl::Duration timeout,
                                 absl::FunctionRef<absl::Status(Tx&)> body) {
  ASSIGN_OR_RETURN(Lease lease, Acquire(timeout));
  return lease->InTransaction(body);
}

int Pool::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int Pool::idle() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

int64_t Pool::opened() const {
  absl::MutexLock lock(&mu_);
  return opened_;
}

int64_t Pool::broken() const {
  absl::MutexLock lock(&mu_);
  return broken_;
}

}  // namespace bastion::pg
