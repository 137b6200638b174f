#include "common/crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace bastion::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) {
  Cleanse(other.value_);
}

SecretString& SecretString::operator=(SecretString other) noexcept {
  Cleanse(value_);
  value_.swap(other.value_);
  return *this;
}

SecretString::~SecretString() { Cleanse(value_); }

void Cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without a working CSPRNG nothing Bastion issues can be trusted.
    std::abort();
  }
  return out;
}

std::string RandomToken(absl::string_view prefix, size_t bytes) {
  std::string raw = RandomBytes(bytes);
  std::string token = std::string(prefix) + Base64UrlEncode(raw);
  Cleanse(raw);
  return token;
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(b);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

std::string Sha256(absl::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(U(data), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), U(data), data.size(),
       reinterpret_cast<unsigned char*>(out.data()), &len);
  out.resize(len);
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out;
  if (!absl::WebSafeBase64Unescape(text, &out)) {
    return absl::InvalidArgumentError("not valid base64url");
  }
  return out;
}

std::string Base64Encode(absl::string_view bytes) { return absl::Base64Escape(bytes); }

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(text, &out)) return absl::InvalidArgumentError("not valid base64");
  return out;
}

absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view aad) {
  if (key.size() != kAes256KeySize) return absl::InvalidArgumentError("AES-256 key must be 32 bytes");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string nonce = RandomBytes(kGcmNonceSize);
  std::string out = nonce;
  out.resize(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  auto* dst = reinterpret_cast<unsigned char*>(out.data()) + kGcmNonceSize;
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst, &len, U(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize,
                          dst + plaintext.size()) != 1) {
    return absl::InternalError("AES-GCM encryption failed");
  }
  return out;
}

absl::StatusOr<SecretString> Open(absl::string_view key, absl::string_view sealed,
                                  absl::string_view aad) {
  if (key.size() != kAes256KeySize) return absl::InvalidArgumentError("AES-256 key must be 32 bytes");
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) {
    return absl::DataLossError("sealed value is truncated");
  }
  const size_t text_size = sealed.size() - kGcmNonceSize - kGcmTagSize;
  absl::string_view nonce = sealed.substr(0, kGcmNonceSize);
  absl::string_view text = sealed.substr(kGcmNonceSize, text_size);
  std::string tag(sealed.substr(kGcmNonceSize + text_size));
  std::string plain(text_size, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(plain.data());
  int len = 0;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(key), U(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), dst, &len, U(text), static_cast<int>(text.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), dst + len, &len) == 1;
  if (!ok) {
    Cleanse(plain);
    return absl::DataLossError("sealed value does not open with this key and context");
  }
  return SecretString(std::move(plain));
}

}  // namespace bastion::crypto
