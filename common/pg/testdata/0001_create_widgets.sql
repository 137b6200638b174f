-- Exercises the embedding: this file holds )sql0" and a backslash \ and "quotes",
-- so a fixed raw-string delimiter would break.
CREATE TABLE widgets (
  id bigint PRIMARY KEY,
  name text NOT NULL
);
INSERT INTO widgets (id, name) VALUES (1, ')sql0"');
