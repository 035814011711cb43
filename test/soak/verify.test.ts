// The soak's judge must be able to fail: hand-made histories of one source, each with one fault the
// soak exists to catch, must be counted as lost, duplicated or out of order, and a clean one as none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SoakDevice } from './detectors.ts';
import { Ledger, sourceKey } from './ledger.ts';
import { verify, type EventRow, type IncidentRow, type SourceData } from './verify.ts';

const device: SoakDevice = {
  gatewayId: 'gw-1',
  deviceId: 'd-1',
  transport: 'mqtt',
  apply: () => Promise.resolve(),
  tagOf: (r) => (typeof r?.smoke_density === 'number' ? r.smoke_density : null),
  stop: () => Promise.resolve(),
};
const KEY = sourceKey('gw-1', 'd-1', 'smoke');

/** Device history raise #1, clear #2, raise #3 (still in alarm). */
function history(): Ledger {
  const ledger = new Ledger();
  for (let i = 0; i < 3; i++) ledger.next(KEY, 1000 * i).ackedAt = 1000 * i + 10;
  return ledger;
}

const event = (seq: number, tag: number, incident: number | null, cloudMs = 5000 + seq): EventRow & { tag: number } => ({
  event_id: `gw-1:${seq}`,
  gateway_id: 'gw-1',
  device_id: 'd-1',
  seq: String(seq),
  action: tag % 2 === 1 ? 'raise' : 'clear',
  readings: { smoke_density: tag },
  cloud_ms: cloudMs,
  incident_id: incident === null ? null : String(incident),
  tag,
});
const incident = (id: number, firstSeq: number, cleared: boolean): IncidentRow => ({ id: String(id), gateway_id: 'gw-1', device_id: 'd-1', first_event_id: `gw-1:${firstSeq}`, occurrences: 1, cleared, open: !cleared });

function judge(events: SourceData['events'], incidents: IncidentRow[]) {
  return verify(new Map([[KEY, { changes: history().changes(KEY), device, events, incidents }]]));
}

test('a clean history: nothing lost, duplicated or out of order', () => {
  const v = judge([event(1, 1, 1), event(2, 2, 1), event(3, 3, 2)], [incident(1, 1, true), incident(2, 3, false)]);
  assert.deepEqual([v.inPostgres, v.lost, v.duplicated, v.outOfOrder], [3, 0, 0, 0], v.problems.join('\n'));
});

test('a change with no event is lost', () => {
  const v = judge([event(1, 1, 1), event(2, 2, 1)], [incident(1, 1, true)]);
  assert.equal(v.lost, 1);
  assert.equal(v.outOfOrder, 1, 'and the cloud ends normal while the device is in alarm');
});

test('one change stored by two events is a duplicate', () => {
  const v = judge([event(1, 1, 1), event(2, 2, 1), event(3, 3, 2), event(4, 3, 2)], [incident(1, 1, true), incident(2, 3, false)]);
  assert.equal(v.duplicated, 1);
});

test('a late raise applied after its own clear, and the next raise folded into it, is out of order', () => {
  // The clear #2 arrived first (no incident to close); the resent raise #1 then opened an incident
  // that raise #3 folded into: the cloud's state went clear → raised by a stale event.
  const v = judge([event(1, 1, 1, 9000), event(2, 2, null, 6000), event(3, 3, 1, 9500)], [incident(1, 1, false)]);
  assert.equal(v.lost, 0);
  assert.ok(v.outOfOrder >= 1, v.problems.join('\n'));
  assert.match(v.problems.join('\n'), /not closed by its clear #2/);
});

test('events the edge numbered against the device order are out of order', () => {
  const v = judge([event(1, 2, null), event(2, 1, 1), event(3, 3, 1)], [incident(1, 1, false)]);
  assert.ok(v.outOfOrder >= 1);
  assert.match(v.problems.join('\n'), /edge order/);
});
