// The simulated PagerDuty account: every object the fake API serves, held as PagerDuty-shaped
// JSON, and the small realistic account it starts with. Not thread-safe: RestApi guards it.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace bastion::pagerduty_sim {

// Ids of the seeded objects, stable across seeds so tests and deploy/local can name them.
namespace seed {
inline constexpr char kAdminUserId[] = "PAL1CE7";  // alice@acme.example, role admin
inline constexpr char kResponderUserId[] = "PB0B4X2";  // bob@acme.example
inline constexpr char kPaymentsUserId[] = "PC4R0L9";  // carol@acme.example
inline constexpr char kObserverUserId[] = "PD4N5T1";  // dan@acme.example
inline constexpr char kManagerUserId[] = "PER1N88";  // erin@acme.example
inline constexpr char kAdminEmail[] = "alice@acme.example";
inline constexpr char kPlatformTeamId[] = "PTPLAT1";
inline constexpr char kPaymentsTeamId[] = "PTPAYM2";
inline constexpr char kCheckoutServiceId[] = "PSAPI01";
inline constexpr char kDatabaseServiceId[] = "PSDB002";
inline constexpr char kWebServiceId[] = "PSWEB03";
inline constexpr char kPlatformPolicyId[] = "PEPPLA1";
inline constexpr char kPaymentsPolicyId[] = "PEPPAY2";
inline constexpr char kPlatformScheduleId[] = "PSCHPL1";
inline constexpr char kPaymentsScheduleId[] = "PSCHPY2";
inline constexpr char kFollowTheSunScheduleId[] = "PS3FOLL";  // shift-based (v3)
inline constexpr char kWeekendScheduleId[] = "PS3WKND";       // shift-based (v3)
inline constexpr char kV3RotationId[] = "R0TAT10N0000000000000001A";
inline constexpr char kV3EventId[] = "EVENT00000000000000000001";
inline constexpr char kV3CustomShiftId[] = "CUST0MSH1FT00000000000001";
inline constexpr char kV3OverrideId[] = "0VERR1DE00000000000000001";
inline constexpr char kTriggeredIncidentId[] = "PINC0DB";  // [#1] Orders DB connection pool
inline constexpr char kAcknowledgedIncidentId[] = "PINC1CK";
inline constexpr char kResolvedIncidentId[] = "PINC2WB";
inline constexpr char kLowUrgencyIncidentId[] = "PINC3TL";
inline constexpr char kTriggeredIncidentAlertId[] = "PALRT01";
inline constexpr char kTriggeredIncidentLogEntryId[] = "R2XGXEI3W8FRIA2ZV6ZEQ4TRPB";
inline constexpr char kP1PriorityId[] = "PSLWBL8";
inline constexpr char kStatusPageId[] = "PSTPG01";
inline constexpr char kStatusPagePostId[] = "PSTPS01";
inline constexpr char kOrchestrationId[] = "6c1a7f52-3d1c-4f2a-9a61-0c5a2b0e7d11";
inline constexpr char kWebhookId[] = "PWHK001";
inline constexpr char kWorkflowId[] = "PWFLW01";
inline constexpr char kChangeEventId[] = "01CE7WQ9V0M7YB8P3M5TQ2H4KX";
inline constexpr char kBusinessServiceId[] = "PBSCHK1";
inline constexpr char kExtensionSchemaId[] = "PJFWPEP";
inline constexpr char kAlertGroupingSettingId[] = "PAGS001";
inline constexpr char kMaintenanceWindowId[] = "PMW0001";
}  // namespace seed

using Object = boost::json::object;

// Deterministic ids for objects created at run time, so a --seed reproduces a run.
class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed) : rng_(seed) {}
  std::string Classic();  // "P" + 6 characters, like PT4KHLK
  std::string Long(int length);  // upper-case letters and digits, e.g. log entries, v3 objects

 private:
  std::mt19937_64 rng_;
};

class Account {
 public:
  Account(uint64_t seed, absl::Time now, std::string subdomain);

  // The objects of one kind ("users", "incidents", ...), in creation order.
  std::vector<Object>& Items(absl::string_view collection) {
    return collections_[std::string(collection)];
  }
  Object* Find(absl::string_view collection, absl::string_view id);
  bool Erase(absl::string_view collection, absl::string_view id);
  Object& Add(absl::string_view collection, Object object);

  IdGenerator& ids() { return ids_; }
  int NextIncidentNumber() { return next_incident_number_++; }
  const std::string& web_base() const { return web_base_; }

 private:
  void Seed(absl::Time now);

  std::map<std::string, std::vector<Object>> collections_;
  IdGenerator ids_;
  int next_incident_number_ = 1;
  std::string web_base_;
};

// Shared JSON helpers for the account and the API.
inline constexpr char kApiBase[] = "https://api.pagerduty.com";
std::string Iso(absl::Time t);
absl::string_view Str(const Object& o, absl::string_view key);
absl::string_view Str(const boost::json::value* v);
// {"id","type","summary","self","html_url"} pointing at `entity`.
Object Reference(const Object& entity, absl::string_view ref_type);
// The entity without the simulator's private "_"-prefixed members.
Object Render(const Object& entity);
// Completes every {"id","type":"x_reference"} inside `v` with the summary and links of the
// account's object, as PagerDuty's responses do.
void ExpandReferences(Account& account, boost::json::value& v);

}  // namespace bastion::pagerduty_sim
