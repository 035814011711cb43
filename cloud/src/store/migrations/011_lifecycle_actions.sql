-- Incident lifecycle actions (issues 13 and 17). Self-contained: every column has a DEFAULT, so
-- older INSERTs keep working, and it may run after later-numbered migrations.

-- Shelving (搁置, ISA-18.2 § 17 / IEC 62682 "shelved"): an operator suppresses an alarm's
-- annunciation for a bounded time with a reason. The incident still exists; it leaves the board
-- until `shelved_until`, when the shelving job returns it. NULL = not shelved.
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS shelved_until timestamptz;
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS shelved_reason text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS incidents_shelved_until_idx ON incidents (shelved_until) WHERE shelved_until IS NOT NULL;

-- While shelved, pending deadlines are paused (they would escalate an alarm whose annunciation is
-- suppressed); unshelving moves each due time on by the paused time.
ALTER TABLE deadlines ADD COLUMN IF NOT EXISTS paused_at timestamptz;
-- Where the deadline's clock started (on the engine's clock: the scripted time in a replay), so a
-- change of level recomputes it from the same start. Older rows: their due time is the best known.
ALTER TABLE deadlines ADD COLUMN IF NOT EXISTS started_at timestamptz;

-- A reassigned incident's undelivered dispatch messages to the old unit are withdrawn ('cancelled').
ALTER TABLE dispatch_messages DROP CONSTRAINT IF EXISTS dispatch_messages_state_check;
ALTER TABLE dispatch_messages ADD CONSTRAINT dispatch_messages_state_check CHECK (state IN ('ready', 'leased', 'acked', 'dead', 'cancelled'));
