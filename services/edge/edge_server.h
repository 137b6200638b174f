// Puts the MCP endpoint and the OAuth callback page on the edge's HTTP server. Every request is
// handed to the edge's executor (backends may block); the I/O threads only parse and write.
// Open GET streams are kept per tenant so policy changes reach clients as
// notifications/tools/list_changed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/exec/executor.h"
#include "common/http/http_server.h"
#include "common/time/clock.h"
#include "services/edge/mcp_endpoint.h"
#include "services/edge/session.h"

namespace bastion::edge {

class StreamHub {
 public:
  // `policy` answers which tools a stream's user may call now; `directory` (uncached: the tenant
  // service itself) and `sessions` whether a stream may stay open; `executor` runs those checks,
  // since NotifyToolsChanged and Revalidate are called from background threads. The hub becomes
  // the listener of `sessions`' ended sessions, so it must outlive whatever ends them (the
  // ended-session poll).
  StreamHub(PolicyClient& policy, TenantDirectory& directory, SessionCodec& sessions, Executor& executor,
            const Clock& clock)
      : policy_(policy), directory_(directory), sessions_(sessions), executor_(executor), clock_(clock) {
    sessions_.SetEndedListener([this](const std::string& hash) { EndSession(hash); });
  }

  // Sign-in is on: streams opened with an access token are rechecked by `tokens` (a static
  // client token still goes to the tenant service). Call before serving.
  void EnableSignIn(AccessTokenAuthenticator* tokens) { access_tokens_ = tokens; }

  // Registers an open stream. Call on an executor thread: it reads the user's current tools.
  // `resumed` (the client sent Last-Event-ID): what it missed while away is summed up as one
  // tools/list_changed at once, which makes it list again.
  void Add(const StreamGrant& grant, std::shared_ptr<http::StreamWriter> writer, bool resumed = false);
  // A tenant's policy changed: every open stream of that tenant whose user's allowed tools are
  // now different gets notifications/tools/list_changed.
  void NotifyToolsChanged(const std::string& tenant_id);
  // A session ended (DELETE here, or another replica's as the ended-session poll learns of it):
  // its streams close now.
  void EndSession(const std::string& session_hash);
  // Call every few seconds. On the executor, each open stream's token is authenticated again and
  // its session verified; a stream whose token was revoked or expired, whose user was disabled or
  // whose session ended or expired is closed. A stream whose tool list rested on a grant that
  // has expired since is rechecked (tools/list_changed when the list changed).
  void Revalidate();
  // A comment line on every stream, so idle proxies keep them open; drops closed streams.
  void KeepAlive();
  size_t open_streams() const;

 private:
  struct Stream {
    Identity identity;
    std::string server;
    std::string session_id;
    std::string session_hash;
    crypto::SecretString token;
    std::shared_ptr<http::StreamWriter> writer;
    // What the user's tools were when last seen (sorted names, joined; "?" when unknown), and
    // when a grant behind them expires. Guarded by the hub's mu_.
    std::string tools;
    absl::Time tools_valid_until = absl::InfiniteFuture();
  };
  struct ToolsSeen {
    std::string names;
    absl::Time valid_until = absl::InfiniteFuture();
  };
  static std::string ListChangedEvent(int64_t id);
  ToolsSeen AllowedTools(const Identity& who, const std::string& server);
  void Recheck(const std::shared_ptr<Stream>& stream);
  // Empty when the stream may stay open, else why not (for the log).
  std::string WhyClose(const Stream& stream);
  std::vector<std::shared_ptr<Stream>> OpenStreams();

  PolicyClient& policy_;
  TenantDirectory& directory_;
  AccessTokenAuthenticator* access_tokens_ = nullptr;
  SessionCodec& sessions_;
  Executor& executor_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<Stream>>> streams_ ABSL_GUARDED_BY(mu_);
  int64_t next_event_id_ ABSL_GUARDED_BY(mu_) = 1;
};

void RegisterEdgeRoutes(http::HttpServer& server, McpEndpoint& endpoint, CredentialClient& credentials,
                        Executor& executor, StreamHub& hub);

// The id a request is logged and audited under: the client's X-Request-Id when it is a short
// token of visible ASCII (1 to 128 characters), else a fresh UUID. A malformed id is replaced,
// not refused: it is only a correlation hint, and refusing would fail calls over a tracing header.
std::string RequestIdOf(const http::Request& request);

// Decodes `a=1&b=x%20y` into pairs (percent and '+' decoding).
std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query);

}  // namespace bastion::edge
