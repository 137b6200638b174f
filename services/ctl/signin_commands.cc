// bastionctl's commands for AI-client sign-in on the tenant service (docs/signin.md): the
// tenant's sign-in policy (`idp policy`) and the OAuth grants AI clients hold (`oauth grants`).
// The IdP's client id and secret are the vault's (`idp set`), not these.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/status_macros.h"
#include "proto/bastion/tenant/v1/signin.grpc.pb.h"
#include "services/ctl/commands.h"
#include "services/ctl/output.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::tenant::v1;
using Stub = pb::SignInService::Stub;

constexpr Service kTenant = Service::kTenant;

std::string Or(const std::string& s, const std::string& fallback) { return s.empty() ? fallback : s; }

void PrintPolicy(Context& ctx, const std::string& tenant, const pb::SignInPolicy& p) {
  PrintFields(ctx.out(), {
                             {"tenant", tenant},
                             {"issuer", Or(p.issuer(), "- (sign-in off: static tokens only)")},
                             {"allowed domains", Or(absl::StrJoin(p.allowed_domains(), ","), "any")},
                             {"groups claim", Or(p.groups_claim(), "- (groups not synced)")},
                             {"jit users", p.jit_users() ? "on" : "off"},
                             {"updated", p.has_updated_at() ? FormatTime(p.updated_at()) : "-"},
                         });
}

absl::StatusOr<pb::SignInPolicy> GetPolicy(Context& ctx) {
  pb::TenantRef req;
  req.set_tenant(ctx.tenant());
  pb::SignInPolicy p;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::GetSignInPolicy, req, &p));
  return p;
}

absl::Status PolicyGet(Context& ctx) {
  ASSIGN_OR_RETURN(pb::SignInPolicy p, GetPolicy(ctx));
  if (ctx.json()) return PrintJson(ctx.out(), p);
  PrintPolicy(ctx, ctx.tenant(), p);
  return absl::OkStatus();
}

// SetSignInPolicy replaces the whole policy, so the flags given are merged into the current one.
absl::Status PolicySet(Context& ctx) {
  std::optional<bool> jit;
  if (auto s = ctx.flag("jit-users"); s.has_value()) {
    if (*s != "on" && *s != "off") return UsageError(absl::StrCat("--jit-users must be on or off, not '", *s, "'"));
    jit = *s == "on";
  }
  const auto issuer = ctx.flag("issuer");
  const auto domains = ctx.flag("allowed-domains");
  const auto claim = ctx.flag("groups-claim");
  if (!issuer && !domains && !claim && !jit) {
    return UsageError("give at least one of --issuer, --allowed-domains, --groups-claim, --jit-users");
  }
  ASSIGN_OR_RETURN(pb::SignInPolicy current, GetPolicy(ctx));
  pb::SetSignInPolicyRequest req;
  req.set_tenant(ctx.tenant());
  pb::SignInPolicy& p = *req.mutable_policy();
  p = current;
  if (issuer) p.set_issuer(*issuer);
  if (domains) {
    p.clear_allowed_domains();
    for (absl::string_view d : absl::StrSplit(*domains, ',', absl::SkipWhitespace())) {
      p.add_allowed_domains(std::string(absl::StripAsciiWhitespace(d)));
    }
  }
  if (claim) p.set_groups_claim(*claim);
  if (jit) p.set_jit_users(*jit);
  pb::SignInPolicy set;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::SetSignInPolicy, req, &set));
  if (ctx.json()) return PrintJson(ctx.out(), set);
  PrintPolicy(ctx, ctx.tenant(), set);
  return absl::OkStatus();
}

std::string GrantStatus(const pb::OAuthGrant& g) {
  return g.has_revoked_at() ? absl::StrCat("revoked (", Or(g.revoked_reason(), "-"), ")") : "active";
}

absl::Status GrantsList(Context& ctx) {
  pb::ListOAuthGrantsRequest req;
  req.set_tenant(ctx.tenant());
  req.set_user(ctx.flag("user").value_or(""));
  req.set_include_revoked(ctx.flag("all").value_or("false") == "true");
  pb::ListOAuthGrantsResponse resp;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::ListOAuthGrants, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.grants());
  Table table({"ID", "USER", "CLIENT", "RESOURCE", "STATUS", "CREATED", "LAST USED"});
  for (const pb::OAuthGrant& g : resp.grants()) {
    table.AddRow({g.id(), Or(g.user_email(), g.user_id()), Or(g.client_name(), g.client_id()), g.resource(),
                  GrantStatus(g), FormatTime(g.created_at()),
                  g.has_last_used_at() ? FormatTime(g.last_used_at()) : "-"});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status GrantsRevoke(Context& ctx) {
  pb::RevokeOAuthGrantRequest req;
  req.set_tenant(ctx.tenant());
  req.set_grant_id(ctx.arg(0));
  pb::OAuthGrant g;
  RETURN_IF_ERROR(ctx.Call(kTenant, &Stub::RevokeOAuthGrant, req, &g));
  if (ctx.json()) return PrintJson(ctx.out(), g);
  ctx.out() << "Revoked grant " << g.id() << " (" << Or(g.client_name(), g.client_id()) << " for "
            << Or(g.user_email(), g.user_id())
            << "): its refresh token is dead and every edge refuses its access tokens within seconds.\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> SignInCommands() {
  const FlagSpec tenant = TenantFlag();
  return {
      {"idp policy", "get", {}, {tenant}, "Show who may sign in to a tenant from AI clients.", PolicyGet},
      {"idp policy",
       "set",
       {},
       {tenant, {"issuer", "URL"}, {"allowed-domains", "a,b"}, {"groups-claim", "C"}, {"jit-users", "on|off"}},
       "Change the tenant's sign-in policy (the flags given; an empty --issuer turns sign-in off).",
       PolicySet},
      {"oauth grants", "list", {}, {tenant, {"user", "email"}, {"all", ""}},
       "List AI clients' sign-ins (OAuth grants); --all includes revoked ones.", GrantsList},
      {"oauth grants", "revoke", {"<grant-id>"}, {tenant},
       "Revoke an AI client's sign-in: refresh stops and access tokens are refused within seconds.", GrantsRevoke},
  };
}

}  // namespace bastion::ctl
