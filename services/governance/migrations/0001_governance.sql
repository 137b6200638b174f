-- Registered servers, discovered tools and their review states, toolsets, access profiles,
-- per-tenant policy versions, and the per-tenant audit hash chain.

-- Bumped in the same transaction as every policy change; replicas hear of it via NOTIFY.
CREATE TABLE policy_versions (
  tenant_id uuid PRIMARY KEY,
  version bigint NOT NULL
);

CREATE TABLE audit_settings (
  tenant_id uuid PRIMARY KEY,
  store_arguments boolean NOT NULL DEFAULT false
);

CREATE TABLE servers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('pagerduty')),
  region text NOT NULL CHECK (region IN ('us', 'eu')),
  auth_mode text NOT NULL CHECK (auth_mode IN ('oauth', 'api_key')),
  tool_policy text NOT NULL
    CHECK (tool_policy IN ('tenant_default', 'require_review', 'approve_all', 'approve_read_only')),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_synced_at timestamptz,
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Removed tools keep their row (state 'removed') so their history and review stay visible.
CREATE TABLE tools (
  tenant_id uuid NOT NULL,
  server_id uuid NOT NULL,
  name text NOT NULL,
  title text NOT NULL,
  description text NOT NULL,
  access text NOT NULL CHECK (access IN ('read', 'write')),
  read_only_hint boolean NOT NULL,
  destructive_hint boolean NOT NULL,
  idempotent_hint boolean NOT NULL,
  open_world_hint boolean NOT NULL,
  scopes text NOT NULL,  -- space-separated, as OAuth writes them
  definition text NOT NULL,
  digest text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending_review', 'approved', 'disabled', 'removed')),
  kill_switch boolean NOT NULL DEFAULT false,
  discovered_at timestamptz NOT NULL,
  state_changed_at timestamptz NOT NULL,
  state_changed_by text NOT NULL,
  PRIMARY KEY (server_id, name),
  FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tools_tenant ON tools (tenant_id);

CREATE TABLE toolsets (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  server_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE toolset_tools (
  tenant_id uuid NOT NULL,
  toolset_id uuid NOT NULL,
  tool_name text NOT NULL,
  PRIMARY KEY (toolset_id, tool_name),
  FOREIGN KEY (tenant_id, toolset_id) REFERENCES toolsets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX toolset_tools_tenant ON toolset_tools (tenant_id);

CREATE TABLE access_profiles (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- A profile grants stored toolsets or the built-ins, which are not rows.
CREATE TABLE profile_toolsets (
  tenant_id uuid NOT NULL,
  profile_id uuid NOT NULL,
  position int NOT NULL,
  toolset_id uuid,
  builtin text CHECK (builtin IN ('all-approved', 'approved-read-only')),
  CHECK ((toolset_id IS NULL) <> (builtin IS NULL)),
  PRIMARY KEY (profile_id, position),
  FOREIGN KEY (tenant_id, profile_id) REFERENCES access_profiles (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, toolset_id) REFERENCES toolsets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX profile_toolsets_tenant ON profile_toolsets (tenant_id);

-- Members are the tenant service's users and groups, by id (another service's rows: no FK).
CREATE TABLE profile_members (
  tenant_id uuid NOT NULL,
  profile_id uuid NOT NULL,
  position int NOT NULL,
  kind text NOT NULL CHECK (kind IN ('user', 'group')),
  member_id uuid NOT NULL,
  label text NOT NULL,
  PRIMARY KEY (profile_id, position),
  FOREIGN KEY (tenant_id, profile_id) REFERENCES access_profiles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX profile_members_tenant ON profile_members (tenant_id);

-- The newest link of each tenant's chain; locked while appending, so appends serialize per
-- tenant and seq has no gaps.
CREATE TABLE audit_heads (
  tenant_id uuid PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL
);

-- Each event stores its predecessor's hash and its own, computed over every column (see
-- audit_chain.h); admin changes leave the tool-call columns empty and the other way round.
CREATE TABLE audit_events (
  tenant_id uuid NOT NULL,
  seq bigint NOT NULL,
  event_id text NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL CHECK (kind IN ('tool_call', 'admin_change')),
  actor text NOT NULL,
  user_id text NOT NULL,
  user_email text NOT NULL,
  client text NOT NULL,
  server text NOT NULL,
  tool text NOT NULL,
  decision text NOT NULL,
  reason text NOT NULL,
  outcome text NOT NULL,
  upstream_status int NOT NULL,
  latency_ms bigint NOT NULL,
  request_id text NOT NULL,
  arguments_digest text NOT NULL,
  arguments_json text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  details_json text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, event_id)
);
CREATE INDEX audit_events_time ON audit_events (tenant_id, at);
CREATE INDEX audit_events_user ON audit_events (tenant_id, user_id, seq);

-- The log is append-only for the service. Someone who can drop this trigger can still edit
-- rows; the hash chain is what makes that visible (VerifyAuditChain).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
