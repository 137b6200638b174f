// Test helpers: a simulator on a loopback port and a client that talks to it over real HTTP.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "gtest/gtest.h"
#include "tests/pagerduty_sim/simulator.h"

namespace bastion::pagerduty_sim::simtest {

inline constexpr char kFullKey[] = "sim-full-key-0123456789";
inline constexpr char kReadOnlyKey[] = "sim-readonly-key-0123456789";
inline constexpr char kClientId[] = "bastion-client";
inline constexpr char kClientSecret[] = "bastion-secret";
inline constexpr char kAcceptV2[] = "application/vnd.pagerduty+json;version=2";

inline SimulatorOptions DefaultOptions(const Clock* clock = nullptr) {
  SimulatorOptions options;
  options.api_keys = {{kFullKey, KeyAccess::kFull}, {kReadOnlyKey, KeyAccess::kReadOnly}};
  options.oauth_clients = {{kClientId, kClientSecret}};
  options.clock = clock;
  return options;
}

struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;
  boost::json::value json;  // Null when the body is not JSON.

  std::string Header(absl::string_view name) const {
    auto v = http::FindHeader(headers, name);
    return v ? std::string(*v) : "";
  }
  const boost::json::object& Obj() const {
    static const boost::json::object empty;
    return json.is_object() ? json.as_object() : empty;
  }
};

// Sends PagerDuty-style requests: Accept v2, JSON bodies, a chosen Authorization and From.
class Client {
 public:
  explicit Client(std::string base_url) : base_url_(std::move(base_url)) {}

  std::string authorization = absl::StrCat("Token token=", kFullKey);
  std::string from = "alice@acme.example";

  Reply Send(const std::string& method, const std::string& path_and_query, const std::string& body = "",
             http::Headers extra = {}) {
    http::ClientRequest request;
    request.method = method;
    request.url = base_url_ + path_and_query;
    request.body = body;
    request.headers = std::move(extra);
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    if (!from.empty()) request.headers.emplace_back("From", from);
    if (!http::FindHeader(request.headers, "Accept")) request.headers.emplace_back("Accept", kAcceptV2);
    if (!body.empty() && !http::FindHeader(request.headers, "Content-Type")) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    auto response = client_.SendSync(std::move(request));
    Reply reply;
    if (!response.ok()) {
      ADD_FAILURE() << method << " " << path_and_query << ": " << response.status();
      return reply;
    }
    reply.status = response->status;
    reply.headers = response->headers;
    reply.body = response->body;
    boost::json::error_code ec;
    reply.json = boost::json::parse(reply.body, ec);
    if (ec) reply.json = nullptr;
    return reply;
  }
  Reply Get(const std::string& path) { return Send("GET", path); }

  http::HttpClient& raw() { return client_; }

 private:
  std::string base_url_;
  http::CurlHttpClient client_;
};

// The "error" object of a PagerDuty error reply.
inline const boost::json::object& Error(const Reply& r) {
  static const boost::json::object empty;
  const boost::json::value* e = r.Obj().if_contains("error");
  return e && e->is_object() ? e->as_object() : empty;
}

}  // namespace bastion::pagerduty_sim::simtest
