-- Gateway lifecycle and revocation. secret_version grows with every new secret (rotation,
-- re-enrollment); lifecycle says whether the gateway may connect at all. Brokers remember the
-- version each session authenticated with and close the session when a notification on channel
-- `gridwatch_gateways` (sent in the same transaction as the change) shows a newer version or a
-- lifecycle other than active. A removed gateway keeps its row: incidents and events refer to it.
ALTER TABLE gateways ADD COLUMN secret_version integer NOT NULL DEFAULT 1;
ALTER TABLE gateways ADD COLUMN lifecycle text NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'disabled', 'removed'));

-- Server-held keys created on first use when none is configured (e.g. the gateway-secret pepper of
-- a one-command install). Configured keys (file or env) never land here.
CREATE TABLE server_secrets (
  name        text PRIMARY KEY,
  secret      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Counters of rate-limiter-flexible's PostgreSQL store (console login limits), shared by every
-- replica. The layout is the library's own (RateLimiterPostgres, tableCreated: true).
CREATE TABLE rate_limits (
  key     varchar(255) PRIMARY KEY,
  points  integer NOT NULL DEFAULT 0,
  expire  bigint
);
