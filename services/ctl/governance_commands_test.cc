// bastionctl's governance commands against the real tenant and governance services (gRPC on real
// ports, real Postgres, the real PagerDuty catalog for discovery): an admin session from server
// registration to a call the edge's decision allows, review and risk flags, the audit log, bad
// input and another tenant's admin. Only the vault is a stand-in: it is another service.
#include <grpcpp/grpcpp.h>

#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/caller.h"
#include "common/pg/migrate.h"
#include "gtest/gtest.h"
#include "services/ctl/cli.h"
#include "services/governance/governance_grpc.h"
#include "services/governance/governance_migrations.h"
#include "services/governance/pagerduty_tool_source.h"
#include "services/governance/pg_governance_store.h"
#include "services/governance/testing/fake_credential_info.h"
#include "services/tenant/client/tenant_client.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::governance::v1;
namespace tpb = ::bastion::tenant::v1;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kGovernanceToken[] = "governance-service-token";

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

boost::json::array JsonArray(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << text;
  if (ec || !v.is_array()) {
    ADD_FAILURE() << "not a JSON array:\n" << text;
    return {};
  }
  return v.as_array();
}

std::string Str(const boost::json::value& v, const char* key) {
  const boost::json::value* field = v.as_object().if_contains(key);
  return field != nullptr && field->is_string() ? std::string(field->as_string()) : "";
}

// The table row whose first cell is `first`, or "" (no row).
std::string Row(const std::string& table, const std::string& first) {
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    if (absl::StartsWith(line, first + " ")) return std::string(line);
  }
  return "";
}

std::unique_ptr<grpc::Server> Serve(grpc::Service* service, int* port) {
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  b.RegisterService(service);
  return b.BuildAndStart();
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
}

class GovernanceCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The tenant service, which accepts governance's service identity; governance shares its
    // database.
    auto tenant = tenant::TestTenantServer::Start({kOperatorToken, {{"governance", kGovernanceToken}}});
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_server_ = *std::move(tenant);
    ASSERT_TRUE(pg::Migrate(pool(), "governance", migrations::governance_migrations()).ok());
    executor_ = std::make_unique<Executor>(4, 100);
    tenant_client_ = std::make_unique<tenant::GrpcTenantClient>(tenant_server_->InsecureChannel(),
                                                                kGovernanceToken);

    // Governance, which accepts the edge's.
    gov_store_ = std::make_unique<governance::PgGovernanceStore>(pool());
    governance::GovernanceOptions opts;
    opts.registry = &registry_;
    gov_logic_ = std::make_unique<governance::GovernanceService>(*gov_store_, RealClock::Get(), *tenant_client_,
                                                                 catalog_, creds_, opts);
    grpcutil::ServiceIdentities edge;
    edge.Add("edge", kEdgeToken);
    callers_ = std::make_unique<auth::CallerResolver>(
        kOperatorToken, edge, [this](const std::string& token) -> absl::StatusOr<auth::TokenIdentity> {
          auto id = tenant_client_->Authenticate(token);
          if (!id.ok()) return id.status();
          return auth::TokenIdentity{id->tenant_id(), id->tenant_slug(), id->user_id(), id->email(),
                                     id->role() == tpb::ROLE_ADMIN};
        });
    gov_runner_ = std::make_unique<grpcutil::CallRunner>("governance", *executor_, registry_);
    gov_grpc_ = std::make_unique<governance::GovernanceGrpc>(*gov_logic_, *gov_runner_, *callers_, *executor_);
    int gov_port = 0;
    gov_server_ = Serve(gov_grpc_.get(), &gov_port);
    ASSERT_NE(gov_port, 0);
    edge_ = pb::GovernanceService::NewStub(Channel(gov_port));

    env_.vars["BASTION_TENANT_ADDR"] = tenant_server_->address();
    env_.vars["BASTION_GOVERNANCE_ADDR"] = "127.0.0.1:" + std::to_string(gov_port);

    acme_admin_ = TenantWithAdmin("acme");
    globex_admin_ = TenantWithAdmin("globex");
    Op({"user", "create", "ana@acme.com", "--tenant", "acme"});
    ana_ = FromJson<tpb::User>(Op({"user", "get", "ana@acme.com", "--tenant", "acme", "--output", "json"})).id();
    acme_id_ = FromJson<tpb::Tenant>(Op({"tenant", "get", "acme", "--output", "json"})).id();
  }

  void TearDown() override {
    gov_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    executor_->Shutdown();
    // tenant_server_, declared first, goes last: governance's store uses its database.
  }

  // Runs bastionctl with `token` as the admin token.
  Result Ctl(const std::vector<std::string>& args, const std::string& token) {
    Env env = env_;
    env.vars["BASTION_ADMIN_TOKEN"] = token;
    std::ostringstream out, err;
    int code = RunCli(args, out, err, env);
    return Result{code, out.str(), err.str()};
  }
  std::string OkAs(const std::string& token, const std::vector<std::string>& args) {
    Result r = Ctl(args, token);
    EXPECT_EQ(r.code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }
  std::string Op(const std::vector<std::string>& args) { return OkAs(kOperatorToken, args); }
  // Runs a command as acme's admin that must succeed; returns stdout.
  std::string Ok(const std::vector<std::string>& args) { return OkAs(acme_admin_, args); }
  Result Acme(const std::vector<std::string>& args) { return Ctl(args, acme_admin_); }

  // An active tenant with the PagerDuty catalog entry on, set up by the operator through the CLI;
  // returns its admin's client token.
  std::string TenantWithAdmin(const std::string& slug) {
    Op({"tenant", "create", slug});
    Op({"catalog", "enable", "pagerduty", "--tenant", slug});
    Op({"tenant", "activate", slug});
    Op({"user", "create", "admin@" + slug + ".com", "--tenant", slug, "--role", "admin"});
    std::string token = Op({"token", "issue", "admin@" + slug + ".com", "--tenant", slug});
    if (!token.empty()) token.pop_back();  // the newline
    return token;
  }

  void Register() {
    Ok({"server", "register", "pagerduty", "--tenant", "acme", "--type", "pagerduty", "--auth", "api-key",
        "--tool-policy", "require-review"});
  }

  // The decision the edge gets for ana, asked the way the edge asks (its service identity).
  pb::AuthorizeResponse Authorize(const std::string& tool) {
    grpc::ClientContext ctx;
    grpcutil::PrepareClientContext(ctx, kEdgeToken, absl::Seconds(10));
    pb::AuthorizeRequest req;
    req.set_tenant("acme");
    req.set_user_id(ana_);
    req.set_server("pagerduty");
    req.set_tool(tool);
    pb::AuthorizeResponse resp;
    grpc::Status s = edge_->Authorize(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  pg::Pool& pool() { return tenant_server_->pool(); }
  absl::Status Sql(const std::string& sql) { return pool().Execute({"", sql}, {}, absl::Seconds(5)).status(); }

  std::unique_ptr<tenant::TestTenantServer> tenant_server_;
  metrics::Registry registry_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<tenant::GrpcTenantClient> tenant_client_;
  governance::PagerDutyToolSource catalog_;
  governance::FakeCredentialInfo creds_;
  std::unique_ptr<governance::PgGovernanceStore> gov_store_;
  std::unique_ptr<governance::GovernanceService> gov_logic_;
  std::unique_ptr<auth::CallerResolver> callers_;
  std::unique_ptr<grpcutil::CallRunner> gov_runner_;
  std::unique_ptr<governance::GovernanceGrpc> gov_grpc_;
  std::unique_ptr<grpc::Server> gov_server_;
  std::unique_ptr<pb::GovernanceService::Stub> edge_;
  Env env_;
  std::string acme_admin_, globex_admin_, ana_, acme_id_;
};

TEST_F(GovernanceCommandsTest, AnAdminSessionFromRegistrationToACallTheEdgeAllows) {
  std::string registered = Ok({"server", "register", "pagerduty", "--tenant", "acme", "--type", "pagerduty",
                               "--auth", "api-key", "--tool-policy", "require-review"});
  EXPECT_TRUE(absl::StartsWith(registered,
                               "Registered server pagerduty (pagerduty, us, api-key, tool policy require-review) "
                               "in tenant acme.\nDiscovery: 103 new, 0 changed, 0 removed, 0 unchanged.\n"))
      << registered;

  boost::json::array pending =
      JsonArray(Ok({"tools", "list", "pagerduty", "--tenant", "acme", "--state", "pending-review", "--output", "json"}));
  EXPECT_EQ(pending.size(), 103u);
  std::set<std::string> read_only;
  for (const auto& t : pending) {
    auto tool = FromJson<pb::Tool>(boost::json::serialize(t));
    if (tool.access() == pb::ACCESS_READ && tool.annotations().read_only_hint()) read_only.insert(tool.name());
  }
  ASSERT_GT(read_only.size(), 10u);
  ASSERT_LT(read_only.size(), 103u);
  std::string table = Ok({"tools", "list", "pagerduty", "--tenant", "acme"});
  EXPECT_TRUE(absl::StartsWith(table, "NAME ")) << table;
  std::vector<std::string> row = absl::StrSplit(Row(table, "list_incidents"), ' ', absl::SkipEmpty());
  ASSERT_GE(row.size(), 5u) << table;
  EXPECT_EQ(row[1], "read");
  EXPECT_EQ(row[2], "pending-review");
  EXPECT_EQ(row[3], "-");  // no risk: the stand-in vault has a full-access key
  EXPECT_TRUE(absl::StrContains(row.back(), "incidents.read")) << Row(table, "list_incidents");
  EXPECT_TRUE(absl::StrContains(Row(table, "delete_team"), "destructive")) << table;

  EXPECT_EQ(Ok({"tools", "approve", "pagerduty", "list_incidents", "get_incident", "--tenant", "acme"}),
            "Approved 2 tools of pagerduty: get_incident, list_incidents.\n");
  // The switch may stand before the server; only the read-only tools still pending are approved.
  std::string bulk = Ok({"tools", "approve", "--all-read-only", "pagerduty", "--tenant", "acme"});
  EXPECT_TRUE(absl::StartsWith(bulk, absl::StrCat("Approved ", read_only.size() - 2, " tools of pagerduty: ")))
      << bulk;
  EXPECT_TRUE(absl::EndsWith(bulk, absl::StrCat(" and ", read_only.size() - 12, " more.\n"))) << bulk;
  boost::json::array approved =
      JsonArray(Ok({"tools", "list", "pagerduty", "--tenant", "acme", "--state", "approved", "--output", "json"}));
  std::set<std::string> approved_names;
  for (const auto& t : approved) approved_names.insert(Str(t, "name"));
  EXPECT_EQ(approved_names, read_only);

  EXPECT_EQ(Ok({"toolset", "create", "oncall", "--tenant", "acme", "--server", "pagerduty", "--tools",
                "list_incidents,get_incident"}),
            "Created toolset oncall on server pagerduty: 2 tools (get_incident, list_incidents).\n");
  std::string profile = Ok({"profile", "create", "responders", "--tenant", "acme", "--toolsets", "oncall",
                            "--members", "user:ana@acme.com", "--expires-in", "30d"});
  EXPECT_TRUE(absl::StartsWith(profile,
                               "Created access profile responders: toolsets oncall for user:ana@acme.com, expires "))
      << profile;

  pb::AuthorizeResponse allowed = Authorize("list_incidents");
  EXPECT_TRUE(allowed.allowed());
  EXPECT_EQ(allowed.access(), pb::ACCESS_READ);
  EXPECT_EQ(Authorize("create_incident").reason(), pb::DENY_REASON_TOOL_PENDING_REVIEW);
  EXPECT_EQ(Authorize("list_services").reason(), pb::DENY_REASON_NOT_GRANTED);  // approved, not granted

  std::string servers = Ok({"server", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(Row(servers, "pagerduty"), "pagerduty  us      api-key  require-review  yes"))
      << servers;
  std::string toolsets = Ok({"toolset", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(Row(toolsets, "approved-read-only"),
                                "built-in  (all)      every approved read-only tool"))
      << toolsets;
  EXPECT_TRUE(absl::StrContains(Row(toolsets, "oncall"), "custom    pagerduty  get_incident,list_incidents"))
      << toolsets;
  std::string profiles = Ok({"profile", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(Row(profiles, "responders"), "oncall    user:ana@acme.com")) << profiles;

  // Every admin change is in the audit log, newest first, under the admin's name, with the
  // proto's snake_case field names.
  boost::json::array events = JsonArray(Ok({"audit", "list", "--tenant", "acme", "--output", "json"}));
  std::vector<std::string> actions;
  for (const auto& e : events) {
    actions.push_back(Str(e, "action"));
    EXPECT_EQ(Str(e, "actor"), "user:admin@acme.com");
    EXPECT_EQ(Str(e, "kind"), "AUDIT_KIND_ADMIN_CHANGE");
    EXPECT_TRUE(e.as_object().contains("user_email"));
    EXPECT_TRUE(e.as_object().contains("details_json"));
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"profile.create", "toolset.create", "tools.set_state",
                                               "tools.set_state", "server.register"}));
  EXPECT_TRUE(absl::StrContains(Str(events[3], "details_json"), "list_incidents")) << Str(events[3], "details_json");

  std::string verified = Ok({"audit", "verify", "--tenant", "acme"});
  EXPECT_TRUE(absl::StartsWith(verified, "OK: 5 events chain correctly; head hash ")) << verified;
}

TEST_F(GovernanceCommandsTest, BadInputExitsOneWithTheServersMessageAndChangesNothing) {
  Register();
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"tools", "sync", "opsgenie", "--tenant", "acme"},
       "error: server 'opsgenie' not found in this tenant (NOT_FOUND)\n"},
      {{"tools", "approve", "pagerduty", "list_incidents", "format_disk", "--tenant", "acme"},
       "error: server 'pagerduty' has no tool 'format_disk' (see ListTools) (NOT_FOUND)\n"},
      {{"toolset", "create", "oncall", "--tenant", "acme", "--server", "pagerduty", "--tools",
        "list_incidents,format_disk"},
       "error: server 'pagerduty' has no tool 'format_disk' (see ListTools) (NOT_FOUND)\n"},
      {{"toolset", "create", "oncall", "--tenant", "acme", "--server", "opsgenie", "--tools", "list_incidents"},
       "error: server 'opsgenie' not found in this tenant (NOT_FOUND)\n"},
      {{"toolset", "create", "On Call", "--tenant", "acme", "--server", "pagerduty", "--tools", "list_incidents"},
       "error: toolset name 'On Call' must be 1 to 63 lowercase letters, digits, '-' or '_', starting with a "
       "letter or digit (INVALID_ARGUMENT)\n"},
      {{"profile", "create", "responders", "--tenant", "acme", "--toolsets", "all-approved", "--members",
        "user:ana@acme.com,user:nobody@acme.com"},
       "error: user 'nobody@acme.com' not found in this tenant (NOT_FOUND)\n"},
      {{"profile", "create", "responders", "--tenant", "acme", "--toolsets", "all-approved", "--members",
        "group:ghosts"},
       "error: group 'ghosts' not found in this tenant (NOT_FOUND)\n"},
      {{"profile", "create", "responders", "--tenant", "acme", "--toolsets", "all-approved", "--members",
        "user:ana@acme.com", "--expires-at", "2001-01-01T00:00:00Z"},
       "error: expires_at must be in the future (INVALID_ARGUMENT)\n"},
  };
  for (const Case& c : cases) {
    Result r = Acme(c.args);
    EXPECT_EQ(r.code, 1) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    EXPECT_EQ(r.err, c.err) << absl::StrJoin(c.args, " ");
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // An empty name never reaches the server: the CLI refuses it as a usage error.
  Result empty = Acme({"toolset", "create", "", "--tenant", "acme", "--server", "pagerduty", "--tools", "x"});
  EXPECT_EQ(empty.code, 2);
  EXPECT_TRUE(absl::StartsWith(empty.err, "error: <name> must not be empty\n")) << empty.err;

  EXPECT_EQ(JsonArray(Ok({"toolset", "list", "--tenant", "acme", "--output", "json"})).size(), 2u);  // built-ins
  EXPECT_TRUE(JsonArray(Ok({"profile", "list", "--tenant", "acme", "--output", "json"})).empty());
  EXPECT_TRUE(JsonArray(Ok({"tools", "list", "pagerduty", "--tenant", "acme", "--state", "approved", "--output",
                            "json"}))
                  .empty());
  boost::json::array events = JsonArray(Ok({"audit", "list", "--tenant", "acme", "--output", "json"}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Str(events[0], "action"), "server.register");
}

TEST_F(GovernanceCommandsTest, AnotherTenantsAdminGetsNotFoundAndChangesNothing) {
  Register();
  Ok({"tools", "approve", "pagerduty", "list_incidents", "--tenant", "acme"});
  Ok({"toolset", "create", "oncall", "--tenant", "acme", "--server", "pagerduty", "--tools", "list_incidents"});
  Ok({"profile", "create", "responders", "--tenant", "acme", "--toolsets", "oncall", "--members",
      "user:ana@acme.com"});

  const std::vector<std::vector<std::string>> attempts = {
      {"server", "list", "--tenant", "acme"},
      {"server", "get", "pagerduty", "--tenant", "acme"},
      {"server", "delete", "pagerduty", "--tenant", "acme"},
      {"tools", "list", "pagerduty", "--tenant", "acme"},
      {"tools", "disable", "pagerduty", "list_incidents", "--tenant", "acme"},
      {"tools", "kill-switch", "pagerduty", "list_incidents", "on", "--tenant", "acme"},
      {"toolset", "update", "oncall", "--tenant", "acme", "--tools", "get_incident"},
      {"profile", "delete", "responders", "--tenant", "acme"},
      {"profile", "list", "--tenant", "acme"},
      {"audit", "list", "--tenant", "acme"},
      {"audit", "export", "--tenant", "acme"},
      {"audit", "verify", "--tenant", "acme"},
  };
  for (const auto& args : attempts) {
    Result r = Ctl(args, globex_admin_);
    EXPECT_EQ(r.code, 1) << absl::StrJoin(args, " ");
    EXPECT_EQ(r.err, "error: tenant 'acme' not found (NOT_FOUND)\n") << absl::StrJoin(args, " ");
    EXPECT_TRUE(r.out.empty()) << absl::StrJoin(args, " ") << "\n" << r.out;
  }
  // Globex's admin sees only globex, which has nothing.
  EXPECT_EQ(OkAs(globex_admin_, {"server", "list", "--tenant", "globex"}),
            "NAME  TYPE  REGION  AUTH  TOOL POLICY  ENABLED  LAST SYNCED  ID\n");

  EXPECT_TRUE(Authorize("list_incidents").allowed());
  EXPECT_EQ(JsonArray(Ok({"audit", "list", "--tenant", "acme", "--output", "json"})).size(), 4u);
}

TEST_F(GovernanceCommandsTest, ReviewStatesKillSwitchAndCredentialRiskReachTheDecisions) {
  // The server's key is read-only: write tools are flagged before anyone approves them.
  governance::CredentialInfo read_only_key;
  read_only_key.present = true;
  read_only_key.read_only = true;
  creds_.Set(acme_id_, "pagerduty", read_only_key);
  Register();

  std::string table = Ok({"tools", "list", "pagerduty", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(Row(table, "create_incident"),
                                "credential cannot serve: the server's API key is read-only and this tool writes"))
      << table;
  EXPECT_FALSE(absl::StrContains(Row(table, "list_incidents"), "credential cannot serve")) << table;

  Result approved = Acme({"tools", "approve", "pagerduty", "list_incidents", "create_incident", "--tenant", "acme"});
  EXPECT_EQ(approved.code, 0);
  EXPECT_EQ(approved.out, "Approved 2 tools of pagerduty: create_incident, list_incidents.\n");
  EXPECT_EQ(approved.err,
            "warning: create_incident: the credential cannot serve it (the server's API key is read-only and this "
            "tool writes); calls are denied until that changes.\n");
  Ok({"toolset", "create", "oncall", "--tenant", "acme", "--server", "pagerduty", "--tools",
      "list_incidents,create_incident"});
  Ok({"profile", "create", "responders", "--tenant", "acme", "--toolsets", "oncall", "--members",
      "user:ana@acme.com"});
  EXPECT_TRUE(Authorize("list_incidents").allowed());
  EXPECT_EQ(Authorize("create_incident").reason(), pb::DENY_REASON_CREDENTIAL_CANNOT_SERVE);

  EXPECT_EQ(Ok({"tools", "kill-switch", "pagerduty", "list_incidents", "on", "--tenant", "acme"}),
            "Kill switch for pagerduty/list_incidents is on: every call to it is refused.\n");
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_KILL_SWITCH);
  EXPECT_TRUE(absl::StrContains(Row(Ok({"tools", "list", "pagerduty", "--tenant", "acme"}), "list_incidents"),
                                "kill switch on"));
  Ok({"tools", "kill-switch", "pagerduty", "list_incidents", "off", "--tenant", "acme"});
  EXPECT_TRUE(Authorize("list_incidents").allowed());

  EXPECT_EQ(Ok({"tools", "disable", "pagerduty", "list_incidents", "--tenant", "acme"}),
            "Disabled 1 tool of pagerduty: list_incidents.\n");
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_TOOL_DISABLED);
  EXPECT_EQ(Ok({"tools", "review", "pagerduty", "list_incidents", "--tenant", "acme"}),
            "Sent back to review 1 tool of pagerduty: list_incidents.\n");
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_TOOL_PENDING_REVIEW);

  // A bulk approval leaves a deliberately disabled read-only tool alone.
  Ok({"tools", "disable", "pagerduty", "list_services", "--tenant", "acme"});
  std::string bulk = Ok({"tools", "approve", "pagerduty", "--tenant", "acme", "--all-read-only"});
  EXPECT_TRUE(absl::StrContains(bulk, "\n1 disabled read-only tool stays disabled; approve them by name.\n")) << bulk;
  boost::json::array disabled =
      JsonArray(Ok({"tools", "list", "pagerduty", "--tenant", "acme", "--state", "disabled", "--output", "json"}));
  ASSERT_EQ(disabled.size(), 1u);
  EXPECT_EQ(Str(disabled[0], "name"), "list_services");
  EXPECT_TRUE(Authorize("list_incidents").allowed());  // pending again, so the bulk approval took it

  EXPECT_EQ(Ok({"tools", "sync", "pagerduty", "--tenant", "acme"}),
            "Discovery: 0 new, 0 changed, 0 removed, 103 unchanged.\n");

  // Switching the server off denies everything on it; the tool states stay.
  Ok({"server", "update", "pagerduty", "--tenant", "acme", "--enabled", "false"});
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_SERVER_UNAVAILABLE);
  std::string shown = Ok({"server", "get", "pagerduty", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(shown, "enabled:      no\n")) << shown;
}

TEST_F(GovernanceCommandsTest, ToolsetAndProfileChangesAndDeletionsReachTheDecisions) {
  Register();
  Ok({"tools", "approve", "pagerduty", "list_incidents", "get_incident", "--tenant", "acme"});
  Ok({"toolset", "create", "oncall", "--tenant", "acme", "--server", "pagerduty", "--tools", "list_incidents"});
  Op({"group", "create", "sre", "--tenant", "acme"});
  Op({"group", "add", "sre", "admin@acme.com", "--tenant", "acme"});
  Ok({"profile", "create", "responders", "--tenant", "acme", "--toolsets", "oncall", "--members", "group:sre"});
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_NOT_GRANTED);  // ana is not in sre

  std::string updated = Ok({"profile", "update", "responders", "--tenant", "acme", "--members",
                            "group:sre,user:ana@acme.com"});
  EXPECT_EQ(updated,
            "Updated access profile responders: toolsets oncall for group:sre,user:ana@acme.com, expires never.\n");
  EXPECT_TRUE(Authorize("list_incidents").allowed());
  EXPECT_EQ(Authorize("get_incident").reason(), pb::DENY_REASON_NOT_GRANTED);

  EXPECT_EQ(Ok({"toolset", "update", "oncall", "--tenant", "acme", "--tools", "list_incidents,get_incident"}),
            "Updated toolset oncall on server pagerduty: 2 tools (get_incident, list_incidents).\n");
  EXPECT_TRUE(Authorize("get_incident").allowed());

  // An expiry can be set, and cleared again with "never".
  std::string in_an_hour = Ok({"profile", "update", "responders", "--tenant", "acme", "--expires-in", "1h"});
  EXPECT_FALSE(absl::StrContains(in_an_hour, "expires never")) << in_an_hour;
  EXPECT_TRUE(Authorize("list_incidents").allowed());
  Ok({"profile", "update", "responders", "--tenant", "acme", "--expires-at", "never"});
  EXPECT_TRUE(absl::StrContains(Row(Ok({"profile", "list", "--tenant", "acme"}), "responders"), "  never  "));

  EXPECT_EQ(Ok({"toolset", "delete", "oncall", "--tenant", "acme"}),
            "Deleted toolset oncall; profiles responders no longer grant it.\n");
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_NOT_GRANTED);
  EXPECT_EQ(Ok({"profile", "delete", "responders", "--tenant", "acme"}),
            "Deleted access profile responders; its members lose what only it granted.\n");
  EXPECT_TRUE(JsonArray(Ok({"profile", "list", "--tenant", "acme", "--output", "json"})).empty());

  std::string deleted = Ok({"server", "delete", "pagerduty", "--tenant", "acme"});
  EXPECT_EQ(deleted, "Deleted server pagerduty with 103 tools.\n");
  EXPECT_EQ(Authorize("list_incidents").reason(), pb::DENY_REASON_SERVER_UNAVAILABLE);
}

TEST_F(GovernanceCommandsTest, AuditListFiltersFollowsPagesAndExportsJsonLines) {
  Register();
  // 150 tool calls by ana, as the edge records them: every third denied.
  pb::RecordToolCallsRequest rec;
  const absl::Time start = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(1)));
  for (int i = 0; i < 150; ++i) {
    pb::ToolCallEvent* e = rec.add_events();
    e->set_event_id(absl::StrCat("00000000-0000-4000-8000-", absl::Dec(i, absl::kZeroPad12)));
    e->set_tenant("acme");
    *e->mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(start + absl::Seconds(i)));
    e->set_user_id(ana_);
    e->set_user_email("ana@acme.com");
    e->set_server("pagerduty");
    e->set_tool(i % 2 == 0 ? "list_incidents" : "get_incident");
    const bool denied = i % 3 == 0;
    e->set_decision(denied ? pb::DECISION_DENY : pb::DECISION_ALLOW);
    e->set_reason(denied ? pb::DENY_REASON_NOT_GRANTED : pb::DENY_REASON_NONE);
    e->set_outcome(denied ? pb::OUTCOME_DENIED : pb::OUTCOME_SUCCESS);
    e->set_upstream_status(denied ? 0 : 200);
  }
  {
    grpc::ClientContext ctx;
    grpcutil::PrepareClientContext(ctx, kEdgeToken, absl::Seconds(30));
    pb::RecordToolCallsResponse recorded;
    ASSERT_TRUE(edge_->RecordToolCalls(&ctx, rec, &recorded).ok());
    ASSERT_EQ(recorded.recorded(), 150);
  }

  boost::json::array by_ana =
      JsonArray(Ok({"audit", "list", "--tenant", "acme", "--user", "ana@acme.com", "--output", "json"}));
  EXPECT_EQ(by_ana.size(), 100u);  // the default --limit
  boost::json::array more = JsonArray(
      Ok({"audit", "list", "--tenant", "acme", "--user", "ana@acme.com", "--limit", "130", "--output", "json"}));
  ASSERT_EQ(more.size(), 130u);  // two pages
  int64_t previous = INT64_MAX;
  for (const auto& e : more) {
    EXPECT_EQ(Str(e, "user_email"), "ana@acme.com");
    int64_t seq = std::stoll(Str(e, "seq"));  // proto3 JSON writes int64 as a string
    EXPECT_LT(seq, previous);                 // newest first, no event twice
    previous = seq;
  }

  boost::json::array denied = JsonArray(
      Ok({"audit", "list", "--tenant", "acme", "--outcome", "denied", "--limit", "1000", "--output", "json"}));
  EXPECT_EQ(denied.size(), 50u);
  for (const auto& e : denied) {
    EXPECT_EQ(Str(e, "decision"), "DECISION_DENY");
    EXPECT_EQ(Str(e, "reason"), "DENY_REASON_NOT_GRANTED");
  }
  EXPECT_EQ(JsonArray(Ok({"audit", "list", "--tenant", "acme", "--tool", "get_incident", "--limit", "1000",
                          "--output", "json"}))
                .size(),
            75u);
  EXPECT_EQ(JsonArray(Ok({"audit", "list", "--tenant", "acme", "--server", "pagerduty", "--since",
                          absl::FormatTime(absl::RFC3339_full, start + absl::Seconds(140), absl::UTCTimeZone()),
                          "--until",
                          absl::FormatTime(absl::RFC3339_full, start + absl::Seconds(145), absl::UTCTimeZone()),
                          "--output", "json"}))
                .size(),
            5u);
  boost::json::array admin =
      JsonArray(Ok({"audit", "list", "--tenant", "acme", "--kind", "admin-change", "--output", "json"}));
  ASSERT_EQ(admin.size(), 1u);
  EXPECT_EQ(Str(admin[0], "action"), "server.register");

  std::string newest = Ok({"audit", "list", "--tenant", "acme", "--limit", "1"});
  std::vector<std::string> lines = absl::StrSplit(newest, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << newest;
  EXPECT_TRUE(absl::StartsWith(lines[0], "TIME ")) << newest;
  EXPECT_TRUE(absl::StrContains(lines[1], "151  ana@acme.com  get_incident  pagerduty  allow     success  "
                                          "upstream 200, 0ms"))
      << newest;

  std::string exported = Ok({"audit", "export", "--tenant", "acme"});
  std::vector<std::string> jsonl = absl::StrSplit(exported, '\n', absl::SkipEmpty());
  ASSERT_EQ(jsonl.size(), 151u);
  EXPECT_EQ(Str(boost::json::parse(jsonl.front()), "action"), "server.register");  // oldest first
  EXPECT_EQ(Str(boost::json::parse(jsonl.back()), "user_email"), "ana@acme.com");
  std::vector<std::string> denied_lines =
      absl::StrSplit(Ok({"audit", "export", "--tenant", "acme", "--outcome", "denied"}), '\n', absl::SkipEmpty());
  EXPECT_EQ(denied_lines.size(), 50u);
}

TEST_F(GovernanceCommandsTest, AuditVerifyNamesTheFirstBrokenLinkAndExitsOne) {
  Register();
  Ok({"tools", "approve", "pagerduty", "list_incidents", "--tenant", "acme"});
  Ok({"tools", "disable", "pagerduty", "get_incident", "--tenant", "acme"});
  EXPECT_TRUE(absl::StartsWith(Ok({"audit", "verify", "--tenant", "acme"}), "OK: 3 events chain correctly"));

  // What someone with the database owner's rights could do: rewrite who approved what.
  ASSERT_TRUE(Sql("ALTER TABLE governance.audit_events DISABLE TRIGGER audit_events_append_only").ok());
  ASSERT_TRUE(Sql("UPDATE governance.audit_events SET actor = 'operator' WHERE seq = 2").ok());

  Result r = Acme({"audit", "verify", "--tenant", "acme"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StartsWith(r.out, "BROKEN at seq 2 (event ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "every event before seq 2 chains correctly")) << r.out;
  EXPECT_EQ(r.err, "error: the audit log of tenant acme does not verify: first broken link at seq 2\n");

  r = Acme({"audit", "verify", "--tenant", "acme", "--output", "json"});
  EXPECT_EQ(r.code, 1);
  auto v = FromJson<pb::VerifyAuditChainResponse>(r.out);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.first_broken_seq(), 2);
  EXPECT_FALSE(v.problem().empty());
}

TEST_F(GovernanceCommandsTest, CommandLineMistakesExitTwoBeforeAnyCall) {
  Register();
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"tools", "approve", "pagerduty", "--tenant", "acme"},
       "error: name the tools to approve, or give --all-read-only\n"},
      {{"tools", "approve", "pagerduty", "list_incidents", "--all-read-only", "--tenant", "acme"},
       "error: name the tools or give --all-read-only, not both\n"},
      {{"tools", "approve", "pagerduty", "--all-read-only=maybe", "--tenant", "acme"},
       "error: --all-read-only takes no value (or true|false), not 'maybe'\n"},
      {{"tools", "disable", "pagerduty", "--tenant", "acme"}, "error: missing <tool>...\n"},
      {{"tools", "list", "pagerduty", "--tenant", "acme", "--state", "pending"},
       "error: --state must be pending-review, approved, disabled or removed, not 'pending'\n"},
      {{"tools", "kill-switch", "pagerduty", "list_incidents", "maybe", "--tenant", "acme"},
       "error: the kill switch is on or off, not 'maybe'\n"},
      {{"server", "register", "second", "--tenant", "acme", "--type", "pagerduty", "--auth", "basic"},
       "error: --auth must be api-key or oauth, not 'basic'\n"},
      {{"server", "register", "second", "--tenant", "acme", "--type", "opsgenie", "--auth", "oauth"},
       "error: --type must be pagerduty, not 'opsgenie'\n"},
      {{"server", "update", "pagerduty", "--tenant", "acme"},
       "error: nothing to change: give --region, --auth, --tool-policy or --enabled\n"},
      {{"profile", "create", "p", "--tenant", "acme", "--toolsets", "all-approved", "--members", "user:a@acme.com",
        "--expires-at", "tomorrow"},
       "error: --expires-at must be an RFC 3339 time like 2024-05-01T09:30:00Z, not 'tomorrow'\n"},
      {{"profile", "create", "p", "--tenant", "acme", "--toolsets", "all-approved", "--members", "user:a@acme.com",
        "--expires-at", "2030-01-01T00:00:00Z", "--expires-in", "30d"},
       "error: give --expires-at or --expires-in, not both\n"},
      {{"audit", "list", "--tenant", "acme", "--limit", "0"}, "error: --limit must be a positive number, not '0'\n"},
      {{"audit", "list", "--tenant", "acme", "--since", "yesterday"},
       "error: --since must be an RFC 3339 time like 2024-05-01T09:30:00Z, not 'yesterday'\n"},
  };
  for (const Case& c : cases) {
    Result r = Acme(c.args);
    EXPECT_EQ(r.code, 2) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, c.err + "usage: bastionctl ")) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(JsonArray(Ok({"audit", "list", "--tenant", "acme", "--output", "json"})).size(), 1u);  // register only

  Result help = Acme({"help", "tools"});
  EXPECT_TRUE(absl::StrContains(help.out, "bastionctl tools approve <server> [<tool>...] --tenant T [--all-read-only]\n"))
      << help.out;
  EXPECT_TRUE(absl::StrContains(help.out, "bastionctl tools disable <server> <tool>... --tenant T\n")) << help.out;
}

}  // namespace
}  // namespace bastion::ctl
