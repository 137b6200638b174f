// MCP session ids that any edge replica can verify without shared memory: an HMAC-SHA-256
// signed token carrying tenant, user, server, protocol version and issue time. Sessions are
// bound to the user: a session presented with another user's bearer token is not found.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"

namespace bastion::edge {

struct Session {
  std::string tenant_id;
  std::string user_id;
  std::string server;
  std::string protocol_version;
  absl::Time issued_at;
  std::string nonce;
};

class SessionCodec {
 public:
  // Told of each session this replica ends, so other replicas can learn of it.
  using Publisher = std::function<void(const std::string& session_hash, absl::Time expires_at)>;
  // Told of every session that ends, here or (through MarkEnded) on another replica.
  using EndedListener = std::function<void(const std::string& session_hash)>;

  // `keys`: the current signing key first, then older keys still accepted (rotation).
  SessionCodec(std::vector<std::string> keys, const Clock& clock, absl::Duration max_age);

  std::string Issue(const std::string& tenant_id, const std::string& user_id,
                    const std::string& server, const std::string& protocol_version);
  // NotFound for anything this edge fleet did not issue, that expired, or that was ended, and for
  // any spelling of an id other than the canonical one Issue writes.
  absl::StatusOr<Session> Verify(const std::string& id) const;
  // Ends a session on this replica and tells the publisher, so it ends on the others too.
  void End(const std::string& id);
  // A session another replica ended (by the SHA-256 hex of its id).
  void MarkEnded(const std::string& session_hash, absl::Time expires_at);
  // Both are set once, before the codec is used.
  void SetPublisher(Publisher publisher) { publisher_ = std::move(publisher); }
  void SetEndedListener(EndedListener listener) { ended_listener_ = std::move(listener); }
  static std::string HashOf(const std::string& id);

 private:
  std::vector<std::string> keys_;
  const Clock& clock_;
  const absl::Duration max_age_;
  mutable absl::Mutex mu_;
  Publisher publisher_;
  EndedListener ended_listener_;
  // Hashes of ended ids, until the sessions would have expired anyway.
  absl::flat_hash_map<std::string, absl::Time> ended_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::edge
