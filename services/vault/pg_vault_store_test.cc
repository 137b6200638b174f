// The vault on a real Postgres: what lands in its tables, tampering with them, KEK rotation
// online, and two replicas sharing one refresh. PagerDuty is tests/pagerduty_sim on loopback.
#include "services/vault/pg_vault_store.h"

#include <fstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/http/http_client.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/vault/testing/browser.h"
#include "services/tenant/client/testing/fake_tenant_client.h"
#include "services/vault/testing/log_capture.h"
#include "services/vault/vault_migrations.h"
#include "services/vault/vault_service.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::vault {
namespace {

constexpr char kAcmeKey[] = "u+AcmeRestApiKey0000Q";
constexpr char kGlobexKey[] = "u+GlobexRestApiKey111";
constexpr char kClientSecret[] = "acme-oauth-client-secret-value";
constexpr char kRedirect[] = "https://edge.example.com/oauth/callback";

std::string Key(char fill) { return crypto::Base64Encode(std::string(32, fill)); }

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// One vault process: its own pool, keyring, caches and refresh single-flight.
struct Replica {
  Replica(const std::string& db_url, const std::string& kek_path, const Clock& clock,
          tenant::FakeTenantClient& tenants, http::HttpClient& http, const VaultOptions& options,
          absl::Duration cache_ttl = absl::Seconds(60)) {
    pg::PoolOptions o;
    o.url = db_url;
    pool = std::make_unique<pg::Pool>(o);
    store = std::make_unique<PgVaultStore>(*pool);
    auto source = KeyringSource::FromFile(kek_path);
    EXPECT_TRUE(source.ok()) << source.status();
    keys = *std::move(source);
    envelope = std::make_unique<Envelope>(*keys, *store, clock, cache_ttl);
    svc = std::make_unique<VaultService>(*store, *envelope, tenants, http, clock, registry, options);
  }

  metrics::Registry registry;
  std::unique_ptr<pg::Pool> pool;
  std::unique_ptr<PgVaultStore> store;
  std::unique_ptr<KeyringSource> keys;
  std::unique_ptr<Envelope> envelope;
  std::unique_ptr<VaultService> svc;
};

class PgVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = db_->url();
    pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*pool_, "vault", migrations::vault_migrations()).ok());

    ASSERT_TRUE(sim_.Start().ok());
    acme_ = tenants_.AddTenant("acme");
    globex_ = tenants_.AddTenant("globex");
    ana_ = tenants_.AddUser(acme_, "ana@acme.com", false);
    bob_ = tenants_.AddUser(acme_, "bob@acme.com", false);
    options_.authorize_url = sim_.base_url() + "/oauth/authorize";
    options_.token_url = sim_.base_url() + "/oauth/token";
    options_.redirect_url = kRedirect;
    options_.api_url_us = sim_.base_url();
    kek_path_ = TempPath(absl::StrCat("kek-", crypto::NewUuid()));
    WriteFile(kek_path_, "1 " + Key('1') + "\n");
    a_ = NewReplica();
  }

  void TearDown() override {
    std::vector<std::string> secrets = Secrets();
    logs_.ExpectNoneOf(secrets);
    std::remove(kek_path_.c_str());
  }

  std::unique_ptr<Replica> NewReplica(absl::Duration cache_ttl = absl::Seconds(60)) {
    return std::make_unique<Replica>(db_->url(), kek_path_, clock_, tenants_, http_, options_,
                                     cache_ttl);
  }

  std::vector<std::string> Secrets() {
    // Every token the simulator mints starts with one of these prefixes.
    std::vector<std::string> s = {kAcmeKey, kGlobexKey, kClientSecret, Key('1'), Key('2'),
                                  "pdus+_", "pdre+_"};
    for (const auto& x : seen_) s.push_back(x);
    return s;
  }

  auth::Caller Op() {
    auth::Caller c;
    c.kind = auth::Caller::Kind::kOperator;
    return c;
  }

  void PutCredentials(VaultService& svc) {
    ASSERT_TRUE(svc.PutApiKeyCredential(Op(), "acme", "pagerduty", kAcmeKey, "actor@acme.com",
                                        Access::kFull, Region::kUs).ok());
    ASSERT_TRUE(svc.PutApiKeyCredential(Op(), "globex", "pagerduty", kGlobexKey, "ops@globex.com",
                                        Access::kReadOnly, Region::kUs).ok());
    auto app = svc.PutOAuthApp(Op(), "acme", "pagerduty-oauth", "client-1", kClientSecret,
                               {"incidents.read"}, OAuthFlavor::kScoped, Region::kUs);
    ASSERT_TRUE(app.ok()) << app.status();
  }

  void Authorize(VaultService& svc, const tenant::v1::User& user) {
    auto begun = svc.BeginUserAuthorization(edge_, "acme", "pagerduty-oauth", user.id());
    ASSERT_TRUE(begun.ok()) << begun.status();
    const char* pagerduty_user = user.id() == bob_.id() ? pagerduty_sim::seed::kResponderUserId
                                                        : pagerduty_sim::seed::kAdminUserId;
    Redirect r = FollowAuthorizeUrl(http_, begun->authorize_url, pagerduty_user);
    ASSERT_EQ(r.status, 302);
    seen_.push_back(r.state);
    seen_.push_back(r.code);
    auto done = svc.CompleteUserAuthorization(edge_, r.state, r.code);
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->tenant_slug, "acme");
  }

  // Every row of every table in the vault schema, as text.
  std::vector<std::string> DumpVaultTables() {
    std::vector<std::string> rows;
    auto tables = pool_->Execute(
        {"", "SELECT quote_ident(table_name) FROM information_schema.tables "
             "WHERE table_schema = 'vault' ORDER BY 1"},
        {}, absl::Seconds(5));
    EXPECT_TRUE(tables.ok()) << tables.status();
    for (int i = 0; tables.ok() && i < tables->rows(); ++i) {
      const std::string sql = absl::StrCat("SELECT t::text FROM vault.", *tables->GetString(i, 0), " t");
      auto r = pool_->Execute({"", sql}, {}, absl::Seconds(5));
      EXPECT_TRUE(r.ok()) << r.status();
      for (int j = 0; r.ok() && j < r->rows(); ++j) rows.push_back(*r->GetString(j, 0));
    }
    return rows;
  }

  absl::Status Sql(const std::string& sql) {
    return pool_->Execute({"", sql}, {}, absl::Seconds(5)).status();
  }

  absl::StatusOr<UpstreamCredential> Upstream(VaultService& svc, const std::string& tenant,
                                              const std::string& server, const std::string& user = "") {
    return svc.GetUpstreamCredential(edge_, tenant, server, user);
  }

  LogCapture logs_;
  std::unique_ptr<pg::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  FakeClock clock_;
  pagerduty_sim::Simulator sim_{[this] {
    pagerduty_sim::SimulatorOptions o;
    o.oauth_clients = {{"client-1", kClientSecret}};
    o.clock = &clock_;
    return o;
  }()};
  http::CurlHttpClient http_;
  tenant::FakeTenantClient tenants_;
  VaultOptions options_;
  std::string kek_path_;
  std::unique_ptr<Replica> a_;
  std::string acme_, globex_;
  tenant::v1::User ana_, bob_;
  std::vector<std::string> seen_;  // states, codes and tokens: none may be stored or logged
  const auth::Caller edge_ = [] {
    auth::Caller c;
    c.kind = auth::Caller::Kind::kService;
    c.service = "edge";
    return c;
  }();
};

TEST_F(PgVaultTest, NoTableHoldsAPlaintextSecret) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  Authorize(*a_->svc, bob_);
  // A pending authorization too: its state and verifier.
  auto pending = a_->svc->BeginUserAuthorization(edge_, "acme", "pagerduty-oauth", ana_.id());
  ASSERT_TRUE(pending.ok());
  seen_.push_back(QueryOf(pending->authorize_url)["state"]);
  for (const auto& user : {ana_, bob_}) {
    auto up = Upstream(*a_->svc, "acme", "pagerduty-oauth", user.id());
    ASSERT_TRUE(up.ok()) << up.status();
    seen_.push_back(up->authorization.value().substr(strlen("Bearer ")));
  }

  // The capture sees the vault's log lines (so it could find a secret were one there).
  bool logged = false;
  for (const std::string& line : logs_.lines()) {
    logged = logged || absl::StrContains(line, "a user authorized PagerDuty access");
  }
  EXPECT_TRUE(logged);

  const std::vector<std::string> rows = DumpVaultTables();
  std::string all = absl::StrJoin(rows, "\n");
  // The scan sees real data (so it could find a secret were one there).
  ASSERT_TRUE(absl::StrContains(all, "actor@acme.com"));
  ASSERT_TRUE(absl::StrContains(all, "client-1"));
  ASSERT_GE(rows.size(), 7u);  // 3 credentials, 2 data keys, 2 grants, 1 state (+ migrations)
  const std::vector<std::string> secrets = Secrets();
  // 7 fixed (keys, secret, KEKs, token prefixes), 2 states and codes, a pending state, 2 tokens.
  ASSERT_EQ(secrets.size(), 7u + 4u + 1u + 2u);
  for (const std::string& secret : secrets) {
    // As text, and as bytea shows it (hex), and base64.
    for (const std::string& form :
         {secret, absl::BytesToHexString(secret), crypto::Base64Encode(secret)}) {
      EXPECT_FALSE(absl::StrContains(all, form)) << "found a secret in the vault's tables";
    }
  }
}

TEST_F(PgVaultTest, ACiphertextMovedToAnotherRowOrTenantFailsToOpen) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  Authorize(*a_->svc, bob_);
  ASSERT_TRUE(Upstream(*a_->svc, "globex", "pagerduty").ok());

  // Acme's key into Globex's row.
  ASSERT_TRUE(Sql(absl::StrCat(
      "UPDATE vault.credentials SET secret_sealed = (SELECT secret_sealed FROM vault.credentials "
      "WHERE tenant_id = '", acme_, "' AND server = 'pagerduty') WHERE tenant_id = '", globex_, "'")).ok());
  auto moved = Upstream(*a_->svc, "globex", "pagerduty");
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(moved.status().message(), ::testing::HasSubstr("moved or altered"));

  // Ana's access token into Bob's grant: same tenant, same credential, other row.
  ASSERT_TRUE(Sql(absl::StrCat(
      "UPDATE vault.user_grants SET access_token_sealed = (SELECT access_token_sealed FROM "
      "vault.user_grants WHERE user_id = '", ana_.id(), "') WHERE user_id = '", bob_.id(), "'")).ok());
  EXPECT_EQ(Upstream(*a_->svc, "acme", "pagerduty-oauth", bob_.id()).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Upstream(*a_->svc, "acme", "pagerduty-oauth", ana_.id()).ok());

  // Acme's data key given to Globex: it was wrapped for Acme.
  ASSERT_TRUE(Sql(absl::StrCat(
      "UPDATE vault.data_keys SET wrapped_key = (SELECT wrapped_key FROM vault.data_keys WHERE "
      "tenant_id = '", acme_, "') WHERE tenant_id = '", globex_, "'")).ok());
  auto fresh = NewReplica();
  EXPECT_EQ(Upstream(*fresh->svc, "globex", "pagerduty").status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PgVaultTest, AfterRotateKekEveryCredentialOpensAndTheOldKekCanBeRemoved) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  // Without KEK 1 nothing opens yet: the old key is still needed.
  WriteFile(kek_path_, "2 " + Key('2') + "\n");
  EXPECT_FALSE(Upstream(*NewReplica()->svc, "acme", "pagerduty").ok());

  WriteFile(kek_path_, "1 " + Key('1') + "\n2 " + Key('2') + "\n");
  // Replica B serves throughout, re-reading data keys on every call.
  auto b = NewReplica(absl::ZeroDuration());
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::thread traffic([&] {
    while (!stop) {
      for (const char* tenant : {"acme", "globex"}) {
        (Upstream(*b->svc, tenant, "pagerduty").ok() ? served : failed)++;
      }
    }
  });
  // Rotate only once B is serving, and keep it serving until it has served after the rotation.
  for (int i = 0; i < 500 && served.load() + failed.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(10));
  auto rotated = a_->svc->RotateKek(Op());
  const int served_before_end = served.load();
  for (int i = 0; i < 500 && served.load() == served_before_end && failed.load() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop = true;
  traffic.join();
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->kek_version, 2);
  EXPECT_EQ(rotated->total, 2);
  EXPECT_EQ(rotated->rewrapped, 2);
  EXPECT_GT(served.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  auto versions = pool_->Execute({"", "SELECT DISTINCT kek_version FROM vault.data_keys"}, {},
                                 absl::Seconds(5));
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->rows(), 1);
  EXPECT_EQ(*versions->GetInt64(0, 0), 2);

  // KEK 1 removed: a fresh replica opens every secret.
  WriteFile(kek_path_, "2 " + Key('2') + "\n");
  auto c = NewReplica();
  auto acme = Upstream(*c->svc, "acme", "pagerduty");
  ASSERT_TRUE(acme.ok()) << acme.status();
  EXPECT_EQ(acme->authorization.value(), std::string("Token token=") + kAcmeKey);
  auto globex = Upstream(*c->svc, "globex", "pagerduty");
  ASSERT_TRUE(globex.ok()) << globex.status();
  EXPECT_EQ(globex->authorization.value(), std::string("Token token=") + kGlobexKey);
  auto ana = Upstream(*c->svc, "acme", "pagerduty-oauth", ana_.id());
  ASSERT_TRUE(ana.ok()) << ana.status();
  EXPECT_TRUE(absl::StartsWith(ana->authorization.value(), "Bearer pdus+_"));
  // The OAuth client secret (and a refresh token) open too: a refresh works.
  clock_.Advance(absl::Hours(2));
  EXPECT_TRUE(Upstream(*c->svc, "acme", "pagerduty-oauth", ana_.id()).ok());
  EXPECT_EQ(sim_.TokenRequests("refresh_token"), 1);
  // Nothing left to do on a second run.
  auto again = c->svc->RotateKek(Op());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rewrapped, 0);
}

TEST_F(PgVaultTest, RotateKekReportsDataKeysItCannotOpenAndRewrapsTheRest) {
  PutCredentials(*a_->svc);
  // Globex's data key is under a KEK the ring no longer holds.
  ASSERT_TRUE(Sql(absl::StrCat("UPDATE vault.data_keys SET kek_version = 7 WHERE tenant_id = '",
                               globex_, "'")).ok());
  WriteFile(kek_path_, "1 " + Key('1') + "\n2 " + Key('2') + "\n");
  auto r = a_->svc->RotateKek(Op());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("1 of 2 data keys"));
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("version 7"));
  auto acme_version = pool_->Execute(
      {"", absl::StrCat("SELECT kek_version FROM vault.data_keys WHERE tenant_id = '", acme_, "'")},
      {}, absl::Seconds(5));
  EXPECT_EQ(*acme_version->GetInt64(0, 0), 2);
}

TEST_F(PgVaultTest, TwoReplicasAndFiftyCallersOnAnExpiredGrantRefreshOnce) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  auto b = NewReplica();
  ASSERT_TRUE(Upstream(*b->svc, "acme", "pagerduty-oauth", ana_.id()).ok());  // warm caches
  clock_.Advance(absl::Hours(2));
  pagerduty_sim::Faults slow;
  slow.latency = absl::Milliseconds(300);
  slow.path_prefix = "/oauth/token";
  sim_.SetFaults(slow);
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<UpstreamCredential>> results(50, absl::UnknownError("not run"));
  for (int i = 0; i < 50; ++i) {
    VaultService& svc = i % 2 == 0 ? *a_->svc : *b->svc;
    threads.emplace_back([&, i] { results[i] = Upstream(svc, "acme", "pagerduty-oauth", ana_.id()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sim_.TokenRequests("refresh_token"), 1);
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->authorization.value(), results[0]->authorization.value());
  }
}

TEST_F(PgVaultTest, AnAuthorizationStateIsTakenOnceAndExpiredOnesArePurged) {
  PutCredentials(*a_->svc);
  AuthorizationState s;
  s.state_hash = crypto::HexEncode(crypto::Sha256("state-1"));
  s.tenant_id = acme_;
  auto cred = a_->store->GetCredential(acme_, "pagerduty-oauth");
  ASSERT_TRUE(cred.ok());
  s.credential_id = cred->id;
  s.user_id = ana_.id();
  s.user_email = ana_.email();
  s.code_verifier_sealed = "sealed";
  s.redirect_uri = kRedirect;
  s.created_at = clock_.Now();
  s.expires_at = clock_.Now() + absl::Minutes(10);
  ASSERT_TRUE(a_->store->InsertAuthorizationState(s).ok());
  auto taken = a_->store->TakeAuthorizationState(s.state_hash);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->user_id, ana_.id());
  EXPECT_EQ(taken->expires_at, s.expires_at);
  EXPECT_EQ(a_->store->TakeAuthorizationState(s.state_hash).status().code(), absl::StatusCode::kNotFound);

  s.state_hash = crypto::HexEncode(crypto::Sha256("state-2"));
  s.expires_at = clock_.Now() - absl::Seconds(1);
  ASSERT_TRUE(a_->store->InsertAuthorizationState(s).ok());
  EXPECT_EQ(*a_->store->DeleteExpiredAuthorizationStates(clock_.Now()), 1);
}

TEST_F(PgVaultTest, AStaleCredentialVersionIsAbortedAndDeletesCascade) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  auto cred = a_->store->GetCredential(acme_, "pagerduty-oauth");
  ASSERT_TRUE(cred.ok());
  EXPECT_EQ(a_->store->UpdateCredential(*cred, cred->version + 5, false).status().code(),
            absl::StatusCode::kAborted);
  auto updated = a_->store->UpdateCredential(*cred, cred->version, false);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version, cred->version + 1);
  EXPECT_THAT(updated->scopes, ::testing::ElementsAre("incidents.read"));

  auto grants = a_->store->ListGrants(acme_, cred->id, "");
  ASSERT_TRUE(grants.ok());
  ASSERT_EQ(grants->size(), 1u);
  EXPECT_EQ((*grants)[0].server, "pagerduty-oauth");
  EXPECT_EQ(*a_->store->DeleteCredential(acme_, cred->id), 1);
  EXPECT_TRUE(a_->store->ListGrants(acme_, "", "")->empty());
  EXPECT_EQ(a_->store->DeleteCredential(acme_, cred->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a_->store->GetCredential(acme_, "pagerduty-oauth").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(a_->store->GetCredential("not-a-uuid", "pagerduty").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgVaultTest, DeletingATenantsSecretsDestroysItsDataKeyAndLeavesOthers) {
  PutCredentials(*a_->svc);
  Authorize(*a_->svc, ana_);
  auto pending = a_->svc->BeginUserAuthorization(edge_, "acme", "pagerduty-oauth", bob_.id());
  ASSERT_TRUE(pending.ok());
  tenants_.Update(acme_, [](tenant::v1::Tenant& t) { t.set_ai_access_active(true); });
  EXPECT_EQ(a_->svc->DeleteTenantSecrets(edge_, "acme").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(a_->svc->DeleteTenantSecrets(Op(), "acme").status().code(), absl::StatusCode::kFailedPrecondition);
  tenants_.Update(acme_, [](tenant::v1::Tenant& t) { t.set_ai_access_active(false); });
  // Sign-in state goes too: the IdP client, a sign-in pending there, the token-signing keys.
  ASSERT_TRUE(Sql(absl::StrCat("INSERT INTO vault.idp_clients (tenant_id, issuer, client_id, scopes, created_at, "
                               "updated_at) VALUES ('", acme_, "', 'https://login.acme.example', 'bastion', 'openid', "
                               "now(), now())")).ok());
  ASSERT_TRUE(Sql(absl::StrCat("INSERT INTO vault.idp_sign_ins VALUES ('h', '", acme_,
                               "', 'https://login.acme.example', 'bastion', 'https://b/cb', 'ctx', '\\x00', "
                               "'\\x00', now(), now() + interval '10 minutes')")).ok());
  ASSERT_TRUE(Sql(absl::StrCat("INSERT INTO vault.token_keys (tenant_id, kid, private_key_sealed, public_jwk, "
                               "created_at) VALUES ('", acme_, "', 'k1', '\\x00', '{}', now())")).ok());

  auto deleted = a_->svc->DeleteTenantSecrets(Op(), "acme");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->first, 2);  // the API key and the OAuth app
  EXPECT_TRUE(deleted->second);
  for (const std::string& row : DumpVaultTables()) {
    EXPECT_FALSE(absl::StrContains(row, acme_)) << "left behind: " << row;
  }
  EXPECT_EQ(Upstream(*a_->svc, "acme", "pagerduty").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Upstream(*a_->svc, "globex", "pagerduty").ok());

  // Safe to run again after a partial failure: nothing left, nothing wrong.
  auto again = a_->svc->DeleteTenantSecrets(Op(), "acme");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first, 0);
  EXPECT_FALSE(again->second);
}

}  // namespace
}  // namespace bastion::vault
