-- Alarm integrity (issue 10). Self-contained: it may run after later-numbered migrations on a
-- database that already has them.

-- Dead letters keep the exact bytes (any byte, 0x00 and invalid UTF-8 included); `payload` stays a
-- readable text preview with what text cannot hold replaced by U+FFFD.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS payload_bytes bytea NOT NULL DEFAULT ''::bytea;

-- Order per source: the highest edge sequence applied per (gateway, device, alarm type). An event
-- with a lower seq is stored (applied = false) for the audit but changes no state.
CREATE TABLE IF NOT EXISTS source_state (
  gateway_id   text NOT NULL,
  device_id    text NOT NULL,
  alarm_type   text NOT NULL,
  last_seq     bigint NOT NULL,
  active       boolean NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gateway_id, device_id, alarm_type)
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS applied boolean NOT NULL DEFAULT true;

-- Correlation joins one hazard family only (firmware-profiles/alarm-types.yaml); every member
-- device and its address is listed on the incident.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS hazard text;
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS members jsonb NOT NULL DEFAULT '[]'::jsonb;
UPDATE incidents i SET members = COALESCE((
  SELECT jsonb_agg(jsonb_build_object('gatewayId', s.gateway_id, 'deviceId', s.device_id, 'alarmType', s.alarm_type, 'addressId', d.address_id)
                   ORDER BY s.joined_at)
  FROM incident_sources s LEFT JOIN devices d ON d.gateway_id = s.gateway_id AND d.device_id = s.device_id
  WHERE s.incident_id = i.id), '[]'::jsonb)
WHERE members = '[]'::jsonb;
CREATE INDEX IF NOT EXISTS incidents_building_hazard_open_idx ON incidents (building, hazard, raised_at DESC) WHERE open;

-- Gateway supervision with hold-off and flap suppression: when the current offline/online spell began.
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS offline_since timestamptz;
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS online_since timestamptz;

-- The chattering count reads one source's recent raises; without this it scanned every event of
-- the gateway on each raise.
CREATE INDEX IF NOT EXISTS events_source_time_idx ON events (gateway_id, device_id, alarm_type, cloud_time);
