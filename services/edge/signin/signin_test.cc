// The edge's half of sign-in: redirect matching, client metadata documents fetched over real
// HTTP, access-token verification, and the authorization server's answers, with the tenant
// service and the vault faked (their own tests cover their halves; tests/e2e the whole flow).
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/http/http_server.h"
#include "common/jose/jose.h"
#include "gtest/gtest.h"
#include "google/protobuf/util/time_util.h"
#include "services/edge/signin/access_tokens.h"
#include "services/edge/signin/authorization_server.h"
#include "services/edge/signin/client_metadata.h"
#include "services/edge/signin/pages.h"
#include "services/edge/mcp_endpoint.h"
#include "services/edge/testing/fakes.h"

namespace bastion::edge {
namespace {

namespace json = boost::json;
using google::protobuf::util::TimeUtil;

constexpr char kBase[] = "https://bastion.example";

class FakeIdp : public IdentityProviderBackend {
 public:
  jose::SigningKey key = jose::SigningKey::Generate();
  int key_fetches = 0;
  const Clock* clock = nullptr;

  absl::StatusOr<vv::BeginIdpSignInResponse> BeginIdpSignIn(const vv::BeginIdpSignInRequest& req) override {
    if (req.tenant() != "acme") return absl::NotFoundError("no identity provider for this tenant");
    vv::BeginIdpSignInResponse out;
    out.set_authorization_url("https://login.acme.example/authorize?state=s1");
    context = req.context();
    return out;
  }
  absl::StatusOr<vv::VerifiedIdentity> CompleteIdpSignIn(const vv::CompleteIdpSignInRequest&) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<vv::SignAccessTokenResponse> SignAccessToken(const vv::SignAccessTokenRequest& req) override {
    vv::SignAccessTokenResponse out;
    out.set_access_token(Mint(req.issuer(), req.audience(), req.subject(), req.grant_id(), clock->Now(),
                              absl::Seconds(req.lifetime_seconds())));
    signed_requests.push_back(req);
    return out;
  }
  absl::StatusOr<vv::TokenKeys> GetTokenKeys(const std::string& tenant) override {
    if (tenant != "acme" && tenant != "globex") return absl::NotFoundError("no such tenant");
    ++key_fetches;
    jose::KeySet set;
    set.Add(key.public_key());
    vv::TokenKeys out;
    out.set_jwks_json(set.ToJwks());
    out.set_current_kid(key.kid());
    return out;
  }
  std::string Mint(const std::string& iss, const std::string& aud, const std::string& sub, const std::string& gid,
                   absl::Time iat, absl::Duration life, const std::string& tid = "t-acme") const {
    return key.Sign(json::object{{"iss", iss},
                                 {"aud", aud},
                                 {"sub", sub},
                                 {"gid", gid},
                                 {"tid", tid},
                                 {"iat", absl::ToUnixSeconds(iat)},
                                 {"exp", absl::ToUnixSeconds(iat + life)}},
                    "at+jwt");
  }
  std::string context;
  std::vector<vv::SignAccessTokenRequest> signed_requests;
};

class FakeSignIn : public SignInBackend {
 public:
  std::map<std::string, tv::User> users;
  std::vector<tv::Revocation> revocations;
  std::map<std::string, tv::OAuthClient> clients;
  std::vector<tv::BeginAuthorizationRequest> begun;
  std::vector<tv::PutMetadataDocumentClientRequest> documents;
  int get_user_calls = 0;

  absl::StatusOr<tv::OAuthClient> RegisterClient(const tv::RegisterClientRequest& req) override {
    if (req.redirect_uris().empty()) return absl::InvalidArgumentError("invalid_redirect_uri: give at least one");
    tv::OAuthClient c;
    c.set_client_id("c-1");
    c.set_client_name(req.client_name());
    *c.mutable_redirect_uris() = req.redirect_uris();
    clients[c.client_id()] = c;
    return c;
  }
  absl::StatusOr<tv::OAuthClient> PutMetadataDocumentClient(const tv::PutMetadataDocumentClientRequest& req) override {
    documents.push_back(req);
    clients[req.client().client_id()] = req.client();
    return req.client();
  }
  absl::StatusOr<tv::OAuthClient> GetClient(const tv::GetClientRequest& req) override {
    auto it = clients.find(req.client_id());
    if (it == clients.end()) return absl::NotFoundError("invalid_client: unknown client");
    return it->second;
  }
  absl::StatusOr<tv::PendingAuthorization> BeginAuthorization(const tv::BeginAuthorizationRequest& req) override {
    begun.push_back(req);
    if (req.scope() == "admin") return absl::InvalidArgumentError("invalid_scope: only mcp is offered");
    tv::PendingAuthorization p;
    p.set_authorization_id("az-1");
    return p;
  }
  absl::StatusOr<tv::ConsentPrompt> CompleteSignIn(const tv::CompleteSignInRequest&) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<tv::ConsentDecision> DecideConsent(const tv::DecideConsentRequest&) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<tv::TokenGrant> RedeemCode(const tv::RedeemCodeRequest& req) override {
    if (req.code() != "good-code") return absl::FailedPreconditionError("invalid_grant: the code was already used");
    tv::TokenGrant g;
    g.set_grant_id("g-1");
    g.set_refresh_token("bsr_next");
    g.set_client_id(req.client_id());
    g.set_resource(req.resource());
    g.set_scope("mcp");
    g.mutable_identity()->set_user_id("u-1");
    g.mutable_identity()->set_email("ana@acme.example");
    return g;
  }
  absl::StatusOr<tv::TokenGrant> RefreshGrant(const tv::RefreshGrantRequest&) override {
    return absl::FailedPreconditionError("invalid_grant: this refresh token was already used; sign in again");
  }
  absl::Status RevokeToken(const tv::RevokeTokenRequest& req) override {
    revoked.push_back(req);
    return absl::OkStatus();
  }
  absl::StatusOr<tv::ListRevocationsResponse> ListRevocations(const tv::ListRevocationsRequest& req) override {
    tv::ListRevocationsResponse out;
    for (const auto& r : revocations) {
      if (r.seq() > req.after_seq()) *out.add_revocations() = r;
    }
    return out;
  }
  absl::StatusOr<tv::User> GetUser(const std::string& tenant_id, const std::string& user_id) override {
    ++get_user_calls;
    auto it = users.find(user_id);
    if (it == users.end() || it->second.tenant_id() != tenant_id) return absl::NotFoundError("no such user");
    return it->second;
  }
  std::vector<tv::RevokeTokenRequest> revoked;
};

tv::User UserOf(const std::string& id, const std::string& tenant_id, const std::string& email) {
  tv::User u;
  u.set_id(id);
  u.set_tenant_id(tenant_id);
  u.set_email(email);
  u.add_group_ids("oncall");
  return u;
}

class AccessTokenTest : public ::testing::Test {
 protected:
  AccessTokenTest() : verifier_(Options(), signin_, idp_, clock_) {
    idp_.clock = &clock_;
    signin_.users["u-1"] = UserOf("u-1", "t-acme", "ana@acme.example");
  }
  static AccessTokenOptions Options() {
    AccessTokenOptions o;
    o.public_url = kBase;
    return o;
  }
  std::string Token(absl::Duration life = absl::Minutes(5), std::string aud = "") {
    if (aud.empty()) aud = absl::StrCat(kBase, "/mcp/acme/pagerduty");
    return idp_.Mint(absl::StrCat(kBase, "/oauth/acme"), aud, "u-1", "g-1", clock_.Now(), life);
  }
  FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  FakeSignIn signin_;
  FakeIdp idp_;
  AccessTokenVerifier verifier_;
};

TEST_F(AccessTokenTest, TokenForThisUrlGivesTheUsersCurrentIdentity) {
  auto id = verifier_.Verify(Token(), "acme", "pagerduty");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user_id, "u-1");
  EXPECT_EQ(id->tenant_id, "t-acme");
  EXPECT_EQ(id->email, "ana@acme.example");
  EXPECT_EQ(id->group_ids, std::vector<std::string>{"oncall"});
  EXPECT_EQ(id->token_id, "g-1");
  // The second request costs no round trip: keys and user are cached.
  ASSERT_TRUE(verifier_.Verify(Token(), "acme", "pagerduty").ok());
  EXPECT_EQ(idp_.key_fetches, 1);
  EXPECT_EQ(signin_.get_user_calls, 1);
}

TEST_F(AccessTokenTest, TokenIsRefusedOnAnyOtherUrl) {
  const std::string token = Token();
  EXPECT_EQ(verifier_.Verify(token, "acme", "other-server").status().code(), absl::StatusCode::kUnauthenticated);
  // Tenant B's URL: its issuer differs even when the keys would verify.
  EXPECT_EQ(verifier_.Verify(token, "globex", "pagerduty").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AccessTokenTest, ExpiredTokenIsRefused) {
  const std::string token = Token(absl::Minutes(5));
  clock_.Advance(absl::Minutes(6));
  EXPECT_EQ(verifier_.Verify(token, "acme", "pagerduty").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AccessTokenTest, RotatedKeyIsFetchedOnceAndMadeUpKidsDoNotHammerTheVault) {
  ASSERT_TRUE(verifier_.Verify(Token(), "acme", "pagerduty").ok());
  idp_.key = jose::SigningKey::Generate();  // the vault rotated
  EXPECT_TRUE(verifier_.Verify(Token(), "acme", "pagerduty").ok());
  EXPECT_EQ(idp_.key_fetches, 2);
  // A stranger's key: refused, and refetching waits for the interval.
  const jose::SigningKey stranger = jose::SigningKey::Generate();
  const std::string forged = stranger.Sign(json::object{{"iss", absl::StrCat(kBase, "/oauth/acme")},
                                                        {"aud", absl::StrCat(kBase, "/mcp/acme/pagerduty")},
                                                        {"sub", "u-1"}, {"gid", "g-1"}, {"tid", "t-acme"},
                                                        {"exp", absl::ToUnixSeconds(clock_.Now()) + 60}});
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(verifier_.Verify(forged, "acme", "pagerduty").ok());
  EXPECT_EQ(idp_.key_fetches, 2);
}

TEST_F(AccessTokenTest, RevokedGrantAndDisabledUserStopAtTheNextPoll) {
  const std::string token = Token();
  ASSERT_TRUE(verifier_.Verify(token, "acme", "pagerduty").ok());
  tv::Revocation r;
  r.set_seq(1);
  r.set_kind(tv::Revocation::KIND_GRANT);
  r.set_tenant_id("t-acme");
  r.set_id("g-1");
  *r.mutable_expires_at() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(clock_.Now() + absl::Minutes(15)));
  signin_.revocations.push_back(r);
  ASSERT_TRUE(verifier_.PollRevocations().ok());
  EXPECT_EQ(verifier_.Verify(token, "acme", "pagerduty").status().code(), absl::StatusCode::kUnauthenticated);

  // A disabled user: refused at once (the feed), though their user record was cached.
  signin_.revocations.clear();
  const std::string other = idp_.Mint(absl::StrCat(kBase, "/oauth/acme"), absl::StrCat(kBase, "/mcp/acme/pagerduty"),
                                      "u-1", "g-2", clock_.Now(), absl::Minutes(5));
  ASSERT_TRUE(verifier_.Verify(other, "acme", "pagerduty").ok());
  r.set_seq(2);
  r.set_kind(tv::Revocation::KIND_USER);
  r.set_id("u-1");
  *r.mutable_revoked_at() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(clock_.Now()));
  signin_.revocations.push_back(r);
  ASSERT_TRUE(verifier_.PollRevocations().ok());
  EXPECT_FALSE(verifier_.Verify(other, "acme", "pagerduty").ok());
  // Enabled again and signed in afresh: the new token (issued later) passes.
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(verifier_.Verify(idp_.Mint(absl::StrCat(kBase, "/oauth/acme"), absl::StrCat(kBase, "/mcp/acme/pagerduty"),
                                         "u-1", "g-3", clock_.Now(), absl::Minutes(5)),
                               "acme", "pagerduty")
                  .ok());
}

TEST_F(AccessTokenTest, DisabledUserIsRefusedOnceTheCachedRecordIsOld) {
  ASSERT_TRUE(verifier_.Verify(Token(), "acme", "pagerduty").ok());
  signin_.users["u-1"].set_disabled(true);
  clock_.Advance(absl::Seconds(16));
  EXPECT_EQ(verifier_.Verify(Token(), "acme", "pagerduty").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(SignInTest, StaticClientTokensAreNotMistakenForAccessTokens) {
  EXPECT_FALSE(AccessTokenVerifier::IsAccessToken("bst_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"));
  EXPECT_FALSE(AccessTokenVerifier::IsAccessToken("a.b"));
  EXPECT_FALSE(AccessTokenVerifier::IsAccessToken("a.b.c d"));
  EXPECT_TRUE(AccessTokenVerifier::IsAccessToken("eyJh.eyJz.c2ln"));
}

TEST(SignInTest, RedirectUrisMatchExactlyExceptLoopbackPorts) {
  EXPECT_TRUE(RedirectUriMatches("https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback"));
  EXPECT_FALSE(RedirectUriMatches("https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback/"));
  EXPECT_FALSE(RedirectUriMatches("https://claude.ai/cb", "https://claude.ai.evil.example/cb"));
  EXPECT_TRUE(RedirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:53682/callback"));
  EXPECT_TRUE(RedirectUriMatches("http://localhost:3000/callback", "http://localhost:41000/callback"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:5368/other"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/callback", "http://localhost:5368/callback"));
  EXPECT_FALSE(RedirectUriMatches("http://127.0.0.1/callback", "http://127.0.0.1:80@evil.example/callback"));
  EXPECT_FALSE(RedirectUriMatches("https://app.example/cb", "https://app.example:8443/cb"));
}

TEST(ClientMetadataTest, InternalAddressesAreRecognised) {
  for (const char* ip : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                         "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "224.0.0.1"}) {
    EXPECT_TRUE(IsInternalAddress(ip)) << ip;
  }
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:1.1.1.1"}) {
    EXPECT_FALSE(IsInternalAddress(ip)) << ip;
  }
}

TEST(ClientMetadataTest, ClientIdUrlsMustBeHttpsWithAPath) {
  EXPECT_TRUE(CheckClientIdUrl("https://app.example/oauth/client.json", false).ok());
  EXPECT_FALSE(CheckClientIdUrl("http://app.example/client.json", false).ok());
  EXPECT_FALSE(CheckClientIdUrl("https://app.example", false).ok());
  EXPECT_FALSE(CheckClientIdUrl("https://app.example/c.json#x", false).ok());
  EXPECT_FALSE(CheckClientIdUrl("https://user@app.example/c.json", false).ok());
  EXPECT_TRUE(CheckClientIdUrl("http://127.0.0.1:8000/c.json", true).ok());
  EXPECT_FALSE(CheckClientIdUrl("http://app.example/c.json", true).ok()) << "http only for loopback";
}

TEST(ClientMetadataTest, DocumentMustNameItselfAndItsRedirects) {
  const std::string url = "https://app.example/client.json";
  auto ok = ParseClientMetadata(
      url, R"({"client_id":"https://app.example/client.json","client_name":"App","redirect_uris":["https://app.example/cb"]})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->client_name(), "App");
  EXPECT_EQ(ok->kind(), "metadata_document");
  EXPECT_FALSE(ParseClientMetadata(
                   url, R"({"client_id":"https://evil.example/client.json","client_name":"App","redirect_uris":["https://app.example/cb"]})")
                   .ok());
  EXPECT_FALSE(ParseClientMetadata(url, R"({"client_id":"https://app.example/client.json","client_name":"App","redirect_uris":[]})").ok());
  EXPECT_FALSE(ParseClientMetadata(url, R"({"client_id":"https://app.example/client.json","redirect_uris":["https://a/cb"]})").ok());
  EXPECT_FALSE(ParseClientMetadata(
                   url, R"({"client_id":"https://app.example/client.json","client_name":"App","redirect_uris":["https://a/cb"],"token_endpoint_auth_method":"client_secret_basic"})")
                   .ok());
  EXPECT_FALSE(ParseClientMetadata(url, "[]").ok());
}

// A real HTTP server serving client metadata documents, some of them hostile.
class MetadataServer {
 public:
  MetadataServer() {
    server_.Route("GET", "/good.json", [this](http::Request, std::shared_ptr<http::Responder> r) {
      r->Respond(http::JsonResponse(200, absl::StrCat(R"({"client_id":")", Url("/good.json"),
                                                      R"(","client_name":"Local App","redirect_uris":["http://127.0.0.1/cb"]})")));
    });
    server_.Route("GET", "/large.json", [](http::Request, std::shared_ptr<http::Responder> r) {
      r->Respond(http::JsonResponse(200, std::string(64 * 1024, ' ') + "{}"));
    });
    server_.Route("GET", "/redirect.json", [](http::Request, std::shared_ptr<http::Responder> r) {
      r->Respond(http::Response{302, {{"Location", "http://169.254.169.254/latest/meta-data"}}, ""});
    });
    server_.Route("GET", "/slow.json", [this](http::Request, std::shared_ptr<http::Responder> r) {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(r));  // answered only when the test ends
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~MetadataServer() {
    {
      absl::MutexLock lock(&mu_);
      for (auto& r : held_) r->Respond(http::JsonResponse(200, "{}"));
    }
    server_.Shutdown(absl::Seconds(1));
  }
  std::string Url(absl::string_view path) const { return absl::StrCat("http://127.0.0.1:", server_.port(), path); }

 private:
  http::HttpServer server_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<http::Responder>> held_ ABSL_GUARDED_BY(mu_);
};

ClientMetadataOptions LocalOptions(bool internal) {
  ClientMetadataOptions o;
  o.allow_http_loopback = true;
  o.allow_internal_addresses = internal;
  o.timeout = absl::Milliseconds(500);
  return o;
}

TEST(ClientMetadataTest, FetchesAGoodDocument) {
  MetadataServer server;
  CurlClientMetadataFetcher fetcher(LocalOptions(true));
  auto client = fetcher.Fetch(server.Url("/good.json"));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->client_name(), "Local App");
}

TEST(ClientMetadataTest, RefusesInternalAddressesOversizeRedirectsAndSlowServers) {
  MetadataServer server;
  // The connected address is checked, whatever the URL's host says.
  auto internal = CurlClientMetadataFetcher(LocalOptions(false)).Fetch(server.Url("/good.json"));
  EXPECT_EQ(internal.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(internal.status().message(), "internal address")) << internal.status();

  CurlClientMetadataFetcher fetcher(LocalOptions(true));
  auto large = fetcher.Fetch(server.Url("/large.json"));
  EXPECT_TRUE(absl::StrContains(large.status().message(), "larger than")) << large.status();
  auto redirect = fetcher.Fetch(server.Url("/redirect.json"));
  EXPECT_TRUE(absl::StrContains(redirect.status().message(), "redirect")) << redirect.status();
  auto slow = fetcher.Fetch(server.Url("/slow.json"));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kUnavailable) << slow.status();
}

class FakeFetcher : public ClientMetadataFetcher {
 public:
  absl::StatusOr<tv::OAuthClient> Fetch(const std::string& url) override {
    ++fetches;
    tv::OAuthClient c;
    c.set_client_id(url);
    c.set_client_name("Doc Client");
    c.add_redirect_uris("https://doc.example/cb");
    return c;
  }
  int fetches = 0;
};

class AuthorizationServerTest : public AccessTokenTest {
 protected:
  AuthorizationServerTest() : as_(AuthorizationServerOptions{kBase}, signin_, idp_, policy_, fetcher_, verifier_, clock_) {
    tv::OAuthClient c;
    c.set_client_id("c-claude");
    c.set_client_name("Claude");
    c.add_redirect_uris("https://claude.ai/api/mcp/auth_callback");
    signin_.clients[c.client_id()] = c;
  }
  http::Response Get(const std::string& target) {
    http::Request r;
    r.method = "GET";
    r.path = target.substr(0, target.find('?'));
    r.query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    return as_.Handle(r);
  }
  http::Response Post(const std::string& path, std::string body,
                      std::string content_type = "application/x-www-form-urlencoded") {
    http::Request r;
    r.method = "POST";
    r.path = path;
    r.headers = {{"Content-Type", content_type}};
    r.body = std::move(body);
    return as_.Handle(r);
  }
  static std::string Header(const http::Response& r, absl::string_view name) {
    return std::string(http::FindHeader(r.headers, name).value_or(""));
  }
  std::string AuthorizeQuery(const std::string& extra = "") {
    return absl::StrCat("/oauth/acme/authorize?response_type=code&client_id=c-claude",
                        "&redirect_uri=https%3A%2F%2Fclaude.ai%2Fapi%2Fmcp%2Fauth_callback&state=xyz",
                        "&resource=https%3A%2F%2Fbastion.example%2Fmcp%2Facme%2Fpagerduty", extra);
  }
  FakePolicy policy_;
  FakeFetcher fetcher_;
  AuthorizationServer as_;
};

TEST_F(AuthorizationServerTest, MetadataNamesThisUrlAndThisTenantsIssuer) {
  auto prm = Get("/.well-known/oauth-protected-resource/mcp/acme/pagerduty");
  ASSERT_EQ(prm.status, 200);
  json::object p = json::parse(prm.body).as_object();
  EXPECT_EQ(p["resource"].as_string(), "https://bastion.example/mcp/acme/pagerduty");
  EXPECT_EQ(p["authorization_servers"].as_array()[0].as_string(), "https://bastion.example/oauth/acme");

  // RFC 8414 path insertion, and the issuer is exactly the one used to find it.
  for (const char* path : {"/.well-known/oauth-authorization-server/oauth/acme",
                           "/oauth/acme/.well-known/oauth-authorization-server"}) {
    auto as = Get(path);
    ASSERT_EQ(as.status, 200) << path;
    json::object m = json::parse(as.body).as_object();
    EXPECT_EQ(m["issuer"].as_string(), "https://bastion.example/oauth/acme");
    EXPECT_EQ(m["code_challenge_methods_supported"].as_array(), json::array{"S256"});
    EXPECT_TRUE(m["authorization_response_iss_parameter_supported"].as_bool());
    EXPECT_TRUE(m["client_id_metadata_document_supported"].as_bool());
  }
  EXPECT_EQ(Get("/.well-known/oauth-protected-resource/mcp/ACME/x").status, 404);
  EXPECT_EQ(Get("/oauth/acme/unknown").status, 404);
}

TEST_F(AuthorizationServerTest, AuthorizeSendsTheBrowserToTheIdpWithABindingCookie) {
  auto r = Get(AuthorizeQuery("&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"));
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_TRUE(absl::StartsWith(Header(r, "Location"), "https://login.acme.example/authorize"));
  const std::string cookie = Header(r, "Set-Cookie");
  EXPECT_TRUE(absl::StartsWith(cookie, "bastion_signin=")) << cookie;
  EXPECT_TRUE(absl::StrContains(cookie, "HttpOnly"));
  EXPECT_TRUE(absl::StrContains(cookie, "Secure"));
  EXPECT_TRUE(absl::StrContains(cookie, "Path=/oauth/acme/"));
  ASSERT_EQ(signin_.begun.size(), 1u);
  EXPECT_EQ(signin_.begun[0].server(), "pagerduty");
  EXPECT_EQ(signin_.begun[0].browser_binding().size(), 64u);
  EXPECT_EQ(idp_.context, "az-1");
}

TEST_F(AuthorizationServerTest, AuthorizeWithoutPkceOrResourceGoesBackWithAnErrorAndTheIssuer) {
  auto no_pkce = Get(AuthorizeQuery());
  ASSERT_EQ(no_pkce.status, 302);
  const std::string loc = Header(no_pkce, "Location");
  EXPECT_TRUE(absl::StartsWith(loc, "https://claude.ai/api/mcp/auth_callback?error=invalid_request")) << loc;
  EXPECT_TRUE(absl::StrContains(loc, "state=xyz"));
  EXPECT_TRUE(absl::StrContains(loc, "iss=https%3A%2F%2Fbastion.example%2Foauth%2Facme"));

  auto plain = Get(AuthorizeQuery("&code_challenge=abc&code_challenge_method=plain"));
  EXPECT_TRUE(absl::StrContains(Header(plain, "Location"), "error=invalid_request"));

  auto other_tenant = Get(absl::StrCat(
      "/oauth/acme/authorize?response_type=code&client_id=c-claude&code_challenge=x&code_challenge_method=S256",
      "&redirect_uri=https%3A%2F%2Fclaude.ai%2Fapi%2Fmcp%2Fauth_callback",
      "&resource=https%3A%2F%2Fbastion.example%2Fmcp%2Fglobex%2Fpagerduty"));
  EXPECT_TRUE(absl::StrContains(Header(other_tenant, "Location"), "error=invalid_target"));

  auto bad_scope = Get(AuthorizeQuery("&code_challenge=x&code_challenge_method=S256&scope=admin"));
  EXPECT_TRUE(absl::StrContains(Header(bad_scope, "Location"), "error=invalid_scope"));
  EXPECT_TRUE(signin_.begun.size() == 1u) << "only the request that got as far as the scope check was recorded";
}

TEST_F(AuthorizationServerTest, AuthorizeNeverRedirectsToAnUnregisteredAddress) {
  auto r = Get(
      "/oauth/acme/authorize?response_type=code&client_id=c-claude&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
      "&code_challenge=x&code_challenge_method=S256&resource=https%3A%2F%2Fbastion.example%2Fmcp%2Facme%2Fpagerduty");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(Header(r, "Location").empty());
  EXPECT_TRUE(absl::StrContains(Header(r, "Content-Type"), "text/html"));
  EXPECT_TRUE(absl::StrContains(Header(r, "Content-Security-Policy"), "default-src 'none'"));
  auto unknown = Get("/oauth/acme/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fa%2Fcb");
  EXPECT_EQ(unknown.status, 400);
  auto twice = Get(AuthorizeQuery("&state=again"));
  EXPECT_EQ(twice.status, 400) << "a parameter given twice is refused";
}

TEST_F(AuthorizationServerTest, MetadataDocumentClientIsFetchedOnceAndCached) {
  const std::string q = absl::StrCat(
      "/oauth/acme/authorize?response_type=code&client_id=https%3A%2F%2Fdoc.example%2Fclient.json",
      "&redirect_uri=https%3A%2F%2Fdoc.example%2Fcb&code_challenge=x&code_challenge_method=S256",
      "&resource=https%3A%2F%2Fbastion.example%2Fmcp%2Facme%2Fpagerduty");
  EXPECT_EQ(Get(q).status, 302);
  EXPECT_EQ(Get(q).status, 302);
  EXPECT_EQ(fetcher_.fetches, 1);
  ASSERT_EQ(signin_.documents.size(), 1u);
  EXPECT_EQ(signin_.documents[0].client().client_name(), "Doc Client");
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Get(q).status, 302);
  EXPECT_EQ(fetcher_.fetches, 2) << "refetched once the cached document is old";
}

TEST_F(AuthorizationServerTest, TokenEndpointIssuesAnAudienceBoundTokenAndExplainsRefusals) {
  auto r = Post("/oauth/acme/token",
                "grant_type=authorization_code&code=good-code&client_id=c-claude&code_verifier=v&redirect_uri=x"
                "&resource=https%3A%2F%2Fbastion.example%2Fmcp%2Facme%2Fpagerduty");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  json::object t = json::parse(r.body).as_object();
  EXPECT_EQ(t["token_type"].as_string(), "Bearer");
  EXPECT_EQ(t["refresh_token"].as_string(), "bsr_next");
  EXPECT_EQ(t["expires_in"].as_int64(), 300);
  // The token it issued works on the MCP URL it is for.
  auto id = verifier_.Verify(std::string(t["access_token"].as_string()), "acme", "pagerduty");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(idp_.signed_requests[0].audience(), "https://bastion.example/mcp/acme/pagerduty");

  auto reused = Post("/oauth/acme/token", "grant_type=authorization_code&code=used&client_id=c&code_verifier=v");
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(json::parse(reused.body).at("error").as_string(), "invalid_grant");
  auto refresh = Post("/oauth/acme/token", "grant_type=refresh_token&refresh_token=bsr_old&client_id=c");
  EXPECT_EQ(json::parse(refresh.body).at("error").as_string(), "invalid_grant");
  EXPECT_EQ(json::parse(Post("/oauth/acme/token", "grant_type=password&username=a").body).at("error").as_string(),
            "unsupported_grant_type");
  EXPECT_EQ(Post("/oauth/acme/token", "grant_type=authorization_code", "application/json").status, 400);
}

TEST_F(AuthorizationServerTest, RevokingAnAccessTokenRevokesItsGrant) {
  auto r = Post("/oauth/acme/revoke", absl::StrCat("token=", Token(), "&client_id=c-claude"));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(signin_.revoked.size(), 1u);
  EXPECT_EQ(signin_.revoked[0].grant_id(), "g-1");
  EXPECT_EQ(Post("/oauth/acme/revoke", "token=bsr_x").status, 200);
  EXPECT_EQ(signin_.revoked[1].refresh_token(), "bsr_x");
  EXPECT_EQ(Post("/oauth/acme/revoke", "").status, 400);
}

TEST_F(AuthorizationServerTest, RegistrationGivesAPublicClient) {
  auto r = Post("/oauth/acme/register",
                R"({"client_name":"Cursor","redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"client_secret_basic"})",
                "application/json");
  ASSERT_EQ(r.status, 201) << r.body;
  json::object c = json::parse(r.body).as_object();
  EXPECT_EQ(c["client_id"].as_string(), "c-1");
  EXPECT_EQ(c["token_endpoint_auth_method"].as_string(), "none");
  EXPECT_FALSE(c.contains("client_secret"));
  EXPECT_EQ(json::parse(Post("/oauth/acme/register", "{\"redirect_uris\":[]}", "application/json").body)
                .at("error")
                .as_string(),
            "invalid_redirect_uri");
  EXPECT_EQ(Post("/oauth/acme/register", "not json", "application/json").status, 400);
}

// The MCP endpoint with sign-in on: a client without a token learns where to sign in; a token
// from the authorization server works on exactly its URL; static tokens keep working beside it.
class McpSignInTest : public AccessTokenTest {
 protected:
  McpSignInTest()
      : sessions_({"session-key"}, clock_, absl::Hours(24)),
        stats_(registry_),
        endpoint_(EndpointOptions{}, directory_, policy_, credentials_, tools_, audit_, sessions_, clock_, stats_) {
    endpoint_.EnableSignIn(&verifier_);
    directory_.AddToken("bst_ana", Identity{"t-acme", "acme", "u-1", "ana@acme.example", {}, "personal", "tok1"});
  }
  http::Response Initialize(const std::string& token, const std::string& path = "/mcp/acme/pagerduty") {
    http::Request r;
    r.method = "POST";
    r.path = path;
    r.headers = {{"Host", "localhost"}, {"Accept", "application/json, text/event-stream"},
                 {"Content-Type", "application/json"}};
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    r.body = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
    return endpoint_.Handle(r);
  }
  FakeDirectory directory_;
  FakePolicy policy_;
  FakeCredentials credentials_;
  FakeTools tools_;
  FakeAudit audit_;
  SessionCodec sessions_;
  metrics::Registry registry_;
  EdgeStats stats_;
  McpEndpoint endpoint_;
};

TEST_F(McpSignInTest, NoTokenGetsTheResourceMetadataChallenge) {
  http::Response r = Initialize("");
  EXPECT_EQ(r.status, 401);
  const std::string challenge(http::FindHeader(r.headers, "WWW-Authenticate").value_or(""));
  EXPECT_TRUE(absl::StrContains(
      challenge,
      R"(resource_metadata="https://bastion.example/.well-known/oauth-protected-resource/mcp/acme/pagerduty")"))
      << challenge;
  EXPECT_TRUE(absl::StrContains(challenge, R"(scope="mcp")"));
  EXPECT_FALSE(absl::StrContains(challenge, "invalid_token"));
}

TEST_F(McpSignInTest, AccessTokenWorksOnItsUrlOnlyAndStaticTokensStillWork) {
  EXPECT_EQ(Initialize(Token()).status, 200);
  EXPECT_EQ(Initialize("bst_ana").status, 200);
  http::Response elsewhere = Initialize(Token(), "/mcp/acme/other");
  EXPECT_EQ(elsewhere.status, 401);
  EXPECT_TRUE(absl::StrContains(std::string(http::FindHeader(elsewhere.headers, "WWW-Authenticate").value_or("")),
                                R"(error="invalid_token")"));
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(Initialize(Token(absl::Minutes(5)).substr(0, 20) + "x.y.z").status, 401);
}

TEST(SignInPagesTest, ConsentFormMayLeadToTheClientsRedirectAndNowhereElse) {
  auto csp = [](const std::string& redirect) {
    ConsentPage page;
    page.client_name = "C";
    page.redirect_uri = redirect;
    http::Response r = RenderConsent(page);
    return std::string(http::FindHeader(r.headers, "Content-Security-Policy").value_or(""));
  };
  // Browsers apply form-action to the redirect after the submission: the client's origin is let in.
  EXPECT_TRUE(absl::StrContains(csp("http://127.0.0.1:5000/callback?x=1"), "form-action 'self' http://127.0.0.1:5000;"));
  EXPECT_TRUE(absl::StrContains(csp("https://claude.ai/api/mcp/auth_callback"), "form-action 'self' https://claude.ai;"));
  // Anything that could break out of the directive is left out.
  EXPECT_TRUE(absl::StrContains(csp("https://a.example;script-src *"), "form-action 'self';"));
  EXPECT_TRUE(absl::StrContains(csp("https://a.example/\r\nX: y"), "form-action 'self' https://a.example;"));
  EXPECT_TRUE(absl::StrContains(csp(""), "form-action 'self';"));
}

}  // namespace
}  // namespace bastion::edge
