// bastionctl's commands for a tenant's sign-in identity provider (docs/signin.md), held by the
// vault: its OpenID Connect client (the secret goes in through a file or stdin and never comes
// back out), a live check of discovery and keys, and rotation of the tenant's token-signing key.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "proto/bastion/vault/v1/idp.grpc.pb.h"
#include "services/ctl/commands.h"
#include "services/ctl/output.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::vault::v1;
using Stub = pb::IdentityProviderService::Stub;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr Service kVault = Service::kVault;

constexpr char kSecretInput[] =
    "the client secret is read from stdin or --client-secret-file PATH (none with "
    "--public-client)";

Fields ClientFields(const pb::IdpClientInfo& c) {
  return {{"issuer", c.issuer()},
          {"client id", c.client_id()},
          {"client secret", c.has_client_secret()
                                ? absl::StrCat("****", c.client_secret_hint())
                                : "none (public client: PKCE only)"},
          {"scopes", absl::StrJoin(c.scopes(), " ")},
          {"updated", FormatTime(c.updated_at())},
          {"last tested", c.has_last_tested_at() ? FormatTime(c.last_tested_at()) : "never"}};
}

pb::IdpTenantRef Ref(Context& ctx) {
  pb::IdpTenantRef ref;
  ref.set_tenant(ctx.tenant());
  return ref;
}

absl::Status IdpSet(Context& ctx) {
  pb::PutIdpClientRequest req;
  req.set_tenant(ctx.tenant());
  req.set_issuer(*ctx.flag("issuer"));
  req.set_client_id(*ctx.flag("client-id"));
  if (auto scopes = ctx.flag("scopes"); scopes.has_value()) {
    for (absl::string_view s : absl::StrSplit(*scopes, absl::ByAnyChar(", "), absl::SkipEmpty())) {
      req.add_scopes(std::string(s));
    }
    if (req.scopes().empty()) return UsageError("--scopes must list scopes, e.g. openid,email,profile");
  }
  const bool public_client = ctx.flag("public-client").value_or("false") == "true";
  if (public_client && ctx.has_flag("client-secret-file")) {
    return UsageError("--public-client has no client secret: leave out --client-secret-file");
  }
  crypto::SecretString secret;
  if (!public_client) {
    // Read last, so a mistyped flag is reported before anyone pastes a secret.
    ASSIGN_OR_RETURN(secret, ctx.ReadSecret("client-secret-file", "client secret"));
  }
  req.set_client_secret(secret.value());
  pb::IdpClientInfo c;
  absl::Status s = ctx.Call(kVault, &Stub::PutIdpClient, req, &c);
  crypto::Cleanse(*req.mutable_client_secret());
  RETURN_IF_ERROR(s);
  if (ctx.json()) return PrintJson(ctx.out(), c);
  ctx.out() << "Stored the identity provider of tenant " << ctx.tenant() << ": issuer " << c.issuer()
            << ", client " << c.client_id() << ", "
            << (c.has_client_secret() ? absl::StrCat("client secret ****", c.client_secret_hint())
                                      : std::string("public client (PKCE only)"))
            << ".\nCheck it: bastionctl idp test --tenant " << ctx.tenant() << "\n";
  return absl::OkStatus();
}

absl::Status IdpGet(Context& ctx) {
  pb::IdpClientInfo c;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::GetIdpClientInfo, Ref(ctx), &c));
  if (ctx.json()) return PrintJson(ctx.out(), c);
  PrintFields(ctx.out(), ClientFields(c));
  return absl::OkStatus();
}

// Exits 1 unless discovery and keys check out, so scripts can gate on it.
absl::Status IdpTest(Context& ctx) {
  pb::TestIdpClientResponse r;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::TestIdpClient, Ref(ctx), &r));
  if (ctx.json()) {
    RETURN_IF_ERROR(PrintJson(ctx.out(), r));
  } else {
    for (const std::string& f : r.findings()) ctx.out() << "- " << f << "\n";
    ctx.out() << (r.ok() ? "The identity provider is ready for sign-in.\n"
                         : "The identity provider cannot be used for sign-in yet.\n");
  }
  if (r.ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the identity provider of tenant ", ctx.tenant(), " did not pass the test"));
}

absl::Status IdpDelete(Context& ctx) {
  pb::IdpClientInfo c;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::DeleteIdpClient, Ref(ctx), &c));
  if (ctx.json()) return PrintJson(ctx.out(), c);
  ctx.out() << "Deleted the identity provider of tenant " << ctx.tenant()
            << "; AI clients cannot sign in until one is set again (static tokens still work).\n";
  return absl::OkStatus();
}

absl::Status IdpRotateSigningKey(Context& ctx) {
  pb::TokenKeys k;
  RETURN_IF_ERROR(ctx.Call(kVault, &Stub::RotateTokenKey, Ref(ctx), &k));
  if (ctx.json()) return PrintJson(ctx.out(), k);
  ctx.out() << "Tenant " << ctx.tenant() << " signs access tokens with key " << k.current_kid()
            << " from now on; the previous key stays published until its tokens have expired.\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> IdpCommands() {
  const FlagSpec tenant = TenantFlag();
  return {
      {"idp",
       "set",
       {},
       {tenant,
        {"issuer", "URL", true},
        {"client-id", "ID", true},
        {"client-secret-file", "PATH"},
        {"public-client", ""},
        {"scopes", "a,b"}},
       "Set the tenant's OpenID Connect identity provider for AI-client sign-in; the client secret is "
       "read from stdin or --client-secret-file (--public-client for none). Scopes default to "
       "openid,email,profile.",
       IdpSet,
       kSecretInput},
      {"idp", "get", {}, {tenant},
       "Show the tenant's identity provider: issuer, client id, secret hint, scopes; never the secret.",
       IdpGet},
      {"idp", "test", {}, {tenant},
       "Fetch the identity provider's discovery document and keys now and report what was found; "
       "exits 1 unless sign-in can work.",
       IdpTest},
      {"idp", "delete", {}, {tenant},
       "Remove the tenant's identity provider; sign-ins in progress fail.", IdpDelete},
      {"idp", "rotate-signing-key", {}, {tenant},
       "Give the tenant a new access-token signing key; tokens signed with the previous key keep "
       "working until they expire.",
       IdpRotateSigningKey},
  };
}

}  // namespace bastion::ctl
