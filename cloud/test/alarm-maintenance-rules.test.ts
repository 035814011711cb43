// Maintenance lane coverage (issue 17): every bundled profile that can report low battery or
// tamper has the rule that raises it, and those types (with faults, device offline and gateway
// health) are in the catalogue's maintenance lane, so they reach the installer's queue and not the
// emergency board.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { laneOf } from '../src/incidents/hazards.ts';

test('every profile with a battery level or a tamper point raises low_battery / tamper', () => {
  const { profiles } = loadProfiles();
  const missing: string[] = [];
  let covered = 0;
  for (const { profile, file } of profiles.values()) {
    const raised = new Set(profile.rules.map((r) => r.alarmType));
    for (const point of profile.points) {
      const battery = /(^|_)battery$/.test(point.name) && point.unit === 'percent';
      const tamper = /tamper/.test(point.name);
      if (battery && !raised.has('low_battery')) missing.push(`${file}: ${point.name} without a low_battery rule`);
      if (tamper && !raised.has('tamper')) missing.push(`${file}: ${point.name} without a tamper rule`);
      if (battery || tamper) covered += 1;
    }
  }
  assert.ok(covered >= 5, 'the collection has battery and tamper points to check');
  assert.deepEqual(missing, []);
});

test('faults, tamper, low battery, device offline and gateway health are maintenance; alarms are emergencies', () => {
  for (const type of ['fault', 'power_fault', 'tamper', 'low_battery', 'device_offline', 'gateway_health', 'gateway_offline']) assert.equal(laneOf(type), 'maintenance', type);
  for (const type of ['smoke', 'gas_high', 'sos', 'forced_open', 'low_pressure']) assert.equal(laneOf(type), 'emergency', type);
});
