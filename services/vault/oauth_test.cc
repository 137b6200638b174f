#include "services/vault/oauth.h"

#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/vault/testing/browser.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::vault {
namespace {

using ::testing::HasSubstr;

TEST(PkceTest, ChallengeMatchesRfc7636AppendixB) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(FormTest, EncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(FormEncode({{"scope", "incidents.read users.read"}, {"r", "https://e.x/cb?a=1&b"}}),
            "scope=incidents.read%20users.read&r=https%3A%2F%2Fe.x%2Fcb%3Fa%3D1%26b");
  EXPECT_EQ(ParseQuery(FormEncode({{"k", "a+b c&=%"}}))["k"], "a+b c&=%");
}

TEST(AuthorizeUrlTest, CarriesEveryParameterPagerDutyNeeds) {
  const std::string url = AuthorizeUrl(
      "https://identity.pagerduty.com/oauth/authorize",
      {"client-1", "https://edge.example.com/oauth/callback", {"incidents.read", "users.read"},
       "the-state", "the-challenge"});
  ASSERT_TRUE(absl::StartsWith(url, "https://identity.pagerduty.com/oauth/authorize?"));
  auto q = QueryOf(url);
  EXPECT_EQ(q["client_id"], "client-1");
  EXPECT_EQ(q["redirect_uri"], "https://edge.example.com/oauth/callback");
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["scope"], "incidents.read users.read");
  EXPECT_EQ(q["state"], "the-state");
  EXPECT_EQ(q["code_challenge"], "the-challenge");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_TRUE(absl::StrContains(AuthorizeUrl("https://x/authorize?tenant=a", {}), "?tenant=a&client_id="));
}

// Against tests/pagerduty_sim's identity endpoints over real HTTP.
class OAuthClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.Start().ok());
    client_ = std::make_unique<OAuthClient>(http_, sim_.base_url() + "/oauth/token", absl::Seconds(5));
  }

  static pagerduty_sim::SimulatorOptions Options() {
    pagerduty_sim::SimulatorOptions o;
    o.oauth_clients = {{"client-1", "client-secret-1"}};
    return o;
  }

  // Runs the authorize step as a browser would and returns the code PagerDuty redirected with.
  std::string CodeFor(const std::string& verifier) {
    Redirect r = FollowAuthorizeUrl(
        http_, AuthorizeUrl(sim_.base_url() + "/oauth/authorize",
                            {"client-1", "http://edge/cb", {"read"}, "st", PkceChallenge(verifier)}));
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.state, "st");
    return r.code;
  }

  pagerduty_sim::Simulator sim_{Options()};
  http::CurlHttpClient http_;
  std::unique_ptr<OAuthClient> client_;  // once the simulator has its port
};

TEST_F(OAuthClientTest, ACodeExchangesOnceForTokensAndTheRefreshTokenRotates) {
  const std::string verifier = crypto::RandomToken("", 32);
  const std::string code = CodeFor(verifier);
  auto tokens = client_->ExchangeCode("client-1", "client-secret-1", code, "http://edge/cb", verifier);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_FALSE(tokens->access_token.empty());
  EXPECT_FALSE(tokens->refresh_token.empty());
  EXPECT_EQ(tokens->expires_in, absl::Hours(1));
  EXPECT_THAT(tokens->scopes, ::testing::ElementsAre("read"));

  auto refreshed = client_->Refresh("client-1", "client-secret-1", tokens->refresh_token.value());
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_NE(refreshed->access_token.value(), tokens->access_token.value());
  auto reused = client_->Refresh("client-1", "client-secret-1", tokens->refresh_token.value());
  EXPECT_TRUE(IsInvalidGrant(reused.status()));

  auto again = client_->ExchangeCode("client-1", "client-secret-1", code, "http://edge/cb", verifier);
  EXPECT_TRUE(IsInvalidGrant(again.status()));
}

TEST_F(OAuthClientTest, AWrongVerifierOrClientSecretIsRefusedWithTheOAuthErrorCode) {
  const std::string verifier = crypto::RandomToken("", 32);
  auto wrong_verifier = client_->ExchangeCode("client-1", "client-secret-1", CodeFor(verifier),
                                             "http://edge/cb", crypto::RandomToken("", 32));
  EXPECT_TRUE(IsInvalidGrant(wrong_verifier.status()));
  auto wrong_secret = client_->ExchangeCode("client-1", "not-the-secret", CodeFor(verifier),
                                           "http://edge/cb", verifier);
  EXPECT_EQ(wrong_secret.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OAuthErrorCode(wrong_secret.status()), "invalid_client");
  EXPECT_THAT(wrong_secret.status().message(), ::testing::Not(HasSubstr("not-the-secret")));
}

TEST_F(OAuthClientTest, AnEndpointThatIsDownOrAbsentIsUnavailable) {
  pagerduty_sim::Faults down;
  down.server_errors = 1;
  down.server_error_status = 503;
  down.path_prefix = "/oauth/token";
  sim_.SetFaults(down);
  EXPECT_EQ(client_->Refresh("client-1", "client-secret-1", "pdrt_x").status().code(),
            absl::StatusCode::kUnavailable);
  OAuthClient nowhere(http_, "http://127.0.0.1:1/oauth/token", absl::Seconds(2));
  EXPECT_EQ(nowhere.Refresh("client-1", "client-secret-1", "pdrt_x").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace bastion::vault
