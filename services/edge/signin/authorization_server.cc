#include "services/edge/signin/authorization_server.h"

#include <boost/json.hpp>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/log/log.h"
#include "google/protobuf/util/time_util.h"
#include "services/edge/edge_server.h"
#include "services/edge/signin/pages.h"

namespace bastion::edge {
namespace {

namespace json = boost::json;
using google::protobuf::util::TimeUtil;

constexpr absl::string_view kCookie = "bastion_signin";
constexpr absl::string_view kScope = "mcp";
constexpr absl::Duration kMetadataDocumentTtl = absl::Hours(1);

// The OAuth error codes a refusal from the tenant service may start with ("invalid_grant: …").
constexpr const char* kOAuthErrors[] = {"invalid_request", "invalid_client",       "invalid_grant",
                                        "unauthorized_client", "unsupported_grant_type", "invalid_scope",
                                        "access_denied",   "invalid_target",       "invalid_redirect_uri",
                                        "invalid_client_metadata"};

bool IsName(absl::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsTenantSlug(absl::string_view s) {
  if (s.size() < 2 || s.size() > 63) return false;
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

// Parameters of a query string or form body; a parameter given twice makes the request invalid
// (RFC 6749 §3.1), reported as nullopt.
std::optional<std::map<std::string, std::string>> Params(absl::string_view encoded) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : ParseQuery(encoded)) {
    if (!out.emplace(k, v).second) return std::nullopt;
  }
  return out;
}

std::string Get(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::string UrlEncode(absl::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

http::Response NoStoreJson(int status, const json::object& body) {
  http::Response r = http::JsonResponse(status, json::serialize(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

http::Response OAuthError(int status, absl::string_view code, absl::string_view description) {
  return NoStoreJson(status, json::object{{"error", std::string(code)},
                                          {"error_description", std::string(description)}});
}

// Splits a refusal into an OAuth error code and its description.
std::pair<std::string, std::string> ErrorOf(const absl::Status& s, absl::string_view fallback) {
  const absl::string_view message = s.message();
  for (const char* code : kOAuthErrors) {
    if (absl::StartsWith(message, absl::StrCat(code, ":"))) {
      return {code, std::string(absl::StripAsciiWhitespace(message.substr(strlen(code) + 1)))};
    }
  }
  if (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded) {
    return {"temporarily_unavailable", "Bastion cannot complete this right now; retry shortly"};
  }
  return {std::string(fallback), std::string(message)};
}

http::Response OAuthErrorFrom(const absl::Status& s, absl::string_view fallback) {
  auto [code, description] = ErrorOf(s, fallback);
  return OAuthError(code == "temporarily_unavailable" ? 503 : (code == "invalid_client" ? 401 : 400), code,
                    description);
}

http::Response Redirect(std::string location, http::Headers extra = {}) {
  http::Response r;
  r.status = 302;
  r.headers = {{"Location", std::move(location)}, {"Cache-Control", "no-store"}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  return r;
}

std::string WithParams(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = uri;
  char sep = absl::StrContains(uri, "?") ? '&' : '?';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    absl::StrAppend(&out, std::string(1, sep), UrlEncode(k), "=", UrlEncode(v));
    sep = '&';
  }
  return out;
}

std::string CookieValue(const http::Request& request) {
  const std::string header(request.Header("cookie").value_or(""));
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::StartsWith(part, absl::StrCat(kCookie, "="))) return std::string(part.substr(kCookie.size() + 1));
  }
  return "";
}

std::string Binding(absl::string_view cookie) {
  return cookie.empty() ? std::string() : crypto::HexEncode(crypto::Sha256(cookie));
}

// The host a redirect URI sends the grant to, for the consent page.
std::string HostOf(absl::string_view uri) {
  const size_t scheme = uri.find("://");
  if (scheme == absl::string_view::npos) return std::string(uri.substr(0, uri.find(':')));
  absl::string_view rest = uri.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

bool IsLoopbackHttp(absl::string_view uri, absl::string_view* host, absl::string_view* port, absl::string_view* tail) {
  if (!absl::StartsWith(uri, "http://")) return false;
  absl::string_view rest = uri.substr(7);
  const size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  *tail = end == absl::string_view::npos ? absl::string_view() : rest.substr(end);
  size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos && !absl::EndsWith(authority, "]")) {
    *host = authority.substr(0, colon);
    *port = authority.substr(colon + 1);
  } else {
    *host = authority;
    *port = "";
  }
  return *host == "127.0.0.1" || *host == "[::1]" || *host == "localhost";
}

}  // namespace

bool RedirectUriMatches(absl::string_view registered, absl::string_view presented) {
  if (registered == presented) return true;
  absl::string_view rh, rp, rt, ph, pp, pt;
  if (!IsLoopbackHttp(registered, &rh, &rp, &rt) || !IsLoopbackHttp(presented, &ph, &pp, &pt)) return false;
  return rh == ph && rt == pt && std::all_of(pp.begin(), pp.end(), [](char c) { return absl::ascii_isdigit(c); });
}

AuthorizationServer::AuthorizationServer(AuthorizationServerOptions options, SignInBackend& signin,
                                         IdentityProviderBackend& idp, PolicyClient& policy,
                                         ClientMetadataFetcher& metadata, AccessTokenVerifier& tokens,
                                         const Clock& clock)
    : options_(std::move(options)),
      signin_(signin),
      idp_(idp),
      policy_(policy),
      metadata_(metadata),
      tokens_(tokens),
      clock_(clock),
      secure_cookies_(absl::StartsWith(options_.public_url, "https://")) {}

std::string AuthorizationServer::Issuer(absl::string_view tenant) const {
  return absl::StrCat(options_.public_url, "/oauth/", tenant);
}

http::Response AuthorizationServer::Handle(const http::Request& request) {
  std::vector<absl::string_view> p = absl::StrSplit(request.path, '/');
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  // "", ".well-known", kind, "mcp"|"oauth", tenant[, server]
  if (p.size() >= 5 && p[1] == ".well-known" && get) {
    if (p[2] == "oauth-protected-resource" && p.size() == 6 && p[3] == "mcp" && IsTenantSlug(p[4]) &&
        IsName(p[5], 128)) {
      return ProtectedResourceMetadata(std::string(p[4]), std::string(p[5]));
    }
    if (p[2] == "oauth-authorization-server" && p.size() == 5 && p[3] == "oauth" && IsTenantSlug(p[4])) {
      return ServerMetadata(std::string(p[4]));
    }
  }
  // "", "oauth", tenant, action...
  if (p.size() >= 4 && p[1] == "oauth" && IsTenantSlug(p[2])) {
    const std::string tenant(p[2]);
    const absl::string_view action = p[3];
    if (p.size() == 5 && action == ".well-known" && p[4] == "oauth-authorization-server" && get) {
      return ServerMetadata(tenant);
    }
    if (p.size() == 4) {
      if (action == "register" && post) return Register(tenant, request);
      if (action == "authorize" && get) return Authorize(tenant, request);
      if (action == "callback" && get) return Callback(tenant, request);
      if (action == "consent" && post) return Consent(tenant, request);
      if (action == "token" && post) return Token(tenant, request);
      if (action == "revoke" && post) return Revoke(tenant, request);
      if (action == "jwks.json" && get) return Jwks(tenant);
    }
  }
  return OAuthError(404, "not_found", "no such sign-in endpoint");
}

http::Response AuthorizationServer::ProtectedResourceMetadata(const std::string& tenant, const std::string& server) {
  http::Response r = http::JsonResponse(
      200, json::serialize(json::object{{"resource", tokens_.ResourceFor(tenant, server)},
                                        {"authorization_servers", json::array{Issuer(tenant)}},
                                        {"scopes_supported", json::array{kScope.data()}},
                                        {"bearer_methods_supported", json::array{"header"}},
                                        {"resource_name", absl::StrCat("PagerDuty through Bastion (", tenant, "/",
                                                                       server, ")")}}));
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

http::Response AuthorizationServer::ServerMetadata(const std::string& tenant) {
  const std::string issuer = Issuer(tenant);
  http::Response r = http::JsonResponse(
      200, json::serialize(json::object{
               {"issuer", issuer},
               {"authorization_endpoint", issuer + "/authorize"},
               {"token_endpoint", issuer + "/token"},
               {"registration_endpoint", issuer + "/register"},
               {"revocation_endpoint", issuer + "/revoke"},
               {"jwks_uri", issuer + "/jwks.json"},
               {"scopes_supported", json::array{kScope.data()}},
               {"response_types_supported", json::array{"code"}},
               {"response_modes_supported", json::array{"query"}},
               {"grant_types_supported", json::array{"authorization_code", "refresh_token"}},
               {"code_challenge_methods_supported", json::array{"S256"}},
               {"token_endpoint_auth_methods_supported", json::array{"none"}},
               {"revocation_endpoint_auth_methods_supported", json::array{"none"}},
               {"authorization_response_iss_parameter_supported", true},
               {"client_id_metadata_document_supported", true}}));
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

http::Response AuthorizationServer::Register(const std::string& tenant, const http::Request& request) {
  boost::system::error_code ec;
  json::value doc = json::parse(request.body, ec);
  if (ec || !doc.is_object()) return OAuthError(400, "invalid_client_metadata", "the body must be a JSON object");
  const json::object& o = doc.as_object();
  tv::RegisterClientRequest req;
  req.set_tenant(tenant);
  auto text = [&o](const char* name) -> std::optional<std::string> {
    const json::value* v = o.if_contains(name);
    if (v == nullptr) return std::string();
    if (!v->is_string()) return std::nullopt;
    return std::string(v->as_string());
  };
  auto name = text("client_name");
  auto client_uri = text("client_uri");
  auto logo_uri = text("logo_uri");
  auto method = text("token_endpoint_auth_method");
  if (!name || !client_uri || !logo_uri || !method) {
    return OAuthError(400, "invalid_client_metadata", "client_name, client_uri, logo_uri must be strings");
  }
  // Bastion's clients are public: they prove themselves with PKCE, not a secret. A client that
  // asks for a secret-based method is told which one it got (RFC 7591 §3.2.1).
  req.set_client_name(name->empty() ? "Unnamed MCP client" : *name);
  req.set_client_uri(*client_uri);
  req.set_logo_uri(*logo_uri);
  const json::value* uris = o.if_contains("redirect_uris");
  if (uris == nullptr || !uris->is_array()) {
    return OAuthError(400, "invalid_redirect_uri", "redirect_uris must be an array of URIs");
  }
  for (const json::value& u : uris->as_array()) {
    if (!u.is_string()) return OAuthError(400, "invalid_redirect_uri", "every redirect_uri must be a string");
    req.add_redirect_uris(std::string(u.as_string()));
  }
  if (const json::value* grants = o.if_contains("grant_types"); grants != nullptr && grants->is_array()) {
    for (const json::value& g : grants->as_array()) {
      if (!g.is_string() || (g.as_string() != "authorization_code" && g.as_string() != "refresh_token")) {
        return OAuthError(400, "invalid_client_metadata",
                          "grant_types may hold only authorization_code and refresh_token");
      }
    }
  }
  auto client = signin_.RegisterClient(req);
  if (!client.ok()) return OAuthErrorFrom(client.status(), "invalid_client_metadata");
  json::array redirect_uris;
  for (const auto& u : client->redirect_uris()) redirect_uris.push_back(json::string(u));
  json::object out{{"client_id", client->client_id()},
                   {"client_id_issued_at", client->created_at().seconds()},
                   {"client_name", client->client_name()},
                   {"redirect_uris", std::move(redirect_uris)},
                   {"grant_types", json::array{"authorization_code", "refresh_token"}},
                   {"response_types", json::array{"code"}},
                   {"token_endpoint_auth_method", "none"}};
  if (!client->client_uri().empty()) out["client_uri"] = client->client_uri();
  log::Info("oauth client registered", {{"tenant", tenant}, {"client_id", client->client_id()}});
  return NoStoreJson(201, out);
}

absl::StatusOr<tv::OAuthClient> AuthorizationServer::ResolveClient(const std::string& tenant,
                                                                   const std::string& client_id) {
  tv::GetClientRequest get;
  get.set_tenant(tenant);
  get.set_client_id(client_id);
  auto known = signin_.GetClient(get);
  const bool document = absl::StartsWith(client_id, "https://") || absl::StartsWith(client_id, "http://");
  if (!document) return known;
  const absl::Time now = clock_.Now();
  if (known.ok() && absl::FromUnixSeconds(known->expires_at().seconds()) > now) return known;
  if (!known.ok() && known.status().code() != absl::StatusCode::kNotFound) return known.status();
  auto fetched = metadata_.Fetch(client_id);
  if (!fetched.ok()) return fetched.status();
  *fetched->mutable_expires_at() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(now + kMetadataDocumentTtl));
  tv::PutMetadataDocumentClientRequest put;
  put.set_tenant(tenant);
  *put.mutable_client() = *fetched;
  return signin_.PutMetadataDocumentClient(put);
}

http::Response AuthorizationServer::Authorize(const std::string& tenant, const http::Request& request) {
  auto params = Params(request.query);
  if (!params) {
    return RenderError(400, "This sign-in link is not valid", "A parameter appears twice. Start again from your AI client.");
  }
  const std::string client_id = Get(*params, "client_id");
  const std::string redirect_uri = Get(*params, "redirect_uri");
  if (client_id.empty() || redirect_uri.empty()) {
    return RenderError(400, "This sign-in link is not valid",
                       "It does not say which AI client is asking. Start again from your AI client.");
  }
  auto client = ResolveClient(tenant, client_id);
  if (!client.ok()) {
    if (client.status().code() == absl::StatusCode::kUnavailable) {
      return RenderError(503, "Sign-in is unavailable right now", "Bastion cannot check this AI client. Try again in a minute.");
    }
    return RenderError(400, "This AI client is not known here",
                       absl::StrCat(ErrorOf(client.status(), "invalid_client").second,
                                    ". Remove the connection in your AI client and add it again."));
  }
  const bool redirect_known = std::any_of(client->redirect_uris().begin(), client->redirect_uris().end(),
                                          [&](const std::string& r) { return RedirectUriMatches(r, redirect_uri); });
  if (!redirect_known) {
    // Never send anything to an address the client did not register.
    return RenderError(400, "This sign-in link is not valid",
                       "The AI client asked to be answered at an address it did not register. Remove the connection "
                       "in your AI client and add it again.");
  }
  const std::string state = Get(*params, "state");
  auto back = [&](absl::string_view code, absl::string_view description) {
    return Redirect(WithParams(redirect_uri, {{"error", std::string(code)},
                                              {"error_description", std::string(description)},
                                              {"state", state},
                                              {"iss", Issuer(tenant)}}));
  };
  if (Get(*params, "response_type") != "code") return back("unsupported_response_type", "response_type must be code");
  if (Get(*params, "code_challenge").empty() || Get(*params, "code_challenge_method") != "S256") {
    return back("invalid_request", "PKCE is required: send code_challenge with code_challenge_method S256");
  }
  const std::string resource = Get(*params, "resource");
  const std::string prefix = tokens_.ResourceFor(tenant, "");
  const std::string server = absl::StartsWith(resource, prefix) ? resource.substr(prefix.size()) : "";
  if (!IsName(server, 128)) {
    return back("invalid_target", absl::StrCat("resource must be this tenant's MCP URL, ", prefix, "<server>"));
  }
  const std::string cookie = crypto::RandomToken("", 32);
  tv::BeginAuthorizationRequest begin;
  begin.set_tenant(tenant);
  begin.set_client_id(client_id);
  begin.set_redirect_uri(redirect_uri);
  begin.set_code_challenge(Get(*params, "code_challenge"));
  begin.set_code_challenge_method("S256");
  begin.set_state(state);
  begin.set_resource(resource);
  begin.set_server(server);
  begin.set_scope(Get(*params, "scope"));
  begin.set_browser_binding(Binding(cookie));
  auto pending = signin_.BeginAuthorization(begin);
  if (!pending.ok()) {
    auto [code, description] = ErrorOf(pending.status(), "invalid_request");
    return back(code, description);
  }
  vv::BeginIdpSignInRequest idp;
  idp.set_tenant(tenant);
  idp.set_redirect_uri(Issuer(tenant) + "/callback");
  idp.set_context(pending->authorization_id());
  auto signin = idp_.BeginIdpSignIn(idp);
  if (!signin.ok()) {
    if (signin.status().code() == absl::StatusCode::kNotFound ||
        signin.status().code() == absl::StatusCode::kFailedPrecondition) {
      return RenderError(404, "Sign-in is not available for your organization",
                         absl::StrCat(signin.status().message(),
                                      ". Ask your Bastion admin to connect (or check) your company's identity "
                                      "provider, or for a personal token to paste into your AI client instead."));
    }
    return RenderError(503, "Sign-in is unavailable right now",
                       "Bastion cannot reach your company's identity provider settings. Try again in a minute.");
  }
  std::string set_cookie = absl::StrCat(kCookie, "=", cookie, "; Path=/oauth/", tenant,
                                        "/; Max-Age=600; HttpOnly; SameSite=Lax");
  if (secure_cookies_) set_cookie += "; Secure";
  return Redirect(signin->authorization_url(), {{"Set-Cookie", set_cookie}});
}

http::Response AuthorizationServer::Callback(const std::string& tenant, const http::Request& request) {
  auto params = Params(request.query).value_or(std::map<std::string, std::string>{});
  if (!Get(params, "error").empty()) {
    return RenderError(400, "Your identity provider did not sign you in",
                       absl::StrCat("It answered: ", Get(params, "error"), " ", Get(params, "error_description"),
                                    ". Start again from your AI client."));
  }
  const std::string binding = Binding(CookieValue(request));
  if (binding.empty()) {
    return RenderError(400, "This sign-in did not start in this browser",
                       "Start again from your AI client, in the browser it opens, and finish there.");
  }
  vv::CompleteIdpSignInRequest complete;
  complete.set_state(Get(params, "state"));
  complete.set_code(Get(params, "code"));
  auto verified = idp_.CompleteIdpSignIn(complete);
  if (!verified.ok()) {
    return RenderError(verified.status().code() == absl::StatusCode::kUnavailable ? 503 : 400,
                       "Your sign-in could not be confirmed",
                       absl::StrCat(verified.status().message(), ". Start again from your AI client."));
  }
  tv::CompleteSignInRequest done;
  done.set_authorization_id(verified->context());
  done.set_browser_binding(binding);
  done.set_issuer(verified->issuer());
  done.set_subject(verified->subject());
  done.set_email(verified->email());
  done.set_email_verified(verified->email_verified());
  done.set_name(verified->name());
  done.set_claims_json(verified->claims_json());
  auto prompt = signin_.CompleteSignIn(done);
  if (!prompt.ok()) {
    return RenderError(prompt.status().code() == absl::StatusCode::kUnavailable ? 503 : 403,
                       "You cannot connect this AI client",
                       absl::StrCat(ErrorOf(prompt.status(), "access_denied").second, "."));
  }
  Identity who;
  who.tenant_id = prompt->user().tenant_id();
  who.tenant_slug = prompt->tenant_slug();
  who.user_id = prompt->user().id();
  who.email = prompt->user().email();
  who.group_ids.assign(prompt->user().group_ids().begin(), prompt->user().group_ids().end());
  who.client_type = "personal";
  ConsentPage page;
  if (auto allowed = policy_.ListAllowedTools(who, prompt->server()); allowed.ok()) {
    page.tools = allowed->names;
    std::sort(page.tools.begin(), page.tools.end());
  }
  page.client_name = prompt->client().client_name();
  page.client_host = HostOf(prompt->redirect_uri());
  page.redirect_uri = prompt->redirect_uri();
  page.tenant = prompt->tenant_slug();
  page.server = prompt->server();
  page.user_email = prompt->user().email();
  page.form_action = Issuer(tenant) + "/consent";
  page.hidden_fields = {{"authorization_id", prompt->authorization_id()}, {"consent_token", prompt->consent_token()}};
  return RenderConsent(page);
}

http::Response AuthorizationServer::Consent(const std::string& tenant, const http::Request& request) {
  // Defence in depth beside the one-use consent token and the browser binding: a form posted
  // from another site is refused.
  if (auto origin = request.Header("origin"); origin.has_value() && *origin != "null") {
    if (!absl::StartsWith(options_.public_url, *origin) ||
        (options_.public_url.size() > origin->size() && options_.public_url[origin->size()] != '/')) {
      return RenderError(403, "This answer came from another site", "Start again from your AI client.");
    }
  }
  auto form = Params(request.body);
  if (!form) return RenderError(400, "This answer is not valid", "Start again from your AI client.");
  tv::DecideConsentRequest decide;
  decide.set_authorization_id(Get(*form, "authorization_id"));
  decide.set_consent_token(Get(*form, "consent_token"));
  decide.set_browser_binding(Binding(CookieValue(request)));
  decide.set_approve(Get(*form, "decision") == "approve");
  auto decision = signin_.DecideConsent(decide);
  if (!decision.ok()) {
    return RenderError(decision.status().code() == absl::StatusCode::kUnavailable ? 503 : 400,
                       "This answer could not be used",
                       absl::StrCat(ErrorOf(decision.status(), "invalid_request").second,
                                    ". Start again from your AI client."));
  }
  const std::string clear = absl::StrCat(kCookie, "=; Path=/oauth/", tenant, "/; Max-Age=0; HttpOnly; SameSite=Lax",
                                         secure_cookies_ ? "; Secure" : "");
  std::vector<std::pair<std::string, std::string>> params;
  if (!decision->code().empty()) {
    params = {{"code", decision->code()}, {"state", decision->state()}, {"iss", Issuer(tenant)}};
  } else {
    params = {{"error", decision->error().empty() ? "access_denied" : decision->error()},
              {"error_description", "the user denied access"},
              {"state", decision->state()},
              {"iss", Issuer(tenant)}};
  }
  return Redirect(WithParams(decision->redirect_uri(), params), {{"Set-Cookie", clear}});
}

http::Response AuthorizationServer::IssueTokens(const std::string& tenant, const tv::TokenGrant& grant) {
  vv::SignAccessTokenRequest sign;
  sign.set_tenant(tenant);
  sign.set_issuer(Issuer(tenant));
  sign.set_audience(grant.resource());
  sign.set_subject(grant.identity().user_id());
  sign.set_client_id(grant.client_id());
  sign.set_scope(grant.scope());
  sign.set_grant_id(grant.grant_id());
  sign.set_email(grant.identity().email());
  sign.set_lifetime_seconds(static_cast<int32_t>(absl::ToInt64Seconds(options_.access_token_lifetime)));
  auto token = idp_.SignAccessToken(sign);
  if (!token.ok()) {
    return OAuthError(503, "temporarily_unavailable", "Bastion cannot issue a token right now; retry shortly");
  }
  json::object out{{"access_token", token->access_token()},
                   {"token_type", "Bearer"},
                   {"expires_in", absl::ToInt64Seconds(options_.access_token_lifetime)},
                   {"scope", grant.scope().empty() ? std::string(kScope) : grant.scope()}};
  if (!grant.refresh_token().empty()) out["refresh_token"] = grant.refresh_token();
  return NoStoreJson(200, out);
}

http::Response AuthorizationServer::Token(const std::string& tenant, const http::Request& request) {
  const std::string content_type(request.Header("content-type").value_or(""));
  if (!absl::StartsWithIgnoreCase(content_type, "application/x-www-form-urlencoded")) {
    return OAuthError(400, "invalid_request", "send the token request as application/x-www-form-urlencoded");
  }
  auto form = Params(request.body);
  if (!form) return OAuthError(400, "invalid_request", "a parameter appears twice");
  if (request.Header("authorization").has_value()) {
    return OAuthError(401, "invalid_client", "Bastion's clients are public: send client_id, not credentials");
  }
  const std::string grant_type = Get(*form, "grant_type");
  absl::StatusOr<tv::TokenGrant> grant;
  if (grant_type == "authorization_code") {
    tv::RedeemCodeRequest req;
    req.set_tenant(tenant);
    req.set_code(Get(*form, "code"));
    req.set_client_id(Get(*form, "client_id"));
    req.set_redirect_uri(Get(*form, "redirect_uri"));
    req.set_code_verifier(Get(*form, "code_verifier"));
    req.set_resource(Get(*form, "resource"));
    if (req.code().empty() || req.client_id().empty() || req.code_verifier().empty()) {
      return OAuthError(400, "invalid_request", "code, client_id and code_verifier are required");
    }
    grant = signin_.RedeemCode(req);
  } else if (grant_type == "refresh_token") {
    tv::RefreshGrantRequest req;
    req.set_tenant(tenant);
    req.set_refresh_token(Get(*form, "refresh_token"));
    req.set_client_id(Get(*form, "client_id"));
    req.set_resource(Get(*form, "resource"));
    if (req.refresh_token().empty() || req.client_id().empty()) {
      return OAuthError(400, "invalid_request", "refresh_token and client_id are required");
    }
    grant = signin_.RefreshGrant(req);
  } else {
    return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
  }
  if (!grant.ok()) return OAuthErrorFrom(grant.status(), "invalid_grant");
  return IssueTokens(tenant, *grant);
}

http::Response AuthorizationServer::Revoke(const std::string& tenant, const http::Request& request) {
  auto form = Params(request.body);
  if (!form || Get(*form, "token").empty()) return OAuthError(400, "invalid_request", "token is required");
  const std::string token = Get(*form, "token");
  tv::RevokeTokenRequest req;
  req.set_tenant(tenant);
  req.set_client_id(Get(*form, "client_id"));
  if (AccessTokenVerifier::IsAccessToken(token)) {
    auto grant = tokens_.GrantOf(token, tenant);
    if (!grant.ok()) {
      // RFC 7009 §2.2: a token that is not valid needs no revoking.
      return http::Response{200, {{"Cache-Control", "no-store"}}, ""};
    }
    req.set_grant_id(*grant);
  } else {
    req.set_refresh_token(token);
  }
  if (auto s = signin_.RevokeToken(req); !s.ok()) {
    if (s.code() == absl::StatusCode::kUnavailable) return OAuthErrorFrom(s, "temporarily_unavailable");
  }
  return http::Response{200, {{"Cache-Control", "no-store"}}, ""};
}

http::Response AuthorizationServer::Jwks(const std::string& tenant) {
  auto keys = idp_.GetTokenKeys(tenant);
  if (!keys.ok()) {
    if (keys.status().code() == absl::StatusCode::kNotFound) return OAuthError(404, "not_found", "no such tenant");
    return OAuthError(503, "temporarily_unavailable", "retry shortly");
  }
  http::Response r = http::JsonResponse(200, keys->jwks_json());
  r.headers.emplace_back("Cache-Control", "public, max-age=300");
  return r;
}

void RegisterSignInRoutes(http::HttpServer& server, AuthorizationServer& as, Executor& executor) {
  auto handler = [&as, &executor](http::Request request, std::shared_ptr<http::Responder> responder) {
    const bool queued = executor.TrySubmit([&as, request = std::move(request), responder]() {
      responder->Respond(as.Handle(request));
    });
    if (!queued) {
      http::Response r = OAuthError(503, "temporarily_unavailable", "Bastion is busy; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      responder->Respond(std::move(r));
    }
  };
  server.RoutePrefix("*", "/oauth/", handler);
  server.RoutePrefix("GET", "/.well-known/oauth-protected-resource/", handler);
  server.RoutePrefix("GET", "/.well-known/oauth-authorization-server/", handler);
}

}  // namespace bastion::edge
