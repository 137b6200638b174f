// bastionctl's commands for the governance service: registered servers, the review of their
// discovered tools, toolsets, access profiles, and the audit log.
#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"
#include "proto/bastion/governance/v1/governance.grpc.pb.h"
#include "services/ctl/commands.h"
#include "services/ctl/output.h"

namespace bastion::ctl {
namespace {

namespace pb = ::bastion::governance::v1;
using Stub = pb::GovernanceService::Stub;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr Service kGovernance = Service::kGovernance;
// `audit list` asks for pages of at most this many events and follows page tokens up to --limit.
constexpr int kAuditPageSize = 100;
constexpr int kDefaultAuditLimit = 100;
// A server that keeps handing out page tokens must not keep the CLI looping forever.
constexpr int kMaxPages = 10000;

// ---- Names as people type and read them ----------------------------------------------------

template <typename E>
struct Named {
  E value;
  const char* name;
};

constexpr Named<pb::ServerType> kServerTypes[] = {{pb::SERVER_TYPE_PAGERDUTY, "pagerduty"}};
constexpr Named<pb::Region> kRegions[] = {{pb::REGION_US, "us"}, {pb::REGION_EU, "eu"}};
constexpr Named<pb::AuthMode> kAuthModes[] = {{pb::AUTH_MODE_API_KEY, "api-key"}, {pb::AUTH_MODE_OAUTH, "oauth"}};
constexpr Named<pb::ToolPolicy> kToolPolicies[] = {{pb::TOOL_POLICY_REQUIRE_REVIEW, "require-review"},
                                                   {pb::TOOL_POLICY_APPROVE_ALL, "approve-all"},
                                                   {pb::TOOL_POLICY_APPROVE_READ_ONLY, "approve-read-only"},
                                                   {pb::TOOL_POLICY_TENANT_DEFAULT, "tenant-default"}};
constexpr Named<pb::ToolState> kToolStates[] = {{pb::TOOL_STATE_PENDING_REVIEW, "pending-review"},
                                                {pb::TOOL_STATE_APPROVED, "approved"},
                                                {pb::TOOL_STATE_DISABLED, "disabled"},
                                                {pb::TOOL_STATE_REMOVED, "removed"}};
constexpr Named<pb::Access> kAccess[] = {{pb::ACCESS_READ, "read"}, {pb::ACCESS_WRITE, "write"}};
constexpr Named<pb::Outcome> kOutcomes[] = {
    {pb::OUTCOME_SUCCESS, "success"}, {pb::OUTCOME_ERROR, "error"}, {pb::OUTCOME_DENIED, "denied"}};
constexpr Named<pb::Decision> kDecisions[] = {{pb::DECISION_ALLOW, "allow"}, {pb::DECISION_DENY, "deny"}};
constexpr Named<pb::AuditKind> kKinds[] = {{pb::AUDIT_KIND_TOOL_CALL, "tool-call"},
                                           {pb::AUDIT_KIND_ADMIN_CHANGE, "admin-change"}};
constexpr Named<pb::DenyReason> kReasons[] = {
    {pb::DENY_REASON_TENANT_INACTIVE, "tenant-inactive"},
    {pb::DENY_REASON_KILL_SWITCH, "kill-switch"},
    {pb::DENY_REASON_SERVER_UNAVAILABLE, "server-unavailable"},
    {pb::DENY_REASON_UNKNOWN_TOOL, "unknown-tool"},
    {pb::DENY_REASON_TOOL_PENDING_REVIEW, "tool-pending-review"},
    {pb::DENY_REASON_TOOL_DISABLED, "tool-disabled"},
    {pb::DENY_REASON_NOT_GRANTED, "not-granted"},
    {pb::DENY_REASON_GRANT_EXPIRED, "grant-expired"},
    {pb::DENY_REASON_CREDENTIAL_CANNOT_SERVE, "credential-cannot-serve"}};

template <typename E, size_t N>
std::string NameIn(const Named<E> (&names)[N], E value) {
  for (const Named<E>& n : names) {
    if (n.value == value) return n.name;
  }
  return "-";
}

// "a, b or c"
template <typename E, size_t N>
std::string Choices(const Named<E> (&names)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += names[i].name;
  }
  return out;
}

template <typename E, size_t N>
absl::StatusOr<E> ParseIn(const Named<E> (&names)[N], const std::string& flag, const std::string& s) {
  for (const Named<E>& n : names) {
    if (s == n.name) return n.value;
  }
  return UsageError(absl::StrCat("--", flag, " must be ", Choices(names), ", not '", s, "'"));
}

// The flag's value parsed with `names`, if the flag was given.
template <typename E, size_t N>
absl::StatusOr<std::optional<E>> OptionalFlag(Context& ctx, const Named<E> (&names)[N], const std::string& flag) {
  auto s = ctx.flag(flag);
  if (!s.has_value()) return std::optional<E>();
  ASSIGN_OR_RETURN(E value, ParseIn(names, flag, *s));
  return std::optional<E>(value);
}

absl::StatusOr<bool> ParseBool(const std::string& flag, const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return UsageError(absl::StrCat("--", flag, " must be true or false, not '", s, "'"));
}

// "a,b, c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(part));
  }
  return out;
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return ts;
}

absl::StatusOr<google::protobuf::Timestamp> ParseRfc3339(const std::string& flag, const std::string& s) {
  absl::Time t;
  std::string why;
  // ParseTime also takes "infinite-future", which no timestamp can hold.
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &why) || t == absl::InfiniteFuture() ||
      t == absl::InfinitePast()) {
    return UsageError(
        absl::StrCat("--", flag, " must be an RFC 3339 time like 2024-05-01T09:30:00Z, not '", s, "'"));
  }
  return ToTimestamp(t);
}

// "30d", "12h", "90m", "1h30m" from now.
absl::StatusOr<google::protobuf::Timestamp> ParseExpiresIn(const std::string& s) {
  absl::Duration d;
  bool ok;
  if (!s.empty() && s.back() == 'd') {  // absl::ParseDuration stops at hours
    int64_t days = 0;
    ok = absl::SimpleAtoi(s.substr(0, s.size() - 1), &days) && days > 0 && days <= 365 * 100;
    d = absl::Hours(24) * days;
  } else {
    ok = absl::ParseDuration(s, &d);
  }
  if (!ok || d <= absl::ZeroDuration()) {
    return UsageError(
        absl::StrCat("--expires-in must be a positive duration like 30d, 12h or 90m, not '", s, "'"));
  }
  return ToTimestamp(absl::Now() + d);
}

// --expires-at or --expires-in, never both; nullopt when neither is given.
absl::StatusOr<std::optional<google::protobuf::Timestamp>> ExpiryFlags(Context& ctx) {
  auto at = ctx.flag("expires-at");
  auto in = ctx.flag("expires-in");
  if (at.has_value() && in.has_value()) return UsageError("give --expires-at or --expires-in, not both");
  if (in.has_value()) {
    ASSIGN_OR_RETURN(auto ts, ParseExpiresIn(*in));
    return std::optional<google::protobuf::Timestamp>(ts);
  }
  if (at.has_value()) {
    ASSIGN_OR_RETURN(auto ts, ParseRfc3339("expires-at", *at));
    return std::optional<google::protobuf::Timestamp>(ts);
  }
  return std::optional<google::protobuf::Timestamp>();
}

std::string Or(const std::string& s, const std::string& fallback) { return s.empty() ? fallback : s; }
std::string YesNo(bool b) { return b ? "yes" : "no"; }
std::string TimeOr(bool has, const google::protobuf::Timestamp& ts, const std::string& fallback) {
  return has ? FormatTime(ts) : fallback;
}
std::string Plural(int n, const char* one, const char* many) { return absl::StrCat(n, " ", n == 1 ? one : many); }

// ---- server --------------------------------------------------------------------------

Fields ServerFields(const pb::Server& s) {
  return {
      {"name", s.name()},
      {"type", NameIn(kServerTypes, s.type())},
      {"region", NameIn(kRegions, s.region())},
      {"auth", NameIn(kAuthModes, s.auth_mode())},
      {"tool policy", NameIn(kToolPolicies, s.tool_policy())},
      {"enabled", YesNo(s.enabled())},
      {"id", s.id()},
      {"created", FormatTime(s.created_at())},
      {"updated", FormatTime(s.updated_at())},
      {"last synced", TimeOr(s.has_last_synced_at(), s.last_synced_at(), "never")},
  };
}

// "103 new, 0 changed, 0 removed, 0 unchanged", then the names behind each non-zero count.
void PrintSync(std::ostream& out, const pb::SyncSummary& s) {
  out << "Discovery: " << s.new_tools() << " new, " << s.changed_tools() << " changed, " << s.removed_tools()
      << " removed, " << s.unchanged_tools() << " unchanged.\n";
  // A registration finds every tool new; listing 103 names would bury the counts.
  if (s.new_tools() > 0 && s.unchanged_tools() + s.changed_tools() + s.removed_tools() > 0) {
    out << "  new: " << absl::StrJoin(s.new_names(), ", ") << "\n";
  }
  if (s.changed_tools() > 0) {
    out << "  changed, back to pending review: " << absl::StrJoin(s.changed_names(), ", ") << "\n";
  }
  if (s.removed_tools() > 0) out << "  removed: " << absl::StrJoin(s.removed_names(), ", ") << "\n";
}

absl::Status ServerRegister(Context& ctx) {
  pb::RegisterServerRequest req;
  req.set_tenant(ctx.tenant());
  req.set_name(ctx.arg(0));
  ASSIGN_OR_RETURN(pb::ServerType type, ParseIn(kServerTypes, "type", *ctx.flag("type")));
  req.set_type(type);
  ASSIGN_OR_RETURN(pb::AuthMode auth, ParseIn(kAuthModes, "auth", *ctx.flag("auth")));
  req.set_auth_mode(auth);
  ASSIGN_OR_RETURN(pb::Region region, ParseIn(kRegions, "region", ctx.flag("region").value_or("us")));
  req.set_region(region);
  ASSIGN_OR_RETURN(auto policy, OptionalFlag(ctx, kToolPolicies, "tool-policy"));
  req.set_tool_policy(policy.value_or(pb::TOOL_POLICY_TENANT_DEFAULT));
  pb::RegisterServerResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::RegisterServer, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  const pb::Server& s = resp.server();
  ctx.out() << "Registered server " << s.name() << " (" << NameIn(kServerTypes, s.type()) << ", "
            << NameIn(kRegions, s.region()) << ", " << NameIn(kAuthModes, s.auth_mode()) << ", tool policy "
            << NameIn(kToolPolicies, s.tool_policy()) << ") in tenant " << ctx.tenant() << ".\n";
  PrintSync(ctx.out(), resp.discovery());
  ctx.out() << "Review the tools with 'bastionctl tools list " << s.name() << " --tenant " << ctx.tenant()
            << " --state pending-review'.\n";
  return absl::OkStatus();
}

absl::Status ServerList(Context& ctx) {
  pb::ListServersRequest req;
  req.set_tenant(ctx.tenant());
  pb::ListServersResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::ListServers, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.servers());
  Table table({"NAME", "TYPE", "REGION", "AUTH", "TOOL POLICY", "ENABLED", "LAST SYNCED", "ID"});
  for (const pb::Server& s : resp.servers()) {
    table.AddRow({s.name(), NameIn(kServerTypes, s.type()), NameIn(kRegions, s.region()),
                  NameIn(kAuthModes, s.auth_mode()), NameIn(kToolPolicies, s.tool_policy()), YesNo(s.enabled()),
                  TimeOr(s.has_last_synced_at(), s.last_synced_at(), "never"), s.id()});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status ServerGet(Context& ctx) {
  pb::ServerRef req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  pb::Server s;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::GetServer, req, &s));
  if (ctx.json()) return PrintJson(ctx.out(), s);
  PrintFields(ctx.out(), ServerFields(s));
  return absl::OkStatus();
}

absl::Status ServerUpdate(Context& ctx) {
  pb::UpdateServerRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  ASSIGN_OR_RETURN(auto region, OptionalFlag(ctx, kRegions, "region"));
  if (region) req.set_region(*region);
  ASSIGN_OR_RETURN(auto auth, OptionalFlag(ctx, kAuthModes, "auth"));
  if (auth) req.set_auth_mode(*auth);
  ASSIGN_OR_RETURN(auto policy, OptionalFlag(ctx, kToolPolicies, "tool-policy"));
  if (policy) req.set_tool_policy(*policy);
  if (auto e = ctx.flag("enabled"); e.has_value()) {
    ASSIGN_OR_RETURN(bool enabled, ParseBool("enabled", *e));
    req.set_enabled(enabled);
  }
  if (!region && !auth && !policy && !req.has_enabled()) {
    return UsageError("nothing to change: give --region, --auth, --tool-policy or --enabled");
  }
  pb::Server s;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::UpdateServer, req, &s));
  if (ctx.json()) return PrintJson(ctx.out(), s);
  ctx.out() << "Updated server " << s.name() << ".\n";
  PrintFields(ctx.out(), ServerFields(s));
  return absl::OkStatus();
}

absl::Status ServerDelete(Context& ctx) {
  pb::ServerRef req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  pb::DeleteServerResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::DeleteServer, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  ctx.out() << "Deleted server " << ctx.arg(0) << " with " << Plural(resp.tools_deleted(), "tool", "tools");
  if (resp.toolsets_deleted_size() > 0) {
    ctx.out() << " and its toolsets " << absl::StrJoin(resp.toolsets_deleted(), ", ")
              << " (no profile grants them any more)";
  }
  ctx.out() << ".\n";
  return absl::OkStatus();
}

// ---- tools ---------------------------------------------------------------------------

// Unknown (the vault could not be asked) is not flagged.
bool CannotServe(const pb::Tool& t) { return t.credential().known() && !t.credential().can_serve(); }

// What a reviewer should know before approving: the credential cannot serve it, it is stopped,
// it destroys data.
std::string Risk(const pb::Tool& t) {
  std::vector<std::string> flags;
  if (t.kill_switch()) flags.push_back("kill switch on");
  if (CannotServe(t)) {
    flags.push_back(absl::StrCat("credential cannot serve: ", Or(t.credential().problem(), "unknown reason")));
  }
  if (t.annotations().destructive_hint()) flags.push_back("destructive");
  return Or(absl::StrJoin(flags, "; "), "-");
}

bool ReadOnly(const pb::Tool& t) {
  // The governance service's definition (approve-read-only policy, approved-read-only toolset).
  return t.access() == pb::ACCESS_READ && t.annotations().read_only_hint();
}

absl::StatusOr<std::vector<pb::Tool>> ListTools(Context& ctx, const std::string& server, pb::ToolState state) {
  pb::ListToolsRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(server);
  req.set_state(state);
  pb::ListToolsResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::ListTools, req, &resp));
  return std::vector<pb::Tool>(resp.tools().begin(), resp.tools().end());
}

absl::Status ToolsList(Context& ctx) {
  ASSIGN_OR_RETURN(auto state, OptionalFlag(ctx, kToolStates, "state"));
  ASSIGN_OR_RETURN(auto tools, ListTools(ctx, ctx.arg(0), state.value_or(pb::TOOL_STATE_UNSPECIFIED)));
  if (ctx.json()) return PrintJsonList(ctx.out(), tools);
  Table table({"NAME", "ACCESS", "STATE", "RISK", "SCOPES"});
  for (const pb::Tool& t : tools) {
    table.AddRow({t.name(), NameIn(kAccess, t.access()), NameIn(kToolStates, t.state()), Risk(t),
                  Or(absl::StrJoin(t.oauth_scopes(), ","), "-")});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

absl::Status ToolsSync(Context& ctx) {
  pb::ServerRef req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  pb::SyncSummary s;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::SyncTools, req, &s));
  if (ctx.json()) return PrintJson(ctx.out(), s);
  PrintSync(ctx.out(), s);
  return absl::OkStatus();
}

const char* Verb(pb::ToolState state) {
  switch (state) {
    case pb::TOOL_STATE_APPROVED: return "Approved";
    case pb::TOOL_STATE_DISABLED: return "Disabled";
    default: return "Sent back to review";
  }
}

// A bulk change names dozens of tools; the first few say enough, `tools list` has the rest.
std::string Names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 10;
  if (names.size() <= kShown) return absl::StrJoin(names, ", ");
  return absl::StrCat(absl::StrJoin(names.begin(), names.begin() + kShown, ", "), " and ", names.size() - kShown,
                      " more");
}

// An approved tool the server's credential cannot serve is still denied; say so now rather than
// when users' calls fail. SetToolState does not report the fit, so ask ListTools. The approval
// has happened either way, so a failure here only loses the warning.
void WarnCannotServe(Context& ctx, const std::string& server, const std::vector<std::string>& approved) {
  auto tools = ListTools(ctx, server, pb::TOOL_STATE_APPROVED);
  if (!tools.ok()) return;
  for (const pb::Tool& t : *tools) {
    if (CannotServe(t) && std::find(approved.begin(), approved.end(), t.name()) != approved.end()) {
      ctx.err() << "warning: " << t.name() << ": the credential cannot serve it (" << t.credential().problem()
                << "); calls are denied until that changes.\n";
    }
  }
}

// `tools approve|disable|review <server> <tool>...`; approve also takes --all-read-only.
absl::Status ToolsSetState(Context& ctx, pb::ToolState state) {
  const std::string& server = ctx.arg(0);
  std::vector<std::string> names(ctx.args().begin() + 1, ctx.args().end());
  const bool all_read_only = ctx.flag("all-read-only").value_or("false") == "true";
  if (all_read_only && !names.empty()) {
    return UsageError("name the tools or give --all-read-only, not both");
  }
  if (!all_read_only && names.empty()) {
    return UsageError(state == pb::TOOL_STATE_APPROVED ? "name the tools to approve, or give --all-read-only"
                                                       : "name at least one tool");
  }
  int disabled_read_only = 0;
  if (all_read_only) {
    // Tools an admin disabled stay disabled: a bulk approval should not undo a deliberate "no".
    ASSIGN_OR_RETURN(auto tools, ListTools(ctx, server, pb::TOOL_STATE_UNSPECIFIED));
    for (const pb::Tool& t : tools) {
      if (!ReadOnly(t)) continue;
      if (t.state() == pb::TOOL_STATE_PENDING_REVIEW) names.push_back(t.name());
      if (t.state() == pb::TOOL_STATE_DISABLED) ++disabled_read_only;
    }
    if (names.empty()) {
      if (ctx.json()) return PrintJson(ctx.out(), pb::SetToolStateResponse());
      ctx.out() << "No read-only tool of " << server << " is pending review; nothing to approve.\n";
      return absl::OkStatus();
    }
  }
  pb::SetToolStateRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(server);
  for (const std::string& n : names) req.add_tools(n);
  req.set_state(state);
  pb::SetToolStateResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::SetToolState, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  std::vector<std::string> done;
  for (const pb::Tool& t : resp.tools()) done.push_back(t.name());
  ctx.out() << Verb(state) << " " << Plural(resp.tools_size(), "tool", "tools") << " of " << server << ": "
            << Names(done) << ".\n";
  if (disabled_read_only > 0) {
    ctx.out() << Plural(disabled_read_only, "disabled read-only tool stays", "disabled read-only tools stay")
              << " disabled; approve them by name.\n";
  }
  if (state == pb::TOOL_STATE_APPROVED) WarnCannotServe(ctx, server, done);
  return absl::OkStatus();
}

absl::Status ToolsKillSwitch(Context& ctx) {
  const std::string& state = ctx.arg(2);
  if (state != "on" && state != "off") {
    return UsageError(absl::StrCat("the kill switch is on or off, not '", state, "'"));
  }
  pb::SetToolKillSwitchRequest req;
  req.set_tenant(ctx.tenant());
  req.set_server(ctx.arg(0));
  req.set_tool(ctx.arg(1));
  req.set_on(state == "on");
  pb::Tool t;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::SetToolKillSwitch, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  ctx.out() << "Kill switch for " << ctx.arg(0) << "/" << t.name() << " is " << (t.kill_switch() ? "on" : "off")
            << (t.kill_switch() ? ": every call to it is refused.\n"
                                : ": calls are decided by its review state and grants again.\n");
  return absl::OkStatus();
}

// ---- toolset -------------------------------------------------------------------------

std::string ToolsetTools(const pb::Toolset& t) {
  // Built-ins carry no list: they follow the tool states.
  if (t.builtin()) return t.name() == "approved-read-only" ? "every approved read-only tool" : "every approved tool";
  return Or(absl::StrJoin(t.tools(), ","), "-");
}

void PrintToolset(Context& ctx, const char* verb, const pb::Toolset& t) {
  ctx.out() << verb << " toolset " << t.name() << " on server " << t.server() << ": "
            << Plural(t.tools_size(), "tool", "tools") << " (" << absl::StrJoin(t.tools(), ", ") << ").\n";
}

absl::Status ToolsetCreate(Context& ctx) {
  pb::CreateToolsetRequest req;
  req.set_tenant(ctx.tenant());
  req.set_name(ctx.arg(0));
  req.set_description(ctx.flag("description").value_or(""));
  req.set_server(*ctx.flag("server"));
  for (const std::string& t : SplitList(*ctx.flag("tools"))) req.add_tools(t);
  pb::Toolset t;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::CreateToolset, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  PrintToolset(ctx, "Created", t);
  return absl::OkStatus();
}

absl::Status ToolsetUpdate(Context& ctx) {
  pb::UpdateToolsetRequest req;
  req.set_tenant(ctx.tenant());
  req.set_toolset(ctx.arg(0));
  if (auto d = ctx.flag("description"); d.has_value()) req.set_description(*d);
  if (auto tools = ctx.flag("tools"); tools.has_value()) {
    pb::ToolNames* names = req.mutable_tools();
    for (const std::string& t : SplitList(*tools)) names->add_names(t);
  }
  if (!req.has_description() && !req.has_tools()) return UsageError("nothing to change: give --tools or --description");
  pb::Toolset t;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::UpdateToolset, req, &t));
  if (ctx.json()) return PrintJson(ctx.out(), t);
  PrintToolset(ctx, "Updated", t);
  return absl::OkStatus();
}

absl::Status ToolsetDelete(Context& ctx) {
  pb::ToolsetRef req;
  req.set_tenant(ctx.tenant());
  req.set_toolset(ctx.arg(0));
  pb::DeleteToolsetResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::DeleteToolset, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  ctx.out() << "Deleted toolset " << ctx.arg(0);
  if (resp.profiles_changed_size() > 0) {
    ctx.out() << "; profiles " << absl::StrJoin(resp.profiles_changed(), ", ") << " no longer grant it";
  }
  ctx.out() << ".\n";
  return absl::OkStatus();
}

absl::Status ToolsetList(Context& ctx) {
  pb::ListToolsetsRequest req;
  req.set_tenant(ctx.tenant());
  pb::ListToolsetsResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::ListToolsets, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.toolsets());
  Table table({"NAME", "KIND", "SERVER", "TOOLS", "DESCRIPTION"});
  for (const pb::Toolset& t : resp.toolsets()) {
    table.AddRow({t.name(), t.builtin() ? "built-in" : "custom", t.builtin() ? "(all)" : t.server(), ToolsetTools(t),
                  Or(t.description(), "-")});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

// ---- profile -------------------------------------------------------------------------

std::string MemberName(const pb::Member& m) {
  return absl::StrCat(m.kind() == pb::Member::KIND_GROUP ? "group:" : "user:", Or(m.label(), m.id()));
}

std::string Members(const pb::AccessProfile& p) {
  std::vector<std::string> out;
  for (const pb::Member& m : p.members()) out.push_back(MemberName(m));
  return Or(absl::StrJoin(out, ","), "-");
}

std::string Expiry(const pb::AccessProfile& p) {
  if (!p.has_expires_at()) return "never";
  return absl::StrCat(FormatTime(p.expires_at()), p.expired() ? " (expired)" : "");
}

void PrintProfile(Context& ctx, const char* verb, const pb::AccessProfile& p) {
  ctx.out() << verb << " access profile " << p.name() << ": toolsets "
            << Or(absl::StrJoin(p.toolsets(), ","), "-") << " for " << Members(p) << ", expires " << Expiry(p)
            << ".\n";
}

absl::Status ProfileCreate(Context& ctx) {
  pb::CreateAccessProfileRequest req;
  req.set_tenant(ctx.tenant());
  req.set_name(ctx.arg(0));
  req.set_description(ctx.flag("description").value_or(""));
  for (const std::string& t : SplitList(*ctx.flag("toolsets"))) req.add_toolsets(t);
  for (const std::string& m : SplitList(*ctx.flag("members"))) req.add_members(m);
  ASSIGN_OR_RETURN(auto expires, ExpiryFlags(ctx));
  if (expires) *req.mutable_expires_at() = *expires;
  pb::AccessProfile p;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::CreateAccessProfile, req, &p));
  if (ctx.json()) return PrintJson(ctx.out(), p);
  PrintProfile(ctx, "Created", p);
  return absl::OkStatus();
}

absl::Status ProfileUpdate(Context& ctx) {
  pb::UpdateAccessProfileRequest req;
  req.set_tenant(ctx.tenant());
  req.set_profile(ctx.arg(0));
  if (auto d = ctx.flag("description"); d.has_value()) req.set_description(*d);
  if (auto t = ctx.flag("toolsets"); t.has_value()) {
    pb::StringList* list = req.mutable_toolsets();
    for (const std::string& s : SplitList(*t)) list->add_values(s);
  }
  if (auto m = ctx.flag("members"); m.has_value()) {
    pb::StringList* list = req.mutable_members();
    for (const std::string& s : SplitList(*m)) list->add_values(s);
  }
  const bool never = ctx.flag("expires-at") == std::optional<std::string>("never");
  if (never) {
    if (ctx.has_flag("expires-in")) return UsageError("give --expires-at or --expires-in, not both");
    // Not read back through req: the generated clear_expires_at() also clears expires_at.
    req.set_clear_expires_at(true);
  } else {
    ASSIGN_OR_RETURN(auto expires, ExpiryFlags(ctx));
    if (expires) *req.mutable_expires_at() = *expires;
  }
  if (!req.has_description() && !req.has_toolsets() && !req.has_members() && !req.has_expires_at() && !never) {
    return UsageError("nothing to change: give --toolsets, --members, --expires-at, --expires-in or --description");
  }
  pb::AccessProfile p;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::UpdateAccessProfile, req, &p));
  if (ctx.json()) return PrintJson(ctx.out(), p);
  PrintProfile(ctx, "Updated", p);
  return absl::OkStatus();
}

absl::Status ProfileDelete(Context& ctx) {
  pb::AccessProfileRef req;
  req.set_tenant(ctx.tenant());
  req.set_profile(ctx.arg(0));
  pb::DeleteAccessProfileResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::DeleteAccessProfile, req, &resp));
  if (ctx.json()) return PrintJson(ctx.out(), resp);
  ctx.out() << "Deleted access profile " << ctx.arg(0) << "; its members lose what only it granted.\n";
  return absl::OkStatus();
}

absl::Status ProfileList(Context& ctx) {
  pb::ListAccessProfilesRequest req;
  req.set_tenant(ctx.tenant());
  pb::ListAccessProfilesResponse resp;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::ListAccessProfiles, req, &resp));
  if (ctx.json()) return PrintJsonList(ctx.out(), resp.profiles());
  Table table({"NAME", "TOOLSETS", "MEMBERS", "EXPIRES", "DESCRIPTION"});
  for (const pb::AccessProfile& p : resp.profiles()) {
    table.AddRow({p.name(), Or(absl::StrJoin(p.toolsets(), ","), "-"), Members(p), Expiry(p),
                  Or(p.description(), "-")});
  }
  table.Print(ctx.out());
  return absl::OkStatus();
}

// ---- audit ---------------------------------------------------------------------------

absl::StatusOr<pb::AuditFilter> AuditFilterFlags(Context& ctx) {
  pb::AuditFilter f;
  f.set_user(ctx.flag("user").value_or(""));
  f.set_server(ctx.flag("server").value_or(""));
  f.set_tool(ctx.flag("tool").value_or(""));
  ASSIGN_OR_RETURN(auto outcome, OptionalFlag(ctx, kOutcomes, "outcome"));
  f.set_outcome(outcome.value_or(pb::OUTCOME_UNSPECIFIED));
  ASSIGN_OR_RETURN(auto kind, OptionalFlag(ctx, kKinds, "kind"));
  f.set_kind(kind.value_or(pb::AUDIT_KIND_UNSPECIFIED));
  if (auto s = ctx.flag("since"); s.has_value()) {
    ASSIGN_OR_RETURN(*f.mutable_since(), ParseRfc3339("since", *s));
  }
  if (auto u = ctx.flag("until"); u.has_value()) {
    ASSIGN_OR_RETURN(*f.mutable_until(), ParseRfc3339("until", *u));
  }
  return f;
}

// One line per event; tool calls and admin changes share the columns.
std::vector<std::string> AuditRow(const pb::AuditEvent& e) {
  if (e.kind() == pb::AUDIT_KIND_TOOL_CALL) {
    std::vector<std::string> detail;
    if (e.reason() != pb::DENY_REASON_NONE) detail.push_back(NameIn(kReasons, e.reason()));
    if (e.upstream_status() > 0) detail.push_back(absl::StrCat("upstream ", e.upstream_status()));
    detail.push_back(absl::StrCat(e.latency_ms(), "ms"));
    return {FormatTime(e.time()), absl::StrCat(e.seq()), Or(e.user_email(), e.user_id()), e.tool(), e.server(),
            NameIn(kDecisions, e.decision()), NameIn(kOutcomes, e.outcome()), absl::StrJoin(detail, ", ")};
  }
  return {FormatTime(e.time()), absl::StrCat(e.seq()), e.actor(), e.action(), Or(e.target(), "-"), "-", "-",
          Or(e.details_json(), "-")};
}

absl::Status AuditList(Context& ctx) {
  int limit = kDefaultAuditLimit;
  if (auto l = ctx.flag("limit"); l.has_value() && (!absl::SimpleAtoi(*l, &limit) || limit <= 0)) {
    return UsageError(absl::StrCat("--limit must be a positive number, not '", *l, "'"));
  }
  pb::QueryAuditRequest req;
  req.set_tenant(ctx.tenant());
  ASSIGN_OR_RETURN(*req.mutable_filter(), AuditFilterFlags(ctx));
  std::vector<pb::AuditEvent> events;
  for (int page = 0; page < kMaxPages && static_cast<int>(events.size()) < limit; ++page) {
    req.set_page_size(std::min(kAuditPageSize, limit - static_cast<int>(events.size())));
    pb::QueryAuditResponse resp;
    RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::QueryAudit, req, &resp));
    for (auto& e : *resp.mutable_events()) events.push_back(std::move(e));
    if (resp.next_page_token().empty() || resp.next_page_token() == req.page_token()) break;
    req.set_page_token(resp.next_page_token());
  }
  if (static_cast<int>(events.size()) > limit) events.resize(limit);
  if (ctx.json()) return PrintJsonList(ctx.out(), events);
  Table table({"TIME", "SEQ", "WHO", "WHAT", "ON", "DECISION", "OUTCOME", "DETAIL"});
  for (const pb::AuditEvent& e : events) table.AddRow(AuditRow(e));
  table.Print(ctx.out());
  return absl::OkStatus();
}

// ExportAudit is a server stream and Context::Call runs unary calls. This stand-in stub gives the
// stream a unary shape (every chunk goes straight to `out` as it arrives), so the export still
// carries the admin token and the deadline and fails like every other command.
class AuditExportStub {
 public:
  explicit AuditExportStub(std::shared_ptr<grpc::Channel> channel)
      : stub_(pb::GovernanceService::NewStub(std::move(channel))) {}

  grpc::Status Export(grpc::ClientContext* call, const pb::ExportAuditRequest& req, std::ostream* out) {
    std::unique_ptr<grpc::ClientReader<pb::ExportAuditChunk>> reader = stub_->ExportAudit(call, req);
    pb::ExportAuditChunk chunk;
    while (reader->Read(&chunk)) {
      *out << chunk.jsonl() << std::flush;
      // Nobody reads any more (a closed pipe): stop the server instead of draining the log.
      if (!*out) call->TryCancel();
    }
    return reader->Finish();
  }

 private:
  std::unique_ptr<Stub> stub_;
};

absl::Status AuditExport(Context& ctx) {
  pb::ExportAuditRequest req;
  req.set_tenant(ctx.tenant());
  ASSIGN_OR_RETURN(*req.mutable_filter(), AuditFilterFlags(ctx));
  return ctx.Call(kGovernance, &AuditExportStub::Export, req, &ctx.out());
}

absl::Status AuditVerify(Context& ctx) {
  pb::VerifyAuditChainRequest req;
  req.set_tenant(ctx.tenant());
  pb::VerifyAuditChainResponse v;
  RETURN_IF_ERROR(ctx.Call(kGovernance, &Stub::VerifyAuditChain, req, &v));
  if (ctx.json()) {
    RETURN_IF_ERROR(PrintJson(ctx.out(), v));
  } else if (v.ok()) {
    ctx.out() << "OK: " << Plural(static_cast<int>(v.events_checked()), "event chains", "events chain")
              << " correctly; head hash " << Or(v.head_hash(), "-") << ".\n";
  } else {
    ctx.out() << "BROKEN at seq " << v.first_broken_seq() << " (event " << Or(v.first_broken_event_id(), "missing")
              << "): " << v.problem() << "\n"
              << "Checked " << Plural(static_cast<int>(v.events_checked()), "event", "events")
              << "; every event before seq " << v.first_broken_seq()
              << " chains correctly.\n";
  }
  if (v.ok()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("the audit log of tenant ", ctx.tenant(),
                                          " does not verify: first broken link at seq ", v.first_broken_seq()));
}

}  // namespace

std::vector<Command> GovernanceCommands() {
  const FlagSpec tenant = TenantFlag();
  const FlagSpec region{"region", "us|eu"};
  const FlagSpec auth{"auth", "api-key|oauth"};
  const FlagSpec policy{"tool-policy", "require-review|approve-all|approve-read-only|tenant-default"};
  const FlagSpec description{"description", "D"};
  const FlagSpec expires_in{"expires-in", "30d|12h"};
  const std::vector<FlagSpec> audit_filters = {
      tenant,
      {"user", "email"},
      {"server", "S"},
      {"tool", "X"},
      {"outcome", "success|error|denied"},
      {"kind", "tool-call|admin-change"},
      {"since", "RFC3339"},
      {"until", "RFC3339"},
  };
  std::vector<FlagSpec> audit_list_flags = audit_filters;
  audit_list_flags.push_back({"limit", "N"});
  return {
      {"server",
       "register",
       {"<name>"},
       {tenant, {"type", "pagerduty", true}, {"auth", "api-key|oauth", true}, region, policy},
       "Register a server (its catalog entry must be enabled) and discover its tools; new tools enter as "
       "the tool policy says (tenant-default unless given).",
       ServerRegister},
      {"server", "list", {}, {tenant}, "List a tenant's servers.", ServerList},
      {"server", "get", {"<name>"}, {tenant}, "Show a server.", ServerGet},
      {"server", "update", {"<name>"}, {tenant, region, auth, policy, {"enabled", "true|false"}},
       "Change a server's region, auth mode, tool policy, or switch it off (--enabled false denies every call).",
       ServerUpdate},
      {"server", "delete", {"<name>"}, {tenant},
       "Delete a server with its tools and toolsets (profiles stop granting them).", ServerDelete},
      {"tools", "list", {"<server>"}, {tenant, {"state", "pending-review|approved|disabled|removed"}},
       "List a server's tools: access, review state, risk (e.g. the credential cannot serve it), OAuth scopes.",
       ToolsList},
      {"tools", "sync", {"<server>"}, {tenant},
       "Re-run discovery; changed tools go back to pending review, vanished ones become removed.", ToolsSync},
      {"tools", "approve", {"<server>", "[<tool>...]"}, {tenant, {"all-read-only", ""}},
       "Approve the named tools, or with --all-read-only every read-only tool pending review.",
       [](Context& c) { return ToolsSetState(c, pb::TOOL_STATE_APPROVED); }},
      {"tools", "disable", {"<server>", "<tool>..."}, {tenant}, "Disable tools: every call to them is refused.",
       [](Context& c) { return ToolsSetState(c, pb::TOOL_STATE_DISABLED); }},
      {"tools", "review", {"<server>", "<tool>..."}, {tenant}, "Send tools back to pending review.",
       [](Context& c) { return ToolsSetState(c, pb::TOOL_STATE_PENDING_REVIEW); }},
      {"tools", "kill-switch", {"<server>", "<tool>", "on|off"}, {tenant},
       "Stop (on) or release (off) one tool at once, whatever its review state.", ToolsKillSwitch},
      {"toolset", "create", {"<name>"}, {tenant, {"server", "S", true}, {"tools", "a,b", true}, description},
       "Create a toolset of a server's tools.", ToolsetCreate},
      {"toolset", "update", {"<name>"}, {tenant, {"tools", "a,b"}, description},
       "Replace a toolset's tools (or description).", ToolsetUpdate},
      {"toolset", "delete", {"<name>"}, {tenant}, "Delete a toolset; profiles stop granting it.", ToolsetDelete},
      {"toolset", "list", {}, {tenant}, "List toolsets, the built-ins first.", ToolsetList},
      {"profile",
       "create",
       {"<name>"},
       {tenant, {"toolsets", "x,y", true}, {"members", "user:EMAIL,group:NAME", true}, {"expires-at", "RFC3339"},
        expires_in, description},
       "Grant toolsets to users and groups, optionally until an expiry time.",
       ProfileCreate},
      {"profile",
       "update",
       {"<name>"},
       {tenant, {"toolsets", "x,y"}, {"members", "user:EMAIL,group:NAME"}, {"expires-at", "RFC3339|never"},
        expires_in, description},
       "Replace a profile's toolsets or members, or change its expiry.",
       ProfileUpdate},
      {"profile", "delete", {"<name>"}, {tenant}, "Delete an access profile.", ProfileDelete},
      {"profile", "list", {}, {tenant}, "List access profiles with their toolsets, members and expiry.",
       ProfileList},
      {"audit", "list", {}, audit_list_flags,
       "List audit events, newest first: tool calls and admin changes (default --limit 100).", AuditList},
      {"audit", "export", {}, audit_filters,
       "Write the audit log as JSON lines, oldest first (raise --timeout for a large log).", AuditExport},
      {"audit", "verify", {}, {tenant},
       "Check the audit log's hash chain; prints OK, or the first broken link and exits 1.", AuditVerify},
  };
}

}  // namespace bastion::ctl
