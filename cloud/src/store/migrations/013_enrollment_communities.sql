-- Placement from enrollment (issue 11): an enrollment token names the communities the gateway may
-- serve; redeeming it allows them in gateway_communities (migration 010) in the same transaction
-- that sets the secret. Empty = the token places nothing (the admin API / CLI still can).
-- Self-contained: on a database where 003 has not run yet (003 shipped after 004), 003 adds the
-- same column itself when it runs.
DO $$
BEGIN
  IF to_regclass('enrollment_tokens') IS NOT NULL THEN
    ALTER TABLE enrollment_tokens ADD COLUMN IF NOT EXISTS communities text[] NOT NULL DEFAULT '{}';
  END IF;
END
$$;
