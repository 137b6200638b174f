#include "services/vault/oidc.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "common/status/status_macros.h"
#include "services/vault/oauth.h"

namespace bastion::vault {
namespace {

namespace json = boost::json;

std::optional<std::string> StringMember(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string().data(), v->get_string().size());
}

std::vector<std::string> StringList(const json::object& o, const char* key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const json::value& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string().data(), item.get_string().size());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, absl::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view p : parts) {
    int n = 0;
    if (!absl::SimpleAtoi(p, &n) || n < 0 || n > 255) return false;
  }
  return true;
}

// An OAuth error code is a short token; anything else the provider says is not repeated.
std::string SafeErrorCode(const std::string& code) {
  if (code.empty() || code.size() > 64) return "unknown_error";
  for (char c : code) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return "unknown_error";
  }
  return code;
}

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("the identity provider's ID token was refused: ", why));
}

}  // namespace

absl::Status CheckProviderUrl(absl::string_view url, bool allow_http_loopback, absl::string_view what) {
  absl::string_view rest = url;
  const bool https = absl::ConsumePrefix(&rest, "https://");
  const bool http = !https && absl::ConsumePrefix(&rest, "http://");
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string host(authority);
  if (!host.empty() && host[0] == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  const bool bad_chars = std::any_of(url.begin(), url.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) ||
           absl::ascii_iscntrl(static_cast<unsigned char>(c));
  });
  if ((!https && !http) || host.empty() || absl::StrContains(authority, "@") ||
      absl::StrContains(url, "#") || bad_chars || url.size() > 2048) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be an https URL with a host, no user info and no fragment"));
  }
  if (http && !(allow_http_loopback && IsLoopbackHost(absl::AsciiStrToLower(host)))) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must use https (plain http is allowed only to a loopback host, with the vault's "
              "--idp_allow_http)"));
  }
  return absl::OkStatus();
}

OidcClient::OidcClient(http::HttpClient& http, const Clock& clock, OidcOptions options)
    : http_(http), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<http::ClientResponse> OidcClient::Fetch(const std::string& url, size_t max_bytes,
                                                       absl::string_view what) {
  http::ClientRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options_.fetch_timeout;
  request.max_response_bytes = max_bytes;
  auto response = http_.SendSync(std::move(request));
  if (!response.ok()) {
    switch (response.status().code()) {
      case absl::StatusCode::kDeadlineExceeded:
        return absl::FailedPreconditionError(
            absl::StrCat(what, " at ", url, " did not arrive within ",
                         absl::FormatDuration(options_.fetch_timeout)));
      case absl::StatusCode::kResourceExhausted:
        return absl::FailedPreconditionError(
            absl::StrCat(what, " at ", url, " is larger than ", max_bytes, " bytes"));
      default:
        return absl::FailedPreconditionError(
            absl::StrCat(what, " at ", url, " could not be fetched (",
                         absl::StatusCodeToString(response.status().code()), ")"));
    }
  }
  if (response->status >= 300 && response->status < 400) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " at ", url, " answered with a redirect (HTTP ", response->status,
        "); redirects are not followed: configure the final URL"));
  }
  if (response->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " at ", url, " answered HTTP ", response->status));
  }
  return response;
}

absl::StatusOr<ProviderMetadata> OidcClient::Discover(const std::string& issuer,
                                                      Fetching fetching) {
  RETURN_IF_ERROR(CheckProviderUrl(issuer, options_.allow_http_loopback, "the issuer"));
  const absl::Time now = clock_.Now();
  if (fetching != Fetching::kFresh) {
    absl::MutexLock lock(&mu_);
    auto it = discovery_.find(issuer);
    if (it != discovery_.end() && it->second.second > now) return it->second.first;
  }
  // OpenID Connect Discovery 1.0 §4: the issuer without a trailing slash, then the well-known path.
  const std::string url =
      absl::StrCat(absl::StripSuffix(issuer, "/"), "/.well-known/openid-configuration");
  ASSIGN_OR_RETURN(http::ClientResponse response,
                   Fetch(url, options_.max_discovery_bytes, "the discovery document"));
  boost::system::error_code ec;
  json::value doc = json::parse(response.body, ec);
  if (ec || !doc.is_object()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the discovery document at ", url, " is not a JSON object"));
  }
  const json::object& o = doc.get_object();
  ProviderMetadata m;
  m.issuer = StringMember(o, "issuer").value_or("");
  // §4.3: the issuer in the document must be exactly the one configured, else another party
  // could speak for this issuer.
  if (m.issuer != issuer) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the discovery document at ", url, " names issuer '", m.issuer.substr(0, 200),
        "', not the configured '", issuer, "': configure exactly the issuer it names"));
  }
  m.authorization_endpoint = StringMember(o, "authorization_endpoint").value_or("");
  m.token_endpoint = StringMember(o, "token_endpoint").value_or("");
  m.jwks_uri = StringMember(o, "jwks_uri").value_or("");
  const std::pair<const char*, const std::string*> endpoints[] = {
      {"authorization_endpoint", &m.authorization_endpoint},
      {"token_endpoint", &m.token_endpoint},
      {"jwks_uri", &m.jwks_uri}};
  for (const auto& [name, value] : endpoints) {
    if (value->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the discovery document at ", url, " has no ", name));
    }
    absl::Status s = CheckProviderUrl(*value, options_.allow_http_loopback,
                                      absl::StrCat("the discovery document's ", name));
    if (!s.ok()) return absl::FailedPreconditionError(s.message());
  }
  const std::vector<std::string> methods = StringList(o, "code_challenge_methods_supported");
  if (o.contains("code_challenge_methods_supported") && !Contains(methods, "S256")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the identity provider does not support PKCE with S256 (code_challenge_methods_supported "
        "at ", url, ")"));
  }
  m.signing_algorithms = StringList(o, "id_token_signing_alg_values_supported");
  if (!m.signing_algorithms.empty() && !Contains(m.signing_algorithms, "RS256") &&
      !Contains(m.signing_algorithms, "ES256")) {
    return absl::FailedPreconditionError(
        "the identity provider signs ID tokens with neither RS256 nor ES256, the algorithms "
        "Bastion verifies");
  }
  absl::MutexLock lock(&mu_);
  if (discovery_.size() > 10000) discovery_.clear();
  discovery_[issuer] = {m, now + options_.discovery_ttl};
  return m;
}

absl::StatusOr<jose::KeySet> OidcClient::Keys(const std::string& jwks_uri, Fetching fetching) {
  const absl::Time now = clock_.Now();
  if (fetching != Fetching::kFresh) {
    absl::MutexLock lock(&mu_);
    auto it = jwks_.find(jwks_uri);
    if (it != jwks_.end()) {
      const absl::Duration age = now - it->second.fetched_at;
      // A token naming an unknown key refetches, but not more often than jwks_min_refetch, so
      // tokens with made-up key ids cannot make the vault hammer the provider.
      const absl::Duration good_for = fetching == Fetching::kRefreshKeys ? options_.jwks_min_refetch
                                                                        : options_.jwks_ttl;
      if (age < good_for) {
        return it->second.keys;
      }
    }
  }
  ASSIGN_OR_RETURN(http::ClientResponse response,
                   Fetch(jwks_uri, options_.max_jwks_bytes, "the identity provider's JWKS"));
  auto keys = jose::KeySet::FromJwks(response.body);
  if (!keys.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the identity provider's JWKS at ", jwks_uri, " holds no usable signing key (",
        keys.status().message(), ")"));
  }
  absl::MutexLock lock(&mu_);
  if (jwks_.size() > 10000) jwks_.clear();
  jwks_[jwks_uri] = CachedKeys{*keys, now};
  return keys;
}

std::string OidcClient::AuthorizationUrl(const ProviderMetadata& provider,
                                         const AuthorizationParams& p) const {
  const std::string query = FormEncode({{"response_type", "code"},
                                        {"client_id", p.client_id},
                                        {"redirect_uri", p.redirect_uri},
                                        {"scope", absl::StrJoin(p.scopes, " ")},
                                        {"state", p.state},
                                        {"nonce", p.nonce},
                                        {"code_challenge", p.code_challenge},
                                        {"code_challenge_method", "S256"}});
  const std::string& base = provider.authorization_endpoint;
  return absl::StrCat(base, absl::StrContains(base, "?") ? "&" : "?", query);
}

absl::StatusOr<std::string> OidcClient::ExchangeCode(const ProviderMetadata& provider,
                                                     const std::string& client_id,
                                                     absl::string_view client_secret,
                                                     const std::string& code,
                                                     const std::string& redirect_uri,
                                                     absl::string_view code_verifier) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"grant_type", "authorization_code"},
      {"code", code},
      {"redirect_uri", redirect_uri},
      {"client_id", client_id},
      {"code_verifier", std::string(code_verifier)}};
  http::ClientRequest request;
  request.method = "POST";
  request.url = provider.token_endpoint;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  if (!client_secret.empty()) {
    // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
    std::string pair = absl::StrCat(PercentEncode(client_id), ":", PercentEncode(client_secret));
    request.headers.emplace_back("Authorization", absl::StrCat("Basic ", crypto::Base64Encode(pair)));
    crypto::Cleanse(pair);
  }
  request.body = FormEncode(fields);
  request.timeout = options_.fetch_timeout;
  request.max_response_bytes = options_.max_token_response_bytes;
  for (auto& [name, value] : fields) crypto::Cleanse(value);
  auto response = http_.SendSync(std::move(request));
  if (!response.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the identity provider's token endpoint (",
                     absl::StatusCodeToString(response.status().code()), ")"));
  }
  // The body holds tokens: it never reaches a message.
  crypto::SecretString body(std::move(response->body));
  if (response->status == 429 || response->status >= 500) {
    return absl::UnavailableError(absl::StrCat(
        "the identity provider's token endpoint answered HTTP ", response->status, "; retry later"));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(body.value().data(), body.value().size()), ec);
  const json::object* o = ec ? nullptr : doc.if_object();
  if (response->status >= 400) {
    const std::string error =
        SafeErrorCode(o != nullptr ? StringMember(*o, "error").value_or("") : "");
    absl::Status s = absl::FailedPreconditionError(absl::StrCat(
        "the identity provider refused the code exchange: ", error, " (HTTP ", response->status, ")"));
    s.SetPayload("type.bastion.dev/vault.oauth_error", absl::Cord(error));
    return s;
  }
  if (response->status != 200 || o == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the identity provider's token endpoint answered HTTP ", response->status,
        " without a token response"));
  }
  std::optional<std::string> id_token = StringMember(*o, "id_token");
  if (!id_token.has_value() || id_token->empty()) {
    return absl::FailedPreconditionError(
        "the identity provider's token response has no id_token (is the 'openid' scope "
        "configured?)");
  }
  return *std::move(id_token);
}

absl::StatusOr<json::object> OidcClient::VerifyIdToken(const ProviderMetadata& provider,
                                                       absl::string_view id_token,
                                                       const IdTokenExpectations& expected) {
  if (id_token.empty() || id_token.size() > jose::kMaxTokenBytes) {
    return Refused("it is empty or too large");
  }
  // The key id, to refetch the JWKS when the provider has rotated to a key not yet cached.
  std::string kid;
  {
    const absl::string_view header_part = id_token.substr(0, id_token.find('.'));
    auto header = crypto::Base64UrlDecode(header_part);
    boost::system::error_code ec;
    json::value h = header.ok() ? json::parse(*header, ec) : json::value();
    if (header.ok() && !ec && h.is_object()) kid = StringMember(h.get_object(), "kid").value_or("");
  }
  ASSIGN_OR_RETURN(jose::KeySet keys, Keys(provider.jwks_uri));
  if (!kid.empty() && keys.Find(kid) == nullptr) {
    ASSIGN_OR_RETURN(keys, Keys(provider.jwks_uri, Fetching::kRefreshKeys));
  }
  auto verified = jose::Verify(id_token, keys, {jose::Algorithm::kRs256, jose::Algorithm::kEs256});
  if (!verified.ok()) return Refused(verified.status().message());
  const json::object& claims = verified->claims;
  jose::ClaimRules rules;
  rules.issuer = expected.issuer;
  rules.audience = expected.client_id;
  rules.now = clock_.Now();
  rules.leeway = options_.clock_leeway;
  rules.max_age = options_.id_token_max_age;
  if (absl::Status s = jose::CheckClaims(claims, rules); !s.ok()) return Refused(s.message());
  if (!claims.contains("iat")) return Refused("it has no iat");
  const std::string sub = StringMember(claims, "sub").value_or("");
  if (sub.empty() || sub.size() > 255) return Refused("its sub is missing or longer than 255 characters");
  const std::string nonce = StringMember(claims, "nonce").value_or("");
  if (expected.nonce.empty() || !crypto::ConstantTimeEquals(nonce, expected.nonce)) {
    return Refused("its nonce is not the one this sign-in sent");
  }
  // OIDC Core §3.1.3.7: with several audiences, azp must name this client; if present, always.
  const json::value* aud = claims.if_contains("aud");
  const bool several = aud != nullptr && aud->is_array() && aud->get_array().size() > 1;
  const std::optional<std::string> azp = StringMember(claims, "azp");
  if ((several && !azp.has_value()) || (azp.has_value() && *azp != expected.client_id)) {
    return Refused("its azp does not name this client");
  }
  return claims;
}

}  // namespace bastion::vault
