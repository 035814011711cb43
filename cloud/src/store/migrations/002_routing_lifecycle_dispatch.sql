-- Address book, units and routing rules (data, not code); devices bound to addresses; incident
-- lifecycle with audit and deadlines; the dispatch queue for dispatch centres.

-- Standard addresses (imported from CSV). Jurisdiction tiers: grid ⊂ community ⊂ street ⊂ district.
CREATE TABLE addresses (
  address_id  text PRIMARY KEY,
  building    text NOT NULL,
  unit        text NOT NULL DEFAULT '',
  floor       text NOT NULL DEFAULT '',
  room        text NOT NULL DEFAULT '',
  grid        text NOT NULL,
  community   text NOT NULL,
  street      text NOT NULL,
  district    text NOT NULL,
  lat         double precision,
  lon         double precision
);
CREATE INDEX addresses_building_idx ON addresses (building);

-- Responsible units. `tier` + `area` is the jurisdiction: a grid worker of grid G has tier 'grid'
-- and area G; a fire station may cover a street (tier 'street', area = street code).
CREATE TABLE units (
  id     text PRIMARY KEY,
  name   text NOT NULL,
  type   text NOT NULL,
  tier   text NOT NULL CHECK (tier IN ('grid', 'community', 'street', 'district')),
  area   text NOT NULL
);
CREATE INDEX units_jurisdiction_idx ON units (tier, area);

-- Routing rules: alarm type × level × area → the unit type (at a tier) that receives the incident.
-- '*' matches any alarm type / area; a rule applies when incident.level <= max_level (1 = most
-- urgent). Lowest priority number wins. Without a matching rule the address's grid tier is used.
CREATE TABLE routing_rules (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alarm_type  text NOT NULL DEFAULT '*',
  max_level   smallint NOT NULL DEFAULT 5 CHECK (max_level BETWEEN 1 AND 5),
  area_tier   text NOT NULL DEFAULT 'district' CHECK (area_tier IN ('grid', 'community', 'street', 'district')),
  area        text NOT NULL DEFAULT '*',
  tier        text NOT NULL CHECK (tier IN ('grid', 'community', 'street', 'district')),
  unit_type   text,
  priority    integer NOT NULL DEFAULT 100
);

CREATE TABLE devices (
  gateway_id   text NOT NULL REFERENCES gateways (id),
  device_id    text NOT NULL,
  address_id   text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gateway_id, device_id)
);

ALTER TABLE incidents
  ADD COLUMN kind             text NOT NULL DEFAULT 'device' CHECK (kind IN ('device', 'correlated', 'flood', 'gateway')),
  ADD COLUMN building         text,
  ADD COLUMN grid             text,
  ADD COLUMN community        text,
  ADD COLUMN street           text,
  ADD COLUMN district         text,
  ADD COLUMN tier             text,
  ADD COLUMN unit_id          text,
  ADD COLUMN escalations      integer NOT NULL DEFAULT 0,
  ADD COLUMN device_count     integer NOT NULL DEFAULT 1,
  ADD COLUMN dispatchable     boolean NOT NULL DEFAULT true,
  ADD COLUMN chattering       boolean NOT NULL DEFAULT false,
  ADD COLUMN group_id         bigint REFERENCES incidents (id),
  ADD COLUMN acknowledged_at  timestamptz,
  ADD COLUMN on_site_at       timestamptz,
  ADD COLUMN resolved_at      timestamptz,
  ADD COLUMN closed_at        timestamptz;
CREATE INDEX incidents_building_open_idx ON incidents (building, raised_at DESC) WHERE open;
CREATE INDEX incidents_community_idx ON incidents (community, raised_at DESC);

-- Every (gateway, device, alarm type) feeding an open incident: with correlation one incident has
-- several sources. At most one open incident per source.
CREATE TABLE incident_sources (
  incident_id  bigint NOT NULL REFERENCES incidents (id),
  gateway_id   text NOT NULL,
  device_id    text NOT NULL,
  alarm_type   text NOT NULL,
  open         boolean NOT NULL DEFAULT true,
  joined_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX incident_sources_open_key ON incident_sources (gateway_id, device_id, alarm_type) WHERE open;
CREATE INDEX incident_sources_incident_idx ON incident_sources (incident_id);
-- Open incidents of the walking skeleton become sources of themselves.
INSERT INTO incident_sources (incident_id, gateway_id, device_id, alarm_type, open)
  SELECT id, gateway_id, device_id, alarm_type, open FROM incidents;

-- Deadlines are rows: any process's ticker claims due ones with FOR UPDATE SKIP LOCKED, so each
-- fires exactly once however many replicas run.
CREATE TABLE deadlines (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id  bigint NOT NULL REFERENCES incidents (id),
  kind         text NOT NULL CHECK (kind IN ('ack', 'on_site', 'resolve')),
  tier         text,
  due_at       timestamptz NOT NULL,
  fired_at     timestamptz,
  cancelled_at timestamptz
);
CREATE INDEX deadlines_due_idx ON deadlines (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX deadlines_incident_idx ON deadlines (incident_id);

CREATE TABLE incident_audit (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id  bigint NOT NULL REFERENCES incidents (id),
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  source       text NOT NULL,
  action       text NOT NULL,
  from_status  text,
  to_status    text,
  note         text NOT NULL DEFAULT '',
  deadline_id  bigint REFERENCES deadlines (id)
);
CREATE INDEX incident_audit_incident_idx ON incident_audit (incident_id, id);
-- A deadline escalates at most once, enforced by the database as well as by SKIP LOCKED.
CREATE UNIQUE INDEX incident_audit_deadline_key ON incident_audit (deadline_id) WHERE deadline_id IS NOT NULL;

-- Dispatch centres and other consumers of the queue. API keys are stored as SHA-256 hashes (they
-- are 32 random bytes, so a slow hash adds nothing); webhook secrets are needed to sign, so kept.
CREATE TABLE dispatch_consumers (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  key_hash        text NOT NULL UNIQUE,
  units           text[] NOT NULL DEFAULT '{}',
  webhook_url     text,
  webhook_secret  text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dispatch_messages (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  consumer_id    text NOT NULL REFERENCES dispatch_consumers (id),
  incident_id    bigint NOT NULL REFERENCES incidents (id),
  kind           text NOT NULL,
  unit_id        text,
  payload        jsonb NOT NULL,
  state          text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'leased', 'acked', 'dead')),
  attempts       integer NOT NULL DEFAULT 0,
  deliveries     integer NOT NULL DEFAULT 0,
  available_at   timestamptz NOT NULL DEFAULT now(),
  lease_token    text,
  lease_until    timestamptz,
  last_error     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  acked_at       timestamptz
);
CREATE INDEX dispatch_messages_ready_idx ON dispatch_messages (consumer_id, available_at, id) WHERE state IN ('ready', 'leased');

-- @socket.io/postgres-adapter: large packets travel through this table, small ones via NOTIFY.
CREATE TABLE IF NOT EXISTS socket_io_attachments (
  id          bigserial UNIQUE,
  created_at  timestamptz DEFAULT now(),
  payload     bytea
);
