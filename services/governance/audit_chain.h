// The per-tenant audit hash chain: what an event's hash covers, how an event is linked after
// the chain's head, and how a stored chain is checked link by link. Stores call Link when
// appending; VerifyAuditChain feeds stored events to a ChainVerifier.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "absl/time/time.h"
#include "services/governance/governance_types.h"

namespace bastion::governance {

// Postgres keeps microseconds; events are truncated to them before hashing so a stored event
// hashes the same when read back.
absl::Time AuditTime(absl::Time t);

// Every field of the event except `hash`, as an object (prev_hash and seq included).
boost::json::object EventJson(const AuditEvent& e, bool with_hash);
// Hex SHA-256 of the canonical JSON of EventJson(e, false).
std::string EventHash(const AuditEvent& e);
// Gives `e` the next seq after `head`, head's hash as prev_hash, and its own hash; returns the
// new head.
AuditHead Link(const AuditHead& head, AuditEvent& e);

struct ChainCheck {
  bool ok = true;
  int64_t events_checked = 0;
  int64_t first_broken_seq = 0;
  std::string first_broken_event_id;
  std::string problem;
  std::string head_hash;
};

// Checks events fed in seq order; stops judging at the first broken link.
class ChainVerifier {
 public:
  void Feed(const AuditEvent& stored);
  // Compares the end of the chain with the stored head, which catches deleted newest events.
  ChainCheck Finish(const AuditHead& stored_head);
  bool broken() const { return !check_.ok; }

 private:
  void Break(int64_t seq, const std::string& event_id, std::string problem);

  ChainCheck check_;
  AuditHead last_;
};

}  // namespace bastion::governance
