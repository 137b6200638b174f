#include "services/vault/testing/fake_idp.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "services/vault/testing/browser.h"

namespace bastion::vault {

namespace json = boost::json;

namespace {

constexpr char kRsaKid[] = "rsa-1";

std::string BigEndian(EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, param, &bn);
  std::string out(BN_num_bytes(bn), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

json::object RsaJwk(EVP_PKEY* key) {
  return json::object{{"kty", "RSA"},
                      {"kid", kRsaKid},
                      {"use", "sig"},
                      {"alg", "RS256"},
                      {"n", crypto::Base64UrlEncode(BigEndian(key, OSSL_PKEY_PARAM_RSA_N))},
                      {"e", crypto::Base64UrlEncode(BigEndian(key, OSSL_PKEY_PARAM_RSA_E))}};
}

std::string RsaSign(EVP_PKEY* key, const json::object& claims) {
  const json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kRsaKid}};
  const std::string input = absl::StrCat(crypto::Base64UrlEncode(json::serialize(header)), ".",
                                         crypto::Base64UrlEncode(json::serialize(claims)));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
  sig.resize(len);
  return absl::StrCat(input, ".", crypto::Base64UrlEncode(sig));
}

}  // namespace

FakeIdp::FakeIdp(const Clock& clock) : clock_(clock) {
  keys_.push_back(jose::SigningKey::Generate());
  server_.RoutePrefix("*", "/", [this](http::Request req, std::shared_ptr<http::Responder> r) {
    Serve(req, std::move(r));
  });
}

FakeIdp::~FakeIdp() {
  {
    absl::MutexLock l(&mu_);
    for (auto& r : held_) r->Respond(http::JsonResponse(503, "{}"));
    held_.clear();
  }
  server_.Shutdown(absl::Seconds(1));
}

absl::Status FakeIdp::Start() { return server_.Start(); }

std::string FakeIdp::issuer() const { return absl::StrCat("http://127.0.0.1:", server_.port()); }

void FakeIdp::SetClient(const std::string& client_id, const std::string& client_secret) {
  absl::MutexLock l(&mu_);
  client_id_ = client_id;
  client_secret_ = client_secret;
}
void FakeIdp::SetUser(const std::string& subject, const std::string& email, bool email_verified) {
  absl::MutexLock l(&mu_);
  subject_ = subject;
  email_ = email;
  email_verified_ = email_verified;
}
void FakeIdp::SetClaimsTamper(std::function<void(json::object&)> tamper) {
  absl::MutexLock l(&mu_);
  tamper_ = std::move(tamper);
}
void FakeIdp::SetForgedSignature(bool forged) {
  absl::MutexLock l(&mu_);
  forged_ = forged;
}
void FakeIdp::RotateKey() {
  absl::MutexLock l(&mu_);
  keys_.push_back(jose::SigningKey::Generate());
}
void FakeIdp::UseRsa() {
  absl::MutexLock l(&mu_);
  rsa_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)), EVP_PKEY_free);
}
void FakeIdp::SetDiscoveryIssuer(const std::string& issuer) {
  absl::MutexLock l(&mu_);
  discovery_issuer_ = issuer;
}
void FakeIdp::SetDiscoveryPadding(size_t bytes) {
  absl::MutexLock l(&mu_);
  discovery_padding_ = bytes;
}
void FakeIdp::SetDiscoveryHeld(bool held) {
  absl::MutexLock l(&mu_);
  discovery_held_ = held;
}
int FakeIdp::jwks_fetches() const {
  absl::MutexLock l(&mu_);
  return jwks_fetches_;
}
int FakeIdp::token_requests() const {
  absl::MutexLock l(&mu_);
  return token_requests_;
}
std::string FakeIdp::last_authorization() const {
  absl::MutexLock l(&mu_);
  return last_authorization_;
}

std::string FakeIdp::MintIdToken(const std::string& client_id, const std::string& nonce) {
  absl::MutexLock l(&mu_);
  return Mint(client_id, nonce);
}

void FakeIdp::Serve(const http::Request& req, std::shared_ptr<http::Responder> responder) {
  absl::MutexLock l(&mu_);
  if (req.path == "/.well-known/openid-configuration") {
    if (discovery_held_) {
      held_.push_back(std::move(responder));
      return;
    }
    responder->Respond(Discovery());
  } else if (req.path == "/jwks") {
    ++jwks_fetches_;
    jose::KeySet set;
    for (const jose::SigningKey& k : keys_) set.Add(k.public_key());
    if (rsa_ != nullptr) set.Add(*jose::PublicKey::FromJwk(RsaJwk(rsa_.get())));
    responder->Respond(http::JsonResponse(200, set.ToJwks()));
  } else if (req.path == "/authorize") {
    responder->Respond(Authorize(req));
  } else if (req.path == "/token" && req.method == "POST") {
    responder->Respond(Token(req));
  } else {
    responder->Respond(http::JsonResponse(404, "{}"));
  }
}

http::Response FakeIdp::Discovery() {
  const std::string base = issuer();
  json::object doc{{"issuer", discovery_issuer_.empty() ? base : discovery_issuer_},
                   {"authorization_endpoint", base + "/authorize"},
                   {"token_endpoint", base + "/token"},
                   {"jwks_uri", base + "/jwks"},
                   {"response_types_supported", json::array{"code"}},
                   {"code_challenge_methods_supported", json::array{"S256"}},
                   {"id_token_signing_alg_values_supported", json::array{"ES256", "RS256"}}};
  if (discovery_padding_ > 0) doc["padding"] = std::string(discovery_padding_, 'x');
  return http::JsonResponse(200, json::serialize(doc));
}

http::Response FakeIdp::Authorize(const http::Request& req) {
  auto q = ParseQuery(req.query);
  http::Response r;
  if (q["response_type"] != "code" || q["code_challenge_method"] != "S256" ||
      q["code_challenge"].empty() || q["client_id"] != client_id_) {
    r.status = 400;
    r.body = "bad authorization request";
    return r;
  }
  const std::string code = crypto::RandomToken("code_", 16);
  codes_[code] = PendingCode{q["client_id"], q["redirect_uri"], q["code_challenge"], q["nonce"]};
  r.status = 302;
  r.headers = {{"Location", absl::StrCat(q["redirect_uri"], "?code=", code, "&state=", q["state"])}};
  return r;
}

http::Response FakeIdp::Token(const http::Request& req) {
  ++token_requests_;
  last_authorization_ = std::string(req.Header("authorization").value_or(""));
  auto f = ParseQuery(req.body);
  auto error = [](const char* code) {
    return http::JsonResponse(400, json::serialize(json::object{{"error", code}}));
  };
  if (f["grant_type"] != "authorization_code") return error("unsupported_grant_type");
  if (client_secret_.empty()) {
    if (!last_authorization_.empty() || f["client_id"] != client_id_) return error("invalid_client");
  } else {
    // RFC 6749 §2.3.1: Basic over the form-encoded id and secret.
    auto raw = crypto::Base64Decode(absl::StripPrefix(last_authorization_, "Basic "));
    const size_t colon = raw.ok() ? raw->find(':') : std::string::npos;
    const bool ok = absl::StartsWith(last_authorization_, "Basic ") && colon != std::string::npos &&
                    ParseQuery("id=" + raw->substr(0, colon))["id"] == client_id_ &&
                    ParseQuery("s=" + raw->substr(colon + 1))["s"] == client_secret_;
    if (!ok) return http::JsonResponse(401, R"({"error":"invalid_client"})");
  }
  auto it = codes_.find(f["code"]);
  if (it == codes_.end()) return error("invalid_grant");
  PendingCode pending = it->second;
  codes_.erase(it);  // one use
  if (pending.redirect_uri != f["redirect_uri"] ||
      crypto::Base64UrlEncode(crypto::Sha256(f["code_verifier"])) != pending.code_challenge) {
    return error("invalid_grant");
  }
  json::object body{{"access_token", crypto::RandomToken("idp_at_", 16)},
                    {"token_type", "Bearer"},
                    {"expires_in", 300},
                    {"id_token", Mint(pending.client_id, pending.nonce)}};
  return http::JsonResponse(200, json::serialize(body));
}

std::string FakeIdp::Mint(const std::string& client_id, const std::string& nonce) {
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  json::object claims{{"iss", issuer()},        {"sub", subject_},
                      {"aud", client_id},       {"exp", now + 300},
                      {"iat", now},             {"nonce", nonce},
                      {"email", email_},        {"email_verified", email_verified_},
                      {"name", "Ana Example"},  {"groups", json::array{"oncall", "sre"}}};
  if (tamper_) tamper_(claims);
  if (rsa_ != nullptr) return RsaSign(rsa_.get(), claims);
  if (!forged_) return keys_.back().Sign(claims);
  // Same header (kid) as the real key, signature by another key.
  const jose::SigningKey forger = jose::SigningKey::Generate();
  const std::string real = keys_.back().Sign(claims);
  const std::string fake = forger.Sign(claims);
  return real.substr(0, real.rfind('.')) + fake.substr(fake.rfind('.'));
}

}  // namespace bastion::vault
