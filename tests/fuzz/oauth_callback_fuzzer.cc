// The OAuth callback as it arrives from the user's browser and PagerDuty: the query string of
// /oauth/callback (decoded by the edge's ParseQuery), then the token endpoint's answer to the
// code exchange (status line, blank line, body; the vault's OAuthClient parses it). Nothing may
// crash, and no error may carry the client secret or the PKCE verifier.
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "services/edge/edge_server.h"
#include "services/vault/oauth.h"

namespace {

using namespace bastion;

constexpr char kClientSecret[] = "fuzz-client-secret-3Hn";
constexpr char kVerifier[] = "fuzz-pkce-verifier-Qm8Tz";

class ScriptedTokenEndpoint : public http::HttpClient {
 public:
  explicit ScriptedTokenEndpoint(absl::string_view answer) : answer_(answer) {}
  void Send(http::ClientRequest, Callback done) override {
    http::ClientResponse r;
    const size_t blank = answer_.find("\n\n");
    if (!absl::SimpleAtoi(answer_.substr(0, std::min(blank, answer_.find('\n'))), &r.status)) {
      return done(absl::UnavailableError("connection reset"));
    }
    if (blank != absl::string_view::npos) r.body = std::string(answer_.substr(blank + 2));
    r.headers.emplace_back("content-type", "application/json");
    done(std::move(r));
  }

 private:
  absl::string_view answer_;
};

void CheckNoSecret(const absl::Status& status) {
  const std::string text = status.ToString();
  if (text.find(kClientSecret) != std::string::npos || text.find(kVerifier) != std::string::npos) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const absl::string_view query = input.substr(0, newline);
  const absl::string_view answer = newline == absl::string_view::npos ? "" : input.substr(newline + 1);

  std::string state, code;
  for (auto& [key, value] : edge::ParseQuery(query)) {
    if (key == "state") state = value;
    if (key == "code") code = value;
  }
  ScriptedTokenEndpoint endpoint(answer);
  vault::OAuthClient client(endpoint, "https://identity.pagerduty.invalid/oauth/token", absl::Seconds(5));
  auto tokens = client.ExchangeCode("client-id", kClientSecret, code, "https://edge.example/oauth/callback",
                                    kVerifier);
  if (!tokens.ok()) {
    CheckNoSecret(tokens.status());
    (void)vault::OAuthErrorCode(tokens.status());
  }
  auto refreshed = client.Refresh("client-id", kClientSecret, state);
  if (!refreshed.ok()) CheckNoSecret(refreshed.status());
  return 0;
}
