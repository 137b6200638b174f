// bastionctl's vault commands against the real services: the tenant service and the vault, each
// on its own real port and Postgres database, the vault resolving admins through the tenant
// service exactly as in production, and PagerDuty played by the simulator on loopback.
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/caller.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "common/pg/testing/test_database.h"
#include "gtest/gtest.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/ctl/cli.h"
#include "services/governance/governance_grpc.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/governance_service.h"
#include "services/governance/pagerduty_tool_source.h"
#include "services/governance/pg_governance_store.h"
#include "services/governance/vault_credential_info.h"
#include "services/tenant/client/tenant_client.h"
#include "services/tenant/testing/test_tenant_server.h"
#include "services/vault/envelope.h"
#include "services/vault/keyring.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/testing/browser.h"
#include "services/vault/vault_grpc.h"
#include "services/vault/vault_migrations.h"
#include "services/vault/vault_service.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::ctl {
namespace {

namespace vpb = ::bastion::vault::v1;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kVaultToken[] = "vault-service-token";
constexpr char kGovernanceToken[] = "governance-service-token";
// Keys the simulator accepts, and one it does not.
constexpr char kApiKey[] = "u+AcmeRestApiKey0001";
constexpr char kNewApiKey[] = "u+AcmeRestApiKey0002";
constexpr char kUnknownApiKey[] = "u+NotAKeyPagerDutyKnows";
constexpr char kClientId[] = "client-1";
constexpr char kClientSecret[] = "the-acme-oauth-client-secret";
constexpr char kNewClientSecret[] = "the-acme-oauth-client-secret-2";

struct Result {
  int code;
  std::string out;
  std::string err;
};

template <typename Msg>
Msg FromJson(const std::string& json) {
  Msg msg;
  auto s = google::protobuf::util::JsonStringToMessage(json, &msg);
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
  return msg;
}

boost::json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << text;
  return v;
}

std::string KeyringLine(int version, char fill) {
  return absl::StrCat(version, " ", crypto::Base64Encode(std::string(32, fill)), "\n");
}

class VaultCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartTenantService();
    StartVault();
    StartGovernance();
    // Two tenants with an admin each, and a member of acme who will authorize OAuth.
    Ok({"tenant", "create", "acme"});
    Ok({"tenant", "create", "globex"});
    Ok({"user", "create", "boss@acme.com", "--tenant", "acme", "--role", "admin"});
    Ok({"user", "create", "ana@acme.com", "--tenant", "acme"});
    Ok({"user", "create", "boss@globex.com", "--tenant", "globex", "--role", "admin"});
    acme_admin_ = IssueToken("boss@acme.com", "acme");
    globex_admin_ = IssueToken("boss@globex.com", "globex");
  }

  void TearDown() override {
    if (governance_server_ != nullptr) governance_server_->Shutdown();
    if (vault_server_ != nullptr) vault_server_->Shutdown();
    tenant_server_.reset();
    if (vault_executor_ != nullptr) vault_executor_->Shutdown();
    // Whatever bastionctl printed, it never printed a secret.
    for (const char* secret : {kApiKey, kNewApiKey, kUnknownApiKey, kClientSecret, kNewClientSecret,
                               kOperatorToken}) {
      EXPECT_FALSE(absl::StrContains(transcript_, secret)) << secret << " was printed:\n" << transcript_;
    }
  }

  void StartTenantService() {
    auto server = tenant::TestTenantServer::Start(
        {kOperatorToken, {{"vault", kVaultToken}, {"governance", kGovernanceToken}}});
    ASSERT_TRUE(server.ok()) << server.status();
    tenant_server_ = *std::move(server);
    tenant_address_ = tenant_server_->address();
  }

  void StartVault() {
    auto db = pg::CreateTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    vault_db_ = std::make_unique<pg::TestDatabase>(*std::move(db));
    pg::PoolOptions o;
    o.url = vault_db_->url();
    vault_pool_ = std::make_unique<pg::Pool>(o);
    ASSERT_TRUE(pg::Migrate(*vault_pool_, "vault", migrations::vault_migrations()).ok());
    vault_store_ = std::make_unique<vault::PgVaultStore>(*vault_pool_);
    const char* tmp = std::getenv("TEST_TMPDIR");
    keyring_path_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/kek-", ::getpid());
    WriteKeyring(KeyringLine(1, 'k'));
    auto keys = vault::KeyringSource::FromFile(keyring_path_);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    envelope_ = std::make_unique<vault::Envelope>(*keys_, *vault_store_, RealClock::Get());

    ASSERT_TRUE(sim_.Start().ok());
    tenant_client_ = std::make_unique<tenant::GrpcTenantClient>(
        grpc::CreateChannel(tenant_address_, grpc::InsecureChannelCredentials()), kVaultToken);
    grpcutil::ServiceIdentities ids;
    ids.Add("edge", kEdgeToken);
    callers_ = std::make_unique<auth::CallerResolver>(
        kOperatorToken, ids, [this](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenant_client_->Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tenant::v1::ROLE_ADMIN};
        });
    vault::VaultOptions options;
    options.authorize_url = sim_.base_url() + "/oauth/authorize";
    options.token_url = sim_.base_url() + "/oauth/token";
    options.redirect_url = "https://edge.example.com/oauth/callback";
    options.api_url_us = sim_.base_url();
    vault_logic_ = std::make_unique<vault::VaultService>(*vault_store_, *envelope_, *tenant_client_, http_,
                                                         RealClock::Get(), registry_, options);
    vault_executor_ = std::make_unique<Executor>(4, 100);
    vault_runner_ = std::make_unique<grpcutil::CallRunner>("vault", *vault_executor_, registry_);
    vault_grpc_ = std::make_unique<vault::VaultGrpc>(*vault_logic_, *vault_runner_, *callers_);
    vault_server_ = Serve(vault_grpc_.get(), &vault_address_);
    edge_ = vpb::VaultService::NewStub(grpc::CreateChannel(vault_address_, grpc::InsecureChannelCredentials()));
  }

  // Governance on the vault's database, for `tenant delete`'s middle step.
  void StartGovernance() {
    ASSERT_TRUE(pg::Migrate(*vault_pool_, "governance", migrations::governance_migrations()).ok());
    governance_store_ = std::make_unique<governance::PgGovernanceStore>(*vault_pool_);
    governance_tenants_ = std::make_unique<tenant::GrpcTenantClient>(
        grpc::CreateChannel(tenant_address_, grpc::InsecureChannelCredentials()), kGovernanceToken);
    governance_credentials_ = std::make_unique<governance::VaultCredentialInfo>(
        grpc::CreateChannel(vault_address_, grpc::InsecureChannelCredentials()), kGovernanceToken);
    governance_logic_ = std::make_unique<governance::GovernanceService>(
        *governance_store_, RealClock::Get(), *governance_tenants_, catalog_, *governance_credentials_);
    governance_grpc_ = std::make_unique<governance::GovernanceGrpc>(*governance_logic_, *vault_runner_, *callers_,
                                                                    *vault_executor_);
    governance_server_ = Serve(governance_grpc_.get(), &governance_address_);
  }

  std::unique_ptr<grpc::Server> Serve(grpc::Service* service, std::string* address) {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(service);
    auto server = b.BuildAndStart();
    EXPECT_NE(port, 0);
    *address = absl::StrCat("127.0.0.1:", port);
    return server;
  }

  void WriteKeyring(const std::string& text) {
    std::ofstream(keyring_path_, std::ios::trunc) << text;
  }

  // Runs bastionctl with `in` as its stdin, as the operator unless `admin_token` says otherwise.
  Result Ctl(const std::vector<std::string>& args, const std::string& in = "",
             const std::string& admin_token = kOperatorToken, bool terminal = false) {
    Env env{{{"BASTION_TENANT_ADDR", tenant_address_},
             {"BASTION_VAULT_ADDR", vault_address_},
             {"BASTION_GOVERNANCE_ADDR", governance_address_}}};
    env.stdin_is_terminal = terminal;
    if (!admin_token.empty()) env.vars["BASTION_ADMIN_TOKEN"] = admin_token;
    std::istringstream stdin_stream(in);
    std::ostringstream out, err;
    int code = RunCli(args, stdin_stream, out, err, env);
    Result r{code, out.str(), err.str()};
    transcript_ += r.out + r.err;
    return r;
  }

  std::string Ok(const std::vector<std::string>& args, const std::string& in = "",
                 const std::string& admin_token = kOperatorToken) {
    Result r = Ctl(args, in, admin_token);
    EXPECT_EQ(r.code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }

  std::string IssueToken(const std::string& email, const std::string& tenant) {
    std::string token = Ok({"token", "issue", email, "--tenant", tenant});
    if (!token.empty()) token.pop_back();
    return token;
  }

  vpb::CredentialInfo Info(const std::string& admin_token) {
    return FromJson<vpb::CredentialInfo>(
        Ok({"credential", "info", "pagerduty", "--tenant", "acme", "--output", "json"}, "", admin_token));
  }

  // Ana's browser round trip, with the edge's service identity doing the edge's part.
  void AnaAuthorizes() {
    auto as_edge = [] {
      auto ctx = std::make_unique<grpc::ClientContext>();
      grpcutil::PrepareClientContext(*ctx, kEdgeToken, absl::Seconds(10));
      return ctx;
    };
    vpb::BeginUserAuthorizationRequest begin;
    begin.set_tenant("acme");
    begin.set_server("pagerduty");
    begin.set_user("ana@acme.com");
    vpb::BeginUserAuthorizationResponse begun;
    grpc::Status s = edge_->BeginUserAuthorization(as_edge().get(), begin, &begun);
    ASSERT_TRUE(s.ok()) << s.error_message();
    vault::Redirect redirect = vault::FollowAuthorizeUrl(http_, begun.authorize_url());
    ASSERT_EQ(redirect.status, 302);
    vpb::CompleteUserAuthorizationRequest complete;
    complete.set_state(redirect.state);
    complete.set_code(redirect.code);
    vpb::CompleteUserAuthorizationResponse done;
    s = edge_->CompleteUserAuthorization(as_edge().get(), complete, &done);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  int RequestsTo(const std::string& path) {
    int n = 0;
    for (const auto& r : sim_.requests()) n += r.path == path;
    return n;
  }

  metrics::Registry registry_;
  http::CurlHttpClient http_;
  pagerduty_sim::Simulator sim_{[] {
    pagerduty_sim::SimulatorOptions o;
    o.api_keys = {{kApiKey, pagerduty_sim::KeyAccess::kFull},
                  {kNewApiKey, pagerduty_sim::KeyAccess::kReadOnly}};
    o.oauth_clients = {{kClientId, kClientSecret}};
    return o;
  }()};

  std::unique_ptr<tenant::TestTenantServer> tenant_server_;
  std::string tenant_address_;

  std::unique_ptr<pg::TestDatabase> vault_db_;
  std::unique_ptr<pg::Pool> vault_pool_;
  std::unique_ptr<vault::PgVaultStore> vault_store_;
  std::string keyring_path_;
  std::unique_ptr<vault::KeyringSource> keys_;
  std::unique_ptr<vault::Envelope> envelope_;
  std::unique_ptr<tenant::GrpcTenantClient> tenant_client_;
  std::unique_ptr<auth::CallerResolver> callers_;
  std::unique_ptr<vault::VaultService> vault_logic_;
  std::unique_ptr<Executor> vault_executor_;
  std::unique_ptr<grpcutil::CallRunner> vault_runner_;
  std::unique_ptr<vault::VaultGrpc> vault_grpc_;
  std::unique_ptr<grpc::Server> vault_server_;
  std::string vault_address_;
  std::unique_ptr<vpb::VaultService::Stub> edge_;

  governance::PagerDutyToolSource catalog_;
  std::unique_ptr<governance::PgGovernanceStore> governance_store_;
  std::unique_ptr<tenant::GrpcTenantClient> governance_tenants_;
  std::unique_ptr<governance::VaultCredentialInfo> governance_credentials_;
  std::unique_ptr<governance::GovernanceService> governance_logic_;
  std::unique_ptr<governance::GovernanceGrpc> governance_grpc_;
  std::unique_ptr<grpc::Server> governance_server_;
  std::string governance_address_;

  std::string acme_admin_;
  std::string globex_admin_;
  std::string transcript_;  // everything bastionctl printed
};

TEST_F(VaultCommandsTest, ATenantAdminSetsVerifiesRotatesAndDeletesAnApiKey) {
  std::string stored = Ok({"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email",
                           "actor@acme.com", "--access", "full"},
                          absl::StrCat(kApiKey, "\n"), acme_admin_);
  EXPECT_EQ(stored,
            "Stored the credential of server pagerduty in tenant acme: API key ****0001, full access, "
            "writes recorded as actor@acme.com (version 1).\n"
            "Check it against PagerDuty: bastionctl credential verify pagerduty --tenant acme\n");

  std::string info = Ok({"credential", "info", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(info, "mode:         api-key\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "api key:      ****0001\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "actor email:  actor@acme.com\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "access:       full\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "rotated:      never\n")) << info;
  vpb::CredentialInfo before = Info(acme_admin_);
  EXPECT_EQ(before.hint(), "0001");
  EXPECT_EQ(before.mode(), vpb::AUTH_MODE_API_KEY);
  EXPECT_EQ(before.version(), 1);

  std::string verified = Ok({"credential", "verify", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StartsWith(verified, "result:       valid\n")) << verified;
  EXPECT_TRUE(absl::StrContains(verified, "http status:  200\n")) << verified;
  EXPECT_EQ(RequestsTo("/abilities"), 1);

  // A key PagerDuty does not know: the rotation takes effect, and verify says so with exit 1.
  Ok({"credential", "rotate", "pagerduty", "--tenant", "acme"}, kUnknownApiKey, acme_admin_);
  Result rejected = Ctl({"credential", "verify", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_EQ(rejected.code, 1);
  EXPECT_TRUE(absl::StartsWith(rejected.out, "result:       invalid\n")) << rejected.out;
  EXPECT_TRUE(absl::StrContains(rejected.out, "http status:  401\n")) << rejected.out;
  EXPECT_EQ(rejected.err, "error: the credential of server pagerduty did not verify (invalid)\n");

  // The good key from a file, with its trailing newline.
  const std::string key_file = keyring_path_ + ".apikey";
  std::ofstream(key_file) << kNewApiKey << "\n";
  std::string rotated =
      Ok({"credential", "rotate", "pagerduty", "--tenant", "acme", "--key-file", key_file}, "", acme_admin_);
  EXPECT_TRUE(absl::StartsWith(rotated, "Rotated the API key of server pagerduty in tenant acme: ****nows -> "
                                        "****0002 (version 3)."))
      << rotated;
  vpb::CredentialInfo after = Info(acme_admin_);
  EXPECT_EQ(after.hint(), "0002");
  EXPECT_EQ(after.version(), 3);
  EXPECT_TRUE(after.has_rotated_at());
  EXPECT_EQ(after.id(), before.id());
  EXPECT_EQ(Ctl({"credential", "verify", "pagerduty", "--tenant", "acme"}, "", acme_admin_).code, 0);

  EXPECT_EQ(Ok({"credential", "delete", "pagerduty", "--tenant", "acme"}, "", acme_admin_),
            "Deleted the credential of server pagerduty in tenant acme and 0 user grants with it; AI clients "
            "cannot reach pagerduty until a credential is set again.\n");
  Result gone = Ctl({"credential", "info", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(gone.err, "error: no credential is set for server 'pagerduty' in this tenant (NOT_FOUND)\n");
}

TEST_F(VaultCommandsTest, ASecretIsNeverTakenFromTheCommandLine) {
  const std::vector<std::string> base = {"credential", "set-api-key", "pagerduty", "--tenant", "acme",
                                         "--actor-email", "actor@acme.com"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  for (const auto& args : {with({"--api-key", kApiKey}), with({"--api-key=" + std::string(kApiKey)}),
                           with({"--key", kApiKey})}) {
    Result r = Ctl(args, kApiKey);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, "error: a secret is never taken from a flag like --")) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "the API key is read from stdin or --key-file PATH\n")) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "\nusage: bastionctl credential set-api-key <server>")) << r.err;
  }
  Result positional = Ctl(with({kApiKey}), "");
  EXPECT_EQ(positional.code, 2);
  EXPECT_TRUE(absl::StartsWith(positional.err,
                               "error: unexpected argument after <server> (not shown: it may be a secret); "
                               "the API key is read from stdin or --key-file PATH\n"))
      << positional.err;
  Result rotate = Ctl({"credential", "rotate", "pagerduty", "--tenant", "acme", "--client-secret", kClientSecret});
  EXPECT_EQ(rotate.code, 2);
  EXPECT_TRUE(absl::StrContains(rotate.err, "--secret-file PATH")) << rotate.err;

  // Nothing to store: an empty stdin, a lone newline, an empty or missing file.
  EXPECT_TRUE(absl::StartsWith(Ctl(base, "").err, "error: the API key read from stdin is empty\n"));
  EXPECT_EQ(Ctl(base, "\n").code, 2);
  EXPECT_EQ(Ctl(with({"--key-file", keyring_path_ + ".missing"})).code, 2);
  // A flag mistake is reported before the key is read.
  Result access = Ctl(with({"--access", "admin"}), kApiKey);
  EXPECT_EQ(access.code, 2);
  EXPECT_TRUE(absl::StartsWith(access.err, "error: --access must be read-only or full, not 'admin'\n"));

  // None of it reached the vault.
  EXPECT_EQ(Ctl({"credential", "info", "pagerduty", "--tenant", "acme"}).code, 1);
  // Only one trailing newline is trimmed: a second one is part of the input, which the vault refuses.
  Result doubled = Ctl(base, absl::StrCat(kApiKey, "\n\n"));
  EXPECT_EQ(doubled.code, 1);
  EXPECT_TRUE(absl::StrContains(doubled.err, "was a newline pasted with it?")) << doubled.err;
  // The default access is read-only.
  Ok(base, absl::StrCat(kApiKey, "\r\n"));
  EXPECT_EQ(Info(kOperatorToken).access(), vpb::ACCESS_READ_ONLY);
  EXPECT_EQ(Info(kOperatorToken).hint(), "0001");
}

TEST_F(VaultCommandsTest, AtATerminalTheKeyIsPromptedForAndOneLineRead) {
  Result r = Ctl({"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email", "actor@acme.com"},
                 absl::StrCat(kApiKey, "\nwhatever comes next is not read\n"), kOperatorToken, /*terminal=*/true);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "Paste the API key and press Enter (it is not shown): \n");
  EXPECT_EQ(Info(kOperatorToken).hint(), "0001");
  EXPECT_EQ(Ctl({"credential", "verify", "pagerduty", "--tenant", "acme"}).code, 0);
}

TEST_F(VaultCommandsTest, AnAdminOfAnotherTenantGetsNotFound) {
  Ok({"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email", "actor@acme.com"}, kApiKey,
     acme_admin_);
  for (const auto& [args, in] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"credential", "info", "pagerduty", "--tenant", "acme"}, ""},
           {{"credential", "verify", "pagerduty", "--tenant", "acme"}, ""},
           {{"credential", "rotate", "pagerduty", "--tenant", "acme"}, kNewApiKey},
           {{"credential", "delete", "pagerduty", "--tenant", "acme"}, ""},
           {{"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email", "evil@globex.com"},
            kNewApiKey},
           {{"grant", "list", "--tenant", "acme"}, ""}}) {
    Result r = Ctl(args, in, globex_admin_);
    EXPECT_EQ(r.code, 1) << absl::StrJoin(args, " ");
    EXPECT_EQ(r.err, "error: tenant 'acme' not found (NOT_FOUND)\n") << absl::StrJoin(args, " ");
    EXPECT_TRUE(r.out.empty());
  }
  vpb::CredentialInfo unchanged = Info(acme_admin_);
  EXPECT_EQ(unchanged.version(), 1);
  EXPECT_EQ(unchanged.actor_email(), "actor@acme.com");
  EXPECT_EQ(RequestsTo("/abilities"), 0);
}

TEST_F(VaultCommandsTest, OAuthAppGrantsAreListedVerifiedAndRevoked) {
  std::string stored = Ok({"credential", "set-oauth-app", "pagerduty", "--tenant", "acme", "--client-id", kClientId,
                           "--scopes", "read,write", "--flavor", "classic"},
                          kClientSecret, acme_admin_);
  EXPECT_TRUE(absl::StartsWith(stored, "Stored the credential of server pagerduty in tenant acme: OAuth app "
                                       "client-1 (classic, scopes read,write), client secret ****cret (version 1).\n"))
      << stored;
  std::string info = Ok({"credential", "info", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StrContains(info, "client secret:  ****cret\n")) << info;
  EXPECT_TRUE(absl::StrContains(info, "scopes:         read,write\n")) << info;

  EXPECT_TRUE(ParseJson(Ok({"grant", "list", "--tenant", "acme", "--output", "json"}, "", acme_admin_))
                  .as_array()
                  .empty());
  AnaAuthorizes();
  std::string grants = Ok({"grant", "list", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_TRUE(absl::StartsWith(grants, "SERVER     USER          STATUS  SCOPES      AUTHORIZED")) << grants;
  EXPECT_TRUE(absl::StrContains(grants, "\npagerduty  ana@acme.com  active  read,write  ")) << grants;
  boost::json::value listed =
      ParseJson(Ok({"grant", "list", "--tenant", "acme", "--user", "ana@acme.com", "--output", "json"}, "", acme_admin_));
  ASSERT_EQ(listed.as_array().size(), 1u);
  EXPECT_EQ(listed.as_array()[0].at("status"), "GRANT_STATUS_ACTIVE");

  Result no_user = Ctl({"credential", "verify", "pagerduty", "--tenant", "acme"}, "", acme_admin_);
  EXPECT_EQ(no_user.code, 1);
  EXPECT_TRUE(absl::StrContains(no_user.err, "name the user whose grant to verify (INVALID_ARGUMENT)")) << no_user.err;
  auto verified = FromJson<vpb::VerifyCredentialResponse>(Ok(
      {"credential", "verify", "pagerduty", "--tenant", "acme", "--user", "ana@acme.com", "--output", "json"}, "",
      acme_admin_));
  EXPECT_EQ(verified.result(), vpb::VERIFY_RESULT_VALID);
  EXPECT_TRUE(absl::EndsWith(verified.request(), "/users/me")) << verified.request();

  EXPECT_EQ(Ok({"grant", "revoke", "pagerduty", "ana@acme.com", "--tenant", "acme"}, "", acme_admin_),
            "Revoked the grant of ana@acme.com for server pagerduty in tenant acme; they must authorize again to "
            "use it.\n");
  EXPECT_TRUE(ParseJson(Ok({"grant", "list", "--tenant", "acme", "--output", "json"}, "", acme_admin_))
                  .as_array()
                  .empty());
  Result revoked = Ctl({"credential", "verify", "pagerduty", "--tenant", "acme", "--user", "ana@acme.com"}, "",
                       acme_admin_);
  EXPECT_EQ(revoked.code, 1);
  EXPECT_TRUE(absl::EndsWith(revoked.err, "(FAILED_PRECONDITION)\n")) << revoked.err;

  // An OAuth app's secret is rotated from --secret-file or stdin; --key-file is the wrong door.
  AnaAuthorizes();
  Result wrong = Ctl({"credential", "rotate", "pagerduty", "--tenant", "acme", "--key-file", "/dev/null"}, "",
                     acme_admin_);
  EXPECT_EQ(wrong.code, 2);
  EXPECT_TRUE(absl::StartsWith(wrong.err, "error: server pagerduty uses an OAuth app: give the new client secret "
                                          "on stdin or with --secret-file, not --key-file\n"))
      << wrong.err;
  const std::string secret_file = keyring_path_ + ".secret";
  std::ofstream(secret_file) << kNewClientSecret << "\n";
  std::string rotated = Ok({"credential", "rotate", "pagerduty", "--tenant", "acme", "--secret-file", secret_file},
                           "", acme_admin_);
  EXPECT_TRUE(absl::StartsWith(rotated, "Rotated the OAuth client secret of server pagerduty in tenant acme: ****cret "
                                        "-> ****et-2 (version 2)."))
      << rotated;
  EXPECT_EQ(Info(acme_admin_).hint(), "et-2");

  // Rotation keeps the users' grants; deleting the credential takes them along.
  auto deleted = FromJson<vpb::DeleteCredentialResponse>(
      Ok({"credential", "delete", "pagerduty", "--tenant", "acme", "--output", "json"}, "", acme_admin_));
  EXPECT_EQ(deleted.grants_deleted(), 1);
}

TEST_F(VaultCommandsTest, KekRotateIsForTheOperatorAndKeepsEveryCredentialUsable) {
  Ok({"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email", "actor@acme.com"}, kApiKey,
     acme_admin_);
  WriteKeyring(KeyringLine(1, 'k') + KeyringLine(2, 'n'));

  Result denied = Ctl({"kek", "rotate"}, "", acme_admin_);
  EXPECT_EQ(denied.code, 1);
  EXPECT_EQ(denied.err, "error: only the operator may rotate the KEK (PERMISSION_DENIED)\n");

  EXPECT_EQ(Ok({"kek", "rotate"}),
            "Every data key is wrapped with KEK version 2 (1 of 1 re-wrapped now); older KEK versions can be "
            "removed from the keyring.\n");
  auto again = FromJson<vpb::RotateKekResponse>(Ok({"kek", "rotate", "--output", "json"}));
  EXPECT_EQ(again.kek_version(), 2);
  EXPECT_EQ(again.data_keys_total(), 1);

  // The old KEK goes; the key still opens for a check against PagerDuty.
  WriteKeyring(KeyringLine(2, 'n'));
  ASSERT_TRUE(keys_->Reload().ok());
  envelope_->ClearCache();
  EXPECT_EQ(Ctl({"credential", "verify", "pagerduty", "--tenant", "acme"}, "", acme_admin_).code, 0);
}

TEST_F(VaultCommandsTest, TenantDeleteShredsTheTenantAndFreesItsSlug) {
  Ok({"credential", "set-api-key", "pagerduty", "--tenant", "acme", "--actor-email", "actor@acme.com",
      "--access", "full"},
     absl::StrCat(kApiKey, "\n"));
  Ok({"tenant", "activate", "acme"});

  // Still active: refused, nothing touched.
  Result active = Ctl({"tenant", "delete", "acme", "--yes"});
  EXPECT_EQ(active.code, 1);
  EXPECT_TRUE(absl::StrContains(active.err, "bastionctl tenant deactivate acme")) << active.err;
  Ok({"tenant", "deactivate", "acme"});
  // Not at a terminal and no --yes; at a terminal, the wrong answer: refused.
  Result unconfirmed = Ctl({"tenant", "delete", "acme"});
  EXPECT_EQ(unconfirmed.code, 2);
  EXPECT_TRUE(absl::StrContains(unconfirmed.err, "--yes")) << unconfirmed.err;
  Result wrong = Ctl({"tenant", "delete", "acme"}, "globex\n", kOperatorToken, /*terminal=*/true);
  EXPECT_EQ(wrong.code, 2);
  // An admin may not delete their own tenant.
  EXPECT_EQ(Ctl({"tenant", "delete", "acme", "--yes"}, "", acme_admin_).code, 1);
  EXPECT_TRUE(absl::StrContains(Ok({"credential", "info", "pagerduty", "--tenant", "acme"}), "****0001"));

  Result deleted = Ctl({"tenant", "delete", "acme"}, "acme\n", kOperatorToken, /*terminal=*/true);
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_TRUE(absl::StrContains(deleted.out, "Deleted tenant acme")) << deleted.out;
  EXPECT_TRUE(absl::StrContains(deleted.out, "1 credential(s)")) << deleted.out;

  // The admin's token is dead at once; the slug is free and names a new, empty tenant.
  EXPECT_EQ(Ctl({"user", "list", "--tenant", "acme"}, "", acme_admin_).code, 1);
  EXPECT_EQ(Ctl({"tenant", "get", "acme"}).code, 1);
  Ok({"tenant", "create", "acme"});
  EXPECT_EQ(Ctl({"credential", "info", "pagerduty", "--tenant", "acme"}).code, 1);
  // Globex is untouched.
  EXPECT_EQ(Ctl({"tenant", "get", "globex"}).code, 0);
}

}  // namespace
}  // namespace bastion::ctl
