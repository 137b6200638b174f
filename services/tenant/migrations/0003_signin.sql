-- Sign-in for AI clients (docs/signin.md): per-tenant policy, OAuth clients, pending
-- authorizations, codes, grants and refresh tokens, and the revocation feed the edges poll.
-- Consent tokens, codes and refresh tokens are kept only as SHA-256 (hex).
CREATE TABLE signin_policies (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  issuer text NOT NULL,
  allowed_domains text NOT NULL,  -- comma-separated
  groups_claim text NOT NULL,
  jit_users boolean NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE oauth_clients (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('registration', 'metadata_document')),
  client_name text NOT NULL,
  redirect_uris text NOT NULL,  -- one per line
  client_uri text NOT NULL,
  logo_uri text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, client_id)
);
CREATE INDEX oauth_clients_expiry ON oauth_clients (tenant_id, kind, expires_at);
CREATE INDEX oauth_clients_created ON oauth_clients (tenant_id, kind, created_at);

CREATE TABLE oauth_pending (
  id text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  state text NOT NULL,
  resource text NOT NULL,
  server text NOT NULL,
  scope text NOT NULL,
  browser_binding text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  user_id uuid,
  consent_token_hash text
);
CREATE INDEX oauth_pending_expiry ON oauth_pending (expires_at);

CREATE TABLE oauth_codes (
  code_hash text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  resource text NOT NULL,
  scope text NOT NULL,
  user_id uuid NOT NULL,
  grant_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  redemptions integer NOT NULL DEFAULT 0
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

CREATE TABLE oauth_grants (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  client_id text NOT NULL,
  client_name text NOT NULL,
  resource text NOT NULL,
  scope text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text NOT NULL DEFAULT '',
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_grants_user ON oauth_grants (tenant_id, user_id);

-- One family per grant: each use retires the token and adds the next one.
CREATE TABLE oauth_refresh_tokens (
  token_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  retired_at timestamptz
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

-- Grants revoked and users disabled, for every edge replica; kept a few access-token lifetimes.
CREATE TABLE revocations (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('grant', 'user')),
  tenant_id uuid NOT NULL,
  subject_id text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expiry ON revocations (expires_at);
