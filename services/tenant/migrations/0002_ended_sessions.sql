-- MCP sessions ended on one edge replica, so every replica refuses them until they expire.
CREATE TABLE ended_sessions (
  seq bigserial PRIMARY KEY,
  session_hash text NOT NULL UNIQUE,
  ended_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);
