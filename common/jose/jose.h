// JSON Web Signatures in compact form (RFC 7515) and JSON Web Keys (RFC 7517) — exactly what
// Bastion's sign-in needs: it signs its own access tokens with ES256, and it verifies tokens
// (its own, and the ID tokens of a tenant's identity provider) with ES256 or RS256 against a key
// set. Nothing else of JOSE: no "none", no HMAC (no algorithm confusion between a public key and a
// shared secret), no encryption, no "crit" extensions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/json.hpp"
#include "common/crypto/crypto.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace bastion::jose {

enum class Algorithm { kEs256, kRs256 };

const char* AlgorithmName(Algorithm alg);

// A key that verifies signatures: one member of a JWKS.
class PublicKey {
 public:
  // Reads an EC P-256 ("ES256") or RSA (≥ 2048 bits, "RS256") public JWK. A key whose "use" is
  // not "sig", or whose "alg" is not the one its type implies, is refused.
  static absl::StatusOr<PublicKey> FromJwk(const boost::json::object& jwk);

  const std::string& kid() const { return kid_; }
  Algorithm algorithm() const { return alg_; }
  // The public members only, with kid, alg and use.
  boost::json::object ToJwk() const;
  // RFC 7638 thumbprint: base64url(SHA-256 of the required members in lexicographic order).
  std::string Thumbprint() const;
  // `signature` as JWS carries it (ES256: r||s, 64 bytes; RS256: PKCS#1 v1.5).
  bool Verify(absl::string_view signing_input, absl::string_view signature) const;

 private:
  friend class SigningKey;
  PublicKey(std::shared_ptr<EVP_PKEY> key, Algorithm alg, std::string kid);

  std::shared_ptr<EVP_PKEY> key_;
  Algorithm alg_;
  std::string kid_;
};

// A private ES256 key that signs Bastion's tokens. Its kid is its public key's thumbprint.
class SigningKey {
 public:
  static SigningKey Generate();
  // PKCS#8 PEM: how the key is stored (sealed, in the vault) and read back.
  static absl::StatusOr<SigningKey> FromPem(absl::string_view pem);
  crypto::SecretString ToPem() const;

  const PublicKey& public_key() const { return public_; }
  const std::string& kid() const { return public_.kid(); }

  // A compact JWS of `claims` with header {"alg":"ES256","typ":typ,"kid":kid}.
  std::string Sign(const boost::json::object& claims, absl::string_view typ = "JWT") const;

 private:
  explicit SigningKey(std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_;
};

// The keys a verifier trusts, looked up by kid.
class KeySet {
 public:
  // A JWKS document {"keys":[…]}: keys Bastion cannot use (encryption keys, other types or
  // curves) are skipped, as RFC 7517 §5 allows; a document with no usable key is an error.
  static absl::StatusOr<KeySet> FromJwks(absl::string_view json);

  void Add(PublicKey key) { keys_.push_back(std::move(key)); }
  const PublicKey* Find(absl::string_view kid) const;
  const std::vector<PublicKey>& keys() const { return keys_; }
  std::string ToJwks() const;

 private:
  std::vector<PublicKey> keys_;
};

struct Verified {
  boost::json::object header;
  boost::json::object claims;
};

inline constexpr size_t kMaxTokenBytes = 16 * 1024;

// Checks a compact JWS: three canonical base64url parts, a JSON header whose "alg" is in
// `allowed` and matches the key's, the key named by "kid" (or the only key for that alg when the
// token names none), no "crit", and the signature. Returns header and claims; says nothing about
// what the claims mean (see CheckClaims). Errors are Unauthenticated and never echo the token.
absl::StatusOr<Verified> Verify(absl::string_view token, const KeySet& keys,
                                const std::vector<Algorithm>& allowed);

struct ClaimRules {
  std::string issuer;                     // "iss" must equal it
  std::string audience;                   // "aud" (string or array) must hold it
  absl::Time now;
  absl::Duration leeway = absl::Seconds(60);  // clock skew tolerated for exp/nbf/iat
  absl::Duration max_age = absl::InfiniteDuration();  // "iat" no older than this, if finite
};

// RFC 7519 registered claims: iss, aud, exp (required), nbf and iat (if present).
absl::Status CheckClaims(const boost::json::object& claims, const ClaimRules& rules);

}  // namespace bastion::jose
