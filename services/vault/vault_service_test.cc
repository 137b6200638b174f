// The vault's logic with an in-memory store and tenant directory, a fake clock, and the
// PagerDuty simulator (tests/pagerduty_sim) on loopback for OAuth and REST.
#include "services/vault/vault_service.h"

#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/http/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/vault/testing/browser.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/testing/fake_vault_store.h"
#include "services/vault/testing/log_capture.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::vault {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kApiKey[] = "u+ApiKeyOfAcmeRest9Zq";
constexpr char kOtherApiKey[] = "u+SecondApiKeyOfAcme7";
constexpr char kClientSecret[] = "client-secret-of-the-acme-app-42";
constexpr char kRedirect[] = "https://edge.example.com/oauth/callback";

auth::Caller Service(const std::string& name) {
  auth::Caller c;
  c.kind = auth::Caller::Kind::kService;
  c.service = name;
  return c;
}

auth::Caller Operator() {
  auth::Caller c;
  c.kind = auth::Caller::Kind::kOperator;
  return c;
}

auth::Caller User(const std::string& tenant_id, const std::string& slug,
                  const tenant::v1::User& u) {
  auth::Caller c;
  c.kind = u.role() == tenant::v1::ROLE_ADMIN ? auth::Caller::Kind::kTenantAdmin
                                              : auth::Caller::Kind::kTenantMember;
  c.tenant_id = tenant_id;
  c.tenant_slug = slug;
  c.user_id = u.id();
  c.email = u.email();
  return c;
}

std::string Key(char fill) { return crypto::Base64Encode(std::string(32, fill)); }

class VaultServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sim_.Start().ok());
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
    acme_admin_ = User(acme_, "acme", tenants_.AddUser(acme_, "boss@acme.com", true));
    globex_admin_ = User(globex_, "globex", tenants_.AddUser(globex_, "boss@globex.com", true));
    ana_ = tenants_.AddUser(acme_, "Ana@Acme.com", false);
    bob_ = tenants_.AddUser(acme_, "bob@acme.com", false);
    options_.authorize_url = sim_.base_url() + "/oauth/authorize";
    options_.token_url = sim_.base_url() + "/oauth/token";
    options_.redirect_url = kRedirect;
    options_.api_url_us = sim_.base_url();
    options_.api_url_eu = "http://127.0.0.1:1";  // nothing listens there
    auto ring = Keyring::Parse("1 " + Key('k'), "test");
    ASSERT_TRUE(ring.ok());
    keys_ = KeyringSource::Fixed(*std::move(ring));
    envelope_ = std::make_unique<Envelope>(*keys_, store_, clock_);
    svc_ = std::make_unique<VaultService>(store_, *envelope_, tenants_, http_, clock_, registry_,
                                          options_);
  }

  void TearDown() override {
    // Every token the simulator mints starts with one of these prefixes.
    std::vector<std::string> secrets = {kApiKey, kOtherApiKey, kClientSecret, "pdus+_", "pdre+_"};
    absl::MutexLock lock(&seen_mu_);
    for (const auto& s : seen_) secrets.push_back(s);
    logs_.ExpectNoneOf(secrets);
  }

  void PutApiKey(const std::string& key = kApiKey, Access access = Access::kFull) {
    auto c = svc_->PutApiKeyCredential(acme_admin_, "acme", "pagerduty", key, "Actor@Acme.com",
                                       access, Region::kUs);
    ASSERT_TRUE(c.ok()) << c.status();
  }

  void PutOAuthApp(const std::string& client_id = "client-1") {
    auto c = svc_->PutOAuthApp(acme_admin_, "acme", "pagerduty", client_id, kClientSecret,
                               {"incidents.read", "users.read"}, OAuthFlavor::kScoped, Region::kUs);
    ASSERT_TRUE(c.ok()) << c.status();
  }

  // The PagerDuty user who consents for a Bastion user.
  std::string PagerDutyUserFor(const std::string& user) {
    return user == bob_.id() || user == bob_.email() ? pagerduty_sim::seed::kResponderUserId
                                                    : pagerduty_sim::seed::kAdminUserId;
  }

  // Starts an authorization for `user` as the edge and consents at PagerDuty as a browser
  // would: returns what PagerDuty redirected back with.
  Redirect Consent(const std::string& user) {
    auto begun = svc_->BeginUserAuthorization(edge_, "acme", "pagerduty", user);
    EXPECT_TRUE(begun.ok()) << begun.status();
    if (!begun.ok()) return {};
    Redirect r = FollowAuthorizeUrl(http_, begun->authorize_url, PagerDutyUserFor(user));
    EXPECT_EQ(r.status, 302);
    EXPECT_TRUE(absl::StartsWith(r.location, std::string(kRedirect) + "?")) << r.location;
    Seen(r.state);
    Seen(r.code);
    return r;
  }

  void Authorize(const std::string& user) {
    Redirect r = Consent(user);
    auto done = svc_->CompleteUserAuthorization(edge_, r.state, r.code);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  absl::StatusOr<UpstreamCredential> Upstream(const std::string& user = "") {
    auto up = svc_->GetUpstreamCredential(edge_, "acme", "pagerduty", user);
    if (up.ok()) Seen(up->authorization.value());
    return up;
  }

  static pagerduty_sim::SimulatorOptions SimOptions(const Clock* clock) {
    pagerduty_sim::SimulatorOptions o;
    o.api_keys = {{kApiKey, pagerduty_sim::KeyAccess::kFull},
                  {kOtherApiKey, pagerduty_sim::KeyAccess::kReadOnly}};
    o.oauth_clients = {{"client-1", kClientSecret}, {"client-2", kClientSecret}};
    o.clock = clock;
    return o;
  }

  void TokenEndpointAnswers(int status) {
    pagerduty_sim::Faults f;
    f.server_errors = 1000;
    f.server_error_status = status;
    f.path_prefix = "/oauth/token";
    sim_.SetFaults(f);
  }

  int64_t Refreshes() { return sim_.TokenRequests("refresh_token"); }

  LogCapture logs_;  // first in, last out: sees everything the others log
  FakeClock clock_;
  pagerduty_sim::Simulator sim_{SimOptions(&clock_)};
  http::CurlHttpClient http_;
  FakeVaultStore store_;
  tenant::FakeTenantClient tenants_;
  metrics::Registry registry_;
  VaultOptions options_;
  std::unique_ptr<KeyringSource> keys_;
  std::unique_ptr<Envelope> envelope_;
  std::unique_ptr<VaultService> svc_;
  std::string acme_, globex_;
  auth::Caller acme_admin_, globex_admin_;
  tenant::v1::User ana_, bob_;
  const auth::Caller edge_ = Service("edge");
  // Called from many threads at once (the concurrent refresh test).
  void Seen(std::string secret) {
    absl::MutexLock lock(&seen_mu_);
    seen_.push_back(std::move(secret));
  }
  absl::Mutex seen_mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(seen_mu_);  // states, codes and tokens: none may reach the log
};

TEST_F(VaultServiceTest, AnApiKeyReachesTheEdgeAsATokenHeaderWithTheActorEmail) {
  PutApiKey(kApiKey, Access::kReadOnly);
  auto up = Upstream("ana@acme.com");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_EQ(up->authorization.value(), std::string("Token token=") + kApiKey);
  EXPECT_EQ(up->from_email, "actor@acme.com");
  EXPECT_EQ(up->mode, AuthMode::kApiKey);
  EXPECT_EQ(up->access, Access::kReadOnly);
  EXPECT_FALSE(up->expires_at.has_value());
  // By slug or by id, the same credential.
  auto by_id = svc_->GetUpstreamCredential(edge_, acme_, "pagerduty", "");
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->authorization.value(), up->authorization.value());
}

TEST_F(VaultServiceTest, CredentialInfoShowsAHintAndMetadataButNeverTheSecret) {
  PutApiKey();
  auto info = svc_->GetCredentialInfo(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->secret_hint, "t9Zq");
  EXPECT_TRUE(info->secret_sealed.empty());
  EXPECT_EQ(info->actor_email, "actor@acme.com");
  EXPECT_EQ(info->version, 1);
  EXPECT_EQ(info->created_at, clock_.Now());
  EXPECT_FALSE(info->rotated_at.has_value());
  // Governance may read the metadata; the edge and other services may not.
  EXPECT_TRUE(svc_->GetCredentialInfo(Service("governance"), "acme", "pagerduty").ok());
  EXPECT_EQ(svc_->GetCredentialInfo(edge_, "acme", "pagerduty").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(VaultServiceTest, OnlyTheEdgeMayFetchUpstreamCredentials) {
  PutApiKey();
  for (const auth::Caller& c : {Operator(), acme_admin_, Service("governance"), User(acme_, "acme", ana_)}) {
    auto up = svc_->GetUpstreamCredential(c, "acme", "pagerduty", "");
    EXPECT_EQ(up.status().code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(svc_->GetUpstreamCredential(auth::Caller{}, "acme", "pagerduty", "").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(VaultServiceTest, AnotherTenantsAdminCannotTellTheTenantExists) {
  PutApiKey();
  auto other = svc_->GetCredentialInfo(globex_admin_, "acme", "pagerduty");
  auto missing = svc_->GetCredentialInfo(globex_admin_, "no-such-tenant", "pagerduty");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "tenant 'acme' not found");
  EXPECT_EQ(svc_->RotateApiKey(globex_admin_, acme_, "pagerduty", kOtherApiKey).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->GetCredentialInfo(User(acme_, "acme", ana_), "acme", "pagerduty").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(VaultServiceTest, RotatingTheApiKeyServesTheNewOneWhileCallsInFlightKeepTheOld) {
  PutApiKey();
  auto in_flight = Upstream();
  ASSERT_TRUE(in_flight.ok());
  clock_.Advance(absl::Hours(1));
  auto rotated = svc_->RotateApiKey(acme_admin_, "acme", "pagerduty", kOtherApiKey);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->version, 2);
  EXPECT_EQ(rotated->rotated_at, clock_.Now());
  EXPECT_EQ(rotated->secret_hint, "cme7");
  EXPECT_EQ(in_flight->authorization.value(), std::string("Token token=") + kApiKey);
  auto next = Upstream();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->authorization.value(), std::string("Token token=") + kOtherApiKey);
  auto wrong_kind = svc_->RotateOAuthClientSecret(acme_admin_, "acme", "pagerduty", "x-secret-123");
  EXPECT_EQ(wrong_kind.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong_kind.status().message(), HasSubstr("rotate the API key"));
}

TEST_F(VaultServiceTest, BadInputIsRejectedWithAMessageThatNeverEchoesTheSecret) {
  struct Case {
    std::string server, key, email;
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{
           {"", kApiKey, "a@acme.com", "server must name"},
           {"Pager Duty", kApiKey, "a@acme.com", "lowercase letters"},
           {"pagerduty", "", "a@acme.com", "api_key must not be empty"},
           {"pagerduty", std::string(kApiKey) + "\n", "a@acme.com", "newline"},
           {"pagerduty", kApiKey, "not-an-email", "not a valid email"},
       }) {
    auto r = svc_->PutApiKeyCredential(acme_admin_, "acme", c.server, c.key, c.email,
                                       Access::kFull, Region::kUs);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.expect;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expect));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(kApiKey)));
  }
  auto classic = svc_->PutOAuthApp(acme_admin_, "acme", "pagerduty", "client-1", kClientSecret,
                                   {"incidents.read"}, OAuthFlavor::kClassic, Region::kUs);
  EXPECT_EQ(classic.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(classic.status().message(), HasSubstr("use flavor scoped"));
  auto no_scopes = svc_->PutOAuthApp(acme_admin_, "acme", "pagerduty", "client-1", kClientSecret,
                                     {}, OAuthFlavor::kScoped, Region::kUs);
  EXPECT_EQ(no_scopes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_->GetCredentialInfo(acme_admin_, "acme", "pagerduty").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(VaultServiceTest, AuthorizationCodeFlowWithPkceGivesTheUserABearerToken) {
  PutOAuthApp();
  auto begun = svc_->BeginUserAuthorization(edge_, "acme", "pagerduty", "ana@acme.com");
  ASSERT_TRUE(begun.ok()) << begun.status();
  EXPECT_EQ(begun->expires_at, clock_.Now() + absl::Minutes(10));
  auto q = QueryOf(begun->authorize_url);
  EXPECT_TRUE(absl::StartsWith(begun->authorize_url, sim_.base_url() + "/oauth/authorize?"));
  EXPECT_EQ(q["client_id"], "client-1");
  EXPECT_EQ(q["redirect_uri"], kRedirect);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["scope"], "incidents.read users.read");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["code_challenge"].size(), 43u);
  EXPECT_GE(q["state"].size(), 43u);
  Seen(q["state"]);

  EXPECT_EQ(Upstream(ana_.id()).status().code(), absl::StatusCode::kFailedPrecondition);
  Authorize("ana@acme.com");
  EXPECT_EQ(sim_.TokenRequests("authorization_code"), 1);

  auto up = Upstream(ana_.id());
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(absl::StartsWith(up->authorization.value(), "Bearer pdus+_"));
  EXPECT_EQ(up->from_email, "ana@acme.com");
  EXPECT_EQ(up->grant_status, GrantStatus::kActive);
  EXPECT_EQ(up->expires_at, clock_.Now() + absl::Hours(1));
  EXPECT_THAT(up->scopes, ::testing::ElementsAre("incidents.read", "users.read"));
  // Other users of the tenant have not authorized.
  EXPECT_EQ(Upstream(bob_.id()).status().message(), kNeedsAuthorizationMessage);

  auto grants = svc_->ListUserGrants(acme_admin_, "acme", "", "");
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].user_email, "ana@acme.com");
  EXPECT_EQ((*grants)[0].server, "pagerduty");
  EXPECT_TRUE((*grants)[0].access_token_sealed.empty());
  EXPECT_TRUE((*grants)[0].refresh_token_sealed.empty());
}

TEST_F(VaultServiceTest, AReusedStateAWrongCodeAndAnExpiredStateEachFailCleanly) {
  PutOAuthApp();
  Redirect first = Consent("ana@acme.com");
  ASSERT_TRUE(svc_->CompleteUserAuthorization(edge_, first.state, first.code).ok());
  auto reused = svc_->CompleteUserAuthorization(edge_, first.state, first.code);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(reused.status().message(), HasSubstr("already used"));

  Redirect second = Consent("bob@acme.com");
  auto wrong = svc_->CompleteUserAuthorization(edge_, second.state, "code_not-what-pagerduty-sent");
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.status().message(), HasSubstr("did not accept the authorization code"));
  // The state went with the failed attempt: nobody can try codes against it.
  EXPECT_THAT(svc_->CompleteUserAuthorization(edge_, second.state, second.code).status().message(),
              HasSubstr("already used"));

  Redirect third = Consent("bob@acme.com");
  clock_.Advance(absl::Minutes(11));
  auto expired = svc_->CompleteUserAuthorization(edge_, third.state, third.code);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));

  EXPECT_EQ(svc_->CompleteUserAuthorization(edge_, "", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_->CompleteUserAuthorization(acme_admin_, "s", "c").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Upstream(bob_.id()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(VaultServiceTest, OnlyTheUserThemselfOrTheEdgeMayStartTheirAuthorization) {
  PutOAuthApp();
  auto as_ana = svc_->BeginUserAuthorization(User(acme_, "acme", ana_), "acme", "pagerduty", "ana@acme.com");
  EXPECT_TRUE(as_ana.ok()) << as_ana.status();
  EXPECT_EQ(svc_->BeginUserAuthorization(User(acme_, "acme", ana_), "acme", "pagerduty", "bob@acme.com")
                .status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->BeginUserAuthorization(acme_admin_, "acme", "pagerduty", "bob@acme.com").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->BeginUserAuthorization(Operator(), "acme", "pagerduty", "bob@acme.com").status().code(),
            absl::StatusCode::kPermissionDenied);
  tenants_.DisableUser(bob_.id());
  EXPECT_EQ(svc_->BeginUserAuthorization(edge_, "acme", "pagerduty", "bob@acme.com").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svc_->BeginUserAuthorization(edge_, "acme", "pagerduty", "nobody@acme.com").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(VaultServiceTest, AnApiKeyServerHasNothingForUsersToAuthorize) {
  PutApiKey();
  auto begun = svc_->BeginUserAuthorization(edge_, "acme", "pagerduty", "ana@acme.com");
  EXPECT_EQ(begun.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(begun.status().message(), HasSubstr("shared API key"));
}

TEST_F(VaultServiceTest, ATokenAboutToExpireIsRefreshedAndTheRotatedRefreshTokenIsKept) {
  PutOAuthApp();
  Authorize(ana_.id());
  auto before = Upstream(ana_.id());
  ASSERT_TRUE(before.ok());
  clock_.Advance(absl::Minutes(59) + absl::Seconds(1));  // within 60 s of expiry
  auto refreshed = Upstream(ana_.id());
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_NE(refreshed->authorization.value(), before->authorization.value());
  EXPECT_EQ(refreshed->expires_at, clock_.Now() + absl::Hours(1));
  EXPECT_EQ(Refreshes(), 1);
  // A fresh token is served as is.
  ASSERT_TRUE(Upstream(ana_.id()).ok());
  EXPECT_EQ(Refreshes(), 1);
  // The second refresh needs the refresh token the first one returned (the old one is spent).
  clock_.Advance(absl::Hours(2));
  auto again = Upstream(ana_.id());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Refreshes(), 2);
}

TEST_F(VaultServiceTest, InvalidGrantAsksForReauthorizationOnceAndNeverRetries) {
  PutOAuthApp();
  Authorize(ana_.id());
  sim_.RevokeOAuthUser(pagerduty_sim::seed::kAdminUserId);  // ana's PagerDuty user
  clock_.Advance(absl::Hours(2));
  auto up = Upstream(ana_.id());
  EXPECT_EQ(up.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(up.status().message(), kNeedsReauthorizationMessage);
  EXPECT_EQ(Refreshes(), 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Upstream(ana_.id()).status().message(), kNeedsReauthorizationMessage);
  }
  EXPECT_EQ(Refreshes(), 1);
  auto grants = svc_->ListUserGrants(User(acme_, "acme", ana_), "acme", "pagerduty", "");
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].status, GrantStatus::kNeedsReauthorization);

  Authorize(ana_.id());
  auto back = Upstream(ana_.id());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->grant_status, GrantStatus::kActive);
}

TEST_F(VaultServiceTest, FiftyConcurrentCallsOnAnExpiredGrantCauseOneRefresh) {
  PutOAuthApp();
  Authorize(ana_.id());
  clock_.Advance(absl::Hours(2));
  pagerduty_sim::Faults slow;
  slow.latency = absl::Milliseconds(300);
  slow.path_prefix = "/oauth/token";
  sim_.SetFaults(slow);
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<UpstreamCredential>> results(50, absl::UnknownError("not run"));
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] { results[i] = Upstream(ana_.id()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Refreshes(), 1);
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->authorization.value(), results[0]->authorization.value());
  }
}

TEST_F(VaultServiceTest, ATokenEndpointOutageIsUnavailableAndLeavesTheGrantUsable) {
  PutOAuthApp();
  Authorize(ana_.id());
  clock_.Advance(absl::Hours(2));
  TokenEndpointAnswers(503);
  EXPECT_EQ(Upstream(ana_.id()).status().code(), absl::StatusCode::kUnavailable);
  sim_.SetFaults({});
  EXPECT_TRUE(Upstream(ana_.id()).ok());
}

TEST_F(VaultServiceTest, ACiphertextMovedToAnotherTenantOrRowDoesNotOpen) {
  PutApiKey();
  ASSERT_TRUE(svc_->PutApiKeyCredential(globex_admin_, "globex", "pagerduty", kOtherApiKey,
                                        "ops@globex.com", Access::kFull, Region::kUs).ok());
  auto acme_cred = store_.GetCredential(acme_, "pagerduty");
  auto globex_cred = store_.GetCredential(globex_, "pagerduty");
  store_.MutateCredential(globex_cred->id, [&](Credential& c) { c.secret_sealed = acme_cred->secret_sealed; });
  auto moved = svc_->GetUpstreamCredential(edge_, "globex", "pagerduty", "");
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(moved.status().message(), Not(HasSubstr(kApiKey)));

  // Within a tenant: another server's row, and one user's token in another user's grant.
  ASSERT_TRUE(svc_->PutApiKeyCredential(acme_admin_, "acme", "pagerduty-eu", kOtherApiKey,
                                        "ops@acme.com", Access::kFull, Region::kEu).ok());
  auto eu = store_.GetCredential(acme_, "pagerduty-eu");
  store_.MutateCredential(eu->id, [&](Credential& c) { c.secret_sealed = acme_cred->secret_sealed; });
  EXPECT_EQ(svc_->GetUpstreamCredential(edge_, "acme", "pagerduty-eu", "").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(VaultServiceTest, AUsersTokenCopiedIntoAnotherUsersGrantDoesNotOpen) {
  PutOAuthApp();
  Authorize(ana_.id());
  Authorize(bob_.id());
  auto cred = store_.GetCredential(acme_, "pagerduty");
  auto ana_grant = store_.GetGrant(acme_, cred->id, ana_.id());
  auto bob_grant = store_.GetGrant(acme_, cred->id, bob_.id());
  store_.MutateGrant(bob_grant->id, [&](UserGrant& g) { g.access_token_sealed = ana_grant->access_token_sealed; });
  EXPECT_EQ(Upstream(bob_.id()).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Upstream(ana_.id()).ok());
}

TEST_F(VaultServiceTest, VerifyReportsValidForbiddenInvalidAndUnreachable) {
  PutApiKey();
  auto valid = svc_->VerifyCredential(acme_admin_, "acme", "pagerduty", "");
  ASSERT_TRUE(valid.ok()) << valid.status();
  EXPECT_EQ(valid->result, VerifyResult::kValid);
  EXPECT_EQ(valid->request, "GET " + sim_.base_url() + "/abilities");
  auto sent = sim_.requests().back();
  EXPECT_EQ(sent.path, "/abilities");
  EXPECT_EQ(sent.Header("Accept"), "application/vnd.pagerduty+json;version=2");
  EXPECT_EQ(sent.Header("Authorization"), "Token");

  // A key PagerDuty knows but that lacks the permission (injected: the simulator's keys have it).
  pagerduty_sim::Faults forbidden;
  forbidden.server_errors = 1;
  forbidden.server_error_status = 403;
  forbidden.path_prefix = "/abilities";
  sim_.SetFaults(forbidden);
  EXPECT_EQ(svc_->VerifyCredential(acme_admin_, "acme", "pagerduty", "")->result,
            VerifyResult::kForbidden);

  ASSERT_TRUE(svc_->RotateApiKey(acme_admin_, "acme", "pagerduty", "u+KeyPagerDutyNeverIssued").ok());
  auto invalid = svc_->VerifyCredential(acme_admin_, "acme", "pagerduty", "");
  EXPECT_EQ(invalid->result, VerifyResult::kInvalid);
  EXPECT_EQ(invalid->http_status, 401);

  ASSERT_TRUE(svc_->PutApiKeyCredential(acme_admin_, "acme", "pagerduty-eu", kApiKey,
                                        "actor@acme.com", Access::kFull, Region::kEu).ok());
  auto eu = svc_->VerifyCredential(acme_admin_, "acme", "pagerduty-eu", "");
  EXPECT_EQ(eu->result, VerifyResult::kUnreachable);
  EXPECT_EQ(eu->request, "GET http://127.0.0.1:1/abilities");
  EXPECT_EQ(svc_->VerifyCredential(User(acme_, "acme", ana_), "acme", "pagerduty", "").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(VaultServiceTest, VerifyChecksAUsersOAuthTokenWithUsersMe) {
  PutOAuthApp();
  EXPECT_EQ(svc_->VerifyCredential(acme_admin_, "acme", "pagerduty", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  Authorize(ana_.id());
  auto v = svc_->VerifyCredential(acme_admin_, "acme", "pagerduty", "ana@acme.com");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->result, VerifyResult::kValid);
  EXPECT_EQ(v->request, "GET " + sim_.base_url() + "/users/me");
  EXPECT_EQ(sim_.requests().back().Header("Authorization"), "Bearer");
}

TEST_F(VaultServiceTest, RevokingAGrantMakesTheUserAuthorizeAgain) {
  PutOAuthApp();
  Authorize(ana_.id());
  Authorize(bob_.id());
  // A member may revoke their own grant only.
  EXPECT_EQ(svc_->RevokeUserGrant(User(acme_, "acme", bob_), "acme", "pagerduty", ana_.id()).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto revoked = svc_->RevokeUserGrant(User(acme_, "acme", ana_), "acme", "pagerduty", "ana@acme.com");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->user_id, ana_.id());
  EXPECT_EQ(Upstream(ana_.id()).status().message(), kNeedsAuthorizationMessage);
  auto by_admin = svc_->RevokeUserGrant(acme_admin_, "acme", "pagerduty", bob_.id());
  ASSERT_TRUE(by_admin.ok()) << by_admin.status();
  EXPECT_EQ(svc_->RevokeUserGrant(acme_admin_, "acme", "pagerduty", bob_.id()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(VaultServiceTest, ReplacingTheOAuthAppDropsGrantsIssuedToTheOldOne) {
  PutOAuthApp();
  Authorize(ana_.id());
  // Same app, new secret: grants stay.
  ASSERT_TRUE(svc_->RotateOAuthClientSecret(acme_admin_, "acme", "pagerduty", "rotated-secret-9876").ok());
  EXPECT_TRUE(Upstream(ana_.id()).ok());
  // Another app: the old grants could never be refreshed with it.
  PutOAuthApp("client-2");
  EXPECT_EQ(Upstream(ana_.id()).status().message(), kNeedsAuthorizationMessage);
  auto info = svc_->GetCredentialInfo(acme_admin_, "acme", "pagerduty");
  EXPECT_EQ(info->client_id, "client-2");
  EXPECT_EQ(info->version, 3);
}

TEST_F(VaultServiceTest, DeletingACredentialTakesItsGrantsWithIt) {
  PutOAuthApp();
  Authorize(ana_.id());
  auto deleted = svc_->DeleteCredential(acme_admin_, "acme", "pagerduty");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(Upstream(ana_.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->DeleteCredential(acme_admin_, "acme", "pagerduty").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(VaultServiceTest, ATenantServiceOutageIsUnavailableNotACrash) {
  PutApiKey();
  ASSERT_TRUE(Upstream().ok());
  tenants_.SetUnavailable(true);
  // The tenant was resolved before and is cached; an unknown ref needs the tenant service.
  EXPECT_TRUE(Upstream().ok());
  EXPECT_EQ(svc_->GetUpstreamCredential(edge_, "globex", "pagerduty", "").status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(VaultServiceTest, RotateKekIsForTheOperatorOnly) {
  EXPECT_EQ(svc_->RotateKek(acme_admin_).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(svc_->RotateKek(auth::Caller{}).status().code(), absl::StatusCode::kUnauthenticated);
  PutApiKey();
  auto r = svc_->RotateKek(Operator());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kek_version, 1);
  EXPECT_EQ(r->total, 1);
  EXPECT_EQ(r->rewrapped, 0);
}

}  // namespace
}  // namespace bastion::vault
