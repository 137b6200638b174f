#include "tests/pagerduty_sim/oauth_server.h"

#include <utility>

#include <boost/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "tests/pagerduty_sim/api_util.h"

namespace bastion::pagerduty_sim {

namespace json = boost::json;

namespace {

constexpr char kDefaultScope[] = "read write";

http::Response OAuthError(int status, absl::string_view error, absl::string_view description) {
  return http::JsonResponse(
      status, json::serialize(json::object{{"error", internal::J(error)},
                                           {"error_description", internal::J(description)}}));
}

std::string FormValue(const std::vector<std::pair<std::string, std::string>>& form, absl::string_view key) {
  for (const auto& [k, v] : form) {
    if (k == key) return v;
  }
  return "";
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
    }
  }
  return out;
}

http::Response Redirect(absl::string_view redirect_uri, absl::string_view params) {
  http::Response r;
  r.status = 302;
  r.headers.emplace_back("Location", absl::StrCat(redirect_uri, absl::StrContains(redirect_uri, "?") ? "&" : "?", params));
  return r;
}

}  // namespace

OAuthServer::OAuthServer(OAuthOptions options, std::function<absl::Time()> now,
                         std::function<std::optional<std::string>(absl::string_view)> find_user)
    : options_(std::move(options)), now_(std::move(now)), find_user_(std::move(find_user)) {}

http::Response OAuthServer::Authorize(const http::Request& request) {
  auto query = internal::ParseForm(request.query);
  std::string client_id = FormValue(query, "client_id");
  std::string redirect_uri = FormValue(query, "redirect_uri");
  std::string state = FormValue(query, "state");
  // Without a known client and a redirect URI there is nowhere safe to send an error.
  if (options_.clients.count(client_id) == 0) return OAuthError(400, "invalid_client", "unknown client_id");
  if (!absl::StartsWith(redirect_uri, "http://") && !absl::StartsWith(redirect_uri, "https://")) {
    return OAuthError(400, "invalid_request", "redirect_uri must be an absolute http(s) URL");
  }
  auto fail = [&](absl::string_view error, absl::string_view description) {
    return Redirect(redirect_uri, absl::StrCat("error=", error, "&error_description=", UrlEncode(description),
                                               state.empty() ? "" : "&state=", UrlEncode(state)));
  };
  if (FormValue(query, "response_type") != "code") return fail("unsupported_response_type", "response_type must be code");
  std::string challenge = FormValue(query, "code_challenge");
  std::string method = FormValue(query, "code_challenge_method");
  if (!challenge.empty() && method != "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (challenge.empty() && !method.empty()) return fail("invalid_request", "code_challenge is missing");

  std::string who = FormValue(query, "sim_user");
  if (who.empty()) {
    if (auto header = request.Header("X-Sim-User")) who = std::string(*header);
  }
  if (who.empty()) who = options_.default_user_id;
  std::optional<std::string> user = find_user_(who);
  if (!user) return OAuthError(400, "invalid_request", "the simulated consenting user does not exist");

  std::string scope = FormValue(query, "scope");
  if (scope.empty()) scope = kDefaultScope;
  std::string code = crypto::RandomToken("", 24);
  absl::MutexLock lock(&mu_);
  codes_[code] = Code{client_id, redirect_uri, *user, scope, challenge, now_() + options_.code_lifetime};
  return Redirect(redirect_uri, absl::StrCat("code=", code, state.empty() ? "" : "&state=", UrlEncode(state)));
}

http::Response OAuthServer::Token(const http::Request& request) {
  auto form = internal::ParseForm(request.body);
  std::string grant_type = FormValue(form, "grant_type");
  std::string client_id = FormValue(form, "client_id");
  std::string secret = FormValue(form, "client_secret");
  if (auto auth = request.Header("Authorization"); auth && absl::StartsWithIgnoreCase(*auth, "Basic ")) {
    auto decoded = crypto::Base64Decode(absl::StripAsciiWhitespace(auth->substr(6)));
    if (decoded.ok()) {
      std::pair<std::string, std::string> parts = absl::StrSplit(*decoded, absl::MaxSplits(':', 1));
      client_id = internal::PercentDecode(parts.first);
      secret = internal::PercentDecode(parts.second);
    }
  }
  absl::MutexLock lock(&mu_);
  ++token_requests_[grant_type];
  auto client = options_.clients.find(client_id);
  if (client == options_.clients.end() || !crypto::ConstantTimeEquals(client->second, secret)) {
    return OAuthError(401, "invalid_client", "client authentication failed");
  }
  const absl::Time now = now_();

  if (grant_type == "authorization_code") {
    auto it = codes_.find(FormValue(form, "code"));
    if (it == codes_.end()) return OAuthError(400, "invalid_grant", "authorization code is invalid");
    Code& code = it->second;
    if (code.used) {
      // A replayed code may be stolen: everything it produced stops working (RFC 6749 4.1.2).
      for (const std::string& token : code.issued) {
        if (auto a = access_.find(token); a != access_.end()) a->second.revoked = true;
        if (auto r = refresh_.find(token); r != refresh_.end()) r->second.revoked = true;
      }
      return OAuthError(400, "invalid_grant", "authorization code was already used");
    }
    if (code.client_id != client_id) return OAuthError(400, "invalid_grant", "code was issued to another client");
    if (now >= code.expires) return OAuthError(400, "invalid_grant", "authorization code expired");
    if (FormValue(form, "redirect_uri") != code.redirect_uri) {
      return OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request");
    }
    if (!code.challenge.empty()) {
      std::string verifier = FormValue(form, "code_verifier");
      if (verifier.size() < 43 || verifier.size() > 128 ||
          !crypto::ConstantTimeEquals(crypto::Base64UrlEncode(crypto::Sha256(verifier)), code.challenge)) {
        return OAuthError(400, "invalid_grant", "PKCE verification failed");
      }
    }
    code.used = true;
    return IssueLocked(client_id, code.user_id, code.scope, &code.issued);
  }

  if (grant_type == "refresh_token") {
    auto it = refresh_.find(FormValue(form, "refresh_token"));
    if (it == refresh_.end() || it->second.revoked) {
      return OAuthError(400, "invalid_grant", "refresh token is invalid, rotated or revoked");
    }
    if (it->second.client_id != client_id) return OAuthError(400, "invalid_grant", "refresh token belongs to another client");
    Grant grant = it->second;
    it->second.revoked = true;  // Rotation: each refresh token works once.
    return IssueLocked(client_id, grant.user_id, grant.scope, nullptr);
  }

  return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
}

OAuthTokens OAuthServer::MintLocked(const std::string& client_id, const std::string& user_id,
                                    const std::string& scope) {
  OAuthTokens tokens{crypto::RandomToken("pdus+_", 24), crypto::RandomToken("pdre+_", 24)};
  access_[tokens.access_token] = Grant{client_id, user_id, scope, now_() + options_.access_token_lifetime};
  refresh_[tokens.refresh_token] = Grant{client_id, user_id, scope, absl::InfiniteFuture()};
  return tokens;
}

http::Response OAuthServer::IssueLocked(const std::string& client_id, const std::string& user_id,
                                        const std::string& scope, std::vector<std::string>* issued) {
  OAuthTokens tokens = MintLocked(client_id, user_id, scope);
  if (issued != nullptr) {
    issued->push_back(tokens.access_token);
    issued->push_back(tokens.refresh_token);
  }
  json::object body{{"access_token", tokens.access_token},
                    {"token_type", "bearer"},
                    {"expires_in", absl::ToInt64Seconds(options_.access_token_lifetime)},
                    {"refresh_token", tokens.refresh_token},
                    {"scope", scope}};
  http::Response r = http::JsonResponse(200, json::serialize(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

OAuthServer::TokenState OAuthServer::Lookup(absl::string_view access_token, TokenInfo* info) {
  absl::MutexLock lock(&mu_);
  auto it = access_.find(std::string(access_token));
  if (it == access_.end() || it->second.revoked) return TokenState::kUnknown;
  if (now_() >= it->second.expires) return TokenState::kExpired;
  info->user_id = it->second.user_id;
  info->scopes = absl::StrSplit(it->second.scope, ' ', absl::SkipEmpty());
  return TokenState::kValid;
}

int64_t OAuthServer::TokenRequests(absl::string_view grant_type) {
  absl::MutexLock lock(&mu_);
  auto it = token_requests_.find(std::string(grant_type));
  return it == token_requests_.end() ? 0 : it->second;
}

void OAuthServer::RevokeUser(absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  for (auto& [token, grant] : access_) grant.revoked = grant.revoked || grant.user_id == user_id;
  for (auto& [token, grant] : refresh_) grant.revoked = grant.revoked || grant.user_id == user_id;
  for (auto& [value, code] : codes_) code.used = code.used || code.user_id == user_id;
}

OAuthTokens OAuthServer::Issue(absl::string_view client_id, absl::string_view user_id, absl::string_view scope) {
  absl::MutexLock lock(&mu_);
  return MintLocked(std::string(client_id), std::string(user_id), scope.empty() ? kDefaultScope : std::string(scope));
}

}  // namespace bastion::pagerduty_sim
