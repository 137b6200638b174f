// Pool behaviour against a real Postgres: bounds, deadlines, broken connections, transactions.
#include "common/pg/pool.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/pg/errors.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"

namespace bastion::pg {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

inline constexpr Statement kCreateNotes{"create_notes",
                                        "CREATE TABLE notes (id bigint PRIMARY KEY, body text)"};
inline constexpr Statement kInsertNote{"insert_note",
                                       "INSERT INTO notes (id, body) VALUES ($1, $2)"};
inline constexpr Statement kCountNotes{"count_notes", "SELECT count(*) FROM notes"};
inline constexpr Statement kBackendPid{"backend_pid", "SELECT pg_backend_pid()"};
inline constexpr Statement kTerminate{"terminate", "SELECT pg_terminate_backend($1, 5000)"};
inline constexpr Statement kSleep{"sleep", "SELECT pg_sleep(10)"};

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestDatabase> db = CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<TestDatabase>(*std::move(db));
  }

  std::unique_ptr<Pool> MakePool(int max_connections,
                                 absl::Duration statement_timeout = absl::Seconds(30)) {
    PoolOptions options;
    options.url = db_->url();
    options.max_connections = max_connections;
    options.statement_timeout = statement_timeout;
    return std::make_unique<Pool>(options);
  }

  int64_t CountNotes(Pool& pool) {
    absl::StatusOr<Result> count = pool.Execute(kCountNotes, {}, kWait);
    EXPECT_TRUE(count.ok()) << count.status();
    return count.ok() ? count->GetInt64(0, 0).value_or(-1) : -1;
  }

  int64_t BackendPid(Connection& connection) {
    absl::StatusOr<Result> pid = connection.Execute(kBackendPid);
    EXPECT_TRUE(pid.ok()) << pid.status();
    return pid.ok() ? pid->GetInt64(0, 0).value_or(-1) : -1;
  }

  // Kills the session `pid` from a separate connection and waits for it to end.
  void Terminate(Pool& other, int64_t pid) {
    absl::StatusOr<Result> killed = other.Execute(kTerminate, {pid}, kWait);
    ASSERT_TRUE(killed.ok()) << killed.status();
    ASSERT_TRUE(killed->GetBool(0, 0).value());
  }

  std::unique_ptr<TestDatabase> db_;
};

TEST_F(PoolTest, CommittedTransactionIsVisible) {
  auto pool = MakePool(2);
  ASSERT_TRUE(pool->Execute(kCreateNotes, {}, kWait).ok());
  absl::Status status = pool->InTransaction(kWait, [&](Tx& tx) -> absl::Status {
    if (auto s = tx.Execute(kInsertNote, {1, "a"}).status(); !s.ok()) return s;
    return tx.Execute(kInsertNote, {2, "b"}).status();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(CountNotes(*pool), 2);
}

TEST_F(PoolTest, RollbackLeavesNothing) {
  auto pool = MakePool(2);
  ASSERT_TRUE(pool->Execute(kCreateNotes, {}, kWait).ok());
  absl::Status status = pool->InTransaction(kWait, [&](Tx& tx) -> absl::Status {
    if (auto s = tx.Execute(kInsertNote, {1, "a"}).status(); !s.ok()) return s;
    return absl::InvalidArgumentError("caller changed its mind");
  });
  EXPECT_EQ(status, absl::InvalidArgumentError("caller changed its mind"));
  EXPECT_EQ(CountNotes(*pool), 0);
  // The connection went back clean, not dropped.
  EXPECT_EQ(pool->broken(), 0);
}

TEST_F(PoolTest, SwallowedStatementErrorAbortsTheCommit) {
  auto pool = MakePool(1);
  ASSERT_TRUE(pool->Execute(kCreateNotes, {}, kWait).ok());
  absl::Status status = pool->InTransaction(kWait, [&](Tx& tx) -> absl::Status {
    tx.Execute(kInsertNote, {1, "a"}).IgnoreError();
    tx.Execute(kInsertNote, {1, "duplicate"}).IgnoreError();
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
  EXPECT_EQ(CountNotes(*pool), 0);
}

TEST_F(PoolTest, AcquireFailsWithDeadlineExceededWhenExhausted) {
  auto pool = MakePool(1);
  absl::StatusOr<Lease> held = pool->Acquire(kWait);
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<Lease> second = pool->Acquire(absl::Milliseconds(100));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kDeadlineExceeded) << second.status();
  EXPECT_EQ(pool->in_use(), 1);
  EXPECT_EQ(pool->opened(), 1);
}

TEST_F(PoolTest, WaiterGetsTheConnectionOnceReleased) {
  auto pool = MakePool(1);
  absl::StatusOr<Lease> held = pool->Acquire(kWait);
  ASSERT_TRUE(held.ok()) << held.status();
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(100));
    Lease done = *std::move(held);
  });
  absl::StatusOr<Lease> second = pool->Acquire(kWait);
  releaser.join();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(pool->opened(), 1);  // Reused, not a second connection.
}

TEST_F(PoolTest, ConcurrentCallersNeverExceedMaxConnections) {
  auto pool = MakePool(3);
  ASSERT_TRUE(pool->Execute(kCreateNotes, {}, kWait).ok());
  std::atomic<int> next_id{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!pool->Execute(kInsertNote, {next_id++, "x"}, kWait).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(CountNotes(*pool), 160);
  EXPECT_LE(pool->opened(), 3);
  EXPECT_EQ(pool->in_use(), 0);
  EXPECT_EQ(pool->idle(), pool->opened());
}

TEST_F(PoolTest, IdleConnectionKilledByServerIsReplaced) {
  auto pool = MakePool(1);
  auto admin = MakePool(1);
  int64_t first_pid = 0;
  {
    absl::StatusOr<Lease> lease = pool->Acquire(kWait);
    ASSERT_TRUE(lease.ok()) << lease.status();
    first_pid = BackendPid(**lease);
  }
  Terminate(*admin, first_pid);

  absl::StatusOr<Result> pid = pool->Execute(kBackendPid, {}, kWait);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_NE(pid->GetInt64(0, 0).value(), first_pid);
  EXPECT_EQ(pool->broken(), 1);
  EXPECT_EQ(pool->opened(), 2);
}

TEST_F(PoolTest, ConnectionKilledWhileLeasedFailsOnceThenIsReplaced) {
  auto pool = MakePool(1);
  auto admin = MakePool(1);
  {
    absl::StatusOr<Lease> lease = pool->Acquire(kWait);
    ASSERT_TRUE(lease.ok()) << lease.status();
    Terminate(*admin, BackendPid(**lease));
    absl::Status status = (*lease)->Execute(kBackendPid).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  }
  EXPECT_EQ(pool->broken(), 1);
  EXPECT_EQ(pool->idle(), 0);
  absl::StatusOr<Result> next = pool->Execute(kBackendPid, {}, kWait);
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST_F(PoolTest, StatementTimeoutCancelsASlowQuery) {
  auto pool = MakePool(1, /*statement_timeout=*/absl::Milliseconds(200));
  const absl::Time start = absl::Now();
  absl::Status status = pool->Execute(kSleep, {}, kWait).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_EQ(SqlState(status), kQueryCanceled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A cancelled statement does not cost the connection.
  EXPECT_TRUE(pool->Execute(kBackendPid, {}, kWait).ok());
  EXPECT_EQ(pool->broken(), 0);
}

TEST_F(PoolTest, ConnectionLeftInATransactionIsNotReused) {
  auto pool = MakePool(1);
  {
    absl::StatusOr<Lease> lease = pool->Acquire(kWait);
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->ExecuteScript("BEGIN").ok());
  }
  EXPECT_EQ(pool->broken(), 1);
  EXPECT_EQ(pool->idle(), 0);
}

TEST(PoolUnreachableTest, FailedConnectIsUnavailableAndFreesTheSlot) {
  PoolOptions options;
  options.url = "postgresql://bastion@127.0.0.1:1/postgres";
  options.max_connections = 1;
  Pool pool(options);
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<Lease> lease = pool.Acquire(absl::Milliseconds(100));
    EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable) << lease.status();
  }
  EXPECT_EQ(pool.in_use(), 0);
}

}  // namespace
}  // namespace bastion::pg
