#include "services/tenant/signin_service.h"

#include "common/crypto/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tenant/tenant_service.h"
#include "services/tenant/testing/fake_signin_store.h"
#include "services/tenant/testing/fake_tenant_store.h"

namespace bastion::tenant {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kIssuer[] = "https://login.acme.example";
constexpr char kResource[] = "https://bastion.example/mcp/acme/pagerduty";
constexpr char kRedirect[] = "https://claude.ai/api/mcp/auth_callback";

std::string Binding(const std::string& cookie) { return crypto::HexEncode(crypto::Sha256(cookie)); }

class SignInServiceTest : public ::testing::Test {
 protected:
  SignInServiceTest() : tenants_(tenant_store_, clock_), signin_(tenant_store_, store_, clock_, Options()) {}

  static SignInOptions Options() {
    SignInOptions o;
    o.max_live_registrations = 5;
    o.max_registrations_per_hour = 3;
    return o;
  }

  void SetUp() override {
    acme_ = *tenants_.CreateTenant(op_, "acme", "");
    ASSERT_TRUE(tenants_.SetAiAccess(op_, "acme", true).ok());
    ana_ = *tenants_.CreateUser(op_, "acme", "ana@acme.com", "Ana", Role::kMember);
    SignInPolicy p;
    p.issuer = kIssuer;
    p.allowed_domains = {"acme.com"};
    p.groups_claim = "groups";
    ASSERT_TRUE(signin_.SetPolicy(op_, "acme", p).ok());
    auto c = signin_.RegisterClient(edge_, {"acme", "Claude", {kRedirect, "http://127.0.0.1/callback"}, "", ""});
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *c;
  }

  BeginAuthorizationRequest Begin(const std::string& redirect = kRedirect) {
    BeginAuthorizationRequest r;
    r.tenant = "acme";
    r.client_id = client_.client_id;
    r.redirect_uri = redirect;
    r.code_challenge = crypto::Base64UrlEncode(crypto::Sha256(verifier_));
    r.code_challenge_method = "S256";
    r.state = "xyz";
    r.resource = kResource;
    r.server = "pagerduty";
    r.browser_binding = Binding("cookie");
    return r;
  }

  VerifiedSignIn Verified(const std::string& authorization_id, const std::string& email = "ana@acme.com") {
    VerifiedSignIn v;
    v.authorization_id = authorization_id;
    v.browser_binding = Binding("cookie");
    v.issuer = kIssuer;
    v.subject = "00u1";
    v.email = email;
    v.email_verified = true;
    v.name = "Ana";
    v.claims_json = R"({"groups":["oncall"]})";
    return v;
  }

  // Begin → sign-in → consent: the approved decision, whose code the client redeems.
  ConsentDecision Approved(const std::string& email = "ana@acme.com") {
    auto pending = signin_.BeginAuthorization(edge_, Begin());
    EXPECT_TRUE(pending.ok()) << pending.status();
    auto prompt = signin_.CompleteSignIn(edge_, Verified(pending->id, email));
    EXPECT_TRUE(prompt.ok()) << prompt.status();
    auto d = signin_.DecideConsent(edge_, prompt->authorization_id, prompt->consent_token, Binding("cookie"), true);
    EXPECT_TRUE(d.ok()) << d.status();
    return *d;
  }

  RedeemCodeRequest Redeem(const std::string& code) {
    return {"acme", code, client_.client_id, kRedirect, verifier_, kResource};
  }

  TokenGrant Tokens() {
    auto g = signin_.RedeemCode(edge_, Redeem(Approved().code));
    EXPECT_TRUE(g.ok()) << g.status();
    return *g;
  }

  Caller AdminOf(const std::string& tenant, const std::string& email) {
    auto u = tenants_.CreateUser(op_, tenant, email, "", Role::kAdmin);
    EXPECT_TRUE(u.ok()) << u.status();
    auto t = tenants_.IssueClientToken(op_, tenant, email, ClientType::kPersonal, "", std::nullopt);
    return *tenants_.CallerForToken(t->secret);
  }

  std::vector<Revocation> Feed() { return *signin_.ListRevocations(edge_, 0, 100); }

  FakeTenantStore tenant_store_;
  FakeSignInStore store_;
  FakeClock clock_;
  TenantService tenants_;
  SignInService signin_;
  const Caller op_ = Caller::Operator();
  const Caller edge_ = Caller::Service("edge");
  const std::string verifier_ = crypto::RandomToken("", 32);
  Tenant acme_;
  User ana_;
  OAuthClient client_;
};

// --- policy -------------------------------------------------------------------------------

TEST_F(SignInServiceTest, PolicyRoundTripsForTheTenantsAdmin) {
  Caller admin = AdminOf("acme", "boss@acme.com");
  SignInPolicy p;
  p.issuer = "https://idp.acme.example/realms/acme";
  p.allowed_domains = {"acme.com", "acme.io", "acme.com"};
  p.jit_users = true;
  ASSERT_TRUE(signin_.SetPolicy(admin, "acme", p).ok());
  auto got = signin_.GetPolicy(admin, "acme");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->issuer, "https://idp.acme.example/realms/acme");
  EXPECT_THAT(got->allowed_domains, ElementsAre("acme.com", "acme.io"));
  EXPECT_TRUE(got->jit_users);
  EXPECT_EQ(got->tenant_id, acme_.id);
}

TEST_F(SignInServiceTest, ServiceIdentitiesMembersAndOtherTenantsAdminsCannotTouchThePolicy) {
  ASSERT_TRUE(tenants_.CreateTenant(op_, "globex", "").ok());
  Caller other_admin = AdminOf("globex", "boss@globex.com");
  auto member_token = tenants_.IssueClientToken(op_, "acme", "ana@acme.com", ClientType::kPersonal, "", std::nullopt);
  Caller member = *tenants_.CallerForToken(member_token->secret);
  SignInPolicy p;
  p.issuer = "https://evil.example";
  EXPECT_EQ(signin_.SetPolicy(edge_, "acme", p).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(signin_.GetPolicy(Caller::Service("vault"), "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(signin_.SetPolicy(member, "acme", p).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(signin_.SetPolicy(other_admin, "acme", p).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(signin_.SetPolicy(Caller{}, "acme", p).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signin_.ListGrants(edge_, "acme", "", false).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(signin_.RevokeGrant(edge_, "acme", "x").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(signin_.GetPolicy(op_, "acme")->issuer, kIssuer);  // unchanged
}

TEST_F(SignInServiceTest, PolicyValidationRefusesBadIssuersAndDomainsAndChangesNothing) {
  for (const char* issuer : {"http://login.acme.example", "login.acme.example", "https://", "ftp://x.example",
                             "https://login.acme.example#frag", "https://login.acme.example?x=1"}) {
    SignInPolicy p;
    p.issuer = issuer;
    auto s = signin_.SetPolicy(op_, "acme", p).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << issuer;
  }
  for (const char* domain : {"Acme.com", "@acme.com", "ana@acme.com", "acme", ""}) {
    SignInPolicy p;
    p.allowed_domains = {domain};
    EXPECT_EQ(signin_.SetPolicy(op_, "acme", p).status().code(), absl::StatusCode::kInvalidArgument) << domain;
  }
  SignInPolicy local;
  local.issuer = "http://127.0.0.1:8080/oidc";
  EXPECT_TRUE(ValidateSignInPolicy(local).ok());
  EXPECT_EQ(signin_.GetPolicy(op_, "acme")->issuer, kIssuer);
}

// --- clients ------------------------------------------------------------------------------

TEST_F(SignInServiceTest, RedirectUriRules) {
  for (const char* ok : {"https://claude.ai/cb", "http://127.0.0.1:33418/callback", "http://[::1]/cb",
                         "http://localhost:8080/cb", "com.example.app:/oauth2redirect", "cursor.app://cb"}) {
    EXPECT_TRUE(ValidateRedirectUri(ok).ok()) << ok;
  }
  for (const char* bad : {"http://claude.ai/cb", "https://claude.ai/cb#x", "javascript:alert(1)", "myapp:/cb",
                          "https://user@claude.ai/cb", "data:text/html,hi", "/relative", ""}) {
    auto s = ValidateRedirectUri(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), StartsWith("invalid_redirect_uri: ")) << bad;
  }
  EXPECT_TRUE(RedirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:51234/callback"));
  EXPECT_TRUE(RedirectUriMatches("http://[::1]:1/cb", "http://[::1]:2/cb"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:51234/other"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/callback", "http://[::1]:51234/callback"));
  EXPECT_FALSE(RedirectUriMatches("https://claude.ai/cb", "https://claude.ai:444/cb"));
  EXPECT_FALSE(RedirectUriMatches("https://claude.ai/cb", "https://claude.ai/cb/"));
}

TEST_F(SignInServiceTest, RegistrationIsValidatedCappedAndRateLimited) {
  EXPECT_EQ(signin_.RegisterClient(edge_, {"acme", std::string(201, 'x'), {kRedirect}, "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signin_.RegisterClient(edge_, {"acme", "No URIs", {}, "", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signin_.RegisterClient(edge_, {"acme", "Many", std::vector<std::string>(11, kRedirect), "", ""})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signin_.RegisterClient(Caller::Service("vault"), {"acme", "x", {kRedirect}, "", ""}).status().code(),
            absl::StatusCode::kPermissionDenied);
  // SetUp registered one; the limit is 3 an hour.
  ASSERT_TRUE(signin_.RegisterClient(edge_, {"acme", "Two", {kRedirect}, "", ""}).ok());
  ASSERT_TRUE(signin_.RegisterClient(edge_, {"acme", "Three", {kRedirect}, "", ""}).ok());
  auto limited = signin_.RegisterClient(edge_, {"acme", "Four", {kRedirect}, "", ""});
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Minutes(61));
  ASSERT_TRUE(signin_.RegisterClient(edge_, {"acme", "Four", {kRedirect}, "", ""}).ok());
  ASSERT_TRUE(signin_.RegisterClient(edge_, {"acme", "Five", {kRedirect}, "", ""}).ok());
  // Five live registrations is the cap.
  clock_.Advance(absl::Minutes(61));
  EXPECT_EQ(signin_.RegisterClient(edge_, {"acme", "Six", {kRedirect}, "", ""}).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(SignInServiceTest, UnusedRegistrationsExpireAfterADayUsedOnesLiveWithTheirGrant) {
  auto unused = signin_.RegisterClient(edge_, {"acme", "Unused", {kRedirect}, "", ""});
  ASSERT_TRUE(unused.ok());
  Tokens();  // client_ is used
  clock_.Advance(absl::Hours(25));
  auto gone = signin_.GetClient(edge_, "acme", unused->client_id);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(gone.status().message()), StartsWith("invalid_client: "));
  EXPECT_TRUE(signin_.GetClient(edge_, "acme", client_.client_id).ok());
}

TEST_F(SignInServiceTest, MetadataDocumentClientsAreCachedUntilTheirExpiry) {
  OAuthClient doc;
  doc.client_id = "https://app.example/oauth/client.json";
  doc.client_name = "Example app";
  doc.redirect_uris = {"https://app.example/cb"};
  doc.expires_at = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(signin_.PutMetadataDocumentClient(edge_, "acme", doc).ok());
  auto got = signin_.GetClient(edge_, "acme", doc.client_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kind, OAuthClientKind::kMetadataDocument);
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(signin_.GetClient(edge_, "acme", doc.client_id).status().code(), absl::StatusCode::kUnauthenticated);
  // A grant does not keep a document's cache alive: the edge must refetch it on time.
  doc.expires_at = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(signin_.PutMetadataDocumentClient(edge_, "acme", doc).ok());
  ASSERT_TRUE(store_.ExtendClient(acme_.id, doc.client_id, clock_.Now() + absl::Hours(24 * 30)).ok());
  EXPECT_EQ(signin_.GetClient(edge_, "acme", doc.client_id)->expires_at, clock_.Now() + absl::Hours(1));
  doc.client_id = "http://app.example/client.json";
  EXPECT_EQ(signin_.PutMetadataDocumentClient(edge_, "acme", doc).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- authorization ------------------------------------------------------------------------

TEST_F(SignInServiceTest, BeginRefusesWrongRedirectPkceResourceAndScope) {
  auto expect = [&](BeginAuthorizationRequest r, const std::string& prefix) {
    auto s = signin_.BeginAuthorization(edge_, r).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << prefix;
    EXPECT_THAT(std::string(s.message()), StartsWith(prefix));
  };
  expect(Begin("https://evil.example/cb"), "invalid_request: ");
  auto r = Begin();
  r.code_challenge_method = "plain";
  expect(r, "invalid_request: ");
  r = Begin();
  r.code_challenge_method = "";
  expect(r, "invalid_request: ");
  r = Begin();
  r.code_challenge = "short";
  expect(r, "invalid_request: ");
  r = Begin();
  r.resource = "";
  expect(r, "invalid_target: ");
  r = Begin();
  r.resource = "https://bastion.example/mcp/globex/pagerduty";
  expect(r, "invalid_target: ");
  r = Begin();
  r.scope = "mcp admin";
  expect(r, "invalid_scope: ");
  r = Begin();
  r.browser_binding = "cookie";
  expect(r, "invalid_request: ");
  r = Begin();
  r.client_id = "unknown";
  EXPECT_EQ(signin_.BeginAuthorization(edge_, r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SignInServiceTest, LoopbackRedirectsMatchWithAnyPortAndScopeDefaultsToMcp) {
  auto p = signin_.BeginAuthorization(edge_, Begin("http://127.0.0.1:49152/callback"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->scope, "mcp");
  EXPECT_EQ(p->expires_at, clock_.Now() + absl::Minutes(10));
}

TEST_F(SignInServiceTest, CompleteSignInRefusesUnverifiedEmailOtherDomainsOtherIssuerAndOtherBrowsers) {
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  ASSERT_TRUE(pending.ok());
  auto expect_denied = [&](VerifiedSignIn v, const std::string& words) {
    auto s = signin_.CompleteSignIn(edge_, v).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << words;
    EXPECT_THAT(std::string(s.message()), StartsWith("access_denied: "));
    EXPECT_THAT(std::string(s.message()), HasSubstr(words));
  };
  auto v = Verified(pending->id);
  v.email_verified = false;
  expect_denied(v, "not verified");
  expect_denied(Verified(pending->id, "ana@evil.com"), "evil.com");
  v = Verified(pending->id);
  v.issuer = "https://other-idp.example";
  expect_denied(v, "not the one this tenant uses");
  expect_denied(Verified(pending->id, "bob@acme.com"), "ask your administrator to add you");
  v = Verified(pending->id);
  v.browser_binding = Binding("another browser");
  EXPECT_EQ(signin_.CompleteSignIn(edge_, v).status().code(), absl::StatusCode::kInvalidArgument);
  // None of that used up the authorization.
  EXPECT_TRUE(signin_.CompleteSignIn(edge_, Verified(pending->id)).ok());
  EXPECT_EQ(signin_.CompleteSignIn(edge_, Verified(pending->id)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SignInServiceTest, PendingAuthorizationsExpireAfterTenMinutes) {
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  clock_.Advance(absl::Minutes(10));
  auto s = signin_.CompleteSignIn(edge_, Verified(pending->id)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("expired"));
}

TEST_F(SignInServiceTest, DisabledUsersCannotSignIn) {
  ASSERT_TRUE(tenants_.DisableUser(op_, "acme", "ana@acme.com").ok());
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  auto s = signin_.CompleteSignIn(edge_, Verified(pending->id)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("disabled"));
}

TEST_F(SignInServiceTest, JustInTimeUsersAreCreatedAsMembersWhenThePolicySaysSo) {
  SignInPolicy p = *signin_.GetPolicy(op_, "acme");
  p.jit_users = true;
  ASSERT_TRUE(signin_.SetPolicy(op_, "acme", p).ok());
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  auto prompt = signin_.CompleteSignIn(edge_, Verified(pending->id, "Bob@Acme.com"));
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_EQ(prompt->user.email, "bob@acme.com");
  EXPECT_EQ(prompt->user.role, Role::kMember);
  EXPECT_TRUE(tenants_.GetUser(op_, "acme", "bob@acme.com").ok());
}

TEST_F(SignInServiceTest, GroupsFollowTheIdpClaimToExistingGroupsOnly) {
  Group oncall = *tenants_.CreateGroup(op_, "acme", "oncall");
  Group sre = *tenants_.CreateGroup(op_, "acme", "sre");
  ASSERT_TRUE(tenants_.SetGroupMember(op_, "acme", "sre", "ana@acme.com", true).ok());
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  auto v = Verified(pending->id);
  v.claims_json = R"({"groups":["oncall","not-in-bastion"],"sub":"00u1"})";
  auto prompt = signin_.CompleteSignIn(edge_, v);
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_THAT(prompt->user.group_ids, ElementsAre(oncall.id));
  EXPECT_EQ(tenants_.ListGroups(op_, "acme")->size(), 2u);  // nothing created
  (void)sre;
}

TEST_F(SignInServiceTest, ConsentNeedsTheSameBrowserAndItsTokenAndIsUsedOnce) {
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  auto prompt = signin_.CompleteSignIn(edge_, Verified(pending->id));
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(prompt->client.client_name, "Claude");
  EXPECT_EQ(prompt->tenant_slug, "acme");
  EXPECT_EQ(signin_.DecideConsent(edge_, pending->id, prompt->consent_token, Binding("other"), true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signin_.DecideConsent(edge_, pending->id, "forged", Binding("cookie"), true).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto d = signin_.DecideConsent(edge_, pending->id, prompt->consent_token, Binding("cookie"), true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->redirect_uri, kRedirect);
  EXPECT_EQ(d->state, "xyz");
  EXPECT_FALSE(d->code.empty());
  EXPECT_EQ(signin_.DecideConsent(edge_, pending->id, prompt->consent_token, Binding("cookie"), true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SignInServiceTest, DenyingConsentReturnsAccessDeniedAndNoCode) {
  auto pending = signin_.BeginAuthorization(edge_, Begin());
  auto prompt = signin_.CompleteSignIn(edge_, Verified(pending->id));
  auto d = signin_.DecideConsent(edge_, pending->id, prompt->consent_token, Binding("cookie"), false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->error, "access_denied");
  EXPECT_EQ(d->code, "");
  EXPECT_EQ(d->state, "xyz");
}

// --- tokens -------------------------------------------------------------------------------

TEST_F(SignInServiceTest, ACodeRedeemsOnceForAGrantAndARefreshToken) {
  TokenGrant g = Tokens();
  EXPECT_THAT(g.refresh_token, StartsWith("bsr_"));
  EXPECT_EQ(g.refresh_token.size(), 4u + 43u);
  EXPECT_EQ(g.resource, kResource);
  EXPECT_EQ(g.scope, "mcp");
  EXPECT_EQ(g.identity.user_id, ana_.id);
  EXPECT_EQ(g.identity.tenant_slug, "acme");
  EXPECT_EQ(g.refresh_expires_at, clock_.Now() + absl::Hours(24 * 30));
  // Only the hash is stored.
  EXPECT_THAT(store_.StoredRefreshHashes(), ElementsAre(crypto::HexEncode(crypto::Sha256(g.refresh_token))));
}

TEST_F(SignInServiceTest, PkceMismatchIsInvalidGrant) {
  RedeemCodeRequest r = Redeem(Approved().code);
  r.code_verifier = crypto::RandomToken("", 32);
  auto s = signin_.RedeemCode(edge_, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), StartsWith("invalid_grant: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("PKCE"));
}

TEST_F(SignInServiceTest, WrongRedirectUriOrClientIsInvalidGrant) {
  const std::string code = Approved().code;
  RedeemCodeRequest r = Redeem(code);
  r.redirect_uri = "http://127.0.0.1/callback";
  EXPECT_EQ(signin_.RedeemCode(edge_, r).status().code(), absl::StatusCode::kFailedPrecondition);
  r = Redeem(code);
  r.client_id = "someone-else";
  EXPECT_EQ(signin_.RedeemCode(edge_, r).status().code(), absl::StatusCode::kFailedPrecondition);
  // The right request still works: failed attempts did not use up the code.
  EXPECT_TRUE(signin_.RedeemCode(edge_, Redeem(code)).ok());
}

TEST_F(SignInServiceTest, MissingOrWrongResourceIsInvalidTarget) {
  const std::string code = Approved().code;
  RedeemCodeRequest r = Redeem(code);
  r.resource = "";
  auto s = signin_.RedeemCode(edge_, r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("invalid_target: "));
  r.resource = "https://bastion.example/mcp/acme/other";
  EXPECT_THAT(std::string(signin_.RedeemCode(edge_, r).status().message()), StartsWith("invalid_target: "));
}

TEST_F(SignInServiceTest, CodesExpireAfterSixtySeconds) {
  const std::string code = Approved().code;
  clock_.Advance(absl::Seconds(60));
  auto s = signin_.RedeemCode(edge_, Redeem(code)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("expired"));
}

TEST_F(SignInServiceTest, ReusedCodeFailsAndRevokesTheGrantTheFirstRedemptionCreated) {
  const std::string code = Approved().code;
  auto first = signin_.RedeemCode(edge_, Redeem(code));
  ASSERT_TRUE(first.ok());
  auto second = signin_.RedeemCode(edge_, Redeem(code));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("already used"));
  auto grants = signin_.ListGrants(op_, "acme", "", true);
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ(grants->front().revoked_reason, "code_reuse");
  EXPECT_EQ(signin_.RefreshGrant(edge_, {"acme", first->refresh_token, client_.client_id, ""}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(Feed().size(), 1u);
  EXPECT_EQ(Feed()[0].kind, Revocation::Kind::kGrant);
  EXPECT_EQ(Feed()[0].id, first->grant_id);
}

TEST_F(SignInServiceTest, RefreshRotatesOnEveryUse) {
  TokenGrant g = Tokens();
  auto next = signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, kResource});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(next->refresh_token, g.refresh_token);
  EXPECT_EQ(next->grant_id, g.grant_id);
  auto again = signin_.RefreshGrant(edge_, {"acme", next->refresh_token, client_.client_id, ""});
  ASSERT_TRUE(again.ok()) << again.status();
}

TEST_F(SignInServiceTest, RefreshTokenReuseRevokesTheWholeFamily) {
  TokenGrant g = Tokens();
  auto next = signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""});
  ASSERT_TRUE(next.ok());
  auto reuse = signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""});
  EXPECT_EQ(reuse.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reuse.status().message()), StartsWith("invalid_grant: "));
  // The newest token of the family is dead too, and every edge hears of it.
  EXPECT_EQ(signin_.RefreshGrant(edge_, {"acme", next->refresh_token, client_.client_id, ""}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto grant = signin_.ListGrants(op_, "acme", "ana@acme.com", true)->front();
  EXPECT_EQ(grant.revoked_reason, "refresh_token_reuse");
  ASSERT_EQ(Feed().size(), 1u);
  EXPECT_EQ(Feed()[0].id, g.grant_id);
}

TEST_F(SignInServiceTest, UserDisabledMidSessionEndsRefreshAndEntersTheFeed) {
  TokenGrant g = Tokens();
  ASSERT_TRUE(tenants_.DisableUser(op_, "acme", "ana@acme.com").ok());
  auto feed = Feed();
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_EQ(feed[0].kind, Revocation::Kind::kUser);
  EXPECT_EQ(feed[0].id, ana_.id);
  EXPECT_EQ(feed[0].expires_at, clock_.Now() + absl::Minutes(15));
  auto s = signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("disabled"));
  clock_.Advance(absl::Minutes(16));
  EXPECT_TRUE(Feed().empty());
}

TEST_F(SignInServiceTest, InactiveTenantOrOtherClientCannotRefresh) {
  TokenGrant g = Tokens();
  EXPECT_EQ(signin_.RefreshGrant(edge_, {"acme", g.refresh_token, "other-client", ""}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, "https://x.example/mcp/acme/y"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(tenants_.SetAiAccess(op_, "acme", false).ok());
  EXPECT_EQ(signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SignInServiceTest, ATokenOfOneTenantDoesNotRefreshInAnother) {
  ASSERT_TRUE(tenants_.CreateTenant(op_, "globex", "").ok());
  ASSERT_TRUE(tenants_.SetAiAccess(op_, "globex", true).ok());
  TokenGrant g = Tokens();
  auto s = signin_.RefreshGrant(edge_, {"globex", g.refresh_token, client_.client_id, ""}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""}).ok());
}

TEST_F(SignInServiceTest, RevokeTokenFollowsRfc7009) {
  TokenGrant g = Tokens();
  EXPECT_TRUE(signin_.RevokeToken(edge_, {"acme", client_.client_id, "bsr_unknown", ""}).ok());
  // Another client cannot revoke it.
  EXPECT_TRUE(signin_.RevokeToken(edge_, {"acme", "other-client", g.refresh_token, ""}).ok());
  EXPECT_TRUE(signin_.RefreshGrant(edge_, {"acme", g.refresh_token, client_.client_id, ""}).ok());
  EXPECT_EQ(signin_.RevokeToken(edge_, {"acme", client_.client_id, "", ""}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(signin_.RevokeToken(edge_, {"acme", client_.client_id, "", g.grant_id}).ok());
  auto grant = signin_.ListGrants(op_, "acme", "", true)->front();
  EXPECT_EQ(grant.revoked_reason, "user");
  EXPECT_TRUE(signin_.ListGrants(op_, "acme", "", false)->empty());
  EXPECT_EQ(Feed().size(), 1u);
}

TEST_F(SignInServiceTest, AdminsListAndRevokeGrantsOfTheirTenant) {
  TokenGrant g = Tokens();
  Caller admin = AdminOf("acme", "boss@acme.com");
  auto listed = signin_.ListGrants(admin, "acme", "ana@acme.com", false);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().client_name, "Claude");
  EXPECT_EQ(signin_.RevokeGrant(admin, "acme", "no-such-grant").status().code(), absl::StatusCode::kNotFound);
  auto revoked = signin_.RevokeGrant(admin, "acme", g.grant_id);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revoked_reason, "admin");
  EXPECT_EQ(Feed().back().id, g.grant_id);
  ASSERT_TRUE(tenants_.CreateTenant(op_, "globex", "").ok());
  Caller other_admin = AdminOf("globex", "boss@globex.com");
  EXPECT_EQ(signin_.RevokeGrant(other_admin, "acme", g.grant_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(signin_.ListRevocations(Caller::Service("vault"), 0, 10).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace bastion::tenant
