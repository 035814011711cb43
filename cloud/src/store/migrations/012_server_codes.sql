-- Server codes (issue #13, "one source of words"): an incident's reason and a system audit note
-- are stored as a code with parameters (cloud/src/incidents/reasons.ts); staff read the code's
-- label in their language (cloud/src/console/labels/codes.json). The English `reason` / `note`
-- text stays for logs and older API callers. Defaults keep older INSERTs working: a row with no
-- code reads as code 'text' (its English text as the one parameter); a note with no code is a
-- staff member's own words.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS reason_code text NOT NULL DEFAULT 'text';
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS reason_params jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE incident_audit ADD COLUMN IF NOT EXISTS note_code text;
ALTER TABLE incident_audit ADD COLUMN IF NOT EXISTS note_params jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Rows raised before codes: a device's reason is the edge's own words for its alarm type; the
-- others keep their English text.
UPDATE incidents SET reason_code = 'device_alarm', reason_params = jsonb_build_object('alarmType', alarm_type, 'text', reason)
  WHERE reason_code = 'text' AND kind IN ('device', 'correlated') AND reason_params = '{}'::jsonb;
UPDATE incidents SET reason_params = jsonb_build_object('text', reason) WHERE reason_code = 'text' AND reason_params = '{}'::jsonb;
-- Filters of the board and the history view (GET /api/v1/incidents?type=&level=&from=&to=):
-- raised_at ranges use incidents_raised_at_idx (001); a type or level narrows with these.
CREATE INDEX IF NOT EXISTS incidents_type_raised_idx ON incidents (alarm_type, raised_at DESC);
CREATE INDEX IF NOT EXISTS incidents_level_raised_idx ON incidents (level, raised_at DESC);
-- The handover summary reads the audit since the shift began, newest first.
CREATE INDEX IF NOT EXISTS incident_audit_at_idx ON incident_audit (at DESC);
