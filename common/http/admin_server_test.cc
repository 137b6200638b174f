#include "common/http/admin_server.h"

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "gtest/gtest.h"

namespace bastion::http {
namespace {

class AdminServerTest : public ::testing::Test {
 protected:
  AdminServerTest() : admin_({"127.0.0.1", 0}, [] { return std::string("bastion_up 1\n"); }) {}

  absl::StatusOr<ClientResponse> Get(const std::string& path) {
    ClientRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", admin_.port(), path);
    return client_.SendSync(request);
  }

  AdminServer admin_;
  CurlHttpClient client_;
};

TEST_F(AdminServerTest, HealthzSaysOkWhileTheProcessRuns) {
  ASSERT_TRUE(admin_.Start().ok());
  auto response = Get("/healthz");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
}

TEST_F(AdminServerTest, ReadyzNamesTheFailingCheckUntilItPasses) {
  std::atomic<bool> database_ready{false};
  admin_.AddReadinessCheck("config", [] { return true; });
  admin_.AddReadinessCheck("database", [&] { return database_ready.load(); });
  ASSERT_TRUE(admin_.Start().ok());

  auto not_ready = Get("/readyz");
  ASSERT_TRUE(not_ready.ok()) << not_ready.status();
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(not_ready->Header("content-type"), "application/json");
  EXPECT_TRUE(absl::StrContains(not_ready->body, R"("failed_check":"database")"))
      << not_ready->body;

  database_ready = true;
  auto ready = Get("/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
}

TEST_F(AdminServerTest, MetricsServesTheRegistryInPrometheusTextFormat) {
  ASSERT_TRUE(admin_.Start().ok());
  auto response = Get("/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response->body, "bastion_up 1\n");
}

}  // namespace
}  // namespace bastion::http
