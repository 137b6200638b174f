#include "services/governance/audit_chain.h"

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/governance/canonical_json.h"

namespace bastion::governance {

namespace json = boost::json;

absl::Time AuditTime(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

json::object EventJson(const AuditEvent& e, bool with_hash) {
  json::object o;
  o["event_id"] = e.event_id;
  o["tenant_id"] = e.tenant_id;
  o["seq"] = e.seq;
  o["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", e.time, absl::UTCTimeZone());
  o["kind"] = Name(e.kind);
  o["actor"] = e.actor;
  // Every field, whatever the kind: a value put into a column the kind leaves empty is an
  // edit the hash must catch too.
  o["user_id"] = e.user_id;
  o["user_email"] = e.user_email;
  o["client"] = e.client;
  o["server"] = e.server;
  o["tool"] = e.tool;
  o["decision"] = Name(e.decision);
  o["reason"] = Name(e.reason);
  o["outcome"] = Name(e.outcome);
  o["upstream_status"] = e.upstream_status;
  o["latency_ms"] = e.latency_ms;
  o["request_id"] = e.request_id;
  o["arguments_digest"] = e.arguments_digest;
  o["arguments_json"] = e.arguments_json;
  o["action"] = e.action;
  o["target"] = e.target;
  o["details_json"] = e.details_json;
  o["prev_hash"] = e.prev_hash;
  if (with_hash) o["hash"] = e.hash;
  return o;
}

std::string EventHash(const AuditEvent& e) {
  return Sha256Hex(CanonicalJson(EventJson(e, /*with_hash=*/false)));
}

AuditHead Link(const AuditHead& head, AuditEvent& e) {
  e.time = AuditTime(e.time);
  e.seq = head.seq + 1;
  e.prev_hash = head.hash;
  e.hash = EventHash(e);
  return AuditHead{e.seq, e.hash};
}

void ChainVerifier::Break(int64_t seq, const std::string& event_id, std::string problem) {
  check_.ok = false;
  check_.first_broken_seq = seq;
  check_.first_broken_event_id = event_id;
  check_.problem = std::move(problem);
}

void ChainVerifier::Feed(const AuditEvent& e) {
  if (!check_.ok) return;
  ++check_.events_checked;
  if (e.seq != last_.seq + 1) {
    Break(last_.seq + 1, "",
          absl::StrCat("event ", last_.seq + 1, " is missing (the next stored event is ", e.seq,
                       ")"));
    return;
  }
  if (e.prev_hash != last_.hash) {
    Break(e.seq, e.event_id,
          absl::StrCat("event ", e.seq, " does not link to event ", last_.seq,
                       ": its prev_hash differs from that event's hash"));
    return;
  }
  if (EventHash(e) != e.hash) {
    Break(e.seq, e.event_id,
          absl::StrCat("event ", e.seq, " was altered: its contents no longer match its hash"));
    return;
  }
  last_ = AuditHead{e.seq, e.hash};
}

ChainCheck ChainVerifier::Finish(const AuditHead& head) {
  if (check_.ok && (head.seq != last_.seq || head.hash != last_.hash)) {
    if (head.seq > last_.seq) {
      Break(last_.seq + 1, "",
            absl::StrCat("events ", last_.seq + 1, " to ", head.seq,
                         " are missing from the end of the chain"));
    } else {
      Break(head.seq, "", "the chain's recorded head does not match its newest event");
    }
  }
  check_.head_hash = last_.hash;
  return check_;
}

}  // namespace bastion::governance
