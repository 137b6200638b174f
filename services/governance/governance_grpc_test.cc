// Drives the governance service through a real gRPC channel on a real Postgres, with the real
// tenant service (in-process, over its own channel) resolving admins and tenant state and the
// real PagerDuty catalog for discovery. The vault is a fake: it is another service.
#include "services/governance/governance_grpc.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <boost/json.hpp>

#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/pg/migrate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/pagerduty_tool_source.h"
#include "services/governance/pg_governance_store.h"
#include "services/governance/testing/fake_credential_info.h"
#include "services/tenant/client/tenant_client.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;
namespace tpb = ::bastion::tenant::v1;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kGovernanceToken[] = "governance-service-token";

std::unique_ptr<grpc::Server> Serve(grpc::Service* service, int* port) {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  b.RegisterService(service);
  return b.BuildAndStart();
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
}

class GovernanceGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The tenant service, which accepts governance's service identity; governance shares its
    // database.
    auto tenant = tenant::TestTenantServer::Start({kOperatorToken, {{"governance", kGovernanceToken}}});
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_server_ = *std::move(tenant);
    ASSERT_TRUE(pg::Migrate(pool(), "governance", migrations::governance_migrations()).ok());
    executor_ = std::make_unique<Executor>(4, 100);
    tenant_stub_ = tpb::TenantService::NewStub(tenant_server_->InsecureChannel());
    tenant_client_ = std::make_unique<tenant::GrpcTenantClient>(tenant_server_->InsecureChannel(),
                                                                kGovernanceToken);

    // Governance, which accepts the edge's.
    store_ = std::make_unique<PgGovernanceStore>(pool());
    GovernanceOptions opts;
    opts.registry = &registry_;
    logic_ = std::make_unique<GovernanceService>(*store_, RealClock::Get(), *tenant_client_, catalog_,
                                                 creds_, opts);
    grpcutil::ServiceIdentities edge;
    edge.Add("edge", kEdgeToken);
    callers_ = std::make_unique<auth::CallerResolver>(
        kOperatorToken, edge, [this](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenant_client_->Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tpb::ROLE_ADMIN};
        });
    runner_ = std::make_unique<grpcutil::CallRunner>("governance", *executor_, registry_);
    service_ = std::make_unique<GovernanceGrpc>(*logic_, *runner_, *callers_, *executor_);
    int port = 0;
    server_ = Serve(service_.get(), &port);
    ASSERT_NE(port, 0);
    channel_ = Channel(port);
    stub_ = pb::GovernanceService::NewStub(channel_);

    acme_admin_ = TenantWithAdmin("acme");
    globex_admin_ = TenantWithAdmin("globex");
    ana_ = CreateUser("acme", "ana@acme.com");
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    executor_->Shutdown();
    // tenant_server_, declared first, goes last: the governance store uses its database.
  }

  pg::Pool& pool() { return tenant_server_->pool(); }

  std::unique_ptr<grpc::ClientContext> As(const std::string& bearer) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) ctx->AddMetadata("authorization", "Bearer " + bearer);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }
  std::unique_ptr<grpc::ClientContext> AsEdge() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    grpcutil::PrepareClientContext(*ctx, kEdgeToken, absl::Seconds(10));
    return ctx;
  }

  std::string CreateUser(const std::string& tenant, const std::string& email,
                         tpb::Role role = tpb::ROLE_MEMBER) {
    tpb::CreateUserRequest cu;
    cu.set_tenant(tenant);
    cu.set_email(email);
    cu.set_role(role);
    tpb::User u;
    EXPECT_TRUE(tenant_stub_->CreateUser(As(kOperatorToken).get(), cu, &u).ok());
    return u.id();
  }

  // An active tenant with the PagerDuty catalog entry on; returns its admin's client token.
  std::string TenantWithAdmin(const std::string& slug) {
    tpb::CreateTenantRequest ct;
    ct.set_slug(slug);
    tpb::Tenant t;
    EXPECT_TRUE(tenant_stub_->CreateTenant(As(kOperatorToken).get(), ct, &t).ok());
    tpb::CatalogEntryRequest ce;
    ce.set_tenant(slug);
    ce.set_key("pagerduty");
    tpb::CatalogEntry entry;
    EXPECT_TRUE(tenant_stub_->EnableCatalogEntry(As(kOperatorToken).get(), ce, &entry).ok());
    tpb::TenantRef ref;
    ref.set_tenant(slug);
    EXPECT_TRUE(tenant_stub_->ActivateAiAccess(As(kOperatorToken).get(), ref, &t).ok());
    CreateUser(slug, "admin@" + slug + ".com", tpb::ROLE_ADMIN);
    tpb::IssueClientTokenRequest it;
    it.set_tenant(slug);
    it.set_user("admin@" + slug + ".com");
    tpb::IssueClientTokenResponse tok;
    EXPECT_TRUE(tenant_stub_->IssueClientToken(As(kOperatorToken).get(), it, &tok).ok());
    return tok.secret();
  }

  grpc::Status Register(const std::string& admin, const std::string& tenant) {
    pb::RegisterServerRequest req;
    req.set_tenant(tenant);
    req.set_name("pagerduty");
    req.set_type(pb::SERVER_TYPE_PAGERDUTY);
    req.set_auth_mode(pb::AUTH_MODE_API_KEY);
    req.set_tool_policy(pb::TOOL_POLICY_REQUIRE_REVIEW);
    pb::RegisterServerResponse resp;
    return stub_->RegisterServer(As(admin).get(), req, &resp);
  }

  // acme: pagerduty registered, list_incidents and get_incident approved, toolset "oncall" of
  // both, profile "responders" granting it to ana.
  void GrantAna() {
    ASSERT_TRUE(Register(acme_admin_, "acme").ok());
    pb::SetToolStateRequest approve;
    approve.set_tenant("acme");
    approve.set_server("pagerduty");
    approve.add_tools("list_incidents");
    approve.add_tools("get_incident");
    approve.set_state(pb::TOOL_STATE_APPROVED);
    pb::SetToolStateResponse approved;
    ASSERT_TRUE(stub_->SetToolState(As(acme_admin_).get(), approve, &approved).ok());
    pb::CreateToolsetRequest ts;
    ts.set_tenant("acme");
    ts.set_name("oncall");
    ts.set_server("pagerduty");
    ts.add_tools("list_incidents");
    ts.add_tools("get_incident");
    pb::Toolset toolset;
    ASSERT_TRUE(stub_->CreateToolset(As(acme_admin_).get(), ts, &toolset).ok());
    pb::CreateAccessProfileRequest ap;
    ap.set_tenant("acme");
    ap.set_name("responders");
    ap.add_toolsets("oncall");
    ap.add_members("user:ana@acme.com");
    pb::AccessProfile profile;
    ASSERT_TRUE(stub_->CreateAccessProfile(As(acme_admin_).get(), ap, &profile).ok());
  }

  pb::AuthorizeResponse Authorize(const std::string& tool) {
    pb::AuthorizeRequest req;
    req.set_tenant("acme");
    req.set_user_id(ana_);
    req.set_server("pagerduty");
    req.set_tool(tool);
    pb::AuthorizeResponse resp;
    grpc::Status s = stub_->Authorize(AsEdge().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::unique_ptr<tenant::TestTenantServer> tenant_server_;
  metrics::Registry registry_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<tpb::TenantService::Stub> tenant_stub_;
  std::unique_ptr<tenant::GrpcTenantClient> tenant_client_;
  PagerDutyToolSource catalog_;
  FakeCredentialInfo creds_;
  std::unique_ptr<PgGovernanceStore> store_;
  std::unique_ptr<GovernanceService> logic_;
  std::unique_ptr<auth::CallerResolver> callers_;
  std::unique_ptr<grpcutil::CallRunner> runner_;
  std::unique_ptr<GovernanceGrpc> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::GovernanceService::Stub> stub_;
  std::string acme_admin_, globex_admin_, ana_;
};

TEST_F(GovernanceGrpcTest, AnAdminsReviewAndGrantReachTheEdgesDecisions) {
  pb::RegisterServerRequest req;
  req.set_tenant("acme");
  req.set_name("pagerduty");
  req.set_auth_mode(pb::AUTH_MODE_API_KEY);
  pb::RegisterServerResponse reg;
  ASSERT_TRUE(stub_->RegisterServer(As(acme_admin_).get(), req, &reg).ok());
  EXPECT_EQ(reg.server().tool_policy(), pb::TOOL_POLICY_TENANT_DEFAULT);
  EXPECT_EQ(reg.discovery().new_tools(), 103);
  EXPECT_GT(reg.discovery().policy_version(), 0);

  pb::ListToolsRequest lt;
  lt.set_tenant("acme");
  lt.set_server("pagerduty");
  lt.set_state(pb::TOOL_STATE_PENDING_REVIEW);
  pb::ListToolsResponse pending;
  ASSERT_TRUE(stub_->ListTools(As(acme_admin_).get(), lt, &pending).ok());
  EXPECT_EQ(pending.tools_size(), 103);
  const pb::Tool* create = nullptr;
  for (const auto& t : pending.tools()) {
    if (t.name() == "create_incident") create = &t;
  }
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->access(), pb::ACCESS_WRITE);
  EXPECT_THAT(create->oauth_scopes(), ElementsAre("incidents.write"));
  EXPECT_TRUE(create->credential().can_serve());

  pb::SetToolStateRequest approve;
  approve.set_tenant("acme");
  approve.set_server("pagerduty");
  approve.add_tools("list_incidents");
  approve.add_tools("get_incident");
  approve.set_state(pb::TOOL_STATE_APPROVED);
  pb::SetToolStateResponse approved;
  ASSERT_TRUE(stub_->SetToolState(As(acme_admin_).get(), approve, &approved).ok());
  pb::CreateAccessProfileRequest ap;
  ap.set_tenant("acme");
  ap.set_name("responders");
  ap.add_toolsets("all-approved");
  ap.add_members("user:ana@acme.com");
  pb::AccessProfile profile;
  ASSERT_TRUE(stub_->CreateAccessProfile(As(acme_admin_).get(), ap, &profile).ok());
  EXPECT_EQ(profile.members(0).label(), "ana@acme.com");
  EXPECT_EQ(profile.members(0).id(), ana_);

  pb::AuthorizeResponse ok = Authorize("list_incidents");
  EXPECT_TRUE(ok.allowed());
  EXPECT_EQ(ok.reason(), pb::DENY_REASON_NONE);
  EXPECT_EQ(ok.access(), pb::ACCESS_READ);
  pb::AuthorizeResponse pending_one = Authorize("create_incident");
  EXPECT_FALSE(pending_one.allowed());
  EXPECT_EQ(pending_one.reason(), pb::DENY_REASON_TOOL_PENDING_REVIEW);

  pb::ListAllowedToolsRequest la;
  la.set_tenant("acme");
  la.set_user_id(ana_);
  la.set_server("pagerduty");
  pb::ListAllowedToolsResponse allowed;
  ASSERT_TRUE(stub_->ListAllowedTools(AsEdge().get(), la, &allowed).ok());
  ASSERT_EQ(allowed.tools_size(), 2);
  EXPECT_EQ(allowed.tools(0).name(), "get_incident");
  EXPECT_EQ(allowed.tools(1).name(), "list_incidents");
  EXPECT_TRUE(boost::json::parse(allowed.tools(1).definition_json()).as_object().contains("inputSchema"));
  EXPECT_EQ(allowed.policy_version(), approved.policy_version() + 1);
  EXPECT_FALSE(allowed.has_valid_until());  // no grant behind the list expires
}

TEST_F(GovernanceGrpcTest, AnAdminOfAnotherTenantCanNeitherReadNorChangeIt) {
  GrantAna();
  pb::ServerRef ref;
  ref.set_tenant("acme");
  ref.set_server("pagerduty");
  pb::Server server;
  grpc::Status other = stub_->GetServer(As(globex_admin_).get(), ref, &server);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(other.error_message(), "tenant 'acme' not found");

  pb::SetToolStateRequest disable;
  disable.set_tenant("acme");
  disable.set_server("pagerduty");
  disable.add_tools("list_incidents");
  disable.set_state(pb::TOOL_STATE_DISABLED);
  pb::SetToolStateResponse changed;
  EXPECT_EQ(stub_->SetToolState(As(globex_admin_).get(), disable, &changed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::AccessProfileRef profile;
  profile.set_tenant("acme");
  profile.set_profile("responders");
  pb::DeleteAccessProfileResponse deleted;
  EXPECT_EQ(stub_->DeleteAccessProfile(As(globex_admin_).get(), profile, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
  pb::QueryAuditRequest audit;
  audit.set_tenant("acme");
  pb::QueryAuditResponse events;
  EXPECT_EQ(stub_->QueryAudit(As(globex_admin_).get(), audit, &events).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(events.events_size(), 0);

  // Nothing of acme changed: ana is still allowed.
  EXPECT_TRUE(Authorize("list_incidents").allowed());
}

TEST_F(GovernanceGrpcTest, BadInputGetsAClearErrorAndChangesNothing) {
  ASSERT_TRUE(Register(acme_admin_, "acme").ok());
  pb::ServerRef unknown;
  unknown.set_tenant("acme");
  unknown.set_server("opsgenie");
  pb::SyncSummary sync;
  grpc::Status s = stub_->SyncTools(As(acme_admin_).get(), unknown, &sync);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "server 'opsgenie' not found in this tenant");

  pb::CreateToolsetRequest ts;
  ts.set_tenant("acme");
  ts.set_name("oncall");
  ts.set_server("pagerduty");
  ts.add_tools("format_disk");
  pb::Toolset toolset;
  s = stub_->CreateToolset(As(acme_admin_).get(), ts, &toolset);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "server 'pagerduty' has no tool 'format_disk' (see ListTools)");
  ts.set_name("");
  ts.clear_tools();
  s = stub_->CreateToolset(As(acme_admin_).get(), ts, &toolset);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "toolset name must not be empty");

  pb::CreateAccessProfileRequest ap;
  ap.set_tenant("acme");
  ap.set_name("responders");
  ap.add_members("user:nobody@acme.com");
  pb::AccessProfile profile;
  s = stub_->CreateAccessProfile(As(acme_admin_).get(), ap, &profile);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "user 'nobody@acme.com' not found in this tenant");

  pb::SetToolStateRequest no_state;
  no_state.set_tenant("acme");
  no_state.set_server("pagerduty");
  no_state.add_tools("list_incidents");
  pb::SetToolStateResponse changed;
  s = stub_->SetToolState(As(acme_admin_).get(), no_state, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "state must be one of: pending_review, approved, disabled, removed");

  pb::RegisterServerRequest no_mode;
  no_mode.set_tenant("acme");
  no_mode.set_name("second");
  pb::RegisterServerResponse reg;
  s = stub_->RegisterServer(As(acme_admin_).get(), no_mode, &reg);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "auth_mode must be one of: oauth, api_key");

  pb::ListToolsetsRequest lts;
  lts.set_tenant("acme");
  pb::ListToolsetsResponse sets;
  ASSERT_TRUE(stub_->ListToolsets(As(acme_admin_).get(), lts, &sets).ok());
  EXPECT_EQ(sets.toolsets_size(), 2);  // the built-ins only
  pb::ListAccessProfilesRequest lap;
  lap.set_tenant("acme");
  pb::ListAccessProfilesResponse profiles;
  ASSERT_TRUE(stub_->ListAccessProfiles(As(acme_admin_).get(), lap, &profiles).ok());
  EXPECT_EQ(profiles.profiles_size(), 0);
  pb::ListServersRequest ls;
  ls.set_tenant("acme");
  pb::ListServersResponse servers;
  ASSERT_TRUE(stub_->ListServers(As(acme_admin_).get(), ls, &servers).ok());
  EXPECT_EQ(servers.servers_size(), 1);
}

TEST_F(GovernanceGrpcTest, DecisionsNeedABastionServiceIdentity) {
  GrantAna();
  pb::AuthorizeRequest req;
  req.set_tenant("acme");
  req.set_user_id(ana_);
  req.set_server("pagerduty");
  req.set_tool("list_incidents");
  pb::AuthorizeResponse resp;
  EXPECT_EQ(stub_->Authorize(As(acme_admin_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub_->Authorize(As("").get(), req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto forged = std::make_unique<grpc::ClientContext>();
  grpcutil::PrepareClientContext(*forged, "not-the-edge", absl::Seconds(5));
  EXPECT_EQ(stub_->Authorize(forged.get(), req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(resp.allowed());
}

TEST_F(GovernanceGrpcTest, WatchPolicyStreamsTheCurrentVersionThenEveryChange) {
  GrantAna();
  auto ctx = AsEdge();
  pb::WatchPolicyRequest req;
  req.set_tenant("acme");
  auto stream = stub_->WatchPolicy(ctx.get(), req);
  pb::PolicyVersion first;
  ASSERT_TRUE(stream->Read(&first));
  EXPECT_GT(first.version(), 0);
  EXPECT_FALSE(first.tenant_id().empty());

  pb::SetToolKillSwitchRequest kill;
  kill.set_tenant("acme");
  kill.set_server("pagerduty");
  kill.set_tool("list_incidents");
  kill.set_on(true);
  pb::Tool tool;
  ASSERT_TRUE(stub_->SetToolKillSwitch(As(acme_admin_).get(), kill, &tool).ok());
  pb::PolicyVersion next;
  ASSERT_TRUE(stream->Read(&next));
  EXPECT_EQ(next.version(), first.version() + 1);
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_KILL_SWITCH);
  ctx->TryCancel();
  while (stream->Read(&next)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // Another tenant's admin cannot watch acme.
  auto theirs = As(globex_admin_);
  auto refused = stub_->WatchPolicy(theirs.get(), req);
  EXPECT_FALSE(refused->Read(&next));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GovernanceGrpcTest, TheEdgeCanWatchEveryTenantAndAdminsCannot) {
  GrantAna();
  auto ctx = AsEdge();
  pb::WatchPolicyRequest all;  // no tenant: every tenant's changes
  auto stream = stub_->WatchPolicy(ctx.get(), all);

  pb::SetToolKillSwitchRequest kill;
  kill.set_tenant("acme");
  kill.set_server("pagerduty");
  kill.set_tool("list_incidents");
  kill.set_on(true);
  pb::Tool tool;
  // The watch registers on the server's executor; retry the change until it is heard.
  pb::PolicyVersion heard;
  ASSERT_TRUE(stub_->SetToolKillSwitch(As(acme_admin_).get(), kill, &tool).ok());
  absl::SleepFor(absl::Milliseconds(300));
  kill.set_on(false);
  ASSERT_TRUE(stub_->SetToolKillSwitch(As(acme_admin_).get(), kill, &tool).ok());
  ASSERT_TRUE(stream->Read(&heard));
  EXPECT_FALSE(heard.tenant_id().empty());
  EXPECT_GT(heard.version(), 0);
  ctx->TryCancel();
  while (stream->Read(&heard)) {
  }

  auto admin = As(acme_admin_);
  auto refused = stub_->WatchPolicy(admin.get(), all);
  EXPECT_FALSE(refused->Read(&heard));
  EXPECT_NE(refused->Finish().error_code(), grpc::StatusCode::OK);
}

pb::ToolCallEvent ToolCall(const std::string& user_id) {
  pb::ToolCallEvent e;
  e.set_event_id("22222222-2222-4222-8222-222222222222");
  e.set_tenant("acme");
  e.set_user_id(user_id);
  e.set_user_email("ana@acme.com");
  e.set_server("pagerduty");
  e.set_tool("list_incidents");
  e.set_decision(pb::DECISION_ALLOW);
  e.set_reason(pb::DENY_REASON_NONE);
  e.set_outcome(pb::OUTCOME_SUCCESS);
  e.set_upstream_status(200);
  return e;
}

// Issue 11, defect 7: "a\0b" was stored as "a", and the chain then reported the event altered.
TEST_F(GovernanceGrpcTest, ARequestIdWithNulIsRefusedAndNothingIsStored) {
  GrantAna();
  pb::RecordToolCallsRequest rec;
  *rec.add_events() = ToolCall(ana_);
  rec.mutable_events(0)->set_request_id(std::string("a\0b", 3));
  pb::RecordToolCallsResponse recorded;
  grpc::Status s = stub_->RecordToolCalls(AsEdge().get(), rec, &recorded);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("events[0].request_id"));

  pb::QueryAuditRequest q;
  q.set_tenant("acme");
  q.mutable_filter()->set_kind(pb::AUDIT_KIND_TOOL_CALL);
  pb::QueryAuditResponse events;
  ASSERT_TRUE(stub_->QueryAudit(As(acme_admin_).get(), q, &events).ok());
  EXPECT_EQ(events.events_size(), 0);
  pb::VerifyAuditChainRequest verify;
  verify.set_tenant("acme");
  pb::VerifyAuditChainResponse check;
  ASSERT_TRUE(stub_->VerifyAuditChain(As(acme_admin_).get(), verify, &check).ok());
  EXPECT_TRUE(check.ok());
}

// Bytes a protobuf encoder would never send for a `string`: the request as another client could
// put it on the wire. Protobuf's parser refuses proto3 strings that are not UTF-8 before any
// handler runs (gRPC's callback server then answers UNIMPLEMENTED, with no message); what
// matters is that nothing runs and nothing is stored.
TEST_F(GovernanceGrpcTest, ARequestIdThatIsNotUtf8IsRefusedAndNothingIsStored) {
  GrantAna();
  pb::RecordToolCallsRequest rec;
  *rec.add_events() = ToolCall(ana_);
  rec.mutable_events(0)->set_request_id("@@");
  const std::string wire = absl::StrReplaceAll(rec.SerializeAsString(), {{"@@", "\xff\xfe"}});
  grpc::Slice slice(wire);
  grpc::ByteBuffer send(&slice, 1);
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue cq;
  auto ctx = AsEdge();
  auto call = generic.PrepareUnaryCall(ctx.get(), "/bastion.governance.v1.GovernanceService/RecordToolCalls",
                                       send, &cq);
  call->StartCall();
  grpc::ByteBuffer received;
  grpc::Status s;
  call->Finish(&received, &s, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << "refused at once, not hung";
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }

  pb::QueryAuditRequest q;
  q.set_tenant("acme");
  q.mutable_filter()->set_kind(pb::AUDIT_KIND_TOOL_CALL);
  pb::QueryAuditResponse events;
  ASSERT_TRUE(stub_->QueryAudit(As(acme_admin_).get(), q, &events).ok());
  EXPECT_EQ(events.events_size(), 0);
}

TEST_F(GovernanceGrpcTest, ToolCallsRecordedTwiceAreStoredOnceAndExportAsJsonLines) {
  GrantAna();
  pb::RecordToolCallsRequest rec;
  pb::ToolCallEvent* e = rec.add_events();
  e->set_event_id("11111111-1111-4111-8111-111111111111");
  e->set_tenant("acme");
  e->set_user_id(ana_);
  e->set_user_email("ana@acme.com");
  e->set_server("pagerduty");
  e->set_tool("list_incidents");
  e->set_decision(pb::DECISION_ALLOW);
  e->set_reason(pb::DENY_REASON_NONE);
  e->set_outcome(pb::OUTCOME_SUCCESS);
  e->set_upstream_status(200);
  pb::RecordToolCallsResponse recorded;
  ASSERT_TRUE(stub_->RecordToolCalls(AsEdge().get(), rec, &recorded).ok());
  EXPECT_EQ(recorded.recorded(), 1);
  ASSERT_TRUE(stub_->RecordToolCalls(AsEdge().get(), rec, &recorded).ok());
  EXPECT_EQ(recorded.recorded(), 0);
  EXPECT_EQ(recorded.duplicates(), 1);
  rec.mutable_events(0)->set_outcome(pb::OUTCOME_UNSPECIFIED);
  EXPECT_EQ(stub_->RecordToolCalls(AsEdge().get(), rec, &recorded).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  pb::ExportAuditRequest ex;
  ex.set_tenant("acme");
  auto ctx = As(acme_admin_);
  auto reader = stub_->ExportAudit(ctx.get(), ex);
  std::string all;
  pb::ExportAuditChunk chunk;
  while (reader->Read(&chunk)) all += chunk.jsonl();
  ASSERT_TRUE(reader->Finish().ok());
  std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u);  // register, approve, toolset, profile, one tool call
  auto last = boost::json::parse(lines.back()).as_object();
  EXPECT_EQ(last.at("kind").as_string(), "tool_call");
  EXPECT_EQ(last.at("user_email").as_string(), "ana@acme.com");
  EXPECT_EQ(boost::json::parse(lines[1]).at("actor").as_string(), "user:admin@acme.com");

  pb::VerifyAuditChainRequest verify;
  verify.set_tenant("acme");
  pb::VerifyAuditChainResponse check;
  ASSERT_TRUE(stub_->VerifyAuditChain(As(acme_admin_).get(), verify, &check).ok());
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.events_checked(), 5);
}

}  // namespace
}  // namespace bastion::governance
