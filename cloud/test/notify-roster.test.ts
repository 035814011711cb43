// Duty rosters: weekday and hour shifts, a night shift past midnight, holidays, quiet hours that
// never apply to levels 1–2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Person, Roster } from '../src/notify/config.ts';
import { onDuty, quietNow } from '../src/notify/roster.ts';

const TZ = 'Asia/Shanghai';
// 2026-12-01 is a Tuesday; +08:00.
const at = (date: string, clock: string): number => Date.parse(`${date}T${clock}:00+08:00`);
const roster: Roster = {
  unit: 'grid-g01',
  holidays: ['2026-12-02'],
  shifts: [
    { role: 'grid_worker', people: ['p-day'], days: [1, 2, 3, 4, 5], from: '08:00', to: '20:00' },
    { role: 'grid_worker', people: ['p-night'], days: [2], from: '20:00', to: '08:00', holidays: 'also' },
    { role: 'grid_worker', people: ['p-holiday'], days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '00:00', holidays: 'only' },
  ],
};
const ids = (date: string, clock: string): string[] => onDuty(roster, at(date, clock), TZ).map((d) => d.personId);

test('roster: day shift on a weekday, night shift past midnight, holiday shift only on holidays', () => {
  assert.deepEqual(ids('2026-12-01', '09:30'), ['p-day']);
  assert.deepEqual(ids('2026-12-01', '19:59'), ['p-day']);
  assert.deepEqual(ids('2026-12-01', '20:00'), ['p-night']);
  // Wednesday 03:00 is still Tuesday's night shift; Wednesday is a holiday, so the day shift is off.
  assert.deepEqual(ids('2026-12-02', '03:00'), ['p-night', 'p-holiday']);
  assert.deepEqual(ids('2026-12-02', '10:00'), ['p-holiday']);
  assert.deepEqual(ids('2026-12-03', '03:00'), []);
  assert.deepEqual(ids('2026-12-05', '10:00'), []);
});

test('roster: quiet hours hold back level 3+, never levels 1–2', () => {
  const person: Person = { id: 'p', name: 'P', contacts: [{ channel: 'email', to: 'p@x' }], quietHours: { from: '22:00', to: '07:00' } };
  assert.equal(quietNow(person, 3, at('2026-12-01', '23:00'), TZ), true);
  assert.equal(quietNow(person, 3, at('2026-12-02', '06:59'), TZ), true);
  assert.equal(quietNow(person, 3, at('2026-12-02', '07:00'), TZ), false);
  assert.equal(quietNow(person, 2, at('2026-12-01', '23:00'), TZ), false);
  assert.equal(quietNow(person, 1, at('2026-12-01', '23:00'), TZ), false);
});
