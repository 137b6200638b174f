#include "common/pg/testing/test_database.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/pg/connection.h"
#include "common/status/status_macros.h"

namespace bastion::pg {
namespace {

constexpr char kUrlVariable[] = "BASTION_TEST_DATABASE_URL";

std::string UniqueName() {
  std::random_device random;
  return absl::StrFormat("bastion_test_%d_%08x%08x", getpid(), random(), random());
}

absl::Status RunAdmin(const std::string& admin_url, const std::string& sql) {
  ConnectOptions options;
  options.url = admin_url;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection, Connection::Open(options));
  return connection->ExecuteScript(sql, "test database admin");
}

}  // namespace

absl::StatusOr<std::string> WithDatabase(absl::string_view url, absl::string_view database) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos ||
      !(absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://"))) {
    return absl::InvalidArgumentError(
        "database URL must look like postgresql://user@host:port/dbname");
  }
  const size_t authority = scheme_end + 3;
  const size_t query = url.find('?', authority);
  const size_t path = url.find('/', authority);
  const absl::string_view params = query == absl::string_view::npos ? "" : url.substr(query);
  const size_t authority_end = std::min(path, query);
  return absl::StrCat(url.substr(0, authority_end), "/", database, params);
}

absl::StatusOr<TestDatabase> CreateTestDatabase() {
  const char* admin_url = std::getenv(kUrlVariable);
  if (admin_url == nullptr || *admin_url == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        kUrlVariable,
        " is not set. Database tests need a Postgres server: run them with "
        "--test_env=BASTION_TEST_DATABASE_URL=postgresql://user@127.0.0.1:5432/postgres"));
  }
  std::string name = UniqueName();
  ASSIGN_OR_RETURN(std::string url, WithDatabase(admin_url, name));
  // template0: nobody connects to it, so parallel tests never find the template busy.
  RETURN_IF_ERROR(RunAdmin(admin_url, absl::StrCat("CREATE DATABASE \"", name, "\" TEMPLATE template0")));
  return TestDatabase(admin_url, std::move(name), std::move(url));
}

TestDatabase::TestDatabase(TestDatabase&& other) noexcept
    : admin_url_(std::move(other.admin_url_)),
      name_(std::exchange(other.name_, "")),
      url_(std::move(other.url_)) {}

TestDatabase& TestDatabase::operator=(TestDatabase&& other) noexcept {
  if (this != &other) {
    Drop();
    admin_url_ = std::move(other.admin_url_);
    name_ = std::exchange(other.name_, "");
    url_ = std::move(other.url_);
  }
  return *this;
}

TestDatabase::~TestDatabase() { Drop(); }

void TestDatabase::Drop() {
  if (name_.empty()) return;
  // FORCE terminates sessions a test left open (pools not yet destroyed, killed connections).
  absl::Status status =
      RunAdmin(admin_url_, absl::StrCat("DROP DATABASE IF EXISTS \"", name_, "\" WITH (FORCE)"));
  if (!status.ok()) {
    std::fprintf(stderr, "warning: could not drop test database %s: %s\n", name_.c_str(),
                 status.ToString().c_str());
  }
  name_.clear();
}

}  // namespace bastion::pg
