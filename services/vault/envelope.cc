#include "services/vault/envelope.h"

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace bastion::vault {

std::string DataKeyAad(absl::string_view tenant_id) { return absl::StrCat("tenant=", tenant_id, "|dek"); }

std::string CredentialAad(absl::string_view tenant_id, absl::string_view credential_id,
                          absl::string_view field) {
  return absl::StrCat("tenant=", tenant_id, "|credential=", credential_id, "|field=", field);
}

std::string GrantAad(absl::string_view tenant_id, absl::string_view credential_id,
                     absl::string_view grant_id, absl::string_view field) {
  return absl::StrCat("tenant=", tenant_id, "|credential=", credential_id, "|grant=", grant_id,
                      "|field=", field);
}

std::string StateAad(absl::string_view tenant_id, absl::string_view credential_id,
                     absl::string_view state_hash) {
  return absl::StrCat("tenant=", tenant_id, "|credential=", credential_id, "|state=", state_hash,
                      "|field=code_verifier");
}

std::string IdpClientAad(absl::string_view tenant_id) {
  return absl::StrCat("tenant=", tenant_id, "|idp_client|field=client_secret");
}

std::string IdpSignInAad(absl::string_view tenant_id, absl::string_view state_hash,
                         absl::string_view field) {
  return absl::StrCat("tenant=", tenant_id, "|idp_sign_in=", state_hash, "|field=", field);
}

std::string TokenKeyAad(absl::string_view tenant_id, absl::string_view kid) {
  return absl::StrCat("tenant=", tenant_id, "|token_key=", kid, "|field=private_key");
}

absl::StatusOr<std::string> Envelope::Seal(const std::string& tenant_id, absl::string_view aad,
                                           absl::string_view plaintext) {
  ASSIGN_OR_RETURN(crypto::SecretString key, DataKey(tenant_id, /*create=*/true));
  return crypto::Seal(key.value(), plaintext, aad);
}

absl::StatusOr<crypto::SecretString> Envelope::Open(const std::string& tenant_id,
                                                    absl::string_view aad,
                                                    absl::string_view sealed) {
  auto key = DataKey(tenant_id, /*create=*/false);
  if (key.status().code() == absl::StatusCode::kNotFound) {
    return absl::DataLossError("a stored secret has no data key for its tenant");
  }
  RETURN_IF_ERROR(key.status());
  auto plain = crypto::Open(key->value(), sealed, aad);
  if (!plain.ok()) {
    return absl::DataLossError(
        "a stored secret does not open for the row it is in: it was moved or altered");
  }
  return plain;
}

absl::StatusOr<crypto::SecretString> Envelope::DataKey(const std::string& tenant_id, bool create) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(tenant_id);
    if (it != cache_.end() && it->second.expires_at > now) return it->second.key;
  }
  auto stored = store_.GetDataKey(tenant_id);
  if (stored.status().code() == absl::StatusCode::kNotFound && create) {
    crypto::SecretString fresh(crypto::RandomBytes(crypto::kAes256KeySize));
    std::shared_ptr<const Keyring> ring = keys_.Get();
    WrappedDataKey k;
    k.tenant_id = tenant_id;
    k.kek_version = ring->current_version();
    ASSIGN_OR_RETURN(k.wrapped, ring->Wrap(fresh.value(), DataKeyAad(tenant_id)));
    k.created_at = now;
    RETURN_IF_ERROR(store_.InsertDataKeyIfAbsent(k));
    // Another replica may have inserted first: everyone uses the stored one.
    stored = store_.GetDataKey(tenant_id);
  }
  RETURN_IF_ERROR(stored.status());
  ASSIGN_OR_RETURN(crypto::SecretString key, Unwrap(*stored));
  absl::MutexLock lock(&mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[tenant_id] = Cached{key, now + cache_ttl_};
  return key;
}

absl::StatusOr<crypto::SecretString> Envelope::Unwrap(const WrappedDataKey& k) {
  const std::string aad = DataKeyAad(k.tenant_id);
  std::shared_ptr<const Keyring> ring = keys_.Get();
  if (!ring->Has(k.kek_version)) {
    if (absl::Status s = keys_.Reload(); !s.ok()) {
      log::Warn("could not re-read the KEK file", {{"error", s.message()}});
    }
    ring = keys_.Get();
  }
  return ring->Unwrap(k.kek_version, k.wrapped, aad);
}

absl::StatusOr<RotateKekResult> Envelope::RotateKek() {
  RETURN_IF_ERROR(keys_.Reload());
  std::shared_ptr<const Keyring> ring = keys_.Get();
  RotateKekResult result;
  result.kek_version = ring->current_version();
  ASSIGN_OR_RETURN(std::vector<WrappedDataKey> keys, store_.ListDataKeys());
  result.total = static_cast<int>(keys.size());
  int failed = 0;
  absl::Status first_error;
  for (const WrappedDataKey& listed : keys) {
    if (listed.kek_version == result.kek_version) continue;
    auto replaced = store_.RewrapDataKey(
        listed.tenant_id,
        [&](const WrappedDataKey& current) -> absl::StatusOr<std::optional<WrappedDataKey>> {
          if (current.kek_version == result.kek_version) return std::nullopt;
          const std::string aad = DataKeyAad(current.tenant_id);
          ASSIGN_OR_RETURN(crypto::SecretString key,
                           ring->Unwrap(current.kek_version, current.wrapped, aad));
          WrappedDataKey next = current;
          next.kek_version = result.kek_version;
          ASSIGN_OR_RETURN(next.wrapped, ring->Wrap(key.value(), aad));
          next.rewrapped_at = clock_.Now();
          return next;
        });
    if (replaced.ok()) {
      if (*replaced) ++result.rewrapped;
      continue;
    }
    ++failed;
    if (first_error.ok()) first_error = replaced.status();
    log::Warn("could not re-wrap a data key",
              {{"tenant_id", listed.tenant_id},
               {"kek_version", listed.kek_version},
               {"error", replaced.status().message()}});
  }
  log::Info("re-wrapped data keys with the current KEK",
            {{"kek_version", result.kek_version},
             {"rewrapped", result.rewrapped},
             {"total", result.total},
             {"failed", failed}});
  if (failed > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        failed, " of ", result.total, " data keys could not be re-wrapped with KEK version ",
        result.kek_version, " (first error: ", first_error.message(),
        "); the others were. Fix that and run RotateKek again before removing any KEK."));
  }
  return result;
}

void Envelope::ClearCache() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
}

void Envelope::Forget(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  cache_.erase(tenant_id);
}

}  // namespace bastion::vault
