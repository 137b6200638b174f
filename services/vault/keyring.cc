#include "services/vault/keyring.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/config.h"

namespace bastion::vault {

absl::StatusOr<Keyring> Keyring::Parse(absl::string_view text, absl::string_view origin) {
  Keyring ring;
  int entry = 0;
  for (absl::string_view raw : absl::StrSplit(text, absl::ByAnyChar("\n;"))) {
    ++entry;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int version = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &version) || version <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": entry ", entry, " is not `<version> <base64 key>` with a positive version"));
    }
    auto key = crypto::Base64Decode(parts[1]);
    if (!key.ok()) key = crypto::Base64UrlDecode(parts[1]);
    if (!key.ok() || key->size() != crypto::kAes256KeySize) {
      if (key.ok()) crypto::Cleanse(*key);
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": the key of version ", version, " is not 32 bytes of base64 (make one with "
          "`openssl rand -base64 32`)"));
    }
    if (ring.keys_.count(version) > 0) {
      crypto::Cleanse(*key);
      return absl::InvalidArgumentError(absl::StrCat(origin, ": version ", version, " appears twice"));
    }
    ring.keys_.emplace(version, crypto::SecretString(std::move(*key)));
  }
  if (ring.keys_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, " holds no key-encryption key"));
  }
  return ring;
}

std::vector<int> Keyring::versions() const {
  std::vector<int> out;
  for (const auto& [v, k] : keys_) out.push_back(v);
  return out;
}

absl::StatusOr<std::string> Keyring::Wrap(absl::string_view data_key, absl::string_view aad) const {
  return crypto::Seal(keys_.rbegin()->second.value(), data_key, aad);
}

absl::StatusOr<crypto::SecretString> Keyring::Unwrap(int version, absl::string_view wrapped,
                                                     absl::string_view aad) const {
  auto it = keys_.find(version);
  if (it == keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a data key is wrapped with key-encryption key version ", version,
        ", which is not in the keyring; add that version back to the KEK file"));
  }
  auto key = crypto::Open(it->second.value(), wrapped, aad);
  if (!key.ok()) {
    return absl::DataLossError(absl::StrCat(
        "a data key does not open with key-encryption key version ", version,
        ": the key or the stored data key is wrong"));
  }
  return key;
}

KeyringSource::KeyringSource(std::string path, Keyring keyring)
    : path_(std::move(path)), current_(std::make_shared<const Keyring>(std::move(keyring))) {}

absl::StatusOr<std::unique_ptr<KeyringSource>> KeyringSource::FromFile(std::string path) {
  auto text = config::ReadSecretFile(path);
  if (!text.ok()) return text.status();
  crypto::SecretString secret(std::move(*text));
  auto ring = Keyring::Parse(secret.value(), absl::StrCat("KEK file ", path));
  if (!ring.ok()) return ring.status();
  return std::unique_ptr<KeyringSource>(new KeyringSource(std::move(path), *std::move(ring)));
}

std::unique_ptr<KeyringSource> KeyringSource::Fixed(Keyring keyring) {
  return std::unique_ptr<KeyringSource>(new KeyringSource("", std::move(keyring)));
}

std::shared_ptr<const Keyring> KeyringSource::Get() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status KeyringSource::Reload() {
  if (path_.empty()) return absl::OkStatus();
  auto text = config::ReadSecretFile(path_);
  if (!text.ok()) return text.status();
  crypto::SecretString secret(std::move(*text));
  auto ring = Keyring::Parse(secret.value(), absl::StrCat("KEK file ", path_));
  if (!ring.ok()) return ring.status();
  auto next = std::make_shared<const Keyring>(*std::move(ring));
  absl::MutexLock lock(&mu_);
  current_ = std::move(next);
  return absl::OkStatus();
}

}  // namespace bastion::vault
