-- The vault's tables. Secret columns (*_sealed, wrapped_key) hold AES-256-GCM ciphertext only:
-- data keys wrapped by a key-encryption key, everything else sealed with its tenant's data key.

CREATE TABLE data_keys (
  tenant_id uuid PRIMARY KEY,
  kek_version integer NOT NULL CHECK (kek_version > 0),
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  rewrapped_at timestamptz
);
CREATE INDEX data_keys_kek_version ON data_keys (kek_version);

CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  server text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('api_key', 'oauth')),
  region text NOT NULL CHECK (region IN ('us', 'eu')),
  actor_email text NOT NULL DEFAULT '',
  access text NOT NULL CHECK (access IN ('read_only', 'full')),
  client_id text NOT NULL DEFAULT '',
  scopes text NOT NULL DEFAULT '',
  flavor text NOT NULL CHECK (flavor IN ('scoped', 'classic')),
  secret_sealed bytea NOT NULL,
  secret_hint text NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  rotated_at timestamptz,
  UNIQUE (tenant_id, server),
  UNIQUE (tenant_id, id)
);

CREATE TABLE user_grants (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  credential_id uuid NOT NULL,
  user_id uuid NOT NULL,
  user_email text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'needs_reauthorization')),
  access_token_sealed bytea NOT NULL,
  refresh_token_sealed bytea,
  expires_at timestamptz NOT NULL,
  scopes text NOT NULL,
  version bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (credential_id, user_id),
  FOREIGN KEY (tenant_id, credential_id) REFERENCES credentials (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_grants_user ON user_grants (tenant_id, user_id);

-- Started authorization-code flows: single use (deleted when taken), short-lived. Only the
-- SHA-256 of `state` is kept; the PKCE verifier is sealed.
CREATE TABLE authorization_states (
  state_hash text PRIMARY KEY,
  tenant_id uuid NOT NULL,
  credential_id uuid NOT NULL,
  user_id uuid NOT NULL,
  user_email text NOT NULL,
  code_verifier_sealed bytea NOT NULL,
  redirect_uri text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  FOREIGN KEY (tenant_id, credential_id) REFERENCES credentials (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX authorization_states_expiry ON authorization_states (expires_at);
