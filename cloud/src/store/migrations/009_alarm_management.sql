-- Alarm management (issue 17). Smoke verification (GB 50116 alarm verification, policy
-- `verification`): a single detector's alarm is first a pre-alarm (预警); it becomes the dispatch
-- when it persists past `verify_due_at`, repeats within the confirmation period or a second
-- detector joins ('confirmed'), or stays a recorded pre-alarm that counts toward the device's
-- false-alarm rate when it clears earlier ('unconfirmed'). NULL = not verified (dispatched at once).
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS verification text
  CHECK (verification IS NULL OR verification IN ('pre_alarm', 'confirmed', 'unconfirmed'));
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS verify_due_at timestamptz;
CREATE INDEX IF NOT EXISTS incidents_pre_alarm_due_idx ON incidents (verify_due_at) WHERE verification = 'pre_alarm';
CREATE INDEX IF NOT EXISTS incidents_group_idx ON incidents (group_id) WHERE group_id IS NOT NULL;
-- Windows are measured on edge times (the rehearsal clock): chattering episodes per source, flood
-- and correlation windows per community and building.
CREATE INDEX IF NOT EXISTS events_source_edge_time_idx ON events (gateway_id, device_id, alarm_type, edge_time);
CREATE INDEX IF NOT EXISTS incidents_community_edge_time_idx ON incidents (community, raised_edge_time DESC);
CREATE INDEX IF NOT EXISTS incidents_building_hazard_edge_time_idx ON incidents (building, hazard, raised_edge_time DESC) WHERE open;
