// Statements, parameters, result parsing and error mapping against a real Postgres.
#include "common/pg/connection.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/pg/errors.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"

namespace bastion::pg {
namespace {

inline constexpr Statement kCreateItems{
    "create_items",
    "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, active boolean, "
    "payload bytea, note text, created timestamptz)"};
inline constexpr Statement kInsertItem{
    "insert_item",
    "INSERT INTO items (id, name, active, payload, note, created) VALUES ($1, $2, $3, $4, $5, $6)"};
inline constexpr Statement kGetItem{
    "get_item", "SELECT id, name, active, payload, note, created FROM items WHERE id = $1"};
inline constexpr Statement kDeactivateAll{"deactivate_all", "UPDATE items SET active = false"};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestDatabase> db = CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<TestDatabase>(*std::move(db));
    ConnectOptions options;
    options.url = db_->url();
    absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Open(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    conn_ = *std::move(connection);
    ASSERT_TRUE(conn_->Execute(kCreateItems).ok());
  }

  void TearDown() override {
    conn_.reset();  // Before the database goes.
    db_.reset();
  }

  absl::Status Insert(int64_t id, std::string name) {
    return conn_->Execute(kInsertItem, {id, name, true, std::nullopt, std::nullopt, std::nullopt})
        .status();
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(ConnectionTest, ParametersRoundTripIncludingNullBytesAndTime) {
  // Every byte value, including NUL and the bytes that matter to SQL and hex escaping.
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  payload += "\\x'\"";
  // A value that would break out of the SQL if it were concatenated.
  const std::string name = "o'brien'); DROP TABLE items; --";
  const absl::Time created = absl::FromUnixMicros(1714567890123456);

  absl::StatusOr<Result> inserted = conn_->Execute(
      kInsertItem, {int64_t{7}, name, true, Bytea(payload), std::nullopt, created});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(inserted->affected_rows(), 1);

  absl::StatusOr<Result> got = conn_->Execute(kGetItem, {7});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->rows(), 1);
  EXPECT_EQ(got->GetInt64(0, "id").value(), 7);
  EXPECT_EQ(got->GetString(0, "name").value(), name);
  EXPECT_EQ(got->GetBool(0, "active").value(), true);
  EXPECT_EQ(got->GetBytes(0, "payload").value(), payload);
  EXPECT_EQ(got->GetTime(0, "created").value(), created);
  EXPECT_TRUE(got->IsNull(0, "note"));
  EXPECT_FALSE(got->IsNull(0, "name"));
  EXPECT_EQ(got->GetString(0, "note").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ConnectionTest, InfiniteTimesRoundTrip) {
  ASSERT_TRUE(conn_->Execute(kInsertItem, {1, "a", true, std::nullopt, std::nullopt,
                                           absl::InfiniteFuture()})
                  .ok());
  absl::StatusOr<Result> got = conn_->Execute(kGetItem, {1});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->GetTime(0, "created").value(), absl::InfiniteFuture());
}

TEST_F(ConnectionTest, ColumnsResolveByIndexOrNameAndMistakesAreErrors) {
  ASSERT_TRUE(Insert(1, "first").ok());
  absl::StatusOr<Result> got = conn_->Execute(kGetItem, {1});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->columns(), 6);
  EXPECT_EQ(got->GetString(0, 1).value(), got->GetString(0, "name").value());
  EXPECT_EQ(got->ColumnIndex("active").value(), 2);

  EXPECT_EQ(got->GetString(0, "missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got->GetString(0, 6).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(got->GetString(1, 0).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(got->GetInt64(0, "name").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got->GetBool(0, "id").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got->GetBytes(0, "name").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(got->IsNull(5, "name"));
}

TEST_F(ConnectionTest, AffectedRowsCountsUpdatedRows) {
  ASSERT_TRUE(Insert(1, "a").ok());
  ASSERT_TRUE(Insert(2, "b").ok());
  absl::StatusOr<Result> updated = conn_->Execute(kDeactivateAll);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->affected_rows(), 2);
}

TEST_F(ConnectionTest, UniqueViolationIsAlreadyExistsWithSqlState) {
  ASSERT_TRUE(Insert(1, "a").ok());
  absl::Status status = Insert(1, "again");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_EQ(SqlState(status), kUniqueViolation);
  EXPECT_NE(status.message().find("insert_item"), std::string::npos) << status;
  EXPECT_NE(status.message().find("23505"), std::string::npos) << status;
  // The connection stays usable after a statement error.
  EXPECT_TRUE(Insert(2, "b").ok());
}

TEST_F(ConnectionTest, ForeignKeyViolationIsFailedPrecondition) {
  ASSERT_TRUE(conn_->ExecuteScript("CREATE TABLE tags (item_id bigint REFERENCES items (id))").ok());
  absl::Status status =
      conn_->Execute(Statement{"insert_tag", "INSERT INTO tags VALUES ($1)"}, {99}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(SqlState(status), kForeignKeyViolation);
}

TEST_F(ConnectionTest, OtherServerErrorsAreInternalAndKeepTheirSqlState) {
  absl::Status status = conn_->Execute(Statement{"bad_sql", "SELEC 1"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(SqlState(status), "42601");  // syntax_error
  EXPECT_NE(status.message().find("bad_sql"), std::string::npos) << status;
}

TEST_F(ConnectionTest, UnnamedStatementRunsWithoutPreparing) {
  ASSERT_TRUE(Insert(3, "c").ok());
  absl::StatusOr<Result> got =
      conn_->Execute(Statement{"", "SELECT name FROM items WHERE id = $1"}, {3});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->GetString(0, 0).value(), "c");
  absl::StatusOr<Result> prepared = conn_->Execute(
      Statement{"", "SELECT count(*) FROM pg_prepared_statements WHERE name = ''"});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(prepared->GetInt64(0, 0).value(), 0);
}

TEST_F(ConnectionTest, ReusingAStatementNameForOtherSqlIsAnError) {
  ASSERT_TRUE(conn_->Execute(Statement{"twice", "SELECT 1"}).ok());
  absl::Status status = conn_->Execute(Statement{"twice", "SELECT 2"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("twice"), std::string::npos) << status;
}

TEST(ConnectTest, UnreachableServerIsUnavailable) {
  ConnectOptions options;
  options.url = "postgresql://bastion@127.0.0.1:1/postgres";
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Open(options);
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable) << connection.status();
}

TEST(ErrorsTest, SqlStatesMapToStatusCodes) {
  EXPECT_EQ(StatusFromSqlState("40001", "x", "m").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("40P01", "x", "m").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromSqlState("57014", "x", "m").code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusFromSqlState("08006", "x", "m").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("57P01", "x", "m").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlState("22P02", "x", "m").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(SqlState(StatusFromSqlState("40P01", "x", "m")), "40P01");
  EXPECT_EQ(SqlState(absl::InternalError("no sqlstate")), "");
}

TEST(TestDatabaseTest, WithDatabaseReplacesOnlyTheDatabaseName) {
  EXPECT_EQ(WithDatabase("postgresql://bastion@127.0.0.1:5432/postgres", "t1").value(),
            "postgresql://bastion@127.0.0.1:5432/t1");
  EXPECT_EQ(WithDatabase("postgres://u:p@h/db?sslmode=disable", "t1").value(),
            "postgres://u:p@h/t1?sslmode=disable");
  EXPECT_EQ(WithDatabase("postgresql://h:5432", "t1").value(), "postgresql://h:5432/t1");
  EXPECT_EQ(WithDatabase("postgresql://h?sslmode=disable", "t1").value(),
            "postgresql://h/t1?sslmode=disable");
  EXPECT_FALSE(WithDatabase("host=h dbname=x", "t1").ok());
}

TEST(TestDatabaseTest, MissingUrlVariableFailsWithInstructions) {
  const char* saved = std::getenv("BASTION_TEST_DATABASE_URL");
  const std::string restore = saved ? saved : "";
  unsetenv("BASTION_TEST_DATABASE_URL");
  absl::StatusOr<TestDatabase> db = CreateTestDatabase();
  if (saved != nullptr) setenv("BASTION_TEST_DATABASE_URL", restore.c_str(), 1);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("BASTION_TEST_DATABASE_URL"), std::string::npos);
}

TEST(TestDatabaseTest, DatabaseIsDroppedWhenTestDatabaseGoes) {
  absl::StatusOr<TestDatabase> db = CreateTestDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  const std::string name = db->name();
  ConnectOptions options;
  options.url = std::getenv("BASTION_TEST_DATABASE_URL");
  absl::StatusOr<std::unique_ptr<Connection>> admin = Connection::Open(options);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const Statement exists{"db_exists", "SELECT count(*) FROM pg_database WHERE datname = $1"};
  EXPECT_EQ((*admin)->Execute(exists, {name})->GetInt64(0, 0).value(), 1);
  {
    // A session left open must not stop the drop.
    options.url = db->url();
    absl::StatusOr<std::unique_ptr<Connection>> leftover = Connection::Open(options);
    ASSERT_TRUE(leftover.ok()) << leftover.status();
    TestDatabase gone = *std::move(db);
  }
  EXPECT_EQ((*admin)->Execute(exists, {name})->GetInt64(0, 0).value(), 0);
}

}  // namespace
}  // namespace bastion::pg
