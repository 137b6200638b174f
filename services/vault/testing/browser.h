// What a user's browser does in the vault's tests: opens PagerDuty's authorize URL, consents
// (tests/pagerduty_sim consents at once, as the PagerDuty user named by X-Sim-User) and reads
// where PagerDuty sends it back to: the edge's callback with `code` and `state`.
#pragma once

#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/http/http_client.h"

namespace bastion::vault {

// Decoded name -> value of a query string or form body (the last one wins).
inline std::map<std::string, std::string> ParseQuery(const std::string& text) {
  auto decode = [](absl::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      int v = 0;
      if (s[i] == '+') {
        out.push_back(' ');
      } else if (s[i] == '%' && i + 2 < s.size() && absl::SimpleHexAtoi(s.substr(i + 1, 2), &v)) {
        out.push_back(static_cast<char>(v));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    out[decode(kv.first)] = decode(kv.second);
  }
  return out;
}

// The query parameters of `url`.
inline std::map<std::string, std::string> QueryOf(const std::string& url) {
  const size_t q = url.find('?');
  return q == std::string::npos ? std::map<std::string, std::string>{} : ParseQuery(url.substr(q + 1));
}

struct Redirect {
  int status = 0;
  std::string location;
  std::string state;
  std::string code;
};

inline Redirect FollowAuthorizeUrl(http::HttpClient& http, const std::string& url,
                                   const std::string& pagerduty_user = "") {
  http::ClientRequest request;
  request.url = url;
  if (!pagerduty_user.empty()) request.headers = {{"X-Sim-User", pagerduty_user}};
  auto response = http.SendSync(std::move(request));
  Redirect out;
  if (!response.ok()) return out;
  out.status = response->status;
  out.location = std::string(response->Header("location").value_or(""));
  auto q = QueryOf(out.location);
  out.state = q["state"];
  out.code = q["code"];
  return out;
}

}  // namespace bastion::vault
