#include "common/jose/jose.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace bastion::jose {
namespace {

namespace json = boost::json;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

json::object Claims() {
  return json::object{{"iss", "https://bastion.example"},
                      {"aud", "https://bastion.example/mcp/acme/pagerduty"},
                      {"sub", "user-1"},
                      {"iat", absl::ToUnixSeconds(kNow)},
                      {"exp", absl::ToUnixSeconds(kNow + absl::Minutes(5))}};
}

ClaimRules Rules(absl::Time now = kNow) {
  return ClaimRules{"https://bastion.example", "https://bastion.example/mcp/acme/pagerduty", now};
}

KeySet SetOf(const SigningKey& key) {
  KeySet set;
  set.Add(key.public_key());
  return set;
}

std::vector<std::string> Parts(const std::string& token) { return absl::StrSplit(token, '.'); }

std::string B64(absl::string_view s) { return crypto::Base64UrlEncode(s); }

// An RS256 token signed by an RSA key, as an identity provider would sign an ID token.
struct RsaSigner {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  ~RsaSigner() { EVP_PKEY_free(key); }

  json::object Jwk(absl::string_view kid) const {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    std::string nb(BN_num_bytes(n), '\0'), eb(BN_num_bytes(e), '\0');
    BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
    BN_bn2bin(e, reinterpret_cast<unsigned char*>(eb.data()));
    BN_free(n);
    BN_free(e);
    return json::object{{"kty", "RSA"}, {"kid", std::string(kid)}, {"use", "sig"}, {"n", B64(nb)}, {"e", B64(eb)}};
  }

  std::string Sign(const json::object& header, const json::object& claims) const {
    const std::string input = absl::StrCat(B64(json::serialize(header)), ".", B64(json::serialize(claims)));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    return absl::StrCat(input, ".", B64(sig.substr(0, len)));
  }
};

TEST(JoseTest, SignedTokenVerifiesAndKeepsItsClaims) {
  const SigningKey key = SigningKey::Generate();
  const std::string token = key.Sign(Claims(), "at+jwt");
  auto verified = Verify(token, SetOf(key), {Algorithm::kEs256});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->claims.at("sub").as_string(), "user-1");
  EXPECT_EQ(verified->header.at("typ").as_string(), "at+jwt");
  EXPECT_EQ(verified->header.at("kid").as_string(), key.kid());
  EXPECT_TRUE(CheckClaims(verified->claims, Rules()).ok());
}

TEST(JoseTest, AlteredClaimsOrSignatureAreRefused) {
  const SigningKey key = SigningKey::Generate();
  const std::vector<std::string> p = Parts(key.Sign(Claims()));
  json::object forged = Claims();
  forged["sub"] = "admin";
  EXPECT_FALSE(Verify(absl::StrCat(p[0], ".", B64(json::serialize(forged)), ".", p[2]), SetOf(key),
                      {Algorithm::kEs256}).ok());
  std::string sig = *crypto::Base64UrlDecode(p[2]);
  sig[10] ^= 1;
  EXPECT_FALSE(Verify(absl::StrCat(p[0], ".", p[1], ".", B64(sig)), SetOf(key), {Algorithm::kEs256}).ok());
}

TEST(JoseTest, TokenOfAnotherKeyIsRefused) {
  const SigningKey ours = SigningKey::Generate();
  const SigningKey theirs = SigningKey::Generate();
  auto verified = Verify(theirs.Sign(Claims()), SetOf(ours), {Algorithm::kEs256});
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(JoseTest, UnsignedAndHmacTokensAreRefused) {
  const SigningKey key = SigningKey::Generate();
  const std::string claims = B64(json::serialize(Claims()));
  const std::string none = absl::StrCat(B64(R"({"alg":"none"})"), ".", claims, ".");
  EXPECT_FALSE(Verify(none, SetOf(key), {Algorithm::kEs256}).ok());
  // Algorithm confusion: an HMAC "signed" with the public key's bytes must never verify.
  const std::string hs = absl::StrCat(B64(absl::StrCat(R"({"alg":"HS256","kid":")", key.kid(), "\"}")), ".",
                                      claims, ".", B64(std::string(32, 'x')));
  EXPECT_FALSE(Verify(hs, SetOf(key), {Algorithm::kEs256, Algorithm::kRs256}).ok());
}

TEST(JoseTest, AlgorithmOutsideTheAllowedListIsRefused) {
  const SigningKey key = SigningKey::Generate();
  EXPECT_FALSE(Verify(key.Sign(Claims()), SetOf(key), {Algorithm::kRs256}).ok());
}

TEST(JoseTest, CriticalExtensionsAreRefused) {
  RsaSigner idp;
  KeySet set;
  set.Add(*PublicKey::FromJwk(idp.Jwk("k1")));
  const std::string token = idp.Sign({{"alg", "RS256"}, {"kid", "k1"}, {"crit", json::array{"exp"}}}, Claims());
  EXPECT_FALSE(Verify(token, set, {Algorithm::kRs256}).ok());
}

TEST(JoseTest, NonCanonicalEncodingsAreRefused) {
  const SigningKey key = SigningKey::Generate();
  const std::vector<std::string> p = Parts(key.Sign(Claims()));
  EXPECT_FALSE(Verify(absl::StrCat(p[0], "=.", p[1], ".", p[2]), SetOf(key), {Algorithm::kEs256}).ok());
  EXPECT_FALSE(Verify(absl::StrCat(p[0], ".", p[1], ".", p[2], ".x"), SetOf(key), {Algorithm::kEs256}).ok());
  EXPECT_FALSE(Verify(absl::StrCat(p[0], ".", p[1], " .", p[2]), SetOf(key), {Algorithm::kEs256}).ok());
  EXPECT_FALSE(Verify(std::string(kMaxTokenBytes + 1, 'a'), SetOf(key), {Algorithm::kEs256}).ok());
}

TEST(JoseTest, IdentityProviderRs256TokenVerifiesFromItsJwks) {
  RsaSigner idp;
  const std::string jwks = json::serialize(json::object{
      {"keys", json::array{idp.Jwk("rsa-1"),
                           // An encryption key and an unknown type sit in real JWKS documents too.
                           json::object{{"kty", "RSA"}, {"use", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}},
                           json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "abc"}}}}});
  auto set = KeySet::FromJwks(jwks);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys().size(), 1u);
  const std::string token = idp.Sign({{"alg", "RS256"}, {"kid", "rsa-1"}}, Claims());
  auto verified = Verify(token, *set, {Algorithm::kRs256, Algorithm::kEs256});
  ASSERT_TRUE(verified.ok()) << verified.status();
  // Rotation: a token naming a kid the set does not hold is refused (the caller refetches).
  EXPECT_FALSE(Verify(idp.Sign({{"alg", "RS256"}, {"kid", "rsa-2"}}, Claims()), *set, {Algorithm::kRs256}).ok());
  // Without a kid, the one RS256 key in the set is the only candidate.
  EXPECT_TRUE(Verify(idp.Sign({{"alg", "RS256"}}, Claims()), *set, {Algorithm::kRs256}).ok());
}

TEST(JoseTest, TokenClaimingEs256ForAnRsaKeyIsRefused) {
  RsaSigner idp;
  KeySet set;
  set.Add(*PublicKey::FromJwk(idp.Jwk("k1")));
  const std::vector<std::string> p = Parts(idp.Sign({{"alg", "RS256"}, {"kid", "k1"}}, Claims()));
  const std::string relabelled = absl::StrCat(B64(R"({"alg":"ES256","kid":"k1"})"), ".", p[1], ".", p[2]);
  EXPECT_FALSE(Verify(relabelled, set, {Algorithm::kRs256, Algorithm::kEs256}).ok());
}

TEST(JoseTest, WeakOrMalformedKeysAreRefused) {
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  RsaSigner strong;
  json::object weak = strong.Jwk("k");
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &n);
  std::string nb(BN_num_bytes(n), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
  BN_free(n);
  EVP_PKEY_free(small);
  weak["n"] = B64(nb);
  EXPECT_FALSE(PublicKey::FromJwk(weak).ok());

  // A point that is not on P-256.
  json::object ec = SigningKey::Generate().public_key().ToJwk();
  std::string y = *crypto::Base64UrlDecode(std::string(ec.at("y").as_string()));
  y[31] ^= 1;
  ec["y"] = B64(y);
  EXPECT_FALSE(PublicKey::FromJwk(ec).ok());
  EXPECT_FALSE(PublicKey::FromJwk(json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}}).ok());
  EXPECT_FALSE(KeySet::FromJwks(R"({"keys":[]})").ok());
  EXPECT_FALSE(KeySet::FromJwks("not json").ok());
}

TEST(JoseTest, ThumbprintMatchesRfc7638Example) {
  // RFC 7638 §3.1.
  json::object jwk{{"kty", "RSA"},
                   {"e", "AQAB"},
                   {"alg", "RS256"},
                   {"kid", "2011-04-29"},
                   {"n",
                    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWK"
                    "RXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMi"
                    "cAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRw"
                    "r3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}};
  auto key = PublicKey::FromJwk(jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key->kid(), "2011-04-29");
}

TEST(JoseTest, SigningKeySurvivesPemAndPublishesItsJwks) {
  const SigningKey key = SigningKey::Generate();
  auto back = SigningKey::FromPem(key.ToPem().value());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kid(), key.kid());
  // A verifier that only has the published JWKS accepts what the reloaded key signs.
  auto published = KeySet::FromJwks(SetOf(key).ToJwks());
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(Verify(back->Sign(Claims()), *published, {Algorithm::kEs256}).ok());
  EXPECT_EQ(published->keys()[0].ToJwk().count("d"), 0u);
  EXPECT_FALSE(SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
}

TEST(JoseTest, ClaimsAreCheckedAgainstIssuerAudienceAndTime) {
  json::object c = Claims();
  EXPECT_TRUE(CheckClaims(c, Rules()).ok());
  EXPECT_FALSE(CheckClaims(c, Rules(kNow + absl::Minutes(7))).ok()) << "expired beyond the leeway";
  EXPECT_TRUE(CheckClaims(c, Rules(kNow + absl::Minutes(5) + absl::Seconds(30))).ok()) << "within leeway";

  ClaimRules other_aud = Rules();
  other_aud.audience = "https://bastion.example/mcp/globex/pagerduty";
  EXPECT_FALSE(CheckClaims(c, other_aud).ok());
  ClaimRules other_iss = Rules();
  other_iss.issuer = "https://evil.example";
  EXPECT_FALSE(CheckClaims(c, other_iss).ok());

  c["aud"] = json::array{"x", "https://bastion.example/mcp/acme/pagerduty"};
  EXPECT_TRUE(CheckClaims(c, Rules()).ok());
  c["nbf"] = absl::ToUnixSeconds(kNow + absl::Minutes(3));
  EXPECT_FALSE(CheckClaims(c, Rules()).ok()) << "not valid yet";
  c.erase("nbf");
  c["exp"] = "tomorrow";
  EXPECT_FALSE(CheckClaims(c, Rules()).ok());
  c.erase("exp");
  EXPECT_FALSE(CheckClaims(c, Rules()).ok()) << "no expiry";

  json::object old = Claims();
  old["exp"] = absl::ToUnixSeconds(kNow + absl::Hours(1));
  ClaimRules recent = Rules(kNow + absl::Minutes(30));
  recent.max_age = absl::Minutes(10);
  EXPECT_FALSE(CheckClaims(old, recent).ok()) << "issued too long ago";
}

}  // namespace
}  // namespace bastion::jose
