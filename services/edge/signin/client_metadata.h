// Client ID metadata documents: an MCP client may use an https URL as its client_id, and Bastion
// fetches the JSON document there to learn the client's name and redirect URIs. Fetching a URL a
// stranger chose is a server-side request forgery risk, so the fetch is strict: https only, no
// redirects, a small size and time limit, and no connection to loopback, private, link-local or
// otherwise internal addresses (checked on the address actually connected to, so DNS tricks do
// not help) unless a local run allows them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/bastion/tenant/v1/signin.pb.h"

namespace bastion::edge {

struct ClientMetadataOptions {
  size_t max_bytes = 5 * 1024;
  absl::Duration timeout = absl::Seconds(2);
  // Local runs and tests only: http:// documents on loopback hosts, and connecting to loopback or
  // private addresses.
  bool allow_http_loopback = false;
  bool allow_internal_addresses = false;
};

class ClientMetadataFetcher {
 public:
  virtual ~ClientMetadataFetcher() = default;
  // The client the document at `url` describes; `url` is the client_id. InvalidArgument when the
  // URL or document is not acceptable (the message says why), Unavailable when it cannot be read.
  virtual absl::StatusOr<bastion::tenant::v1::OAuthClient> Fetch(const std::string& url) = 0;
};

class CurlClientMetadataFetcher : public ClientMetadataFetcher {
 public:
  explicit CurlClientMetadataFetcher(ClientMetadataOptions options) : options_(options) {}
  absl::StatusOr<bastion::tenant::v1::OAuthClient> Fetch(const std::string& url) override;

 private:
  const ClientMetadataOptions options_;
};

// Whether `url` may be a client_id at all: https (or loopback http when allowed), a path, no
// fragment, no user info.
absl::Status CheckClientIdUrl(const std::string& url, bool allow_insecure_local);
// Checks a fetched document: client_id equal to `url`, 1–10 redirect_uris, a client_name.
absl::StatusOr<bastion::tenant::v1::OAuthClient> ParseClientMetadata(const std::string& url,
                                                                    const std::string& body);
// Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast: not the public
// internet.
bool IsInternalAddress(const std::string& ip);

}  // namespace bastion::edge
