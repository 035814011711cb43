-- Console users: a role and the jurisdictions they may see and act in. Passwords are scrypt hashes
-- (node:crypto); sessions are signed tokens carrying session_epoch, so logout (epoch + 1) revokes
-- every token a user holds without a session table.
CREATE TABLE users (
  username       text PRIMARY KEY,
  display_name   text NOT NULL DEFAULT '',
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('dispatcher', 'community_staff', 'grid_worker', 'installer', 'admin')),
  -- 'district:FT', 'street:FT-S01', 'community:FT-C01', 'grid:FT-G01', or '*' (everywhere).
  jurisdictions  text[] NOT NULL DEFAULT '{}',
  session_epoch  integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- The key that signs session tokens, created once by the first process that needs it, so every
-- replica and every restart accepts the same tokens (overridden by the sessionSecret setting).
CREATE TABLE auth_secrets (
  id      smallint PRIMARY KEY CHECK (id = 1),
  secret  text NOT NULL
);
