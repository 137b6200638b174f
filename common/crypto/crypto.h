// Cryptographic primitives for Bastion, on OpenSSL: AES-256-GCM seal/open with associated
// data, secure random tokens, SHA-256 / HMAC-SHA-256, constant-time compare, secret cleansing.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bastion::crypto {

inline constexpr size_t kAes256KeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// A string whose bytes are wiped when it goes away. Holds keys and plaintext secrets.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString& other) : value_(other.value_) {}
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString other) noexcept;
  ~SecretString();

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

// Overwrites the bytes of `s` in a way the compiler may not optimise away.
void Cleanse(std::string& s);

std::string RandomBytes(size_t n);
// `prefix` followed by `bytes` random bytes in unpadded base64url (e.g. "bst_" + 43 chars).
std::string RandomToken(absl::string_view prefix, size_t bytes = 32);

// A random (version 4) UUID in its canonical text form: ids Bastion assigns.
std::string NewUuid();

std::string Sha256(absl::string_view data);  // 32 raw bytes
std::string HmacSha256(absl::string_view key, absl::string_view data);  // 32 raw bytes
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

std::string HexEncode(absl::string_view bytes);
std::string Base64UrlEncode(absl::string_view bytes);  // unpadded
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);
std::string Base64Encode(absl::string_view bytes);  // standard, padded
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// AES-256-GCM. The output is nonce || ciphertext || tag; a fresh random nonce per call.
// `aad` is authenticated, not encrypted: opening with any other aad fails.
absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view aad);
// Fails with DataLoss (never naming contents) when the key, aad or bytes do not match.
absl::StatusOr<SecretString> Open(absl::string_view key, absl::string_view sealed,
                                  absl::string_view aad);

}  // namespace bastion::crypto
