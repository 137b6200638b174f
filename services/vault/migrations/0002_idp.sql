-- Sign-in for AI clients (docs/signin.md): each tenant's identity-provider client, sign-ins
-- pending at that provider, and the tenant's access-token signing keys. *_sealed columns hold
-- AES-256-GCM ciphertext sealed with the tenant's data key.

CREATE TABLE idp_clients (
  tenant_id uuid PRIMARY KEY,
  issuer text NOT NULL,
  client_id text NOT NULL,
  client_secret_sealed bytea,  -- NULL for a public client
  client_secret_hint text NOT NULL DEFAULT '',
  scopes text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_tested_at timestamptz
);

-- Single use (deleted when taken), short-lived. Only the SHA-256 of `state` is kept; the PKCE
-- verifier and the nonce are sealed.
CREATE TABLE idp_sign_ins (
  state_hash text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES idp_clients (tenant_id) ON DELETE CASCADE,
  issuer text NOT NULL,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  context text NOT NULL,
  code_verifier_sealed bytea NOT NULL,
  nonce_sealed bytea NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX idp_sign_ins_expiry ON idp_sign_ins (expires_at);

-- ES256 keys: the private key as PKCS#8 PEM, sealed; the public JWK in the clear. At most one
-- current (not retired) key per tenant.
CREATE TABLE token_keys (
  tenant_id uuid NOT NULL,
  kid text NOT NULL,
  private_key_sealed bytea NOT NULL,
  public_jwk text NOT NULL,
  created_at timestamptz NOT NULL,
  retired_at timestamptz,
  PRIMARY KEY (tenant_id, kid)
);
CREATE UNIQUE INDEX token_keys_current ON token_keys (tenant_id) WHERE retired_at IS NULL;
