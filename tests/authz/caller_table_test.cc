// The caller table: every RPC of every Bastion service, called by every kind of caller, through
// real gRPC channels to the tenant service, the vault and governance running in process on a
// real Postgres. The expected answer of each cell is data below; the RPCs are enumerated from
// each service's protobuf descriptor, so an RPC without a row fails the test.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/auth/caller.h"
#include "common/crypto/crypto.h"
#include "common/exec/executor.h"
#include "common/grpc/grpc_util.h"
#include "common/http/http_client.h"
#include "common/metrics/registry.h"
#include "common/pg/migrate.h"
#include "gtest/gtest.h"
#include "proto/bastion/governance/v1/governance.grpc.pb.h"
#include "proto/bastion/tenant/v1/signin.grpc.pb.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "proto/bastion/vault/v1/idp.grpc.pb.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/governance/governance_grpc.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/governance_service.h"
#include "services/governance/pagerduty_tool_source.h"
#include "services/governance/pg_governance_store.h"
#include "services/governance/vault_credential_info.h"
#include "services/tenant/client/tenant_client.h"
#include "services/tenant/testing/test_tenant_server.h"
#include "services/vault/envelope.h"
#include "services/vault/idp_grpc.h"
#include "services/vault/idp_service.h"
#include "services/vault/oidc.h"
#include "services/vault/pg_idp_store.h"
#include "services/vault/tenant_directory.h"
#include "services/vault/keyring.h"
#include "services/vault/pg_vault_store.h"
#include "services/vault/vault_grpc.h"
#include "services/vault/vault_migrations.h"
#include "services/vault/vault_service.h"

namespace bastion {
namespace {

namespace tpb = ::bastion::tenant::v1;
namespace vpb = ::bastion::vault::v1;
namespace gpb = ::bastion::governance::v1;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kVaultToken[] = "vault-service-token";
constexpr char kGovernanceToken[] = "governance-service-token";

// The callers, in the order of a row's letters.
enum Column {
  kNoCredentials,
  kUnknownService,
  kEdge,
  kVault,
  kGovernance,
  kOperator,
  kAdmin,        // an admin of acme, the tenant every request names
  kOtherAdmin,   // an admin of globex
  kMember,       // a member of acme
  kRevoked,      // an acme admin's revoked token
  kDisabled,     // the token of a disabled acme admin
  kColumns
};
constexpr const char* kColumnNames[kColumns] = {
    "no credentials", "unknown service token", "edge", "vault", "governance", "operator",
    "admin of the tenant", "admin of another tenant", "member", "revoked token", "disabled user"};

// A cell: A allowed (OK, or an error that is not a refusal: NOT_FOUND, INVALID_ARGUMENT,
// FAILED_PRECONDITION...), P PERMISSION_DENIED, U UNAUTHENTICATED, N NOT_FOUND (another tenant
// answers like one that does not exist).
//
//                                  none  bad-svc  edge  vault  gov  op  admin  other  member  revoked  disabled
constexpr char kAdminOnly[] =     "UUPPPAANPUU";  // an admin of the tenant or the operator
constexpr char kOperatorOnly[] =  "UUPPPAPPPUU";
constexpr char kEdgeOnly[] =      "UUAPPPPPPUU";  // not even the operator
constexpr char kEdgeOrOperator[] = "UUAPPAPPPUU";

struct Row {
  std::string cells;
  // The request, as proto JSON; {"tenant":"acme"} when empty and the request has a tenant field.
  std::string request = "";
};

const std::map<std::string, Row>& TenantTable() {
  static const auto* t = new std::map<std::string, Row>{
      {"CreateTenant", {kOperatorOnly, R"({"slug":"t-$N"})"}},
      {"GetTenant", {"UUPAAAANPUU"}},  // vault and governance read tenants
      {"ListTenants", {"UUPPPAAAPUU"}},  // an admin sees their own tenant only
      {"UpdateTenantSettings", {kAdminOnly}},
      {"ActivateAiAccess", {kAdminOnly}},
      {"DeactivateAiAccess", {kAdminOnly}},
      {"SetKillSwitch", {kAdminOnly, R"({"tenant":"acme","on":false})"}},
      // Allowed calls name a tenant that does not exist: the table must not delete acme.
      {"DeleteTenant", {kOperatorOnly, R"({"tenant":"nosuch"})"}},
      {"CheckAccess", {"UUAPPAPPPUU"}},
      {"ListCatalog", {"UUPPAAANPUU"}},  // governance checks the catalog
      {"EnableCatalogEntry", {kOperatorOnly, R"({"tenant":"acme","key":"pagerduty"})"}},
      {"DisableCatalogEntry", {kOperatorOnly, R"({"tenant":"acme","key":"nosuch"})"}},
      {"CreateUser", {kAdminOnly, R"({"tenant":"acme","email":"new-$N@acme.com"})"}},
      {"GetUser", {"UUAAAAANPUU", R"({"tenant":"acme","user":"ana@acme.com"})"}},  // edge: signed-in users
      {"ListUsers", {kAdminOnly}},
      {"DisableUser", {kAdminOnly, R"({"tenant":"acme","user":"nobody@acme.com"})"}},
      {"CreateGroup", {kAdminOnly, R"({"tenant":"acme","name":"g-$N"})"}},
      {"AddGroupMember", {kAdminOnly, R"({"tenant":"acme","group":"nosuch","user":"ana@acme.com"})"}},
      {"RemoveGroupMember", {kAdminOnly, R"({"tenant":"acme","group":"nosuch","user":"ana@acme.com"})"}},
      {"ListGroups", {"UUPPAAANPUU"}},
      {"IssueClientToken", {kAdminOnly, R"({"tenant":"acme","user":"nobody@acme.com"})"}},
      {"ListClientTokens", {kAdminOnly}},
      {"RevokeClientToken", {kAdminOnly, R"({"tenant":"acme","token_id":"nosuch"})"}},
      {"Authenticate", {"UUAAAAPPPUU", R"({"token":"$MEMBER_TOKEN"})"}},
      {"EndSession", {kEdgeOnly}},
      {"ListEndedSessions", {kEdgeOnly}},
  };
  return *t;
}

// Sign-in (docs/signin.md): the tenant service's SignInService. Its admin RPCs are the usual
// admin-only; everything else is the edge's alone.
const std::map<std::string, Row>& SignInTable() {
  static const auto* t = new std::map<std::string, Row>{
      {"SetSignInPolicy", {kAdminOnly, R"({"tenant":"acme","policy":{"issuer":""}})"}},
      {"GetSignInPolicy", {kAdminOnly}},
      {"ListOAuthGrants", {kAdminOnly}},
      {"RevokeOAuthGrant", {kAdminOnly, R"({"tenant":"acme","grant_id":"nosuch"})"}},
      {"RegisterClient", {kEdgeOnly, R"({"tenant":"acme","client_name":"c","redirect_uris":["https://c.example/cb"]})"}},
      {"PutMetadataDocumentClient", {kEdgeOnly, R"({"tenant":"acme","client":{"client_id":"https://c.example/c.json","client_name":"c","redirect_uris":["https://c.example/cb"]}})"}},
      {"GetClient", {kEdgeOnly, R"({"tenant":"acme","client_id":"nosuch"})"}},
      {"BeginAuthorization", {kEdgeOnly, R"({"tenant":"acme","client_id":"nosuch"})"}},
      {"CompleteSignIn", {kEdgeOnly, R"({"authorization_id":"nosuch"})"}},
      {"DecideConsent", {kEdgeOnly, R"({"authorization_id":"nosuch"})"}},
      {"RedeemCode", {kEdgeOnly, R"({"tenant":"acme","code":"nosuch"})"}},
      {"RefreshGrant", {kEdgeOnly, R"({"tenant":"acme","refresh_token":"nosuch"})"}},
      {"RevokeToken", {kEdgeOnly, R"({"tenant":"acme","refresh_token":"nosuch"})"}},
      {"ListRevocations", {kEdgeOnly}},
  };
  return *t;
}

// The vault's IdentityProviderService: IdP settings for admins, the sign-in steps and token
// signing for the edge.
const std::map<std::string, Row>& IdpTable() {
  static const auto* t = new std::map<std::string, Row>{
      {"PutIdpClient", {kAdminOnly, R"({"tenant":"acme","issuer":"https://login.acme.example","client_id":"b"})"}},
      {"GetIdpClientInfo", {kAdminOnly}},
      {"DeleteIdpClient", {kAdminOnly}},
      {"TestIdpClient", {kAdminOnly}},
      {"RotateTokenKey", {kAdminOnly}},
      {"BeginIdpSignIn", {kEdgeOnly, R"({"tenant":"acme","redirect_uri":"https://edge.example/oauth/acme/callback"})"}},
      {"CompleteIdpSignIn", {kEdgeOnly, R"({"state":"nosuch","code":"x"})"}},
      {"SignAccessToken", {kEdgeOnly, R"({"tenant":"acme","issuer":"i","audience":"a","subject":"s","client_id":"c"})"}},
      {"GetTokenKeys", {kEdgeOnly}},
  };
  return *t;
}

const std::map<std::string, Row>& VaultTable() {
  static const auto* t = new std::map<std::string, Row>{
      {"PutApiKeyCredential", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty","access":"ACCESS_FULL"})"}},
      {"PutOAuthApp", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty","flavor":"OAUTH_FLAVOR_SCOPED"})"}},
      {"GetCredentialInfo", {"UUPPAAANPUU", R"({"tenant":"acme","server":"pagerduty"})"}},
      {"RotateApiKey", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty"})"}},
      {"RotateOAuthClientSecret", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty"})"}},
      {"DeleteCredential", {kAdminOnly, R"({"tenant":"acme","server":"nosuch"})"}},
      {"VerifyCredential", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty"})"}},
      // The edge on a user's behalf, or a user for themself (not the operator).
      {"BeginUserAuthorization", {"UUAPPPANAUU", R"({"tenant":"acme","server":"pagerduty","user":"ana@acme.com"})"}},
      {"CompleteUserAuthorization", {kEdgeOnly, R"({"state":"s","code":"c"})"}},
      // Members see and revoke their own grants.
      {"ListUserGrants", {"UUPPPAANAUU"}},
      {"RevokeUserGrant", {"UUPPPAANAUU", R"({"tenant":"acme","server":"pagerduty","user":"ana@acme.com"})"}},
      {"GetUpstreamCredential", {kEdgeOnly, R"({"tenant":"acme","server":"pagerduty","user":"ana@acme.com"})"}},
      {"RotateKek", {kOperatorOnly}},
      {"DeleteTenantSecrets", {kOperatorOnly, R"({"tenant":"nosuch"})"}},
  };
  return *t;
}

const std::map<std::string, Row>& GovernanceTable() {
  static const auto* t = new std::map<std::string, Row>{
      {"RegisterServer", {kAdminOnly, R"({"tenant":"acme","name":"pd-$N","auth_mode":"AUTH_MODE_API_KEY"})"}},
      {"GetServer", {kAdminOnly, R"({"tenant":"acme","server":"pagerduty"})"}},
      {"ListServers", {kAdminOnly}},
      {"UpdateServer", {kAdminOnly, R"({"tenant":"acme","server":"nosuch"})"}},
      {"DeleteServer", {kAdminOnly, R"({"tenant":"acme","server":"nosuch"})"}},
      {"SyncTools", {kAdminOnly, R"({"tenant":"acme","server":"nosuch"})"}},
      {"ListTools", {kAdminOnly, R"({"tenant":"acme","server":"nosuch"})"}},
      {"SetToolState", {kAdminOnly, R"({"tenant":"acme","server":"nosuch","state":"TOOL_STATE_APPROVED"})"}},
      {"SetToolKillSwitch", {kAdminOnly, R"({"tenant":"acme","server":"nosuch","tool":"t"})"}},
      {"CreateToolset", {kAdminOnly}},
      {"UpdateToolset", {kAdminOnly, R"({"tenant":"acme","toolset":"nosuch"})"}},
      {"DeleteToolset", {kAdminOnly, R"({"tenant":"acme","toolset":"nosuch"})"}},
      {"ListToolsets", {kAdminOnly}},
      {"CreateAccessProfile", {kAdminOnly}},
      {"UpdateAccessProfile", {kAdminOnly, R"({"tenant":"acme","profile":"nosuch"})"}},
      {"DeleteAccessProfile", {kAdminOnly, R"({"tenant":"acme","profile":"nosuch"})"}},
      {"ListAccessProfiles", {kAdminOnly}},
      {"Authorize", {kEdgeOrOperator}},
      {"ListAllowedTools", {kEdgeOrOperator}},
      {"WatchPolicy", {"UUAPPAANPUU"}},  // an admin may watch their own tenant
      {"RecordToolCalls", {kEdgeOrOperator}},
      {"QueryAudit", {kAdminOnly}},
      {"ExportAudit", {kAdminOnly}},
      {"VerifyAuditChain", {kAdminOnly}},
      {"GetAuditSettings", {kAdminOnly}},
      {"UpdateAuditSettings", {kAdminOnly}},
      {"DeleteTenantPolicy", {kOperatorOnly, R"({"tenant":"nosuch"})"}},
  };
  return *t;
}

std::string KeyringLine(int version, char fill) {
  return absl::StrCat(version, " ", crypto::Base64Encode(std::string(32, fill)), "\n");
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

grpcutil::ServiceIdentities AllServices() {
  grpcutil::ServiceIdentities ids;
  ids.Add("edge", kEdgeToken);
  ids.Add("vault", kVaultToken);
  ids.Add("governance", kGovernanceToken);
  return ids;
}

class CallerTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every callee lists every service: a listed service calling an RPC not meant for it is the
    // case the table is about.
    auto tenant = tenant::TestTenantServer::Start(
        {kOperatorToken, {{"edge", kEdgeToken}, {"vault", kVaultToken}, {"governance", kGovernanceToken}}});
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_server_ = *std::move(tenant);
    tenant_channel_ = tenant_server_->InsecureChannel();
    tenant_stub_ = tpb::TenantService::NewStub(tenant_channel_);
    executor_ = std::make_unique<Executor>(4, 200);
    StartVault();
    StartGovernance();
    Seed();
  }

  void TearDown() override {
    if (governance_server_ != nullptr) governance_server_->Shutdown(std::chrono::system_clock::now());
    if (idp_server_ != nullptr) idp_server_->Shutdown(std::chrono::system_clock::now());
    if (vault_server_ != nullptr) vault_server_->Shutdown(std::chrono::system_clock::now());
    if (executor_ != nullptr) executor_->Shutdown();
  }

  pg::Pool& pool() { return tenant_server_->pool(); }

  std::unique_ptr<auth::CallerResolver> Resolver(tenant::TenantClient& tenants) {
    return std::make_unique<auth::CallerResolver>(
        kOperatorToken, AllServices(), [&tenants](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenants.Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tpb::ROLE_ADMIN};
        },
        RealClock::Get(), absl::ZeroDuration());
  }

  void StartVault() {
    ASSERT_TRUE(pg::Migrate(pool(), "vault", migrations::vault_migrations()).ok());
    vault_store_ = std::make_unique<vault::PgVaultStore>(pool());
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string keyring = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/kek-", ::getpid());
    std::ofstream(keyring, std::ios::trunc) << KeyringLine(1, 'k');
    auto keys = vault::KeyringSource::FromFile(keyring);
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    envelope_ = std::make_unique<vault::Envelope>(*keys_, *vault_store_, RealClock::Get());
    vault_tenants_ = std::make_unique<tenant::GrpcTenantClient>(tenant_channel_, kVaultToken);
    vault_callers_ = Resolver(*vault_tenants_);
    vault::VaultOptions options;
    // Nothing here reaches PagerDuty: a closed port answers at once.
    options.authorize_url = "http://127.0.0.1:1/oauth/authorize";
    options.token_url = "http://127.0.0.1:1/oauth/token";
    options.redirect_url = "https://edge.example.com/oauth/callback";
    options.api_url_us = "http://127.0.0.1:1";
    vault_logic_ = std::make_unique<vault::VaultService>(*vault_store_, *envelope_, *vault_tenants_, http_,
                                                         RealClock::Get(), registry_, options);
    vault_runner_ = std::make_unique<grpcutil::CallRunner>("vault", *executor_, registry_);
    vault_grpc_ = std::make_unique<vault::VaultGrpc>(*vault_logic_, *vault_runner_, *vault_callers_);
    vault_server_ = Serve(vault_grpc_.get(), &vault_address_);

    idp_directory_ = std::make_unique<vault::TenantDirectory>(*vault_tenants_, RealClock::Get());
    oidc_ = std::make_unique<vault::OidcClient>(http_, RealClock::Get());
    idp_store_ = std::make_unique<vault::PgIdpStore>(pool());
    idp_logic_ = std::make_unique<vault::IdpService>(*idp_store_, *envelope_, *idp_directory_, *oidc_,
                                                     RealClock::Get(), registry_);
    idp_grpc_ = std::make_unique<vault::IdpGrpc>(*idp_logic_, *vault_runner_, *vault_callers_);
    idp_server_ = Serve(idp_grpc_.get(), &idp_address_);
  }

  void StartGovernance() {
    ASSERT_TRUE(pg::Migrate(pool(), "governance", migrations::governance_migrations()).ok());
    governance_store_ = std::make_unique<governance::PgGovernanceStore>(pool());
    governance_tenants_ = std::make_unique<tenant::GrpcTenantClient>(tenant_channel_, kGovernanceToken);
    credentials_ = std::make_unique<governance::VaultCredentialInfo>(
        grpc::CreateChannel(vault_address_, grpc::InsecureChannelCredentials()), kGovernanceToken);
    governance::GovernanceOptions opts;
    opts.registry = &registry_;
    governance_logic_ = std::make_unique<governance::GovernanceService>(
        *governance_store_, RealClock::Get(), *governance_tenants_, catalog_, *credentials_, opts);
    governance_callers_ = Resolver(*governance_tenants_);
    governance_runner_ = std::make_unique<grpcutil::CallRunner>("governance", *executor_, registry_);
    governance_grpc_ = std::make_unique<governance::GovernanceGrpc>(*governance_logic_, *governance_runner_,
                                                                    *governance_callers_, *executor_);
    governance_server_ = Serve(governance_grpc_.get(), &governance_address_);
  }

  std::unique_ptr<grpc::ClientContext> AsOperator() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kOperatorToken));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  void OperatorDoes(const std::string& what, const grpc::Status& s) {
    ASSERT_TRUE(s.ok()) << what << ": " << s.error_message();
  }

  tpb::User CreateUser(const std::string& tenant, const std::string& email, tpb::Role role) {
    tpb::CreateUserRequest req;
    req.set_tenant(tenant);
    req.set_email(email);
    req.set_role(role);
    tpb::User u;
    OperatorDoes("create user " + email, tenant_stub_->CreateUser(AsOperator().get(), req, &u));
    return u;
  }

  tpb::IssueClientTokenResponse Issue(const std::string& tenant, const std::string& email) {
    tpb::IssueClientTokenRequest req;
    req.set_tenant(tenant);
    req.set_user(email);
    tpb::IssueClientTokenResponse tok;
    OperatorDoes("issue a token to " + email, tenant_stub_->IssueClientToken(AsOperator().get(), req, &tok));
    return tok;
  }

  // Two tenants; acme with an admin, a member, an admin whose token is revoked and an admin who
  // is disabled; globex with an admin.
  void Seed() {
    for (const char* slug : {"acme", "globex"}) {
      tpb::CreateTenantRequest req;
      req.set_slug(slug);
      tpb::Tenant t;
      OperatorDoes("create tenant", tenant_stub_->CreateTenant(AsOperator().get(), req, &t));
    }
    CreateUser("acme", "admin@acme.com", tpb::ROLE_ADMIN);
    CreateUser("acme", "ana@acme.com", tpb::ROLE_MEMBER);
    CreateUser("acme", "gone@acme.com", tpb::ROLE_ADMIN);
    CreateUser("acme", "off@acme.com", tpb::ROLE_ADMIN);
    CreateUser("globex", "admin@globex.com", tpb::ROLE_ADMIN);
    bearer_[kAdmin] = Issue("acme", "admin@acme.com").secret();
    bearer_[kMember] = Issue("acme", "ana@acme.com").secret();
    bearer_[kOtherAdmin] = Issue("globex", "admin@globex.com").secret();
    tpb::IssueClientTokenResponse gone = Issue("acme", "gone@acme.com");
    bearer_[kRevoked] = gone.secret();
    bearer_[kDisabled] = Issue("acme", "off@acme.com").secret();
    bearer_[kOperator] = kOperatorToken;
    tpb::RevokeClientTokenRequest revoke;
    revoke.set_tenant("acme");
    revoke.set_token_id(gone.token().id());
    tpb::ClientToken revoked;
    OperatorDoes("revoke", tenant_stub_->RevokeClientToken(AsOperator().get(), revoke, &revoked));
    tpb::GetUserRequest disable;
    disable.set_tenant("acme");
    disable.set_user("off@acme.com");
    tpb::User off;
    OperatorDoes("disable", tenant_stub_->DisableUser(AsOperator().get(), disable, &off));
    service_token_[kUnknownService] = "not-a-service-token";
    service_token_[kEdge] = kEdgeToken;
    service_token_[kVault] = kVaultToken;
    service_token_[kGovernance] = kGovernanceToken;
  }

  std::unique_ptr<grpc::ClientContext> As(Column who) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (service_token_.count(who) > 0) ctx->AddMetadata(grpcutil::kServiceTokenHeader, service_token_[who]);
    if (bearer_.count(who) > 0) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", bearer_[who]));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  // The request for `method`, from the row's JSON (with $N replaced by a number unique to the
  // call, so creating calls do not collide).
  grpc::ByteBuffer Request(const MethodDescriptor& method, const Row& row) {
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.input_type());
    EXPECT_NE(prototype, nullptr) << method.full_name();
    std::unique_ptr<google::protobuf::Message> msg(prototype->New());
    std::string json = row.request;
    if (json.empty() && method.input_type()->FindFieldByName("tenant") != nullptr) json = R"({"tenant":"acme"})";
    if (!json.empty()) {
      json = absl::StrReplaceAll(json, {{"$N", absl::StrCat(++serial_)}, {"$MEMBER_TOKEN", bearer_[kMember]}});
      auto s = google::protobuf::util::JsonStringToMessage(json, msg.get());
      EXPECT_TRUE(s.ok()) << method.full_name() << ": " << s.ToString();
    }
    std::string wire = msg->SerializeAsString();
    grpc::Slice slice(wire);
    return grpc::ByteBuffer(&slice, 1);
  }

  // Calls `method` as `who` and returns the status. A server stream that delivers a message, or
  // is still open when its short deadline passes, was accepted: refusals end a stream at once.
  grpc::Status Invoke(const std::shared_ptr<grpc::Channel>& channel, const MethodDescriptor& method,
                      const Row& row, Column who) {
    const std::string path = absl::StrCat("/", method.service()->full_name(), "/", method.name());
    auto ctx = As(who);
    grpc::ByteBuffer request = Request(method, row);
    if (method.server_streaming()) {
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING, channel);
      std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
          grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(channel.get(), rpc, ctx.get(), request));
      grpc::ByteBuffer first;
      if (reader->Read(&first)) {
        ctx->TryCancel();
        reader->Finish();
        return grpc::Status::OK;
      }
      grpc::Status s = reader->Finish();
      if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return grpc::Status::OK;
      return s;
    }
    grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel);
    grpc::ByteBuffer response;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(channel.get(), rpc, ctx.get(),
                                                                                request, &response);
  }

  // Checks every RPC of `service` against `table`; returns the mismatches, one line each.
  std::vector<std::string> Check(const std::string& service_name, const std::map<std::string, Row>& table,
                                 const std::shared_ptr<grpc::Channel>& channel) {
    const ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    EXPECT_NE(service, nullptr) << service_name;
    std::vector<std::string> wrong;
    if (service == nullptr) return wrong;
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor& method = *service->method(m);
      auto row = table.find(method.name());
      if (row == table.end()) {
        wrong.push_back(absl::StrCat(service->name(), "/", method.name(), ": no row in the caller table"));
        continue;
      }
      if (row->second.cells.size() != kColumns) {
        wrong.push_back(absl::StrCat(service->name(), "/", method.name(), ": the row needs ", kColumns, " cells"));
        continue;
      }
      for (int c = 0; c < kColumns; ++c) {
        const char want = row->second.cells[c];
        const grpc::Status got = Invoke(channel, method, row->second, static_cast<Column>(c));
        const grpc::StatusCode code = got.error_code();
        bool ok = false;
        switch (want) {
          case 'A':
            ok = code != grpc::StatusCode::PERMISSION_DENIED && code != grpc::StatusCode::UNAUTHENTICATED &&
                 code != grpc::StatusCode::UNIMPLEMENTED && code != grpc::StatusCode::DEADLINE_EXCEEDED;
            // SignInService answers an unknown OAuth client UNAUTHENTICATED ("invalid_client: …",
            // OAuth's 401): a verdict on the client the request names, not on the caller.
            ok = ok || (code == grpc::StatusCode::UNAUTHENTICATED &&
                        absl::StartsWith(got.error_message(), "invalid_client:"));
            break;
          case 'P': ok = code == grpc::StatusCode::PERMISSION_DENIED; break;
          case 'U': ok = code == grpc::StatusCode::UNAUTHENTICATED; break;
          case 'N': ok = code == grpc::StatusCode::NOT_FOUND; break;
        }
        if (!ok) {
          wrong.push_back(absl::StrCat(service->name(), "/", method.name(), " as ", kColumnNames[c], ": want ",
                                       std::string(1, want), ", got code ", static_cast<int>(code), " (",
                                       got.error_message(), ")"));
        }
      }
    }
    for (const auto& [name, row] : table) {
      if (service->FindMethodByName(name) == nullptr) {
        wrong.push_back(absl::StrCat(service->name(), ": row ", name, " names no RPC"));
      }
    }
    return wrong;
  }

  metrics::Registry registry_;
  http::CurlHttpClient http_;
  governance::PagerDutyToolSource catalog_;
  std::unique_ptr<tenant::TestTenantServer> tenant_server_;
  std::shared_ptr<grpc::Channel> tenant_channel_;
  std::unique_ptr<tpb::TenantService::Stub> tenant_stub_;
  std::unique_ptr<Executor> executor_;

  std::unique_ptr<vault::PgVaultStore> vault_store_;
  std::unique_ptr<vault::KeyringSource> keys_;
  std::unique_ptr<vault::Envelope> envelope_;
  std::unique_ptr<tenant::GrpcTenantClient> vault_tenants_;
  std::unique_ptr<auth::CallerResolver> vault_callers_;
  std::unique_ptr<vault::VaultService> vault_logic_;
  std::unique_ptr<grpcutil::CallRunner> vault_runner_;
  std::unique_ptr<vault::VaultGrpc> vault_grpc_;
  std::unique_ptr<grpc::Server> vault_server_;
  std::string vault_address_;
  std::unique_ptr<vault::TenantDirectory> idp_directory_;
  std::unique_ptr<vault::OidcClient> oidc_;
  std::unique_ptr<vault::PgIdpStore> idp_store_;
  std::unique_ptr<vault::IdpService> idp_logic_;
  std::unique_ptr<vault::IdpGrpc> idp_grpc_;
  std::unique_ptr<grpc::Server> idp_server_;
  std::string idp_address_;

  std::unique_ptr<governance::PgGovernanceStore> governance_store_;
  std::unique_ptr<tenant::GrpcTenantClient> governance_tenants_;
  std::unique_ptr<governance::VaultCredentialInfo> credentials_;
  std::unique_ptr<governance::GovernanceService> governance_logic_;
  std::unique_ptr<auth::CallerResolver> governance_callers_;
  std::unique_ptr<grpcutil::CallRunner> governance_runner_;
  std::unique_ptr<governance::GovernanceGrpc> governance_grpc_;
  std::unique_ptr<grpc::Server> governance_server_;
  std::string governance_address_;

  std::map<int, std::string> bearer_;
  std::map<int, std::string> service_token_;
  int serial_ = 0;
};

TEST_F(CallerTableTest, TenantService) {
  auto wrong = Check(tpb::TenantService::service_full_name(), TenantTable(), tenant_channel_);
  EXPECT_TRUE(wrong.empty()) << absl::StrJoin(wrong, "\n");
}

TEST_F(CallerTableTest, VaultService) {
  auto wrong = Check(vpb::VaultService::service_full_name(), VaultTable(),
                     grpc::CreateChannel(vault_address_, grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(wrong.empty()) << absl::StrJoin(wrong, "\n");
}

TEST_F(CallerTableTest, SignInService) {
  auto wrong = Check(tpb::SignInService::service_full_name(), SignInTable(), tenant_channel_);
  EXPECT_TRUE(wrong.empty()) << absl::StrJoin(wrong, "\n");
}

TEST_F(CallerTableTest, IdentityProviderService) {
  auto wrong = Check(vpb::IdentityProviderService::service_full_name(), IdpTable(),
                     grpc::CreateChannel(idp_address_, grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(wrong.empty()) << absl::StrJoin(wrong, "\n");
}

TEST_F(CallerTableTest, GovernanceService) {
  auto wrong = Check(gpb::GovernanceService::service_full_name(), GovernanceTable(),
                     grpc::CreateChannel(governance_address_, grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(wrong.empty()) << absl::StrJoin(wrong, "\n");
}

}  // namespace
}  // namespace bastion
