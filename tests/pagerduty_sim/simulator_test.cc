// The simulator enforces PagerDuty's rules and keeps state, over real HTTP on loopback: auth,
// From, paging, the incident lifecycle, OAuth with PKCE and rotating refresh tokens, token
// expiry on an injected clock, and fault injection through the C++ API and /_sim endpoints.
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/crypto/crypto.h"
#include "common/time/clock.h"
#include "gtest/gtest.h"
#include "tests/pagerduty_sim/sim_test_util.h"

namespace bastion::pagerduty_sim {
namespace {

namespace json = boost::json;
using simtest::Client;
using simtest::Reply;

constexpr char kRedirect[] = "http://127.0.0.1:9999/oauth/callback";

std::string S(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : ""; }

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.Start().ok()); }

  // Runs /oauth/authorize as `user` and returns the code from the redirect.
  std::string Authorize(const std::string& challenge, const std::string& user = "carol@acme.example",
                        const std::string& scope = "read write") {
    Client c(sim_.base_url());
    c.authorization = "";
    Reply r = c.Get(absl::StrCat("/oauth/authorize?response_type=code&client_id=", simtest::kClientId,
                                 "&redirect_uri=", kRedirect, "&state=xyz&scope=", absl::StrReplaceAll(scope, {{" ", "+"}}),
                                 "&code_challenge=", challenge, "&code_challenge_method=S256&sim_user=", user));
    EXPECT_EQ(r.status, 302);
    std::string location = r.Header("location");
    EXPECT_TRUE(absl::StartsWith(location, kRedirect)) << location;
    EXPECT_TRUE(absl::StrContains(location, "state=xyz")) << location;
    for (absl::string_view part : absl::StrSplit(location.substr(location.find('?') + 1), '&')) {
      if (absl::ConsumePrefix(&part, "code=")) return std::string(part);
    }
    ADD_FAILURE() << "no code in " << location;
    return "";
  }

  Reply Token(const std::string& form) {
    Client c(sim_.base_url());
    c.authorization = "";
    c.from = "";
    return c.Send("POST", "/oauth/token", form, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  Reply ExchangeCode(const std::string& code, const std::string& verifier) {
    return Token(absl::StrCat("grant_type=authorization_code&code=", code, "&redirect_uri=", kRedirect,
                              "&client_id=", simtest::kClientId, "&client_secret=", simtest::kClientSecret,
                              "&code_verifier=", verifier));
  }

  Reply Refresh(const std::string& refresh_token) {
    // Form-encoded: PagerDuty-style tokens contain '+'.
    return Token(absl::StrCat("grant_type=refresh_token&refresh_token=",
                              absl::StrReplaceAll(refresh_token, {{"+", "%2B"}}),
                              "&client_id=", simtest::kClientId, "&client_secret=", simtest::kClientSecret));
  }

  static std::string Challenge(const std::string& verifier) {
    return crypto::Base64UrlEncode(crypto::Sha256(verifier));
  }

  FakeClock clock_;
  Simulator sim_{simtest::DefaultOptions(&clock_)};
};

TEST_F(SimulatorTest, MissingOrMalformedOrUnknownCredentialsGet401WithPagerDutyErrorBody) {
  Client client(sim_.base_url());
  for (const std::string auth : {"", "Basic dXNlcjpwYXNz", "Token token=not-a-key", "Bearer not-a-token", "token"}) {
    client.authorization = auth;
    Reply r = client.Get("/incidents");
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(simtest::Error(r).at("code").as_int64(), 2006) << auth;
    EXPECT_EQ(S(simtest::Error(r).at("message")), "Authentication failed");
  }
}

TEST_F(SimulatorTest, ReadOnlyKeyReadsButCannotWrite) {
  Client client(sim_.base_url());
  client.authorization = absl::StrCat("Token token=", simtest::kReadOnlyKey);
  EXPECT_EQ(client.Get("/services").status, 200);
  Reply r = client.Send("POST", "/teams", R"({"team":{"type":"team","name":"Nope"}})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(simtest::Error(r).at("code").as_int64(), 2010);
  EXPECT_FALSE(sim_.api().Items("teams").size() > 2) << "a refused write must not change the account";
}

TEST_F(SimulatorTest, FromHeaderIsRequiredWhereTheSpecSaysAndMustNameAUser) {
  Client client(sim_.base_url());
  const std::string body =
      R"({"incident":{"type":"incident","title":"x","service":{"id":"PSWEB03","type":"service_reference"}}})";
  client.from = "";
  Reply missing = client.Send("POST", "/incidents", body);
  EXPECT_EQ(missing.status, 400);
  EXPECT_TRUE(absl::StrContains(missing.body, "From")) << missing.body;
  client.from = "nobody@elsewhere.example";
  EXPECT_EQ(client.Send("POST", "/incidents", body).status, 400);
  client.from = "bob@acme.example";
  EXPECT_EQ(client.Send("POST", "/incidents", body).status, 201);
  // An operation without the requirement does not care.
  client.from = "";
  EXPECT_EQ(client.Send("POST", "/teams", R"({"team":{"type":"team","name":"Search"}})").status, 201);
}

TEST_F(SimulatorTest, UsersMeNeedsAUserLevelToken) {
  Client client(sim_.base_url());
  Reply key = client.Get("/users/me");
  EXPECT_EQ(key.status, 400);
  EXPECT_TRUE(absl::StrContains(key.body, "account-level")) << key.body;
  client.authorization = "Bearer " + sim_.IssueOAuthTokens(simtest::kClientId, seed::kPaymentsUserId).access_token;
  Reply me = client.Get("/users/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(S(me.Obj().at("user").at("email")), "carol@acme.example");
}

TEST_F(SimulatorTest, OffsetPaginationFieldsAndLimitClamp) {
  Client client(sim_.base_url());
  Reply first = client.Get("/users?limit=2");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.Obj().at("users").as_array().size(), 2u);
  EXPECT_EQ(first.Obj().at("limit").as_int64(), 2);
  EXPECT_EQ(first.Obj().at("offset").as_int64(), 0);
  EXPECT_TRUE(first.Obj().at("more").as_bool());
  EXPECT_TRUE(first.Obj().at("total").is_null());
  Reply last = client.Get("/users?limit=2&offset=4&total=true");
  EXPECT_EQ(last.Obj().at("users").as_array().size(), 1u);
  EXPECT_FALSE(last.Obj().at("more").as_bool());
  EXPECT_EQ(last.Obj().at("total").as_int64(), 5);
  EXPECT_EQ(client.Get("/users?limit=500").Obj().at("limit").as_int64(), 100);
  EXPECT_EQ(client.Get("/users?offset=9900&limit=100").status, 200);
  Reply too_far = client.Get("/users?offset=9950&limit=100");
  EXPECT_EQ(too_far.status, 400);
  EXPECT_EQ(simtest::Error(too_far).at("code").as_int64(), 2001);
  EXPECT_EQ(client.Get("/users?limit=abc").status, 400);
  // Bracketed, percent-encoded array filters as PagerDuty clients send them.
  Reply payments = client.Get("/users?team_ids%5B%5D=PTPAYM2");
  EXPECT_EQ(payments.Obj().at("users").as_array().size(), 3u);
}

TEST_F(SimulatorTest, CursorPaginationForAlertGroupingSettings) {
  Client client(sim_.base_url());
  for (const char* name : {"A", "B"}) {
    ASSERT_EQ(client.Send("POST", "/alert_grouping_settings",
                          absl::StrCat(R"({"alert_grouping_setting":{"name":")", name,
                                       R"(","type":"time","services":[{"id":"PSWEB03"}]}})"))
                  .status,
              201);
  }
  Reply page1 = client.Get("/alert_grouping_settings?limit=2");
  ASSERT_EQ(page1.Obj().at("alert_grouping_settings").as_array().size(), 2u);
  std::string after = S(page1.Obj().at("after"));
  ASSERT_FALSE(after.empty());
  Reply page2 = client.Get("/alert_grouping_settings?limit=2&after=" + after);
  EXPECT_EQ(page2.Obj().at("alert_grouping_settings").as_array().size(), 1u);
  EXPECT_TRUE(page2.Obj().at("after").is_null());
}

TEST_F(SimulatorTest, IncidentLifecycleCreateGetAcknowledgeResolveAnnotate) {
  Client client(sim_.base_url());
  Reply created = client.Send(
      "POST", "/incidents",
      R"({"incident":{"type":"incident","title":"Checkout errors","service":{"id":"PSAPI01","type":"service_reference"},"incident_key":"chk-1"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const json::object& incident = created.Obj().at("incident").as_object();
  std::string id = S(incident.at("id"));
  EXPECT_EQ(S(incident.at("status")), "triggered");
  EXPECT_EQ(S(incident.at("type")), "incident");
  EXPECT_TRUE(absl::StartsWith(S(incident.at("summary")), "[#5] Checkout errors"));
  EXPECT_EQ(S(incident.at("self")), "https://api.pagerduty.com/incidents/" + id);
  // The service's policy sent it to the payments schedule's on-call user.
  EXPECT_EQ(incident.at("assignments").as_array().size(), 1u);

  EXPECT_EQ(S(client.Get("/incidents/" + id).Obj().at("incident").at("title")), "Checkout errors");
  Reply duplicate = client.Send(
      "POST", "/incidents",
      R"({"incident":{"type":"incident","title":"again","service":{"id":"PSAPI01","type":"service_reference"},"incident_key":"chk-1"}})");
  EXPECT_EQ(duplicate.status, 400) << "an open incident with the same key exists";

  client.from = "carol@acme.example";
  Reply ack = client.Send("PUT", "/incidents/" + id, R"({"incident":{"type":"incident","status":"acknowledged"}})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(S(ack.Obj().at("incident").at("status")), "acknowledged");
  EXPECT_EQ(S(ack.Obj().at("incident").at("acknowledgements").as_array().at(0).at("acknowledger").at("id")), seed::kPaymentsUserId);

  Reply resolved = client.Send(
      "PUT", "/incidents",
      absl::StrCat(R"({"incidents":[{"id":")", id, R"(","type":"incident_reference","status":"resolved"}]})"));
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(S(resolved.Obj().at("incidents").as_array().at(0).at("status")), "resolved");
  EXPECT_EQ(client.Send("PUT", "/incidents/" + id, R"({"incident":{"type":"incident","status":"acknowledged"}})").status, 400);

  ASSERT_EQ(client.Send("POST", "/incidents/" + id + "/notes", R"({"note":{"content":"Root cause: bad deploy"}})").status, 200);
  Reply notes = client.Get("/incidents/" + id + "/notes");
  ASSERT_EQ(notes.Obj().at("notes").as_array().size(), 1u);
  EXPECT_EQ(S(notes.Obj().at("notes").as_array().at(0).at("content")), "Root cause: bad deploy");
  EXPECT_EQ(S(notes.Obj().at("notes").as_array().at(0).at("user").at("id")), seed::kPaymentsUserId);

  std::vector<std::string> types;
  Reply log = client.Get("/incidents/" + id + "/log_entries");
  for (const json::value& e : log.Obj().at("log_entries").as_array()) {
    types.push_back(S(e.at("type")));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"annotate_log_entry", "resolve_log_entry", "acknowledge_log_entry",
                                             "trigger_log_entry"}));
  EXPECT_EQ(S(client.Get("/incidents/" + id + "/alerts").Obj().at("alerts").as_array().at(0).at("status")), "resolved");
  // Filters see the new state.
  Reply open = client.Get("/incidents?statuses[]=triggered&statuses[]=acknowledged&service_ids[]=PSAPI01");
  for (const json::value& i : open.Obj().at("incidents").as_array()) EXPECT_NE(S(i.at("id")), id);
}

TEST_F(SimulatorTest, RespondersAreAddedToTheIncident) {
  Client client(sim_.base_url());
  Reply r = client.Send("POST", absl::StrCat("/incidents/", seed::kTriggeredIncidentId, "/responder_requests"),
                        R"({"requester_id":"PAL1CE7","message":"join the bridge","responder_request_targets":[{"responder_request_target":{"id":"PER1N88","type":"user_reference"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  Reply incident = client.Get(absl::StrCat("/incidents/", seed::kTriggeredIncidentId));
  const json::array& responders = incident.Obj().at("incident").at("incidents_responders").as_array();
  ASSERT_EQ(responders.size(), 1u);
  EXPECT_EQ(S(responders[0].at("user").at("id")), seed::kManagerUserId);
  EXPECT_EQ(S(responders[0].at("state")), "pending");
}

TEST_F(SimulatorTest, ShiftBasedScheduleOnTheV2ApiPointsToV3) {
  Client client(sim_.base_url());
  Reply v2 = client.Get(absl::StrCat("/schedules/", seed::kFollowTheSunScheduleId));
  EXPECT_EQ(v2.status, 400);
  EXPECT_TRUE(absl::StrContains(v2.body, "shift-based")) << v2.body;
  EXPECT_TRUE(absl::StrContains(v2.body, "/v3/schedules")) << v2.body;
  Reply list = client.Get("/v3/schedules");
  ASSERT_EQ(list.Obj().at("schedules").as_array().size(), 2u);
  EXPECT_FALSE(list.Obj().at("schedules").as_array().at(0).as_object().contains("name")) << "the v3 list omits names";
  EXPECT_FALSE(list.Obj().contains("total"));
  EXPECT_EQ(S(client.Get(absl::StrCat("/v3/schedules/", seed::kFollowTheSunScheduleId)).Obj().at("schedule").at("name")),
            "Follow the sun");
  EXPECT_EQ(client.Send("PUT", absl::StrCat("/v3/schedules/", seed::kFollowTheSunScheduleId),
                        R"({"schedule":{"name":"Only a name"}})")
                .status,
            400)
      << "the v3 PUT needs time_zone too";
}

// What PagerDuty refuses (issue 11, defect 9), so the connector's tests see it too.
TEST_F(SimulatorTest, RequestsPagerDutyDoesNotAcceptAreRefused) {
  Client client(sim_.base_url());
  EXPECT_EQ(client.Get("/change_events?since=2025-03-01T09:00:00%2B01:00").status, 400)
      << "non-UTC since";
  EXPECT_EQ(client.Get("/change_events?until=2025-03-01T09:00:00-05:00").status, 400)
      << "non-UTC until";
  EXPECT_EQ(client.Get("/change_events?since=2025-03-01T08:00:00Z").status, 200);
  EXPECT_EQ(client.Send("PUT", absl::StrCat("/webhook_subscriptions/", seed::kWebhookId),
                        R"({"webhook_subscription":{"delivery_method":{"url":"https://x.example"}}})")
                .status,
            400)
      << "the delivery method is not updatable";
  EXPECT_EQ(client.Send("PUT", absl::StrCat("/webhook_subscriptions/", seed::kWebhookId),
                        R"({"webhook_subscription":{"active":false}})")
                .status,
            200);
  EXPECT_EQ(client.Send("PUT", absl::StrCat("/v3/schedules/", seed::kFollowTheSunScheduleId),
                        R"({"schedule":{"name":"N","time_zone":"UTC","teams":[{"id":"PT1"}]}})")
                .status,
            400)
      << "the v3 PUT takes no teams";
  EXPECT_EQ(client.Send("PUT", absl::StrCat("/v3/schedules/", seed::kFollowTheSunScheduleId),
                        R"({"schedule":{"name":"N","time_zone":"UTC","description":"D"}})")
                .status,
            200);
}

TEST_F(SimulatorTest, AcceptHeaderIsCheckedLoosely) {
  Client client(sim_.base_url());
  EXPECT_EQ(client.Send("GET", "/priorities", "", {{"Accept", "application/json"}}).status, 200);
  EXPECT_EQ(client.Send("GET", "/priorities", "", {{"Accept", "*/*"}}).status, 200);
  EXPECT_EQ(client.Send("GET", "/priorities", "", {{"Accept", "text/html"}}).status, 406);
  EXPECT_EQ(client.Send("GET", "/priorities", "", {{"Accept", "application/vnd.pagerduty+json;version=1"}}).status, 406);
}

TEST_F(SimulatorTest, OAuthCodeWithPkceGivesAUserToken) {
  const std::string verifier(64, 'v');
  std::string code = Authorize(Challenge(verifier), "carol@acme.example");
  Reply tokens = ExchangeCode(code, verifier);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  EXPECT_EQ(S(tokens.Obj().at("token_type")), "bearer");
  EXPECT_EQ(tokens.Obj().at("expires_in").as_int64(), 3600);
  Client client(sim_.base_url());
  client.authorization = "Bearer " + S(tokens.Obj().at("access_token"));
  Reply me = client.Get("/users/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(S(me.Obj().at("user").at("id")), seed::kPaymentsUserId);
  EXPECT_EQ(sim_.TokenRequests("authorization_code"), 1);
  // What the simulator recorded names the scheme, never the secret.
  for (const RecordedRequest& r : sim_.requests()) {
    EXPECT_FALSE(absl::StrContains(r.body, simtest::kClientSecret));
    EXPECT_FALSE(absl::StrContains(r.body, verifier));
    if (r.path == "/users/me") {
      EXPECT_EQ(r.Header("Authorization"), std::optional<std::string>("Bearer"));
    }
  }
}

TEST_F(SimulatorTest, OAuthRejectsWrongVerifierReusedCodeAndWrongSecret) {
  const std::string verifier(50, 'a');
  std::string code = Authorize(Challenge(verifier));
  Reply wrong = ExchangeCode(code, std::string(50, 'b'));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(S(wrong.Obj().at("error")), "invalid_grant");

  code = Authorize(Challenge(verifier));
  Reply first = ExchangeCode(code, verifier);
  ASSERT_EQ(first.status, 200);
  Reply reused = ExchangeCode(code, verifier);
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(S(reused.Obj().at("error")), "invalid_grant");
  // A replayed code revokes what it gave out.
  Client client(sim_.base_url());
  client.authorization = "Bearer " + S(first.Obj().at("access_token"));
  EXPECT_EQ(client.Get("/incidents").status, 401);

  code = Authorize(Challenge(verifier));
  Reply bad_client = Token(absl::StrCat("grant_type=authorization_code&code=", code, "&redirect_uri=", kRedirect,
                                        "&client_id=", simtest::kClientId, "&client_secret=wrong&code_verifier=", verifier));
  EXPECT_EQ(bad_client.status, 401);
  EXPECT_EQ(S(bad_client.Obj().at("error")), "invalid_client");
}

TEST_F(SimulatorTest, RefreshTokensRotateAndTheOldOneIsInvalidGrant) {
  const std::string verifier(43, 'z');
  Reply tokens = ExchangeCode(Authorize(Challenge(verifier)), verifier);
  ASSERT_EQ(tokens.status, 200);
  std::string old_refresh = S(tokens.Obj().at("refresh_token"));
  Reply refreshed = Refresh(old_refresh);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_NE(S(refreshed.Obj().at("refresh_token")), old_refresh);
  EXPECT_EQ(sim_.TokenRequests("refresh_token"), 1);
  Reply again = Refresh(old_refresh);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(S(again.Obj().at("error")), "invalid_grant");
  EXPECT_EQ(Refresh(S(refreshed.Obj().at("refresh_token"))).status, 200);
  EXPECT_EQ(sim_.TokenRequests("refresh_token"), 3);
}

TEST_F(SimulatorTest, AccessTokensExpireOnTheInjectedClock) {
  OAuthTokens tokens = sim_.IssueOAuthTokens(simtest::kClientId, seed::kAdminUserId);
  Client client(sim_.base_url());
  client.authorization = "Bearer " + tokens.access_token;
  EXPECT_EQ(client.Get("/incidents").status, 200);
  clock_.Advance(absl::Minutes(59));
  EXPECT_EQ(client.Get("/incidents").status, 200);
  clock_.Advance(absl::Minutes(2));
  Reply expired = client.Get("/incidents");
  EXPECT_EQ(expired.status, 401);
  EXPECT_TRUE(absl::StrContains(expired.body, "expired")) << expired.body;
  Reply refreshed = Refresh(tokens.refresh_token);
  ASSERT_EQ(refreshed.status, 200);
  client.authorization = "Bearer " + S(refreshed.Obj().at("access_token"));
  EXPECT_EQ(client.Get("/incidents").status, 200);
  // The control endpoint moves the same clock for out-of-process tests.
  client.Send("POST", "/_sim/clock", R"({"advance_seconds":3601})");
  EXPECT_EQ(client.Get("/incidents").status, 401);
}

TEST_F(SimulatorTest, GranularOAuthScopesAreEnforced) {
  Client client(sim_.base_url());
  client.authorization =
      "Bearer " + sim_.IssueOAuthTokens(simtest::kClientId, seed::kAdminUserId, "incidents.read").access_token;
  EXPECT_EQ(client.Get("/incidents").status, 200);
  Reply denied = client.Send("POST", "/teams", R"({"team":{"type":"team","name":"Search"}})");
  EXPECT_EQ(denied.status, 403);
  EXPECT_TRUE(absl::StrContains(denied.body, "teams.write")) << denied.body;
}

TEST_F(SimulatorTest, RateLimitFaultsCarryRateLimitHeadersThenClear) {
  Client client(sim_.base_url());
  Faults faults;
  faults.rate_limited = 2;
  faults.rate_limit_reset_seconds = 7;
  sim_.SetFaults(faults);
  for (int i = 0; i < 2; ++i) {
    Reply r = client.Get("/incidents");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.Header("ratelimit-limit"), "960");
    EXPECT_EQ(r.Header("ratelimit-remaining"), "0");
    EXPECT_EQ(r.Header("ratelimit-reset"), "7");
    EXPECT_EQ(simtest::Error(r).at("code").as_int64(), 2020);
  }
  EXPECT_EQ(client.Get("/incidents").status, 200);
}

TEST_F(SimulatorTest, ServerErrorsAndLatencyOnlyWhereThePrefixMatches) {
  Client client(sim_.base_url());
  Faults faults;
  faults.server_errors = 1;
  faults.server_error_status = 503;
  faults.path_prefix = "/oauth/token";
  sim_.SetFaults(faults);
  EXPECT_EQ(client.Get("/incidents").status, 200);
  EXPECT_EQ(Refresh("whatever").status, 503);
  EXPECT_EQ(Refresh("whatever").status, 400);  // Fault used up: the real answer.

  faults = Faults{};
  faults.latency = absl::Milliseconds(300);
  sim_.SetFaults(faults);
  absl::Time start = absl::Now();
  EXPECT_EQ(client.Get("/priorities").status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
}

// A dropped connection loses the answer, not the request: the incident exists, the client got
// nothing, and the next matching request is answered again.
TEST_F(SimulatorTest, DroppedConnectionServesTheRequestButAnswersNothing) {
  Client client(sim_.base_url());
  Faults faults;
  faults.drop_connections = 1;
  faults.path_prefix = "/incidents";
  sim_.SetFaults(faults);
  EXPECT_EQ(client.Get("/services").status, 200);  // Outside the prefix: untouched.

  const size_t incidents = sim_.api().Items("incidents").size();
  http::ClientRequest create;
  create.method = "POST";
  create.url = sim_.base_url() + "/incidents";
  create.headers = {{"Authorization", client.authorization},
                    {"From", client.from},
                    {"Accept", simtest::kAcceptV2},
                    {"Content-Type", "application/json"}};
  create.body = R"({"incident":{"type":"incident","title":"lost answer","service":{"id":"PSWEB03","type":"service_reference"}}})";
  absl::StatusOr<http::ClientResponse> dropped = client.raw().SendSync(create);
  EXPECT_EQ(dropped.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sim_.api().Items("incidents").size(), incidents + 1);
  std::vector<RecordedRequest> recorded = sim_.requests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_TRUE(recorded[1].dropped);
  EXPECT_EQ(recorded[1].status, 0);
  EXPECT_EQ(sim_.faults().drop_connections, 0);

  absl::StatusOr<http::ClientResponse> answered = client.raw().SendSync(create);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->status, 201);
}

TEST_F(SimulatorTest, ControlEndpointDropsConnections) {
  Client control(sim_.base_url());
  EXPECT_EQ(control.Send("POST", "/_sim/faults", R"({"drop_connections":-1})").status, 400);
  Reply set = control.Send("POST", "/_sim/faults", R"({"drop_connections":1,"path_prefix":"/priorities"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Obj().at("drop_connections").as_int64(), 1);

  // Its own client, so the GET goes out on a new connection, which libcurl never resends on.
  Client victim(sim_.base_url());
  http::ClientRequest get;
  get.url = sim_.base_url() + "/priorities";
  get.headers = {{"Authorization", victim.authorization}, {"Accept", simtest::kAcceptV2}};
  EXPECT_EQ(victim.raw().SendSync(get).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(control.Get("/_sim/faults").Obj().at("drop_connections").as_int64(), 0);

  Reply recorded = control.Get("/_sim/requests");
  const json::array& list = recorded.Obj().at("requests").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].at("dropped").as_bool());
  EXPECT_EQ(list[0].at("status").as_int64(), 0);
}

TEST_F(SimulatorTest, ControlEndpointsSetFaultsAndShowRecordedRequests) {
  Client client(sim_.base_url());
  Reply set = client.Send("POST", "/_sim/faults", R"({"rate_limited":1,"rate_limit_reset_seconds":3})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(client.Get("/services").status, 429);
  EXPECT_EQ(client.Get("/services?limit=1").status, 200);
  client.Send("DELETE", "/_sim/faults");

  Reply recorded = client.Get("/_sim/requests");
  ASSERT_EQ(recorded.status, 200);
  const json::array& list = recorded.Obj().at("requests").as_array();
  ASSERT_EQ(list.size(), 2u) << "control calls are not recorded";
  EXPECT_EQ(S(list[0].at("path")), "/services");
  EXPECT_EQ(list[0].at("status").as_int64(), 429);
  EXPECT_EQ(S(list[1].at("query")), "limit=1");
  EXPECT_EQ(S(list[1].at("headers").at("Authorization")), "Token");
  EXPECT_EQ(S(list[1].at("headers").at("From")), "alice@acme.example");
  EXPECT_FALSE(absl::StrContains(recorded.body, simtest::kFullKey));

  client.Send("DELETE", "/_sim/requests");
  EXPECT_TRUE(client.Get("/_sim/requests").Obj().at("requests").as_array().empty());
}

TEST_F(SimulatorTest, RevokedUserTokensStopWorking) {
  Client client(sim_.base_url());
  OAuthTokens tokens = sim_.IssueOAuthTokens(simtest::kClientId, seed::kResponderUserId);
  client.authorization = "Bearer " + tokens.access_token;
  EXPECT_EQ(client.Get("/users/me").status, 200);
  client.Send("POST", "/_sim/oauth/revoke", absl::StrCat(R"({"user_id":")", seed::kResponderUserId, R"("})"));
  EXPECT_EQ(client.Get("/users/me").status, 401);
  EXPECT_EQ(S(Refresh(tokens.refresh_token).Obj().at("error")), "invalid_grant");
}

TEST_F(SimulatorTest, AnalyticsAggregateTheAccountsIncidents) {
  Client client(sim_.base_url());
  const std::string window = R"({"filters":{"created_at_start":"2000-01-01T00:00:00Z","created_at_end":"2100-01-01T00:00:00Z"}})";
  auto total = [&]() {
    Reply r = client.Send("POST", "/analytics/metrics/incidents/all", window);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Obj().at("data").as_array().at(0).at("total_incident_count").as_int64();
  };
  EXPECT_EQ(total(), 4);
  ASSERT_EQ(client.Send("POST", "/incidents",
                        R"({"incident":{"type":"incident","title":"x","service":{"id":"PSWEB03","type":"service_reference"}}})")
                .status,
            201);
  EXPECT_EQ(total(), 5);
  Reply by_service = client.Send("POST", "/analytics/metrics/incidents/services", window);
  int64_t sum = 0;
  for (const json::value& row : by_service.Obj().at("data").as_array()) sum += row.at("total_incident_count").as_int64();
  EXPECT_EQ(sum, 5);
  EXPECT_EQ(client.Send("POST", "/analytics/metrics/incidents/all", R"({"filters":{"created_at_start":"yesterday"}})").status, 400);
}

TEST_F(SimulatorTest, AbilitiesAreListedAndCheckable) {
  Client client(sim_.base_url());
  Reply list = client.Get("/abilities");
  ASSERT_EQ(list.status, 200);
  EXPECT_FALSE(list.Obj().at("abilities").as_array().empty());
  EXPECT_EQ(client.Get("/abilities/teams").status, 204);
  EXPECT_EQ(client.Get("/abilities/no_such_ability").status, 402);
}

TEST(SimulatorFlags, ParseApiKeysAndClients) {
  auto keys = ParseApiKeys("key:full,readonlykey:read_only");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->at("key"), KeyAccess::kFull);
  EXPECT_EQ(keys->at("readonlykey"), KeyAccess::kReadOnly);
  EXPECT_FALSE(ParseApiKeys("key:admin").ok());
  auto clients = ParseOAuthClients("cid:secret");
  ASSERT_TRUE(clients.ok());
  EXPECT_EQ(clients->at("cid"), "secret");
  EXPECT_FALSE(ParseOAuthClients("cid").ok());
}

}  // namespace
}  // namespace bastion::pagerduty_sim
