// IdpStore on Postgres (schema `vault`, migration 0002_idp). Every statement is a named
// constant; secrets arrive and leave as bytea ciphertext.
#pragma once

#include "common/pg/pool.h"
#include "services/vault/idp_store.h"

namespace bastion::vault {

class PgIdpStore : public IdpStore {
 public:
  explicit PgIdpStore(pg::Pool& pool, absl::Duration timeout = absl::Seconds(5))
      : pool_(pool), timeout_(timeout) {}

  absl::Status UpsertIdpClient(const IdpClient& client) override;
  absl::StatusOr<IdpClient> GetIdpClient(const std::string& tenant_id) override;
  absl::StatusOr<IdpClient> DeleteIdpClient(const std::string& tenant_id) override;
  absl::Status SetIdpClientTested(const std::string& tenant_id, absl::Time at) override;

  absl::Status InsertIdpSignIn(const IdpSignIn& sign_in) override;
  absl::StatusOr<IdpSignIn> TakeIdpSignIn(const std::string& state_hash) override;
  absl::StatusOr<int> DeleteExpiredIdpSignIns(absl::Time now) override;

  absl::StatusOr<std::vector<TokenKey>> ListTokenKeys(const std::string& tenant_id) override;
  absl::Status InsertTokenKeyIfNoCurrent(const TokenKey& key) override;
  absl::Status RotateTokenKey(const TokenKey& key, absl::Time forget_retired_before) override;

 private:
  pg::Pool& pool_;
  absl::Duration timeout_;
};

}  // namespace bastion::vault
