#include "services/edge/signin/client_metadata.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <boost/json.hpp>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace bastion::edge {
namespace {

namespace json = boost::json;
namespace tv = ::bastion::tenant::v1;

constexpr size_t kMaxRedirectUris = 10;

struct Transfer {
  std::string body;
  size_t max_bytes = 0;
  bool too_large = false;
  bool allow_internal = false;
  bool internal_address = false;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->body.size() + size * n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, size * n);
  return size * n;
}

// Runs after the connection is made and before the request is sent, with the address actually
// connected to: the place to refuse internal addresses whatever DNS answered.
int OnConnected(void* user, char* primary_ip, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->allow_internal && IsInternalAddress(primary_ip)) {
    t->internal_address = true;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

bool IsLoopbackHost(absl::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace

bool IsInternalAddress(const std::string& ip) {
  unsigned char b[16];
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) {
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] >= 224;
  }
  if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, b)) {
      return IsInternalAddress(absl::StrCat(b[12], ".", b[13], ".", b[14], ".", b[15]));
    }
    bool all_zero_but_last = std::all_of(b, b + 15, [](unsigned char c) { return c == 0; });
    if (all_zero_but_last && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
    return (b[0] & 0xfe) == 0xfc ||                  // fc00::/7 unique local
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link-local
           b[0] == 0xff;                               // multicast
  }
  return true;  // not an address we can judge: treat as internal
}

absl::Status CheckClientIdUrl(const std::string& url, bool allow_insecure_local) {
  absl::string_view rest;
  bool https = absl::StartsWith(url, "https://");
  if (https) {
    rest = absl::string_view(url).substr(8);
  } else if (allow_insecure_local && absl::StartsWith(url, "http://")) {
    rest = absl::string_view(url).substr(7);
  } else {
    return absl::InvalidArgumentError("a client_id URL must use https");
  }
  const size_t slash = rest.find('/');
  const absl::string_view authority = rest.substr(0, slash);
  if (slash == absl::string_view::npos || slash + 1 >= rest.size()) {
    return absl::InvalidArgumentError("a client_id URL must have a path");
  }
  if (url.size() > 2000 || absl::StrContains(url, "#") || absl::StrContains(authority, "@") || authority.empty()) {
    return absl::InvalidArgumentError("a client_id URL must not hold a fragment or user info");
  }
  if (!https) {
    const absl::string_view host = authority.substr(0, authority.rfind(':') == absl::string_view::npos ||
                                                              absl::EndsWith(authority, "]")
                                                          ? authority.size()
                                                          : authority.rfind(':'));
    if (!IsLoopbackHost(host)) return absl::InvalidArgumentError("a client_id URL must use https");
  }
  return absl::OkStatus();
}

absl::StatusOr<tv::OAuthClient> ParseClientMetadata(const std::string& url, const std::string& body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return absl::InvalidArgumentError("the client metadata document is not a JSON object");
  const json::object& o = doc.as_object();
  const json::value* id = o.if_contains("client_id");
  if (id == nullptr || !id->is_string() || id->as_string() != url) {
    return absl::InvalidArgumentError("the client metadata document's client_id is not its own URL");
  }
  tv::OAuthClient client;
  client.set_client_id(url);
  client.set_kind("metadata_document");
  const json::value* name = o.if_contains("client_name");
  if (name == nullptr || !name->is_string() || name->as_string().empty() || name->as_string().size() > 200) {
    return absl::InvalidArgumentError("the client metadata document needs a client_name of 1 to 200 characters");
  }
  client.set_client_name(std::string(name->as_string()));
  const json::value* uris = o.if_contains("redirect_uris");
  if (uris == nullptr || !uris->is_array() || uris->as_array().empty() || uris->as_array().size() > kMaxRedirectUris) {
    return absl::InvalidArgumentError("the client metadata document needs 1 to 10 redirect_uris");
  }
  for (const json::value& u : uris->as_array()) {
    if (!u.is_string() || u.as_string().empty()) {
      return absl::InvalidArgumentError("every redirect_uri must be a non-empty string");
    }
    client.add_redirect_uris(std::string(u.as_string()));
  }
  if (const json::value* method = o.if_contains("token_endpoint_auth_method");
      method != nullptr && !(method->is_string() && method->as_string() == "none")) {
    return absl::InvalidArgumentError("Bastion accepts only public clients (token_endpoint_auth_method none)");
  }
  for (const char* field : {"client_uri", "logo_uri"}) {
    const json::value* v = o.if_contains(field);
    if (v == nullptr || !v->is_string() || !absl::StartsWith(std::string(v->as_string()), "https://")) continue;
    if (std::string(field) == "client_uri") client.set_client_uri(std::string(v->as_string()));
    if (std::string(field) == "logo_uri") client.set_logo_uri(std::string(v->as_string()));
  }
  return client;
}

absl::StatusOr<tv::OAuthClient> CurlClientMetadataFetcher::Fetch(const std::string& url) {
  if (auto s = CheckClientIdUrl(url, options_.allow_http_loopback); !s.ok()) return s;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return absl::UnavailableError("cannot fetch the client metadata document right now");
  Transfer t;
  t.max_bytes = options_.max_bytes;
  t.allow_internal = options_.allow_internal_addresses;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_http_loopback ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE, static_cast<long>(options_.max_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, &OnConnected);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, &t);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Bastion (client metadata)");
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (t.internal_address) {
    return absl::InvalidArgumentError("the client_id URL points to an internal address");
  }
  if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return absl::InvalidArgumentError(
        absl::StrCat("the client metadata document is larger than ", options_.max_bytes, " bytes"));
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::UnavailableError("the client metadata document did not arrive in time");
  }
  if (rc != CURLE_OK) return absl::UnavailableError("cannot fetch the client metadata document");
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300 && status < 400) {
    return absl::InvalidArgumentError("the client metadata document must be served without a redirect");
  }
  if (status != 200) {
    return absl::InvalidArgumentError(absl::StrCat("the client metadata document answered HTTP ", status));
  }
  return ParseClientMetadata(url, t.body);
}

}  // namespace bastion::edge
