// Key-encryption keys (KEKs): a versioned keyring from a file or the environment, lines of
// `<version> <base64 32-byte key>` with the highest version current, and a source that re-reads
// the file so a KEK added there is picked up without a restart.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"

namespace bastion::vault {

class Keyring {
 public:
  // Entries are separated by newlines or ';' (so one environment variable can hold several);
  // blank entries and `#` comments are skipped; keys are standard or URL-safe base64. Errors
  // name `origin` and the entry number, never a key.
  static absl::StatusOr<Keyring> Parse(absl::string_view text, absl::string_view origin);

  int current_version() const { return keys_.rbegin()->first; }
  std::vector<int> versions() const;
  bool Has(int version) const { return keys_.count(version) > 0; }

  // Seals `data_key` with the current KEK.
  absl::StatusOr<std::string> Wrap(absl::string_view data_key, absl::string_view aad) const;
  // FailedPrecondition when `version` is not in the keyring; DataLoss when the wrapped bytes or
  // `aad` do not match.
  absl::StatusOr<crypto::SecretString> Unwrap(int version, absl::string_view wrapped,
                                              absl::string_view aad) const;

 private:
  Keyring() = default;
  std::map<int, crypto::SecretString> keys_;  // never empty
};

class KeyringSource {
 public:
  // Reads the keyring file at `path` now; Reload() reads it again.
  static absl::StatusOr<std::unique_ptr<KeyringSource>> FromFile(std::string path);
  // A keyring that does not change (from the environment, or in tests); Reload() is a no-op.
  static std::unique_ptr<KeyringSource> Fixed(Keyring keyring);

  std::shared_ptr<const Keyring> Get() const;
  // Re-reads the file. A bad or unreadable file keeps the current keyring and returns the error.
  absl::Status Reload();

 private:
  KeyringSource(std::string path, Keyring keyring);

  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Keyring> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bastion::vault
