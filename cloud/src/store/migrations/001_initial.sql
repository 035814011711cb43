-- Gateways, alarm events, incidents and dead letters.
-- Designed for the next steps: incidents.status is free text (lifecycle states come later, with an
-- audit table keyed by incident id), `open` marks the one incident a new raise correlates to, and
-- address_id is kept on events and incidents so routing can join the address book.

CREATE TABLE gateways (
  id            text PRIMARY KEY,
  site          text NOT NULL,
  secret_hash   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz,
  status        text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'online', 'offline'))
);
CREATE INDEX gateways_site_idx ON gateways (site);

CREATE TABLE incidents (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  gateway_id        text NOT NULL REFERENCES gateways (id),
  site              text NOT NULL,
  device_id         text NOT NULL,
  alarm_type        text NOT NULL,
  level             smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  status            text NOT NULL,
  -- True while new raises for (gateway, device, alarm type) count as occurrences of this incident.
  open              boolean NOT NULL DEFAULT true,
  reason            text NOT NULL,
  address_id        text,
  first_event_id    text NOT NULL,
  occurrences       integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
  raised_edge_time  timestamptz NOT NULL,
  raised_at         timestamptz NOT NULL DEFAULT now(),
  cleared_at        timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- At most one open incident per source: the correlation key of ingest's upsert.
CREATE UNIQUE INDEX incidents_open_key ON incidents (gateway_id, device_id, alarm_type) WHERE open;
CREATE INDEX incidents_status_idx ON incidents (status, raised_at DESC);
CREATE INDEX incidents_raised_at_idx ON incidents (raised_at DESC, id DESC);
CREATE INDEX incidents_site_idx ON incidents (site, raised_at DESC);

CREATE TABLE events (
  event_id     text PRIMARY KEY,
  gateway_id   text NOT NULL REFERENCES gateways (id),
  site         text NOT NULL,
  seq          bigint NOT NULL,
  device_id    text NOT NULL,
  profile_id   text NOT NULL,
  alarm_type   text NOT NULL,
  action       text NOT NULL CHECK (action IN ('raise', 'clear')),
  level        smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  reason       text NOT NULL,
  edge_time    timestamptz NOT NULL,
  cloud_time   timestamptz NOT NULL DEFAULT now(),
  test         boolean NOT NULL DEFAULT false,
  address_id   text,
  readings     jsonb,
  incident_id  bigint REFERENCES incidents (id)
);
CREATE INDEX events_gateway_seq_idx ON events (gateway_id, seq);
CREATE INDEX events_incident_idx ON events (incident_id);

CREATE TABLE dead_letters (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now(),
  topic        text NOT NULL,
  gateway_id   text,
  event_id     text,
  reason       text NOT NULL,
  payload      text NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC);
