// Test support: a fresh, uniquely named Postgres database per test, so tests run in parallel
// against the one server named by BASTION_TEST_DATABASE_URL.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bastion::pg {

// A database created for one test and dropped (even with sessions still open) when this goes.
class TestDatabase {
 public:
  TestDatabase(TestDatabase&& other) noexcept;
  TestDatabase& operator=(TestDatabase&& other) noexcept;
  ~TestDatabase();

  // URL of the new database, for Pool/ConnectOptions or a service under test.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  friend absl::StatusOr<TestDatabase> CreateTestDatabase();
  TestDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}
  void Drop();

  std::string admin_url_;  // The server's URL as given; used to drop the database.
  std::string name_;
  std::string url_;
};

// Creates a database on the server in BASTION_TEST_DATABASE_URL (e.g.
// postgresql://bastion@127.0.0.1:5432/postgres). FailedPrecondition when the variable is unset,
// so a test that asserts on the result fails with instructions instead of skipping silently.
absl::StatusOr<TestDatabase> CreateTestDatabase();

// `url` (a postgresql:// or postgres:// URI) pointing at database `database` instead.
absl::StatusOr<std::string> WithDatabase(absl::string_view url, absl::string_view database);

}  // namespace bastion::pg
