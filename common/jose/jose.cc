#include "common/jose/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"

namespace bastion::jose {
namespace {

namespace json = boost::json;

constexpr int kMinRsaBits = 2048;
constexpr size_t kEcCoordinateBytes = 32;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, PkeyFree()); }

const unsigned char* U(absl::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

absl::Status Refused(absl::string_view why) { return absl::UnauthenticatedError(why); }

// base64url without padding, and only the one spelling of each value (no stray low bits), so a
// token has exactly one form.
absl::StatusOr<std::string> DecodePart(absl::string_view part) {
  for (char c : part) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return absl::InvalidArgumentError("not base64url");
  }
  auto decoded = crypto::Base64UrlDecode(part);
  if (!decoded.ok() || crypto::Base64UrlEncode(*decoded) != part) {
    return absl::InvalidArgumentError("not canonical base64url");
  }
  return decoded;
}

absl::StatusOr<std::string> MemberBytes(const json::object& jwk, const char* name) {
  const json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return absl::InvalidArgumentError(absl::StrCat("JWK lacks \"", name, "\""));
  auto bytes = DecodePart(std::string(v->as_string()));
  if (!bytes.ok() || bytes->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("JWK member \"", name, "\" is not base64url"));
  }
  return bytes;
}

std::string StringMember(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

Bn BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  BASTION_CHECK(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
  return Bn(bn);
}

std::string BnBytes(const BIGNUM* bn, int pad_to = 0) {
  const int n = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  if (pad_to > 0) {
    BASTION_CHECK(BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n) == n);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("JWK is not a valid ", type, " public key"));
  }
  std::shared_ptr<EVP_PKEY> key = Share(raw);
  // fromdata takes the numbers as given; make OpenSSL check them (an EC point on the curve).
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("JWK is not a valid ", type, " public key"));
  }
  return key;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> EcKey(const json::object& jwk) {
  if (StringMember(jwk, "crv") != "P-256") return absl::InvalidArgumentError("EC JWK must use curve P-256");
  std::string x, y;
  {
    auto xs = MemberBytes(jwk, "x");
    if (!xs.ok()) return xs.status();
    auto ys = MemberBytes(jwk, "y");
    if (!ys.ok()) return ys.status();
    x = *std::move(xs);
    y = *std::move(ys);
  }
  if (x.size() != kEcCoordinateBytes || y.size() != kEcCoordinateBytes) {
    return absl::InvalidArgumentError("EC JWK coordinates must be 32 bytes");
  }
  const std::string point = absl::StrCat("\x04", x, y);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  return FromParams("EC", bld.get());
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> RsaKey(const json::object& jwk) {
  auto n = MemberBytes(jwk, "n");
  if (!n.ok()) return n.status();
  auto e = MemberBytes(jwk, "e");
  if (!e.ok()) return e.status();
  Bn bn_n(BN_bin2bn(U(*n), static_cast<int>(n->size()), nullptr));
  Bn bn_e(BN_bin2bn(U(*e), static_cast<int>(e->size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  auto key = FromParams("RSA", bld.get());
  if (key.ok() && EVP_PKEY_get_bits(key->get()) < kMinRsaBits) {
    return absl::InvalidArgumentError("RSA JWK must be at least 2048 bits");
  }
  return key;
}

// ES256 signatures are r||s with each half 32 bytes; OpenSSL speaks DER.
std::string DerToJose(absl::string_view der) {
  const unsigned char* p = U(der);
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  BASTION_CHECK(sig != nullptr);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return BnBytes(r, kEcCoordinateBytes) + BnBytes(s, kEcCoordinateBytes);
}

std::string JoseToDer(absl::string_view raw) {
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(U(raw), kEcCoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(U(raw.substr(kEcCoordinateBytes)), kEcCoordinateBytes, nullptr);
  ECDSA_SIG_set0(sig.get(), r, s);
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::optional<Algorithm> ParseAlgorithm(absl::string_view name) {
  if (name == "ES256") return Algorithm::kEs256;
  if (name == "RS256") return Algorithm::kRs256;
  return std::nullopt;
}

std::optional<absl::Time> NumericDate(const json::object& claims, const char* name, bool* malformed) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    *malformed = true;
    return std::nullopt;
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(v->to_number<double>()));
}

}  // namespace

const char* AlgorithmName(Algorithm alg) { return alg == Algorithm::kEs256 ? "ES256" : "RS256"; }

PublicKey::PublicKey(std::shared_ptr<EVP_PKEY> key, Algorithm alg, std::string kid)
    : key_(std::move(key)), alg_(alg), kid_(std::move(kid)) {
  if (kid_.empty()) kid_ = Thumbprint();
}

absl::StatusOr<PublicKey> PublicKey::FromJwk(const json::object& jwk) {
  const std::string kty = StringMember(jwk, "kty");
  const std::string use = StringMember(jwk, "use");
  const std::string alg = StringMember(jwk, "alg");
  if (!use.empty() && use != "sig") return absl::InvalidArgumentError("JWK is not a signing key");
  if (kty == "EC") {
    if (!alg.empty() && alg != "ES256") return absl::InvalidArgumentError("EC JWK must be for ES256");
    auto key = EcKey(jwk);
    if (!key.ok()) return key.status();
    return PublicKey(*std::move(key), Algorithm::kEs256, StringMember(jwk, "kid"));
  }
  if (kty == "RSA") {
    if (!alg.empty() && alg != "RS256") return absl::InvalidArgumentError("RSA JWK must be for RS256");
    auto key = RsaKey(jwk);
    if (!key.ok()) return key.status();
    return PublicKey(*std::move(key), Algorithm::kRs256, StringMember(jwk, "kid"));
  }
  return absl::InvalidArgumentError("JWK type must be EC or RSA");
}

json::object PublicKey::ToJwk() const {
  json::object jwk;
  if (alg_ == Algorithm::kEs256) {
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = crypto::Base64UrlEncode(BnBytes(BnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X).get(), kEcCoordinateBytes));
    jwk["y"] = crypto::Base64UrlEncode(BnBytes(BnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y).get(), kEcCoordinateBytes));
  } else {
    jwk["kty"] = "RSA";
    jwk["n"] = crypto::Base64UrlEncode(BnBytes(BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_N).get()));
    jwk["e"] = crypto::Base64UrlEncode(BnBytes(BnParam(key_.get(), OSSL_PKEY_PARAM_RSA_E).get()));
  }
  jwk["alg"] = AlgorithmName(alg_);
  jwk["use"] = "sig";
  if (!kid_.empty()) jwk["kid"] = kid_;
  return jwk;
}

std::string PublicKey::Thumbprint() const {
  // RFC 7638 §3: the required members only, sorted, no whitespace. Every value is base64url or a
  // fixed name, so nothing needs escaping.
  const json::object jwk = ToJwk();
  std::string canonical;
  if (alg_ == Algorithm::kEs256) {
    canonical = absl::StrCat(R"({"crv":"P-256","kty":"EC","x":")", std::string(jwk.at("x").as_string()),
                             R"(","y":")", std::string(jwk.at("y").as_string()), "\"}");
  } else {
    canonical = absl::StrCat(R"({"e":")", std::string(jwk.at("e").as_string()), R"(","kty":"RSA","n":")",
                             std::string(jwk.at("n").as_string()), "\"}");
  }
  return crypto::Base64UrlEncode(crypto::Sha256(canonical));
}

bool PublicKey::Verify(absl::string_view signing_input, absl::string_view signature) const {
  std::string der;
  if (alg_ == Algorithm::kEs256) {
    if (signature.size() != 2 * kEcCoordinateBytes) return false;
    der = JoseToDer(signature);
    if (der.empty()) return false;
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), U(signature), signature.size(), U(signing_input), signing_input.size()) == 1;
}

SigningKey::SigningKey(std::shared_ptr<EVP_PKEY> key) : key_(key), public_(key, Algorithm::kEs256, "") {}

SigningKey SigningKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BASTION_CHECK(raw != nullptr);
  return SigningKey(Share(raw));
}

absl::StatusOr<SigningKey> SigningKey::FromPem(absl::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  std::shared_ptr<EVP_PKEY> key = Share(raw);
  char group[64] = {0};
  size_t len = 0;
  if (!EVP_PKEY_is_a(key.get(), "EC") ||
      EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1 ||
      std::string(group, len) != "prime256v1") {
    return absl::InvalidArgumentError("signing key must be an EC P-256 key");
  }
  return SigningKey(std::move(key));
}

crypto::SecretString SigningKey::ToPem() const {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  BASTION_CHECK(bio && PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  crypto::SecretString pem(std::string(data, static_cast<size_t>(len)));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

std::string SigningKey::Sign(const json::object& claims, absl::string_view typ) const {
  const json::object header{{"alg", "ES256"}, {"typ", std::string(typ)}, {"kid", kid()}};
  const std::string input = absl::StrCat(crypto::Base64UrlEncode(json::serialize(header)), ".",
                                         crypto::Base64UrlEncode(json::serialize(claims)));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  BASTION_CHECK(ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
                EVP_DigestSign(ctx.get(), nullptr, &len, U(input), input.size()) == 1);
  std::string der(len, '\0');
  BASTION_CHECK(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len, U(input),
                               input.size()) == 1);
  der.resize(len);
  return absl::StrCat(input, ".", crypto::Base64UrlEncode(DerToJose(der)));
}

absl::StatusOr<KeySet> KeySet::FromJwks(absl::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !doc.is_object()) return absl::InvalidArgumentError("JWKS is not a JSON object");
  const json::value* keys = doc.as_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return absl::InvalidArgumentError("JWKS has no \"keys\" array");
  KeySet set;
  for (const json::value& k : keys->as_array()) {
    if (!k.is_object()) continue;
    auto key = PublicKey::FromJwk(k.as_object());
    if (key.ok()) set.Add(*std::move(key));
  }
  if (set.keys_.empty()) return absl::InvalidArgumentError("JWKS holds no ES256 or RS256 signing key");
  return set;
}

const PublicKey* KeySet::Find(absl::string_view kid) const {
  for (const PublicKey& k : keys_) {
    if (k.kid() == kid) return &k;
  }
  return nullptr;
}

std::string KeySet::ToJwks() const {
  json::array keys;
  for (const PublicKey& k : keys_) keys.push_back(k.ToJwk());
  return json::serialize(json::object{{"keys", std::move(keys)}});
}

absl::StatusOr<Verified> Verify(absl::string_view token, const KeySet& keys, const std::vector<Algorithm>& allowed) {
  if (token.size() > kMaxTokenBytes) return Refused("token is too long");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[2].empty()) return Refused("token is not a signed JWT");
  auto header_bytes = DecodePart(parts[0]);
  auto claims_bytes = DecodePart(parts[1]);
  auto signature = DecodePart(parts[2]);
  if (!header_bytes.ok() || !claims_bytes.ok() || !signature.ok()) return Refused("token is not a signed JWT");

  boost::system::error_code ec;
  json::value header = json::parse(*header_bytes, ec);
  if (ec || !header.is_object()) return Refused("token header is not a JSON object");
  json::value claims = json::parse(*claims_bytes, ec);
  if (ec || !claims.is_object()) return Refused("token claims are not a JSON object");
  const json::object& h = header.as_object();
  if (h.contains("crit")) return Refused("token uses a critical extension Bastion does not understand");

  const auto alg = ParseAlgorithm(StringMember(h, "alg"));
  if (!alg || std::find(allowed.begin(), allowed.end(), *alg) == allowed.end()) {
    return Refused("token is signed with an algorithm that is not accepted here");
  }
  const PublicKey* key = nullptr;
  if (const json::value* kid = h.if_contains("kid"); kid != nullptr) {
    if (!kid->is_string()) return Refused("token kid is not a string");
    key = keys.Find(std::string(kid->as_string()));
  } else {
    // No kid: acceptable only when exactly one trusted key could have signed it.
    for (const PublicKey& k : keys.keys()) {
      if (k.algorithm() != *alg) continue;
      if (key != nullptr) return Refused("token names no key and several could have signed it");
      key = &k;
    }
  }
  if (key == nullptr) return Refused("token is signed by a key that is not trusted here");
  if (key->algorithm() != *alg) return Refused("token algorithm does not match its key");
  const std::string input = absl::StrCat(parts[0], ".", parts[1]);
  if (!key->Verify(input, *signature)) return Refused("token signature is not valid");
  return Verified{std::move(header).as_object(), std::move(claims).as_object()};
}

absl::Status CheckClaims(const json::object& claims, const ClaimRules& rules) {
  if (StringMember(claims, "iss") != rules.issuer) return Refused("token was issued by someone else");
  bool audience_ok = false;
  if (const json::value* aud = claims.if_contains("aud"); aud != nullptr) {
    if (aud->is_string()) {
      audience_ok = aud->as_string() == rules.audience;
    } else if (aud->is_array()) {
      for (const json::value& a : aud->as_array()) audience_ok = audience_ok || (a.is_string() && a.as_string() == rules.audience);
    }
  }
  if (!audience_ok) return Refused("token is meant for another audience");
  bool malformed = false;
  const auto exp = NumericDate(claims, "exp", &malformed);
  const auto nbf = NumericDate(claims, "nbf", &malformed);
  const auto iat = NumericDate(claims, "iat", &malformed);
  if (malformed) return Refused("token time claims are not numbers");
  if (!exp) return Refused("token has no expiry");
  if (rules.now > *exp + rules.leeway) return Refused("token has expired");
  if (nbf && rules.now + rules.leeway < *nbf) return Refused("token is not valid yet");
  if (iat && *iat > rules.now + rules.leeway) return Refused("token was issued in the future");
  if (iat && rules.max_age != absl::InfiniteDuration() && rules.now - *iat > rules.max_age + rules.leeway) {
    return Refused("token is too old");
  }
  return absl::OkStatus();
}

}  // namespace bastion::jose
