// Migrations against a real Postgres: once-only application, concurrency, failures, file naming,
// and the pg_migrations Bazel macro.
#include "common/pg/migrate.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pg/pool.h"
#include "common/pg/test_migrations.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"

namespace bastion::pg {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// Neither is idempotent: running one twice fails, so a clean second run proves it was skipped.
const Migration kCreateThings{1, "create_things",
                              "CREATE TABLE things (id bigint PRIMARY KEY);\n"
                              "INSERT INTO things VALUES (1);"};
const Migration kAddLabel{2, "add_label", "ALTER TABLE things ADD COLUMN label text;"};

inline constexpr Statement kAppliedVersions{
    "applied_versions",
    "SELECT version, name, applied_at FROM svc.schema_migrations ORDER BY version"};
inline constexpr Statement kCountThings{"count_things", "SELECT count(*) FROM svc.things"};
inline constexpr Statement kRelationExists{"relation_exists",
                                           "SELECT to_regclass($1) IS NOT NULL"};

std::unique_ptr<Pool> MakePool(const std::string& url) {
  PoolOptions options;
  options.url = url;
  options.max_connections = 2;
  return std::make_unique<Pool>(options);
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestDatabase> db = CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<TestDatabase>(*std::move(db));
    pool_ = MakePool(db_->url());
  }

  std::vector<int64_t> AppliedVersions() {
    std::vector<int64_t> versions;
    absl::StatusOr<Result> applied = pool_->Execute(kAppliedVersions, {}, kWait);
    EXPECT_TRUE(applied.ok()) << applied.status();
    for (int row = 0; applied.ok() && row < applied->rows(); ++row) {
      versions.push_back(applied->GetInt64(row, "version").value());
    }
    return versions;
  }

  bool RelationExists(absl::string_view name) {
    absl::StatusOr<Result> exists = pool_->Execute(kRelationExists, {name}, kWait);
    EXPECT_TRUE(exists.ok()) << exists.status();
    return exists.ok() && exists->GetBool(0, 0).value_or(false);
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(MigrateTest, AppliesOnceRecordsAndRerunIsANoOp) {
  ASSERT_TRUE(Migrate(*pool_, "svc", {kCreateThings, kAddLabel}).ok());
  absl::StatusOr<Result> first = pool_->Execute(kAppliedVersions, {}, kWait);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->rows(), 2);
  EXPECT_EQ(first->GetString(0, "name").value(), "create_things");
  EXPECT_EQ(first->GetString(1, "name").value(), "add_label");
  EXPECT_FALSE(first->IsNull(0, "applied_at"));

  absl::Status again = Migrate(*pool_, "svc", {kCreateThings, kAddLabel});
  ASSERT_TRUE(again.ok()) << again;
  absl::StatusOr<Result> second = pool_->Execute(kAppliedVersions, {}, kWait);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->rows(), 2);
  EXPECT_EQ(second->GetString(1, "applied_at").value(), first->GetString(1, "applied_at").value());
  EXPECT_EQ(pool_->Execute(kCountThings, {}, kWait)->GetInt64(0, 0).value(), 1);
}

TEST_F(MigrateTest, LaterRunAppliesOnlyNewMigrations) {
  ASSERT_TRUE(Migrate(*pool_, "svc", {kCreateThings}).ok());
  absl::Status status = Migrate(*pool_, "svc", {kAddLabel, kCreateThings});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(RelationExists("svc.things"));
}

TEST_F(MigrateTest, UnqualifiedNamesLandInTheServiceSchema) {
  ASSERT_TRUE(Migrate(*pool_, "svc", {kCreateThings}).ok());
  EXPECT_TRUE(RelationExists("svc.things"));
  EXPECT_FALSE(RelationExists("public.things"));
}

TEST_F(MigrateTest, ConcurrentMigratorsApplyEachMigrationExactlyOnce) {
  // The sleep widens the window in which an unlocked second migrator would collide.
  const Migration slow{1, "create_things",
                       "SELECT pg_sleep(0.3); CREATE TABLE things (id bigint PRIMARY KEY);"
                       "INSERT INTO things VALUES (1);"};
  std::unique_ptr<Pool> other = MakePool(db_->url());
  absl::Status first;
  absl::Status second;
  std::thread a([&] { first = Migrate(*pool_, "svc", {slow, kAddLabel}); });
  std::thread b([&] { second = Migrate(*other, "svc", {slow, kAddLabel}); });
  a.join();
  b.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(pool_->Execute(kCountThings, {}, kWait)->GetInt64(0, 0).value(), 1);
}

TEST_F(MigrateTest, FailingMigrationRollsBackAndNamesItsFile) {
  const Migration broken{2, "add_broken",
                         "CREATE TABLE half_done (id int);\nSELEC 'typo';"};
  absl::Status status = Migrate(*pool_, "svc", {kCreateThings, broken});
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("0002_add_broken.sql"), std::string::npos) << status;
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1}));
  EXPECT_FALSE(RelationExists("svc.half_done"));

  // Once fixed, the next start applies it.
  const Migration fixed{2, "add_broken", "CREATE TABLE half_done (id int);"};
  ASSERT_TRUE(Migrate(*pool_, "svc", {kCreateThings, fixed}).ok());
  EXPECT_EQ(AppliedVersions(), (std::vector<int64_t>{1, 2}));
}

TEST_F(MigrateTest, LockIsReleasedAfterFailure) {
  const Migration broken{1, "broken", "SELEC 1;"};
  EXPECT_FALSE(Migrate(*pool_, "svc", {broken}).ok());
  // A migrator on another session would block forever (until statement_timeout) if the failed
  // run had kept the advisory lock on a pooled connection.
  PoolOptions options;
  options.url = db_->url();
  options.statement_timeout = absl::Seconds(2);
  Pool other(options);
  absl::Status status = Migrate(other, "svc", {kCreateThings});
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(MigrateTest, EmbeddedMigrationsFromTheBazelMacroApply) {
  const std::vector<Migration>& migrations = bastion::migrations::test_migrations();
  ASSERT_EQ(migrations.size(), 2u);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "create_widgets");
  EXPECT_EQ(migrations[1].version, 2);
  EXPECT_EQ(migrations[1].name, "add_widget_color");
  // Byte for byte what the file holds, though it contains the first delimiter tried.
  std::ifstream file("common/pg/testdata/0001_create_widgets.sql", std::ios::binary);
  ASSERT_TRUE(file.is_open());
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(migrations[0].sql, content.str());

  ASSERT_TRUE(Migrate(*pool_, "widgets", migrations).ok());
  absl::StatusOr<Result> widget = pool_->Execute(
      Statement{"get_widget", "SELECT name, color FROM widgets.widgets WHERE id = 1"}, {}, kWait);
  ASSERT_TRUE(widget.ok()) << widget.status();
  EXPECT_EQ(widget->GetString(0, "name").value(), ")sql0\"");
  EXPECT_EQ(widget->GetString(0, "color").value(), "blue");
}

TEST(MigrateValidationTest, BadSchemaNamesAreRejectedBeforeConnecting) {
  PoolOptions options;
  options.url = "postgresql://bastion@127.0.0.1:1/postgres";  // Never reached.
  Pool pool(options);
  for (const char* schema : {"", "Tenant", "1tenant", "ten-ant", "tenant; DROP SCHEMA public",
                             "\"tenant\"",
                             "a_name_that_is_far_too_long_for_a_postgres_identifier_1234567890"}) {
    absl::Status status = Migrate(pool, schema, {kCreateThings});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << schema;
  }
  EXPECT_TRUE(ValidateSchemaName("tenant").ok());
  EXPECT_TRUE(ValidateSchemaName("_tenant_v2").ok());
}

TEST(MigrateValidationTest, DuplicateOrZeroVersionsAreRejected) {
  PoolOptions options;
  options.url = "postgresql://bastion@127.0.0.1:1/postgres";
  Pool pool(options);
  Migration again = kAddLabel;
  again.version = 1;
  EXPECT_EQ(Migrate(pool, "svc", {kCreateThings, again}).code(),
            absl::StatusCode::kInvalidArgument);
  Migration zero = kAddLabel;
  zero.version = 0;
  EXPECT_EQ(Migrate(pool, "svc", {zero}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MigrationFileNameTest, ParsesVersionAndTitle) {
  absl::StatusOr<MigrationFileName> parsed =
      ParseMigrationFileName("services/tenant/migrations/0012_create_tenants.sql");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->version, 12);
  EXPECT_EQ(parsed->name, "create_tenants");
  EXPECT_EQ(ParseMigrationFileName("20240501_add_v2.sql")->version, 20240501);
}

TEST(MigrationFileNameTest, RejectsBadNames) {
  for (const char* name :
       {"0001_create.txt", "0001_create.sql.bak", "0001.sql", "0001_.sql", "001_create.sql",
        "abcd_create.sql", "0000_create.sql", "0001_Create.sql", "0001_create tenants.sql",
        "0001-create.sql", "99999999999_create.sql", "_create.sql", ".sql", ""}) {
    absl::StatusOr<MigrationFileName> parsed = ParseMigrationFileName(name);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_NE(ParseMigrationFileName("dir/0001-create.sql").status().message().find("0001-create.sql"),
            std::string::npos);
}

TEST(ReadMigrationFilesTest, ReadsSortsAndChecksFiles) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string dir = tmpdir != nullptr ? tmpdir : "/tmp";
  auto write = [&](const std::string& name, const std::string& sql) {
    std::ofstream(dir + "/" + name) << sql;
    return dir + "/" + name;
  };
  const std::string second = write("0002_b.sql", "SELECT 2;");
  const std::string first = write("0001_a.sql", "SELECT 1;");
  absl::StatusOr<std::vector<Migration>> read = ReadMigrationFiles({second, first});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].name, "a");
  EXPECT_EQ((*read)[0].sql, "SELECT 1;");
  EXPECT_EQ((*read)[1].version, 2);

  const std::string duplicate = write("00002_c.sql", "SELECT 3;");
  EXPECT_EQ(ReadMigrationFiles({first, second, duplicate}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadMigrationFiles({dir + "/0003_missing.sql"}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace bastion::pg
