// bastionctl's commands for the vault: each server's PagerDuty credential (a shared API key or an
// OAuth app), users' OAuth grants, and KEK rotation. Secrets go in through stdin or a file and
// never come back out: replies carry a hint (the last 4 characters) at most.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "proto/bastion/vault/v1/vault.grpc.pb.h"
#include "services/ctl/commands.h"
#include "services/ctl/output.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::vault::v1;
using Stub = pb::VaultService::Stub;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr Service kVault = Service::kVault;

constexpr char kApiKeyInput[] = "the API key is read from stdin or --key-file PATH";
constexpr char kClientSecretInput[] = "the client secret is read from stdin or --secret-file PATH";
constexpr char kRotateInput[] =
    "the new API key or client secret is read from stdin, --key-file PATH or --secret-file PATH";

// ---- Names as people type and read them ----------------------------------------------------

std::string Name(pb::AuthMode m) {
  switch (m) {
    case pb::AUTH_MODE_API_KEY: return "api-key";
    case pb::AUTH_MODE_OAUTH: return "oauth";
    default: return "unspecified";
  }
}

std::string Name(pb::Access a) {
  switch (a) {
    case pb::ACCESS_READ_ONLY: return "read-only";
    case pb::ACCESS_FULL: return "full";
    default: return "unspecified";
  }
}

std::string Name(pb::OAuthFlavor f) {
  switch (f) {
    case pb::OAUTH_FLAVOR_SCOPED: return "scoped";
    case pb::OAUTH_FLAVOR_CLASSIC: return "classic";
    default: return "unspecified";
  }
}

std::string Name(pb::Region r) { return r == pb::REGION_EU ? "eu" : "us"; }

std::string Name(pb::GrantStatus s) {
  switch (s) {
    case pb::GRANT_STATUS_ACTIVE: return "active";
    case pb::GRANT_STATUS_NEEDS_REAUTHORIZATION: return "needs-reauthorization";
    default: return "unspecified";
  }
}

std::string Name(pb::VerifyResult r) {
  switch (r) {
    case pb::VERIFY_RESULT_VALID: return "valid";
    case pb::VERIFY_RESULT_INVALID: return "invalid";
    case pb::VERIFY_RESULT_FORBIDDEN: return "forbidden";
    case pb::VERIFY_RESULT_UNREACHABLE: return "unreachable";
    case pb::VERIFY_RESULT_UNEXPECTED: return "unexpected";
    default: return "unspecified";
  }
}

absl::StatusOr<pb::Access> ParseAccess(const std::string& s) {
  for (auto a : {pb::ACCESS_READ_ONLY, pb::ACCESS_FULL}) {
    if (s == Name(a)) return a;
  }
  return UsageError(absl::StrCat("--access must be read-only or full, not '", s, "'"));
}

absl::StatusOr<pb::OAuthFlavor> ParseFlavor(const std::string& s) {
  for (auto f : {pb::OAUTH_FLAVOR_SCOPED, pb::OAUTH_FLAVOR_CLASSIC}) {
    if (s == Name(f)) return f;
  }
  return UsageError(absl::StrCat("--flavor must be scoped or classic, not '", s, "'"));
}

absl::StatusOr<pb::Region> ParseRegion(const std::string& s) {
  for (auto r : {pb::REGION_US, pb::REGION_EU}) {
    if (s == Name(r)) return r;
  }
  return UsageError(absl::StrCat("--region must be us or eu, not '", s, "'"));
}

absl::StatusOr<std::vector<std::string>> ParseScopes(const std::string& s) {
  std::vector<std::string> scopes;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    scopes.emplace_back(absl::StripAsciiWhitespace(part));
  }
  if (scopes.empty()) {
    return UsageError("--scopes must list the app's scopes, e.g. incidents.read,incidents.write");
  }
  return scopes;
}

// What may be shown of a secret: its last 4 characters, when the vault thought that safe.
std::string Masked(const std::string& hint) { return absl::StrCat("****", hint); }

std::string Plural(int n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// A request's secret field is wiped once the call is over: the CLI's copy should not outlive
// its use (gRPC's own buffers are beyond reach).
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string* secret) : secret_(secret) {}
  ~WipeOnExit() { crypto::Cleanse(*secret_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* secret_;
};

// ---- credential ------------------------------------------------------------------------

Fields CredentialFields(const pb::CredentialInfo& c) {
  Fields f = {{"server", c.server()}, {"mode", Name(c.mode())}};
  if (c.mode() == pb::AUTH_MODE_OAUTH) {
    f.insert(f.end(), {{"client id", c.client_id()},
                       {"client secret", Masked(c.hint())},
                       {"scopes", absl::StrJoin(c.scopes(), ",")},
                       {"flavor", Name(c.flavor())}});
  } else {
    f.insert(f.end(), {{"api key", Masked(c.hint())},
                       {"actor email", c.actor_email()},
                       {"access", Name(c.access())}});
  }
  f.insert(f.end(), {{"region", Name(c.region())},
                     {"version", absl::StrCat(c.version())},
                     {"created", FormatTime(c.created_at())},
                     {"rotated", c.has_rotated_at() ? FormatTime(c.rotated_at()) : "never"},
                     {"id", c.id()}});
  return f;
}

void PrintVerifyHint(Context& ctx) {
  ctx.out() << "Check it against PagerDuty: bastionctl credential verify " << ctx.arg(0) << " --tenant "
            << ctx.tenant() << "\n";
}

absl::Status CredentialSetApiKey(Context& ctx) {
  pb::PutApiKeyCredentialRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  req.set_actor_email(*ctx.flag("actor-email"));
  ASSIGN_OR_RETURN(pb::Access access, ParseAccess(ctx.flag("access").value_or("read-only")));
  req.set_access(access);
  if (auto r = ctx.flag("region"); r.has_value()) {
    ASSIGN_OR_RETURN(pb::Region region, ParseRegion(*r));
    req.set_region(region);
  }
  // Read last, so a mistyped flag is reported before anyone pastes a key.
  ASSIGN_OR_RETURN(crypto::SecretString key, ctx.ReadSecret("key-file", "API key"));
  WipeOnExit wipe(req.mutable_api_key());
  req.set_api_key(key.value());
  pb::CredentialInfo c;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::PutApiKeyCredential, req, &c));
  if (ctx.json()) return PrintJson(ctx.out(), c);
  ctx.out() << (c.version() > 1 ? "Replaced" : "Stored") << " the credential of server " << c.server()
            << " in tenant " << ctx.tenant() << ": API key " << Masked(c.hint()) << ", " << Name(c.access())
            << " access, writes recorded as " << c.actor_email() << " (version " << c.version() << ").\n";
  PrintVerifyHint(ctx);
  return absl::OkStatus();
}

absl::Status CredentialSetOAuthApp(Context& ctx) {
  pb::PutOAuthAppRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  req.set_client_id(*ctx.flag("client-id"));
  ASSIGN_OR_RETURN(auto scopes, ParseScopes(*ctx.flag("scopes")));
  for (const std::string& s : scopes) req.add_scopes(s);
  ASSIGN_OR_RETURN(pb::OAuthFlavor flavor, ParseFlavor(ctx.flag("flavor").value_or("scoped")));
  req.set_flavor(flavor);
  if (auto r = ctx.flag("region"); r.has_value()) {
    ASSIGN_OR_RETURN(pb::Region region, ParseRegion(*r));
    req.set_region(region);
  }
  ASSIGN_OR_RETURN(crypto::SecretString secret, ctx.ReadSecret("secret-file", "client secret"));
  WipeOnExit wipe(req.mutable_client_secret());
  req.set_client_secret(secret.value());
  pb::CredentialInfo c;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::PutOAuthApp, req, &c));
  if (ctx.json()) return PrintJson(ctx.out(), c);
  ctx.out() << (c.version() > 1 ? "Replaced" : "Stored") << " the credential of server " << c.server()
            << " in tenant " << ctx.tenant() << ": OAuth app " << c.client_id() << " (" << Name(c.flavor())
            << ", scopes " << absl::StrJoin(c.scopes(), ",") << "), client secret " << Masked(c.hint())
            << " (version " << c.version() << ").\n"
            << "Each user authorizes PagerDuty access the first time they use the server.\n";
  return absl::OkStatus();
}

absl::StatusOr<pb::CredentialInfo> GetInfo(Context& ctx) {
  pb::CredentialRef ref;
  ref.set_tenant(ctx.tenant());
  ref.set_server(ctx.arg(0));
  pb::CredentialInfo c;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::GetCredentialInfo, ref, &c));
  return c;
}

absl::Status CredentialGetInfo(Context& ctx) {
  ASSIGN_OR_RETURN(pb::CredentialInfo c, GetInfo(ctx));
  if (ctx.json()) return PrintJson(ctx.out(), c);
  PrintFields(ctx.out(), CredentialFields(c));
  return absl::OkStatus();
}

// Exits 1 unless PagerDuty accepted the credential, so scripts can gate on it.
absl::Status CredentialVerify(Context& ctx) {
  pb::VerifyCredentialRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  req.set_user(ctx.flag("user").value_or(""));
  pb::VerifyCredentialResponse v;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::VerifyCredential, req, &v));
  if (ctx.json()) {
    RETURN_IF_ERROR(PrintJson(ctx.out(), v));
  } else {
    PrintFields(ctx.out(), {
                               {"result", Name(v.result())},
                               {"message", v.message()},
                               {"request", v.request()},
                               {"http status", v.http_status() > 0 ? absl::StrCat(v.http_status()) : "-"},
                           });
  }
  if (v.result() == pb::VERIFY_RESULT_VALID) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the credential of server ", ctx.arg(0), " did not verify (", Name(v.result()), ")"));
}

// The credential's mode decides what is read and which RPC replaces it.
absl::Status CredentialRotate(Context& ctx) {
  ASSIGN_OR_RETURN(pb::CredentialInfo current, GetInfo(ctx));
  const bool api_key = current.mode() == pb::AUTH_MODE_API_KEY;
  const char* wanted = api_key ? "key-file" : "secret-file";
  const char* other = api_key ? "secret-file" : "key-file";
  if (ctx.has_flag(other)) {
    return UsageError(absl::StrCat("server ", ctx.arg(0), " uses ",
                                   api_key ? "an API key" : "an OAuth app", ": give the new ",
                                   api_key ? "key" : "client secret", " on stdin or with --", wanted,
                                   ", not --", other));
  }
  pb::CredentialInfo c;
  if (api_key) {
    ASSIGN_OR_RETURN(crypto::SecretString key, ctx.ReadSecret(wanted, "new API key"));
    pb::RotateApiKeyRequest req;
    req.set_tenant(ctx.tenant());
    req.set_server(ctx.arg(0));
    WipeOnExit wipe(req.mutable_api_key());
    req.set_api_key(key.value());
    RETURN_IF_ERROR(ctx.Call(kVault, &Stub::RotateApiKey, req, &c));
  } else {
    ASSIGN_OR_RETURN(crypto::SecretString secret, ctx.ReadSecret(wanted, "new client secret"));
    pb::RotateOAuthClientSecretRequest req;
    req.set_tenant(ctx.tenant());
    req.set_server(ctx.arg(0));
    WipeOnExit wipe(req.mutable_client_secret());
    req.set_client_secret(secret.value());
    RETURN_IF_ERROR(ctx.Call(kVault, &Stub::RotateOAuthClientSecret, req, &c));
  }
  if (ctx.json()) return PrintJson(ctx.out(), c);
  ctx.out() << "Rotated the " << (api_key ? "API key" : "OAuth client secret") << " of server " << c.server()
            << " in tenant " << ctx.tenant() << ": " << Masked(current.hint()) << " -> " << Masked(c.hint())
            << " (version " << c.version() << "). Calls already under way finish with the old one.\n";
  if (api_key) PrintVerifyHint(ctx);
  return absl::OkStatus();
}

absl::Status CredentialDelete(Context& ctx) {
  pb::CredentialRef ref;
  ref.set_tenant(ctx.tenant());
  ref.set_server(ctx.arg(0));
  pb::DeleteCredentialResponse resp;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::DeleteCredential, ref, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  ctx.out() << "Deleted the credential of server " << ctx.arg(0) << " in tenant " << ctx.tenant() << " and "
            << Plural(resp.grants_deleted(), "user grant", "user grants") << " with it; AI clients cannot "
            << "reach " << ctx.arg(0) << " until a credential is set again.\n";
  return absl::OkStatus();
}

// ---- grant ---------------------------------------------------------------------------

absl::Status GrantList(Context& ctx) {
  pb::ListUserGrantsRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.flag("server").value_or(""));
  req.set_user(ctx.flag("user").value_or(""));
  pb::ListUserGrantsResponse resp;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::ListUserGrants, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.grants());
  Table table({"SERVER", "USER", "STATUS", "SCOPES", "AUTHORIZED", "UPDATED", "ID"});
  for (const pb::UserGrant& g : resp.grants()) {
    table.AddRow({g.server(), g.user_email().empty() ? g.user_id() : g.user_email(), Name(g.status()),
                  g.scopes().empty() ? "-" : absl::StrJoin(g.scopes(), ","), FormatTime(g.created_at()),
                  FormatTime(g.updated_at()), g.id()});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status GrantRevoke(Context& ctx) {
  pb::RevokeUserGrantRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  req.set_user(ctx.arg(1));
  pb::UserGrant g;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::RevokeUserGrant, req, &g));
  if (ctx.json()) return PrintJson(ctx.out(), g);
  ctx.out() << "Revoked the grant of " << (g.user_email().empty() ? ctx.arg(1) : g.user_email())
            << " for server " << g.server() << " in tenant " << ctx.tenant()
            << "; they must authorize again to use it.\n";
  return absl::OkStatus();
}

// ---- kek -----------------------------------------------------------------------------

absl::Status KekRotate(Context& ctx) {
  pb::RotateKekResponse r;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::RotateKek, pb::RotateKekRequest(), &r));
  if (ctx.json()) return PrintJson(ctx.out(), r);
  ctx.out() << "Every data key is wrapped with KEK version " << r.kek_version() << " ("
            << r.data_keys_rewrapped() << " of " << r.data_keys_total()
            << " re-wrapped now); older KEK versions can be removed from the keyring.\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> VaultCommands() {
  const FlagSpec tenant = TenantFlag();
  const FlagSpec region{"region", "us|eu"};
  const FlagSpec key_file{"key-file", "PATH"};
  const FlagSpec secret_file{"secret-file", "PATH"};
  return {
      {"credential",
       "set-api-key",
       {"<server>"},
       {tenant, {"actor-email", "E", true}, {"access", "read-only|full"}, region, key_file},
       "Store a server's shared PagerDuty REST API key (read-only access unless --access full); the key "
       "is read from stdin or --key-file, never from the command line.",
       CredentialSetApiKey,
       kApiKeyInput},
      {"credential",
       "set-oauth-app",
       {"<server>"},
       {tenant, {"client-id", "ID", true}, {"scopes", "a,b", true}, {"flavor", "scoped|classic"}, region,
        secret_file},
       "Store a server's PagerDuty OAuth app, for per-user authorization; the client secret is read "
       "from stdin or --secret-file.",
       CredentialSetOAuthApp,
       kClientSecretInput},
      {"credential", "info", {"<server>"}, {tenant},
       "Show a server's credential: mode, hint (last 4 characters), version; never the secret.",
       CredentialGetInfo},
      {"credential", "verify", {"<server>"}, {tenant, {"user", "email"}},
       "Check a server's credential with one read call to PagerDuty (OAuth: the --user's grant); "
       "exits 1 unless it is valid.",
       CredentialVerify},
      {"credential", "rotate", {"<server>"}, {tenant, key_file, secret_file},
       "Replace a server's API key or OAuth client secret, read from stdin or the file; calls under "
       "way finish with the old one.",
       CredentialRotate, kRotateInput},
      {"credential", "delete", {"<server>"}, {tenant},
       "Delete a server's credential and every user grant made with it.", CredentialDelete},
      {"grant", "list", {}, {tenant, {"server", "S"}, {"user", "email"}},
       "List users' OAuth grants (never their tokens).", GrantList},
      {"grant", "revoke", {"<server>", "<user-email>"}, {tenant},
       "Revoke a user's OAuth grant; they must authorize again.", GrantRevoke},
      {"kek", "rotate", {}, {},
       "Re-wrap every data key with the newest key-encryption key (operator only).", KekRotate},
  };
}

}  // namespace bastion::ctl
