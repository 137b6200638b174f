// bastionctl's tenant commands against the real tenant service (gRPC on a real port, real
// Postgres): an admin session end to end, and how server errors and JSON output look.
#include <grpcpp/grpcpp.h>

#include <sstream>

#include <boost/json.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/grpc/grpc_util.h"
#include "gtest/gtest.h"
#include "proto/bastion/tenant/v1/tenant.grpc.pb.h"
#include "services/ctl/cli.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::tenant::v1;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kEdgeToken[] = "edge-service-token";
constexpr char kActivationMessage[] =
    "Activation required. AI access management must be enabled for your tenant before you can use it.";

struct Result {
  int code;
  std::string out;
  std::string err;
};

// A JSON document printed by the CLI, parsed into `msg`; fails the test when it does not parse.
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

class TenantCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = tenant::TestTenantServer::Start({kOperatorToken, {{"edge", kEdgeToken}}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = server_->address();
    edge_ = pb::TenantService::NewStub(server_->InsecureChannel());
  }

  // Runs bastionctl as the operator unless `admin_token` says otherwise ("" = no token).
  Result Ctl(const std::vector<std::string>& args, const std::string& admin_token = kOperatorToken) {
    Env env{{{"BASTION_TENANT_ADDR", address_}}};
    if (!admin_token.empty()) env.vars["BASTION_ADMIN_TOKEN"] = admin_token;
    std::ostringstream out, err;
    int code = RunCli(args, out, err, env);
    Result r{code, out.str(), err.str()};
    transcript_ += r.out + r.err;
    return r;
  }

  // Runs a command that must succeed and returns its stdout.
  std::string Ok(const std::vector<std::string>& args) {
    Result r = Ctl(args);
    EXPECT_EQ(r.code, 0) << absl::StrJoin(args, " ") << "\n" << r.err;
    return r.out;
  }

  // What the edge learns from a client token: the service-identity call the edge itself makes.
  grpc::Status Authenticate(const std::string& token, pb::Identity* id) {
    grpc::ClientContext ctx;
    grpcutil::PrepareClientContext(ctx, kEdgeToken, absl::Seconds(10));
    pb::AuthenticateRequest req;
    req.set_token(token);
    return edge_->Authenticate(&ctx, req, id);
  }

  pb::CheckAccessResponse CheckAccess(const std::string& tenant) {
    grpc::ClientContext ctx;
    grpcutil::PrepareClientContext(ctx, kEdgeToken, absl::Seconds(10));
    pb::TenantRef ref;
    ref.set_tenant(tenant);
    pb::CheckAccessResponse resp;
    EXPECT_TRUE(edge_->CheckAccess(&ctx, ref, &resp).ok());
    return resp;
  }

  std::unique_ptr<tenant::TestTenantServer> server_;
  std::string address_;
  std::unique_ptr<pb::TenantService::Stub> edge_;
  std::string transcript_;  // everything bastionctl printed
};

TEST_F(TenantCommandsTest, AnAdminSessionFromNewTenantToRevokedToken) {
  EXPECT_TRUE(absl::StartsWith(Ok({"tenant", "create", "acme", "--display-name", "Acme Corp"}),
                               "Created tenant acme (id "));
  auto created = FromJson<pb::Tenant>(Ok({"tenant", "get", "acme", "--output", "json"}));
  EXPECT_EQ(created.display_name(), "Acme Corp");
  EXPECT_FALSE(created.ai_access_active());
  EXPECT_EQ(CheckAccess("acme").message(), kActivationMessage);

  EXPECT_EQ(Ok({"tenant", "activate", "acme"}), "AI access for tenant acme is now active.\n");
  EXPECT_TRUE(CheckAccess("acme").allowed());

  EXPECT_EQ(Ok({"catalog", "enable", "pagerduty", "--tenant=acme"}), "Enabled pagerduty for tenant acme.\n");
  boost::json::value catalog = ParseJson(Ok({"catalog", "list", "--tenant", "acme", "--output=json"}));
  ASSERT_TRUE(catalog.is_array());
  bool pagerduty_enabled = false;
  for (const auto& e : catalog.as_array()) {
    if (e.at("key") == "pagerduty") pagerduty_enabled = e.at("enabled").as_bool();
  }
  EXPECT_TRUE(pagerduty_enabled);

  Ok({"user", "create", "ana@acme.com", "--tenant", "acme", "--role", "admin", "--display-name", "Ana Lima"});
  EXPECT_TRUE(absl::StartsWith(Ok({"user", "create", "bo@acme.com", "--tenant", "acme"}),
                               "Created member bo@acme.com in tenant acme"));
  Ok({"group", "create", "oncall", "--tenant", "acme"});
  EXPECT_EQ(Ok({"group", "add", "oncall", "ana@acme.com", "--tenant", "acme"}),
            "Added ana@acme.com to group oncall (1 member).\n");
  Ok({"group", "add", "oncall", "bo@acme.com", "--tenant", "acme"});
  EXPECT_EQ(Ok({"group", "remove", "oncall", "bo@acme.com", "--tenant", "acme"}),
            "Removed bo@acme.com from group oncall (1 member).\n");
  std::string groups = Ok({"group", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(groups, "oncall  ana@acme.com  ")) << groups;

  auto issued = FromJson<pb::IssueClientTokenResponse>(Ok({"token", "issue", "ana@acme.com", "--tenant", "acme",
                                                           "--name", "laptop", "--expires-in", "30d", "--output",
                                                           "json"}));
  const std::string secret = issued.secret();
  ASSERT_TRUE(absl::StartsWith(secret, "bst_")) << secret;
  absl::Time expires = absl::FromUnixSeconds(google::protobuf::util::TimeUtil::TimestampToSeconds(issued.token().expires_at()));
  EXPECT_LT(absl::AbsDuration(expires - (absl::Now() + absl::Hours(24 * 30))), absl::Minutes(1));

  pb::Identity id;
  ASSERT_TRUE(Authenticate(secret, &id).ok());
  EXPECT_EQ(id.email(), "ana@acme.com");
  EXPECT_EQ(id.group_ids_size(), 1);

  // Ana is a tenant admin: her client token administers acme through the same CLI.
  Result as_ana = Ctl({"user", "list", "--tenant", "acme"}, secret);
  EXPECT_EQ(as_ana.code, 0) << as_ana.err;
  EXPECT_TRUE(absl::StrContains(as_ana.out, "ana@acme.com  Ana Lima     admin   active  oncall  ")) << as_ana.out;
  EXPECT_TRUE(absl::StrContains(as_ana.out, "bo@acme.com   bo@acme.com  member  active  -       ")) << as_ana.out;

  std::string tokens = Ok({"token", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(tokens, issued.token().id())) << tokens;
  EXPECT_TRUE(absl::StrContains(tokens, "laptop  ana@acme.com  personal")) << tokens;
  EXPECT_TRUE(absl::StrContains(tokens, " active ")) << tokens;
  std::string tokens_json = Ok({"token", "list", "--tenant", "acme", "--user", "ana@acme.com", "--output", "json"});
  ASSERT_EQ(ParseJson(tokens_json).as_array().size(), 1u);
  EXPECT_FALSE(absl::StrContains(tokens + tokens_json, secret));

  EXPECT_EQ(Ok({"token", "revoke", issued.token().id(), "--tenant", "acme"}),
            absl::StrCat("Revoked token ", issued.token().id(), "; clients presenting it are rejected from now on.\n"));
  EXPECT_EQ(Authenticate(secret, &id).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  tokens = Ok({"token", "list", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(tokens, " revoked ")) << tokens;

  // The operator token was used for every call above and never shown.
  EXPECT_FALSE(absl::StrContains(transcript_, kOperatorToken));
}

TEST_F(TenantCommandsTest, TokenIssueInTableModePrintsOnlyTheTokenAndSaysItIsShownOnce) {
  Ok({"tenant", "create", "acme"});
  Ok({"user", "create", "ana@acme.com", "--tenant", "acme"});
  Result r = Ctl({"token", "issue", "ana@acme.com", "--tenant", "acme", "--client-type", "shared"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(absl::EndsWith(r.out, "\n"));
  std::string secret = r.out.substr(0, r.out.size() - 1);
  pb::Identity id;
  ASSERT_TRUE(Authenticate(secret, &id).ok()) << r.out;
  EXPECT_EQ(id.client_type(), pb::CLIENT_TYPE_SHARED);
  EXPECT_TRUE(absl::StrContains(r.err, "(shared, expires never) is shown once")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, secret));
}

TEST_F(TenantCommandsTest, ADuplicateSlugExitsOneWithTheServersMessage) {
  Ok({"tenant", "create", "acme"});
  Result r = Ctl({"tenant", "create", "acme"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: a tenant with slug 'acme' already exists (ALREADY_EXISTS)\n");
  EXPECT_TRUE(r.out.empty());

  r = Ctl({"user", "get", "nobody@acme.com", "--tenant", "acme"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::EndsWith(r.err, "(NOT_FOUND)\n")) << r.err;
}

TEST_F(TenantCommandsTest, WithoutAnAdminTokenTheCliSaysHowToSetOne) {
  Result r = Ctl({"tenant", "list"}, "");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "(UNAUTHENTICATED); set --admin-token or BASTION_ADMIN_TOKEN")) << r.err;

  r = Ctl({"tenant", "list"}, "bst_not-a-real-token");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "(UNAUTHENTICATED)")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "bst_not-a-real-token"));
}

TEST_F(TenantCommandsTest, JsonOutputIsOneDocumentWithListsAsArrays) {
  boost::json::value empty = ParseJson(Ok({"tenant", "list", "--output", "json"}));
  ASSERT_TRUE(empty.is_array());
  EXPECT_TRUE(empty.as_array().empty());

  Ok({"tenant", "create", "acme"});
  Ok({"tenant", "create", "globex"});
  boost::json::value list = ParseJson(Ok({"--output", "json", "tenant", "list"}));
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.as_array().size(), 2u);
  EXPECT_EQ(list.as_array()[0].at("slug"), "acme");
  // Defaults are printed, so scripts can rely on every key being there.
  EXPECT_EQ(list.as_array()[1].at("ai_access_active"), false);

  boost::json::value one = ParseJson(Ok({"tenant", "kill-switch", "globex", "on", "--output", "json"}));
  ASSERT_TRUE(one.is_object());
  EXPECT_EQ(one.at("kill_switch"), true);
}

TEST_F(TenantCommandsTest, ListingsFollowPagesToTheEnd) {
  // One more tenant than bastionctl asks for per page.
  for (int i = 0; i < 101; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kOperatorToken));
    pb::CreateTenantRequest req;
    req.set_slug(absl::StrCat("t", 1000 + i));
    pb::Tenant t;
    ASSERT_TRUE(edge_->CreateTenant(&ctx, req, &t).ok());
  }
  boost::json::value list = ParseJson(Ok({"tenant", "list", "--output", "json"}));
  ASSERT_EQ(list.as_array().size(), 101u);
  EXPECT_EQ(list.as_array()[100].at("slug"), "t1100");
}

TEST_F(TenantCommandsTest, SettingsChangeOnlyWhatIsGiven) {
  Ok({"tenant", "create", "acme"});
  auto before = FromJson<pb::Tenant>(Ok({"tenant", "settings", "acme", "--output", "json"}));
  ASSERT_EQ(before.settings().allowed_client_types_size(), 3);

  auto after = FromJson<pb::Tenant>(
      Ok({"tenant", "settings", "acme", "--auto-approve-read-only", "true", "--output", "json"}));
  EXPECT_TRUE(after.settings().auto_approve_read_only());
  EXPECT_EQ(after.settings().default_tool_state(), before.settings().default_tool_state());
  EXPECT_EQ(after.settings().allowed_client_types_size(), 3);

  std::string shown = Ok({"tenant", "settings", "acme", "--client-types", "personal,service", "--default-tool-state",
                          "approved"});
  EXPECT_TRUE(absl::StrContains(shown, "default tool state:      approved\n")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "auto-approve read-only:  true\n")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "client types:            personal,service\n")) << shown;

  Ok({"user", "create", "ana@acme.com", "--tenant", "acme"});
  Result shared = Ctl({"token", "issue", "ana@acme.com", "--tenant", "acme", "--client-type", "shared"});
  ASSERT_EQ(shared.code, 0) << shared.err;
  std::string secret = shared.out.substr(0, shared.out.find('\n'));
  pb::Identity id;
  EXPECT_FALSE(Authenticate(secret, &id).ok()) << "shared clients are no longer allowed in acme";
}

TEST_F(TenantCommandsTest, KillSwitchAndDeactivationStopAccess) {
  Ok({"tenant", "create", "acme"});
  Ok({"tenant", "activate", "acme"});
  EXPECT_EQ(Ok({"tenant", "kill-switch", "acme", "on"}),
            "Kill switch for tenant acme is on: all MCP traffic for the tenant is stopped.\n");
  EXPECT_FALSE(CheckAccess("acme").allowed());
  Ok({"tenant", "kill-switch", "acme", "off"});
  EXPECT_TRUE(CheckAccess("acme").allowed());
  EXPECT_EQ(Ok({"tenant", "deactivate", "acme"}), "AI access for tenant acme is now inactive.\n");
  EXPECT_EQ(CheckAccess("acme").message(), kActivationMessage);

  std::string shown = Ok({"tenant", "get", "acme"});
  EXPECT_TRUE(absl::StrContains(shown, "ai access:               inactive\n")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "kill switch:             off\n")) << shown;
}

TEST_F(TenantCommandsTest, DisablingAUserStopsTheirTokens) {
  Ok({"tenant", "create", "acme"});
  Ok({"user", "create", "ana@acme.com", "--tenant", "acme"});
  std::string secret = Ok({"token", "issue", "ana@acme.com", "--tenant", "acme"});
  secret.pop_back();
  pb::Identity id;
  ASSERT_TRUE(Authenticate(secret, &id).ok());
  Ok({"user", "disable", "ana@acme.com", "--tenant", "acme"});
  EXPECT_EQ(Authenticate(secret, &id).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::string shown = Ok({"user", "get", "ana@acme.com", "--tenant", "acme"});
  EXPECT_TRUE(absl::StrContains(shown, "status:        disabled\n")) << shown;
}

}  // namespace
}  // namespace bastion::ctl
