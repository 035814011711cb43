-- Notifications (issue #14): the signed acknowledge links' single-use ledger, the key that signs
-- them when none is configured, and one row per notification attempt series (claimed with
-- FOR UPDATE SKIP LOCKED like the deadlines, so every replica runs the notification job).

-- A random link key kept in the database when GRIDWATCH_NOTIFY_LINK_KEY(_FILE) is not set
-- (demo, single installs), like the session key.
CREATE TABLE notify_keys (
  name        text PRIMARY KEY,
  key         text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per issued link (jti = the token's id). used_at is set once, by the first action.
CREATE TABLE notify_links (
  jti          text PRIMARY KEY,
  incident_id  bigint NOT NULL REFERENCES incidents (id),
  person_id    text NOT NULL,
  channel      text NOT NULL,
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  used_at      timestamptz,
  used_action  text
);
CREATE INDEX notify_links_incident_idx ON notify_links (incident_id);

-- One message to one contact of one person for one step of an incident's chain.
CREATE TABLE notifications (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id  bigint NOT NULL REFERENCES incidents (id),
  step         integer NOT NULL,
  person_id    text NOT NULL,
  role         text NOT NULL,
  channel      text NOT NULL,
  recipient    text NOT NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'cancelled')),
  attempts     integer NOT NULL DEFAULT 0,
  next_at      timestamptz NOT NULL,
  last_error   text,
  receipt      text,
  sent_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, step, person_id, channel)
);
CREATE INDEX notifications_due_idx ON notifications (next_at) WHERE status = 'pending';
-- The per-recipient rate limit counts what was sent to one address recently.
CREATE INDEX notifications_recipient_idx ON notifications (channel, recipient, sent_at) WHERE status = 'sent';
