-- One-time enrollment tokens: an admin issues one for a gateway id and site; the installer gives it
-- to the agent (`gridwatch-edge enroll --token …`), which exchanges it once for the gateway's own
-- MQTT credential. Only a SHA-256 of the token is stored (the token is 256 random bits, so a fast
-- hash is enough and lets the token be looked up); the token itself is shown once.
-- Self-contained (no reference to later migrations): it may be applied after 004 on a database
-- created before it existed.
CREATE TABLE enrollment_tokens (
  token_hash  text PRIMARY KEY,
  gateway_id  text NOT NULL,
  site        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX enrollment_tokens_gateway_idx ON enrollment_tokens (gateway_id);
-- Added with 013 (issue 11) for databases that run 003 after 013: the column 013 adds elsewhere.
ALTER TABLE enrollment_tokens ADD COLUMN IF NOT EXISTS communities text[] NOT NULL DEFAULT '{}';
