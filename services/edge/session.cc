#include "services/edge/session.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/log/log.h"

namespace bastion::edge {

SessionCodec::SessionCodec(std::vector<std::string> keys, const Clock& clock, absl::Duration max_age)
    : keys_(std::move(keys)), clock_(clock), max_age_(max_age) {
  BASTION_CHECK(!keys_.empty() && !keys_[0].empty());
}

std::string SessionCodec::Issue(const std::string& tenant_id, const std::string& user_id,
                                const std::string& server, const std::string& protocol_version) {
  const std::string payload = absl::StrJoin(
      {std::string("v1"), tenant_id, user_id, server, protocol_version,
       absl::StrCat(absl::ToUnixSeconds(clock_.Now())), crypto::Base64UrlEncode(crypto::RandomBytes(12))},
      "|");
  return absl::StrCat(crypto::Base64UrlEncode(payload), ".",
                      crypto::Base64UrlEncode(crypto::HmacSha256(keys_[0], payload)));
}

absl::StatusOr<Session> SessionCodec::Verify(const std::string& id) const {
  const absl::Status unknown = absl::NotFoundError("session not found or ended; initialize a new one");
  if (id.empty() || id.size() > 512) return unknown;
  std::vector<std::string> parts = absl::StrSplit(id, '.');
  if (parts.size() != 2) return unknown;
  auto payload = crypto::Base64UrlDecode(parts[0]);
  auto mac = crypto::Base64UrlDecode(parts[1]);
  if (!payload.ok() || !mac.ok()) return unknown;
  // Only the one spelling Issue writes: base64url decoders also take padding, whitespace and
  // non-zero unused bits, and any such variant of an ended id would otherwise pass as new. With
  // one spelling per decoded value, the id's hash below stands for what it decodes to.
  if (crypto::Base64UrlEncode(*payload) != parts[0] || crypto::Base64UrlEncode(*mac) != parts[1]) {
    return unknown;
  }
  bool signed_by_us = false;
  for (const std::string& key : keys_) {
    signed_by_us = signed_by_us || crypto::ConstantTimeEquals(crypto::HmacSha256(key, *payload), *mac);
  }
  if (!signed_by_us) return unknown;
  std::vector<std::string> f = absl::StrSplit(*payload, '|');
  int64_t issued = 0;
  if (f.size() != 7 || f[0] != "v1" || !absl::SimpleAtoi(f[5], &issued)) return unknown;
  Session s{f[1], f[2], f[3], f[4], absl::FromUnixSeconds(issued), f[6]};
  if (clock_.Now() - s.issued_at > max_age_) return unknown;
  absl::MutexLock lock(&mu_);
  if (ended_.contains(HashOf(id))) return unknown;
  return s;
}

std::string SessionCodec::HashOf(const std::string& id) { return crypto::HexEncode(crypto::Sha256(id)); }

void SessionCodec::End(const std::string& id) {
  auto s = Verify(id);
  if (!s.ok()) return;
  const absl::Time expires = s->issued_at + max_age_;
  const std::string hash = HashOf(id);
  MarkEnded(hash, expires);
  if (publisher_) publisher_(hash, expires);
}

void SessionCodec::MarkEnded(const std::string& session_hash, absl::Time expires_at) {
  bool newly_ended = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    // Forget ended sessions once they would be too old anyway, so the set stays bounded.
    for (auto it = ended_.begin(); it != ended_.end();) {
      if (it->second < now) {
        ended_.erase(it++);
      } else {
        ++it;
      }
    }
    if (expires_at >= now) newly_ended = ended_.insert_or_assign(session_hash, expires_at).second;
  }
  if (newly_ended && ended_listener_) ended_listener_(session_hash);
}

}  // namespace bastion::edge
