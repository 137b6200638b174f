// bastionctl's command line without a server: help, dispatch, usage errors, flag and env
// precedence, and how an unreachable service is reported.
#include "services/ctl/cli.h"

#include <sstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace bastion::ctl {
namespace {

// Nothing listens on port 1: a command that reached the network would fail with exit 1, so an
// exit 2 proves the CLI stopped before calling anything.
constexpr char kNowhere[] = "127.0.0.1:1";

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Ctl(const std::vector<std::string>& args, Env env = {{{"BASTION_TENANT_ADDR", kNowhere}}}) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err, env);
  return {code, out.str(), err.str()};
}

TEST(CliTest, HelpListsEveryCommandAndTheGlobalFlags) {
  Result r = Ctl({"help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.err.empty());
  for (const char* usage :
       {"bastionctl tenant create <slug> [--display-name N]", "bastionctl tenant kill-switch <slug> on|off",
        "bastionctl catalog enable <key> --tenant T", "bastionctl user create <email> --tenant T [--role admin|member]",
        "bastionctl group add <group> <email> --tenant T",
        "bastionctl token issue <email> --tenant T [--client-type personal|shared|service] [--name N] "
        "[--expires-in 30d|12h]",
        "bastionctl token revoke <token-id> --tenant T", "--tenant-addr HOST:PORT", "BASTION_ADMIN_TOKEN",
        "BASTION_VAULT_ADDR", "--output table|json"}) {
    EXPECT_TRUE(absl::StrContains(r.out, usage)) << usage << "\n" << r.out;
  }
}

TEST(CliTest, HelpListsTheVaultCommands) {
  Result r = Ctl({"help", "credential"});
  EXPECT_EQ(r.code, 0);
  for (const char* usage :
       {"bastionctl credential set-api-key <server> --tenant T --actor-email E [--access read-only|full] "
        "[--region us|eu] [--key-file PATH]\n",
        "bastionctl credential set-oauth-app <server> --tenant T --client-id ID --scopes a,b "
        "[--flavor scoped|classic] [--region us|eu] [--secret-file PATH]\n",
        "bastionctl credential info <server> --tenant T\n",
        "bastionctl credential verify <server> --tenant T [--user email]\n",
        "bastionctl credential rotate <server> --tenant T [--key-file PATH] [--secret-file PATH]\n",
        "bastionctl credential delete <server> --tenant T\n"}) {
    EXPECT_TRUE(absl::StrContains(r.out, usage)) << usage << "\n" << r.out;
  }
  r = Ctl({"help"});
  EXPECT_TRUE(absl::StrContains(r.out, "bastionctl grant list --tenant T [--server S] [--user email]\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "bastionctl grant revoke <server> <user-email> --tenant T\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "bastionctl kek rotate\n")) << r.out;
}

TEST(CliTest, ANounAloneListsOnlyItsCommands) {
  Result r = Ctl({"user"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StrContains(r.out, "bastionctl user create <email>"));
  EXPECT_TRUE(absl::StrContains(r.out, "bastionctl user disable <email>"));
  EXPECT_FALSE(absl::StrContains(r.out, "tenant create"));
}

TEST(CliTest, UnknownCommandsExitTwoWithUsage) {
  Result r = Ctl({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StartsWith(r.err, "error: unknown command 'frobnicate'\n")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "usage: bastionctl <noun> <verb> [object] [--flags]"));
  EXPECT_TRUE(r.out.empty());

  r = Ctl({"tenant", "frob", "acme"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StartsWith(r.err, "error: unknown command 'tenant frob'\n")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "bastionctl tenant create <slug>"));

  r = Ctl({});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "usage: bastionctl <noun> <verb>"));
}

TEST(CliTest, AMissingTenantExitsTwoWithTheCommandsUsage) {
  Result r = Ctl({"user", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: missing --tenant\nusage: bastionctl user list --tenant T\n");
  EXPECT_TRUE(r.out.empty());

  r = Ctl({"token", "issue", "ana@acme.com", "--tenant="});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StartsWith(r.err, "error: --tenant must not be empty\n")) << r.err;
}

TEST(CliTest, BadArgumentsAreUsageErrorsCaughtBeforeAnyCall) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{"tenant", "create"}, "error: missing <slug>"},
      {{"tenant", "get", "acme", "globex"}, "error: unexpected argument 'globex'"},
      {{"tenant", "get", "acme", "--tenant", "acme"}, "error: unknown flag --tenant"},
      {{"tenant", "get", "acme", "--output"}, "error: flag --output needs a value"},
      {{"tenant", "get", "acme", "-x"}, "error: unknown flag -x"},
      {{"tenant", "get", "acme", "--output", "yaml"}, "error: --output must be table or json, not 'yaml'"},
      {{"tenant", "get", "acme", "--timeout", "soon"}, "error: --timeout must be a positive duration"},
      {{"tenant", "get", "acme", "--timeout=1s", "--timeout=2s"}, "error: flag --timeout given more than once"},
      {{"tenant", "kill-switch", "acme", "maybe"}, "error: the kill switch is on or off, not 'maybe'"},
      {{"tenant", "settings", "acme", "--default-tool-state", "denied"},
       "error: --default-tool-state must be pending_review or approved, not 'denied'"},
      {{"tenant", "settings", "acme", "--auto-approve-read-only", "yes"},
       "error: --auto-approve-read-only must be true or false, not 'yes'"},
      {{"tenant", "settings", "acme", "--client-types", "personal,robot"},
       "error: --client-types must be personal, shared or service, not 'robot'"},
      {{"tenant", "settings", "acme", "--client-types", ","}, "error: --client-types must list at least one"},
      {{"user", "create", "ana@acme.com", "--tenant", "acme", "--role", "owner"},
       "error: --role must be admin or member, not 'owner'"},
      {{"token", "issue", "ana@acme.com", "--tenant", "acme", "--expires-in", "3x"},
       "error: --expires-in must be a positive duration like 30d, 12h or 90m, not '3x'"},
      {{"token", "issue", "ana@acme.com", "--tenant", "acme", "--expires-in", "0d"},
       "error: --expires-in must be a positive duration"},
      {{"token", "issue", "ana@acme.com", "--tenant", "acme", "--client-type", "robot"},
       "error: --client-type must be personal, shared or service, not 'robot'"},
  };
  for (const Case& c : cases) {
    Result r = Ctl(c.args);
    EXPECT_EQ(r.code, 2) << c.error << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, c.error)) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, "\nusage: bastionctl ")) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(CliTest, CommandHelpPrintsItsUsage) {
  Result r = Ctl({"token", "list", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(absl::StartsWith(r.out, "usage: bastionctl token list --tenant T [--user email]\n")) << r.out;
}

TEST(CliTest, AnUnreachableServiceIsOneErrorLineNamingTheAddress) {
  Result r = Ctl({"tenant", "list", "--timeout", "3s"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StartsWith(r.err, "error: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "(UNAVAILABLE)")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "is the tenant service running at 127.0.0.1:1?")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(CliTest, AFlagOverridesTheEnvironmentWhichOverridesTheDefault) {
  // Both addresses are unreachable; the error names the one that was used.
  Result from_env = Ctl({"tenant", "list"}, Env{{{"BASTION_TENANT_ADDR", "127.0.0.1:2"}}});
  EXPECT_TRUE(absl::StrContains(from_env.err, "running at 127.0.0.1:2?")) << from_env.err;

  Result from_flag = Ctl({"--tenant-addr=127.0.0.1:3", "tenant", "list"}, Env{{{"BASTION_TENANT_ADDR", "127.0.0.1:2"}}});
  EXPECT_TRUE(absl::StrContains(from_flag.err, "running at 127.0.0.1:3?")) << from_flag.err;

  Result split_flag = Ctl({"tenant", "list", "--tenant-addr", "127.0.0.1:4"});
  EXPECT_TRUE(absl::StrContains(split_flag.err, "running at 127.0.0.1:4?")) << split_flag.err;
}

TEST(CliTest, TheAdminTokenIsNeverPrinted) {
  const std::string token = "op-token-that-must-stay-secret";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"tenant", "list"},
           {"tenant", "list", "--admin-token", token},
           {"tenant", "get", "acme", "--admin-token=" + token, "--output", "yaml"},
           {"help"}}) {
    Result r = Ctl(args, Env{{{"BASTION_TENANT_ADDR", kNowhere}, {"BASTION_ADMIN_TOKEN", token}}});
    EXPECT_NE(r.out + r.err, "");
    EXPECT_FALSE(absl::StrContains(r.out + r.err, token)) << r.out << r.err;
  }
}

}  // namespace
}  // namespace bastion::ctl
