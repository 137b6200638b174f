// bastionctl's sign-in commands (`idp policy`, `oauth grants`) against the real tenant service
// (gRPC on a real port, real Postgres).
#include <sstream>

#include <boost/json.hpp>

#include "absl/strings/str_join.h"
#include "common/crypto/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/ctl/cli.h"
#include "services/tenant/testing/test_tenant_server.h"

namespace bastion::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOperatorToken[] = "op-secret-token";
constexpr char kResource[] = "https://bastion.example/mcp/acme/pagerduty";

struct Result {
  int code;
  std::string out;
  std::string err;
};

class SignInCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = tenant::TestTenantServer::Start({kOperatorToken, {{"edge", "edge-token"}}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_EQ(Ctl({"tenant", "create", "acme"}).code, 0);
    ASSERT_EQ(Ctl({"tenant", "activate", "acme"}).code, 0);
    ASSERT_EQ(Ctl({"user", "create", "ana@acme.com", "--tenant", "acme"}).code, 0);
  }

  Result Ctl(const std::vector<std::string>& args, const std::string& admin_token = kOperatorToken) {
    Env env{{{"BASTION_TENANT_ADDR", server_->address()}}};
    if (!admin_token.empty()) env.vars["BASTION_ADMIN_TOKEN"] = admin_token;
    std::ostringstream out, err;
    int code = RunCli(args, out, err, env);
    return {code, out.str(), err.str()};
  }

  // Ana signs in from an AI client, as the edge would drive it; returns the grant id.
  std::string SignIn() {
    tenant::SignInService& s = server_->signin();
    const tenant::Caller edge = tenant::Caller::Service("edge");
    auto client = s.RegisterClient(edge, {"acme", "Claude", {"http://127.0.0.1/cb"}, "", ""});
    EXPECT_TRUE(client.ok()) << client.status();
    const std::string verifier = crypto::RandomToken("", 32);
    const std::string binding = crypto::HexEncode(crypto::Sha256("cookie"));
    auto pending = s.BeginAuthorization(
        edge, {"acme", client->client_id, "http://127.0.0.1:5000/cb", crypto::Base64UrlEncode(crypto::Sha256(verifier)),
               "S256", "", kResource, "pagerduty", "", binding});
    EXPECT_TRUE(pending.ok()) << pending.status();
    auto prompt = s.CompleteSignIn(edge, {pending->id, binding, "https://login.acme.example", "sub", "ana@acme.com",
                                          true, "Ana", "{}"});
    EXPECT_TRUE(prompt.ok()) << prompt.status();
    auto d = s.DecideConsent(edge, pending->id, prompt->consent_token, binding, true);
    EXPECT_TRUE(d.ok()) << d.status();
    auto g = s.RedeemCode(edge, {"acme", d->code, client->client_id, "http://127.0.0.1:5000/cb", verifier, kResource});
    EXPECT_TRUE(g.ok()) << g.status();
    return g->grant_id;
  }

  std::unique_ptr<tenant::TestTenantServer> server_;
};

TEST_F(SignInCommandsTest, PolicySetMergesFlagsAndGetShowsThem) {
  Result r = Ctl({"idp", "policy", "get", "--tenant", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sign-in off"));
  r = Ctl({"idp", "policy", "set", "--tenant", "acme", "--issuer", "https://login.acme.example",
           "--allowed-domains", "acme.com, acme.io", "--jit-users", "on"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Ctl({"idp", "policy", "set", "--tenant", "acme", "--groups-claim", "groups"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Ctl({"idp", "policy", "get", "--tenant", "acme", "--output", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  boost::json::object p = boost::json::parse(r.out).as_object();
  EXPECT_EQ(p["issuer"].as_string(), "https://login.acme.example");
  EXPECT_EQ(p["allowed_domains"].as_array().size(), 2u);
  EXPECT_EQ(p["groups_claim"].as_string(), "groups");
  EXPECT_TRUE(p["jit_users"].as_bool());
}

TEST_F(SignInCommandsTest, BadPolicyValuesAreRefusedAndChangeNothing) {
  ASSERT_EQ(Ctl({"idp", "policy", "set", "--tenant", "acme", "--issuer", "https://login.acme.example"}).code, 0);
  Result r = Ctl({"idp", "policy", "set", "--tenant", "acme", "--issuer", "http://login.evil.example"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("issuer must be an https URL"));
  r = Ctl({"idp", "policy", "set", "--tenant", "acme", "--allowed-domains", "@acme.com"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("without '@'"));
  r = Ctl({"idp", "policy", "set", "--tenant", "acme", "--jit-users", "maybe"});
  EXPECT_EQ(r.code, 2);
  r = Ctl({"idp", "policy", "set", "--tenant", "acme"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(Ctl({"idp", "policy", "get", "--tenant", "acme"}).out, HasSubstr("https://login.acme.example"));
}

TEST_F(SignInCommandsTest, GrantsAreListedAndRevoked) {
  ASSERT_EQ(Ctl({"idp", "policy", "set", "--tenant", "acme", "--issuer", "https://login.acme.example"}).code, 0);
  const std::string grant = SignIn();
  Result r = Ctl({"oauth", "grants", "list", "--tenant", "acme", "--user", "ana@acme.com"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(grant));
  EXPECT_THAT(r.out, HasSubstr("Claude"));
  EXPECT_THAT(r.out, HasSubstr("active"));
  r = Ctl({"oauth", "grants", "revoke", grant, "--tenant", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Revoked grant " + grant));
  EXPECT_THAT(Ctl({"oauth", "grants", "list", "--tenant", "acme"}).out, Not(HasSubstr(grant)));
  r = Ctl({"oauth", "grants", "list", "--tenant", "acme", "--all"});
  EXPECT_THAT(r.out, HasSubstr("revoked (admin)"));
  r = Ctl({"oauth", "grants", "revoke", "00000000-0000-4000-8000-000000000000", "--tenant", "acme"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("not found"));
}

TEST_F(SignInCommandsTest, HelpListsTheTwoWordNouns) {
  Result r = Ctl({"help"});
  EXPECT_THAT(r.out, HasSubstr("bastionctl oauth grants list --tenant T [--user email] [--all]"));
  EXPECT_THAT(r.out, HasSubstr("bastionctl idp policy set --tenant T"));
  r = Ctl({"oauth", "grants"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("oauth grants revoke <grant-id>"));
}

}  // namespace
}  // namespace bastion::ctl
