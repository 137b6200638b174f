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
#include "services/edge/mcp_endpoint.h"

namespace bastion::edge {

class StreamHub {
 public:
  // `policy` answers which tools a stream's user may call now; `executor` runs those checks,
  // since NotifyToolsChanged is called from the policy watch thread.
  StreamHub(PolicyClient& policy, Executor& executor) : policy_(policy), executor_(executor) {}

  // Registers an open stream. Call on an executor thread: it reads the user's current tools.
  // `resumed` (the client sent Last-Event-ID): what it missed while away is summed up as one
  // tools/list_changed at once, which makes it list again.
  void Add(const StreamGrant& grant, std::shared_ptr<http::StreamWriter> writer, bool resumed = false);
  // A tenant's policy changed: every open stream of that tenant whose user's allowed tools are
  // now different gets notifications/tools/list_changed.
  void NotifyToolsChanged(const std::string& tenant_id);
  // A comment line on every stream, so idle proxies keep them open; drops closed streams.
  void KeepAlive();
  size_t open_streams() const;

 private:
  struct Stream {
    Identity identity;
    std::string server;
    std::shared_ptr<http::StreamWriter> writer;
    std::string tools;  // the allowed tool names last seen, sorted and joined
  };
  static std::string ListChangedEvent(int64_t id);
  std::string AllowedTools(const Identity& who, const std::string& server);
  void Recheck(const std::shared_ptr<Stream>& stream);

  PolicyClient& policy_;
  Executor& executor_;
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
