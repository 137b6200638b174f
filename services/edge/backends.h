// What the edge needs from the rest of Bastion and from PagerDuty, as small interfaces: the
// tenant directory, governance's policy and audit, the vault's credentials, and the connector
// that runs a tool. Production wires them to gRPC clients and the PagerDuty connector; tests
// use fakes. Every call may block: the edge calls them on its executor, never on I/O threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace bastion::edge {

struct Identity {
  std::string tenant_id;
  std::string tenant_slug;
  std::string user_id;
  std::string email;
  std::vector<std::string> group_ids;
  std::string client_type;  // personal | shared | service
  std::string token_id;
};

struct TenantAccess {
  bool allowed = false;
  std::string message;  // why not, verbatim for the AI client
  int64_t version = 0;
};

struct AllowedTools {
  std::vector<std::string> names;
  int64_t policy_version = 0;
  // A grant behind the list expires then, changing it without a new policy version.
  absl::Time valid_until = absl::InfiniteFuture();
};

struct Decision {
  bool allowed = false;
  std::string reason;   // a stable code, e.g. "not_granted", "tool_pending_review"
  std::string message;  // for the user
};

struct UpstreamCredential {
  std::string authorization;  // the Authorization header value; a secret
  std::string from_email;
  std::string region;  // "us" | "eu"
  std::optional<absl::Time> expires_at;
};

// A credential the user must first create: the edge shows them where.
struct AuthorizationNeeded {
  std::string url;
  std::string message;
};

class TenantDirectory {
 public:
  virtual ~TenantDirectory() = default;
  // Unauthenticated / PermissionDenied for tokens that must not pass.
  virtual absl::StatusOr<Identity> Authenticate(const std::string& token) = 0;
  virtual absl::StatusOr<TenantAccess> CheckAccess(const std::string& tenant_slug) = 0;
};

// Sign-in for AI clients (docs/signin.md), when it is on: the access tokens Bastion's
// authorization server issues (static client tokens still go to the TenantDirectory), and where a
// client without a token learns how to sign in.
class AccessTokenAuthenticator {
 public:
  virtual ~AccessTokenAuthenticator() = default;
  // Whether `token` is an access token rather than a static client token.
  virtual bool Handles(const std::string& token) const = 0;
  // The identity behind a token presented at /mcp/<tenant_slug>/<server>; Unauthenticated for
  // tokens that must not pass there.
  virtual absl::StatusOr<Identity> Authenticate(const std::string& token, const std::string& tenant_slug,
                                                const std::string& server) = 0;
  // RFC 9728 metadata URL of /mcp/<tenant_slug>/<server>.
  virtual std::string ResourceMetadataUrl(const std::string& tenant_slug, const std::string& server) const = 0;
};

class PolicyClient {
 public:
  virtual ~PolicyClient() = default;
  virtual absl::StatusOr<AllowedTools> ListAllowedTools(const Identity& who, const std::string& server) = 0;
  virtual absl::StatusOr<Decision> Authorize(const Identity& who, const std::string& server,
                                             const std::string& tool) = 0;
};

class CredentialClient {
 public:
  virtual ~CredentialClient() = default;
  // FailedPrecondition when the user has no usable grant yet; then AuthorizationUrl says where.
  virtual absl::StatusOr<UpstreamCredential> GetUpstreamCredential(const Identity& who,
                                                                   const std::string& server) = 0;
  virtual absl::StatusOr<AuthorizationNeeded> BeginUserAuthorization(const Identity& who,
                                                                     const std::string& server) = 0;
  // The /oauth/callback step; returns a short description of what was connected.
  virtual absl::StatusOr<std::string> CompleteUserAuthorization(const std::string& state,
                                                                const std::string& code) = 0;
  // PagerDuty rejected the credential this user was given: do not hand it out again.
  virtual void Forget(const Identity& who, const std::string& server) {}
};

// How a tool call ended, as the connector saw it.
struct ToolOutcome {
  enum class Kind { kOk, kInvalidArguments, kUpstreamError, kCredentialRejected, kPermissionMissing, kUnavailable };
  Kind kind = Kind::kOk;
  boost::json::value result;  // on kOk
  std::string message;        // otherwise: for the model to read
  int upstream_status = 0;    // last HTTP status from PagerDuty, 0 if none
};

class ToolRunner {
 public:
  virtual ~ToolRunner() = default;
  // The MCP definitions (name, title, description, inputSchema, annotations) of every tool the
  // connector offers, in a stable order.
  virtual const std::vector<boost::json::object>& Definitions() const = 0;
  virtual bool Knows(const std::string& tool) const = 0;
  virtual ToolOutcome Run(const std::string& tool, const boost::json::object& arguments,
                          const UpstreamCredential& credential) = 0;
};

struct AuditEvent {
  std::string event_id;
  absl::Time time;
  std::string tenant_id;
  std::string user_id;
  std::string email;
  std::string client_type;
  std::string token_id;
  std::string server;
  std::string tool;
  bool allowed = false;
  std::string reason;
  std::string outcome;  // ok | denied | invalid_arguments | upstream_error | authorization_required | error
  int upstream_status = 0;
  absl::Duration latency;
  std::string request_id;
  std::string arguments_digest;  // SHA-256 of the canonical arguments; values are not kept
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // False when the event cannot be queued (the queue is full): the call must not run unaudited.
  virtual bool Record(AuditEvent event) = 0;
  virtual bool HasRoom() const = 0;
};

}  // namespace bastion::edge
