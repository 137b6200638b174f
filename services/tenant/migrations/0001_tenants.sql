-- Tenants, the server catalog, users, groups and client tokens.
CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  display_name text NOT NULL,
  active boolean NOT NULL DEFAULT false,
  kill_switch boolean NOT NULL DEFAULT false,
  default_tool_state text NOT NULL DEFAULT 'pending_review'
    CHECK (default_tool_state IN ('pending_review', 'approved')),
  auto_approve_read_only boolean NOT NULL DEFAULT false,
  allowed_client_types text NOT NULL DEFAULT 'personal,shared,service',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT 1
);

CREATE TABLE catalog_entries (
  key text PRIMARY KEY,
  display_name text NOT NULL,
  description text NOT NULL
);

INSERT INTO catalog_entries (key, display_name, description) VALUES
  ('pagerduty', 'PagerDuty',
   'Incidents, on-call, services, schedules and teams through PagerDuty''s REST API.');

CREATE TABLE tenant_catalog (
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  key text NOT NULL REFERENCES catalog_entries (key),
  PRIMARY KEY (tenant_id, key)
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email text NOT NULL,
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'member')),
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  UNIQUE (tenant_id, email),
  UNIQUE (tenant_id, id)
);

CREATE TABLE groups (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL,
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Composite keys keep a membership inside one tenant.
CREATE TABLE group_members (
  tenant_id uuid NOT NULL,
  group_id uuid NOT NULL,
  user_id uuid NOT NULL,
  PRIMARY KEY (group_id, user_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (user_id);

-- Only a SHA-256 of each token is kept.
CREATE TABLE client_tokens (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  name text NOT NULL,
  client_type text NOT NULL CHECK (client_type IN ('personal', 'shared', 'service')),
  token_hash text NOT NULL UNIQUE,
  hint text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX client_tokens_user ON client_tokens (tenant_id, user_id);
