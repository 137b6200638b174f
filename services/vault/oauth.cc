#include "services/vault/oauth.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace bastion::vault {
namespace {

constexpr char kOAuthErrorPayload[] = "type.bastion.dev/vault.oauth_error";

bool Unreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

std::optional<std::string> StringField(const boost::json::object& o, const char* key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string().data(), v->get_string().size());
}

std::optional<int64_t> IntField(const boost::json::object& o, const char* key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  if (v->is_string()) {
    int64_t n = 0;
    if (absl::SimpleAtoi(absl::string_view(v->get_string().data(), v->get_string().size()), &n)) {
      return n;
    }
  }
  return std::nullopt;
}

// An OAuth error code is a short token; anything else from the server is not repeated.
std::string SafeErrorCode(const std::string& code) {
  if (code.empty() || code.size() > 64) return "unknown_error";
  for (char c : code) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return "unknown_error";
  }
  return code;
}

absl::Status Refused(int http_status, const std::string& code) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "the OAuth token endpoint refused the request: ", code, " (HTTP ", http_status, ")"));
  s.SetPayload(kOAuthErrorPayload, absl::Cord(code));
  return s;
}

}  // namespace

std::string PercentEncode(absl::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, PercentEncode(name), "=", PercentEncode(value));
  }
  return out;
}

std::string PkceChallenge(absl::string_view verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

std::string AuthorizeUrl(absl::string_view base, const AuthorizeRequest& r) {
  const std::string query = FormEncode({{"client_id", r.client_id},
                                        {"redirect_uri", r.redirect_uri},
                                        {"response_type", "code"},
                                        {"scope", absl::StrJoin(r.scopes, " ")},
                                        {"state", r.state},
                                        {"code_challenge", r.code_challenge},
                                        {"code_challenge_method", "S256"}});
  return absl::StrCat(base, absl::StrContains(base, "?") ? "&" : "?", query);
}

std::string OAuthErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kOAuthErrorPayload);
  return payload.has_value() ? std::string(*payload) : "";
}

absl::StatusOr<TokenResponse> OAuthClient::ExchangeCode(absl::string_view client_id,
                                                        absl::string_view client_secret,
                                                        absl::string_view code,
                                                        absl::string_view redirect_uri,
                                                        absl::string_view code_verifier) {
  return Post({{"grant_type", "authorization_code"},
               {"code", std::string(code)},
               {"redirect_uri", std::string(redirect_uri)},
               {"client_id", std::string(client_id)},
               {"client_secret", std::string(client_secret)},
               {"code_verifier", std::string(code_verifier)}});
}

absl::StatusOr<TokenResponse> OAuthClient::Refresh(absl::string_view client_id,
                                                   absl::string_view client_secret,
                                                   absl::string_view refresh_token) {
  return Post({{"grant_type", "refresh_token"},
               {"refresh_token", std::string(refresh_token)},
               {"client_id", std::string(client_id)},
               {"client_secret", std::string(client_secret)}});
}

absl::StatusOr<TokenResponse> OAuthClient::Post(
    std::vector<std::pair<std::string, std::string>> fields) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = token_url_;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = FormEncode(fields);
  request.timeout = timeout_;
  for (auto& [name, value] : fields) crypto::Cleanse(value);
  auto response = http_.SendSync(std::move(request));
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the OAuth token endpoint: ",
                                               absl::StatusCodeToString(response.status().code())));
  }
  crypto::SecretString body(std::move(response->body));
  if (response->status == 429 || response->status >= 500) {
    return absl::UnavailableError(
        absl::StrCat("the OAuth token endpoint answered HTTP ", response->status, "; retry later"));
  }
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(
      boost::json::string_view(body.value().data(), body.value().size()), ec);
  const boost::json::object* obj = ec ? nullptr : json.if_object();
  if (response->status >= 400) {
    std::string code = obj != nullptr ? StringField(*obj, "error").value_or("") : "";
    return Refused(response->status, SafeErrorCode(code));
  }
  if (response->status != 200 || obj == nullptr) {
    return absl::InternalError(absl::StrCat(
        "the OAuth token endpoint answered HTTP ", response->status, " without a token response"));
  }
  auto access = StringField(*obj, "access_token");
  if (!access.has_value() || access->empty()) {
    return absl::InternalError("the OAuth token endpoint's answer has no access_token");
  }
  TokenResponse out;
  out.access_token = crypto::SecretString(std::move(*access));
  if (auto refresh = StringField(*obj, "refresh_token"); refresh.has_value()) {
    out.refresh_token = crypto::SecretString(std::move(*refresh));
  }
  if (auto expires = IntField(*obj, "expires_in"); expires.has_value() && *expires > 0) {
    out.expires_in = absl::Seconds(*expires);
  }
  if (auto scope = StringField(*obj, "scope"); scope.has_value()) {
    out.scopes = absl::StrSplit(*scope, ' ', absl::SkipEmpty());
  }
  return out;
}

}  // namespace bastion::vault
