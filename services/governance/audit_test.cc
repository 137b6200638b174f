// The audit log through the logic: idempotent recording, what is kept, queries and exports, and
// the hash chain catching edited and deleted events.
#include <set>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/governance/audit_chain.h"
#include "services/governance/testing/governance_fixture.h"

namespace bastion::governance {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AuditTest : public GovernanceFixture {
 public:
  ToolCallRecord Call(const std::string& id, const std::string& user, const std::string& tool,
                      Outcome outcome = Outcome::kSuccess, const std::string& tenant = "acme") {
    ToolCallRecord r;
    r.tenant = tenant;
    r.event.event_id = id;
    r.event.time = clock_.Now();
    r.event.user_id = "id-" + user;
    r.event.user_email = user;
    r.event.client = "personal:tok-1";
    r.event.server = "pagerduty";
    r.event.tool = tool;
    r.event.decision = outcome == Outcome::kDenied ? Decision::kDeny : Decision::kAllow;
    r.event.reason = outcome == Outcome::kDenied ? DenyReason::kNotGranted : DenyReason::kNone;
    r.event.outcome = outcome;
    r.event.upstream_status = outcome == Outcome::kSuccess ? 200 : 0;
    r.event.latency_ms = 42;
    r.event.request_id = "req-" + id;
    r.event.arguments_digest = "ab12";
    r.event.arguments_json = R"({"limit":5})";
    return r;
  }

  AppendResult Record(std::vector<ToolCallRecord> records) {
    auto r = svc_->RecordToolCalls(edge_, std::move(records));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AppendResult{};
  }

  std::vector<AuditEvent> ToolCalls(AuditFilter f = {}) {
    f.kind = AuditKind::kToolCall;
    auto page = svc_->QueryAudit(acme_admin_, "acme", f, 1000, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->events : std::vector<AuditEvent>{};
  }
};

TEST_F(AuditTest, TheSameEventRecordedTwiceIsStoredOnce) {
  AppendResult first = Record({Call("e1", "ana@acme.com", "list_incidents")});
  EXPECT_EQ(first.recorded, 1);
  AppendResult second = Record({Call("e1", "ana@acme.com", "list_incidents"), Call("e2", "ana@acme.com", "get_incident"),
                                Call("e2", "ana@acme.com", "get_incident")});
  EXPECT_EQ(second.recorded, 1);
  EXPECT_EQ(second.duplicates, 2);
  auto events = ToolCalls();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_id, "e2");
  EXPECT_EQ(events[1].event_id, "e1");
  EXPECT_TRUE(svc_->VerifyAuditChain(acme_admin_, "acme")->ok);
}

TEST_F(AuditTest, ArgumentsAreKeptOnlyWhenTheTenantTurnsThatOn) {
  Record({Call("e1", "ana@acme.com", "list_incidents")});
  ASSERT_TRUE(svc_->UpdateAuditSettings(acme_admin_, "acme", {true}).ok());
  Record({Call("e2", "ana@acme.com", "list_incidents")});
  auto events = ToolCalls();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].arguments_json, R"({"limit":5})");
  EXPECT_EQ(events[1].arguments_json, "");
  EXPECT_EQ(events[1].arguments_digest, "ab12");
  EXPECT_EQ(events[1].actor, "user:ana@acme.com");
  EXPECT_TRUE(svc_->GetAuditSettings(acme_admin_, "acme")->second.store_arguments);
}

TEST_F(AuditTest, ABadEventRejectsTheWholeBatch) {
  auto no_id = Call("", "ana@acme.com", "list_incidents");
  auto r = svc_->RecordToolCalls(edge_, {Call("e1", "ana@acme.com", "list_incidents"), no_id});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("event 1: event_id"));
  auto unknown_tenant = svc_->RecordToolCalls(edge_, {Call("e3", "x@y.com", "t", Outcome::kSuccess, "nosuch")});
  EXPECT_EQ(unknown_tenant.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ToolCalls().empty());
  EXPECT_EQ(svc_->RecordToolCalls(acme_admin_, {Call("e4", "a@acme.com", "t")}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuditTest, EventsOfEachTenantGoToThatTenantsChain) {
  Record({Call("e1", "ana@acme.com", "list_incidents"), Call("g1", "hank@globex.com", "list_incidents",
                                                              Outcome::kSuccess, globex_)});
  EXPECT_EQ(ToolCalls().size(), 1u);
  auto theirs = svc_->QueryAudit(globex_admin_, "globex", {}, 10, "");
  ASSERT_EQ(theirs->events.size(), 1u);
  EXPECT_EQ(theirs->events[0].tenant_id, globex_);
  EXPECT_EQ(theirs->events[0].seq, 1);
  EXPECT_EQ(svc_->QueryAudit(acme_admin_, "globex", {}, 10, "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(svc_->ExportAudit(acme_admin_, "globex", {}, [](std::string) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuditTest, QueriesFilterByTimeUserToolAndOutcomeAndPageWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i) {
    Record({Call(absl::StrCat("e", i), i % 2 ? "ana@acme.com" : "bo@acme.com", i % 3 ? "list_incidents" : "get_incident",
                 i % 5 ? Outcome::kSuccess : Outcome::kDenied)});
    clock_.Advance(absl::Minutes(1));
  }
  AuditFilter by_user;
  by_user.user = "ana@acme.com";
  EXPECT_EQ(ToolCalls(by_user).size(), 12u);
  by_user.user = "id-ana@acme.com";
  EXPECT_EQ(ToolCalls(by_user).size(), 12u);
  AuditFilter by_tool;
  by_tool.tool = "get_incident";
  EXPECT_EQ(ToolCalls(by_tool).size(), 9u);
  AuditFilter denied;
  denied.outcome = Outcome::kDenied;
  EXPECT_EQ(ToolCalls(denied).size(), 5u);
  AuditFilter window;
  window.since = FakeClock().Now() + absl::Minutes(10);
  window.until = FakeClock().Now() + absl::Minutes(15);
  auto in_window = ToolCalls(window);
  ASSERT_EQ(in_window.size(), 5u);
  EXPECT_EQ(in_window.front().event_id, "e14");
  EXPECT_EQ(in_window.back().event_id, "e10");

  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    AuditFilter f;
    f.kind = AuditKind::kToolCall;
    auto page = svc_->QueryAudit(acme_admin_, "acme", f, 10, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& e : page->events) EXPECT_TRUE(seen.insert(e.event_id).second) << e.event_id;
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(svc_->QueryAudit(acme_admin_, "acme", {}, 10, "garbage!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTest, ExportStreamsEveryEventAsAJsonLineOldestFirst) {
  for (int i = 0; i < 3; ++i) Record({Call(absl::StrCat("e", i), "ana@acme.com", "list_incidents")});
  std::string all;
  AuditFilter f;
  f.kind = AuditKind::kToolCall;
  ASSERT_TRUE(svc_->ExportAudit(acme_admin_, "acme", f, [&](std::string chunk) {
                    all += chunk;
                    return absl::OkStatus();
                  }).ok());
  std::vector<std::string> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    boost::json::object o = boost::json::parse(lines[i]).as_object();
    EXPECT_EQ(o.at("event_id").as_string(), absl::StrCat("e", i));
    EXPECT_EQ(o.at("tool").as_string(), "list_incidents");
    EXPECT_EQ(o.at("outcome").as_string(), "success");
    EXPECT_EQ(o.at("hash").as_string().size(), 64u);
  }
}

TEST_F(AuditTest, VerifyFindsTheFirstEditedEvent) {
  for (int i = 0; i < 5; ++i) Record({Call(absl::StrCat("e", i), "ana@acme.com", "list_incidents")});
  auto ok = svc_->VerifyAuditChain(acme_admin_, "acme");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->events_checked, 5);

  store_.MutateEvent(acme_, 3, [](AuditEvent& e) { e.outcome = Outcome::kError; });
  store_.MutateEvent(acme_, 4, [](AuditEvent& e) { e.tool = "delete_everything"; });
  auto broken = svc_->VerifyAuditChain(acme_admin_, "acme");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(broken->ok);
  EXPECT_EQ(broken->first_broken_seq, 3);
  EXPECT_EQ(broken->first_broken_event_id, "e2");
  EXPECT_THAT(broken->problem, HasSubstr("altered"));
}

TEST_F(AuditTest, VerifyFindsADeletedEventAndMissingNewestEvents) {
  for (int i = 0; i < 5; ++i) Record({Call(absl::StrCat("e", i), "ana@acme.com", "list_incidents")});
  store_.DeleteEvent(acme_, 2);
  auto gap = svc_->VerifyAuditChain(acme_admin_, "acme");
  EXPECT_FALSE(gap->ok);
  EXPECT_EQ(gap->first_broken_seq, 2);
  EXPECT_THAT(gap->problem, HasSubstr("missing"));

}

TEST_F(AuditTest, VerifyNoticesTheNewestEventsWereRemoved) {
  for (int i = 0; i < 3; ++i) Record({Call(absl::StrCat("e", i), "ana@acme.com", "list_incidents")});
  store_.DeleteEvent(acme_, 3);
  auto tail = svc_->VerifyAuditChain(acme_admin_, "acme");
  EXPECT_FALSE(tail->ok);
  EXPECT_EQ(tail->first_broken_seq, 3);
  EXPECT_THAT(tail->problem, HasSubstr("missing from the end"));
}

TEST(AuditChain, AnEventsHashCoversEveryFieldAndItsPredecessor) {
  AuditEvent e;
  e.event_id = "e1";
  e.tenant_id = "t";
  e.time = absl::FromUnixNanos(1800000000123456789);
  e.tool = "list_incidents";
  AuditHead head = Link(AuditHead{7, "prev"}, e);
  EXPECT_EQ(e.seq, 8);
  EXPECT_EQ(e.prev_hash, "prev");
  EXPECT_EQ(head.hash, e.hash);
  EXPECT_EQ(e.time, absl::FromUnixMicros(1800000000123456));  // what Postgres keeps
  AuditEvent changed = e;
  changed.latency_ms = 1;
  EXPECT_NE(EventHash(changed), e.hash);
  changed = e;
  changed.prev_hash = "other";
  EXPECT_NE(EventHash(changed), e.hash);
  EXPECT_EQ(EventHash(e), e.hash);
}

}  // namespace
}  // namespace bastion::governance
