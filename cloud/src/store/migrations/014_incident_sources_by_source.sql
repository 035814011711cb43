-- A source's incidents whatever their state (issue 12, set-based apply): the chatter reopen and
-- verification reads (chatter.ts recentlyCleared, verification.ts confirmByRepeat, and the
-- set-based apply's probe for them) look up a source's closed incidents; the only index by source
-- was the partial one over open rows, so those reads walked every cleared incident.
CREATE INDEX IF NOT EXISTS incident_sources_source_idx ON incident_sources (gateway_id, device_id, alarm_type);
