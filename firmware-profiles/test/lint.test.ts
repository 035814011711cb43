// One lint over the whole collection (after zigbee-herdsman-converters' checks.test.ts): every
// profile loads, ids are unique, names are snake_case, units known, vectors present and aimed at
// their profile, rules point at real points, every device supervised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_PROFILES_DIR, ProfileError, UNITS, loadProfiles, loadVectorsFile, parseProfile, isPointRule, type Profile } from '../src/index.ts';

const collection = loadProfiles(BUNDLED_PROFILES_DIR);

test('the collection is not empty and every profile loads', () => {
  assert.ok(collection.profiles.size >= 1);
  assert.ok(collection.profiles.has('generic/smoke-mqtt'));
});

test('profile ids match their file location <vendor>/<model>.yaml', () => {
  for (const [id, { file }] of collection.profiles) {
    assert.equal(file, join('profiles', `${id}.yaml`), `${file} declares id ${id}`);
  }
});

test('point names are snake_case and units are known', () => {
  const units = new Set<string>(UNITS);
  for (const { profile, file } of collection.profiles.values()) {
    for (const point of profile.points) {
      assert.match(point.name, /^[a-z][a-z0-9_]*$/, `${file}: ${point.name}`);
      assert.ok(units.has(point.unit), `${file}: ${point.name} has unknown unit ${point.unit}`);
    }
  }
});

test('the collection covers every device class the issue names', () => {
  const classes = new Set([...collection.profiles.values()].map(({ profile }) => `${profile.class}/${profile.transport}`));
  for (const want of [
    'smoke_detector/modbus',
    'smoke_detector/mqtt',
    'gas_detector/modbus',
    'water_pressure/modbus',
    'water_level/modbus',
    'door_access/serial',
    'wearable/mqtt',
    'water_meter/modbus',
    'siren/modbus',
  ]) {
    assert.ok(classes.has(want), `no ${want} profile`);
  }
});

test('rules refer to real points', () => {
  for (const { profile, file } of collection.profiles.values()) {
    const names = new Set(profile.points.map((p) => p.name));
    for (const rule of profile.rules.filter(isPointRule)) assert.ok(names.has(rule.point), `${file}: rule on unknown point ${rule.point}`);
  }
});

test('every profile has a vectors file aimed at it, and every vectors file at a profile', () => {
  for (const [id] of collection.profiles) {
    const vectors = join(BUNDLED_PROFILES_DIR, `${id}.vectors.yaml`);
    assert.ok(existsSync(vectors), `missing ${vectors}`);
    assert.equal(loadVectorsFile(vectors).profile, id);
  }
  for (const file of collection.vectorFiles) {
    const { profile } = loadVectorsFile(file);
    assert.ok(collection.profiles.has(profile), `${file} targets unknown profile ${profile}`);
  }
});

/**
 * "Silence is an alarm": every profile supervises its device with a heartbeat rule raising
 * `device_offline` (for polled devices the bus drives the same rule on communication loss), at a
 * level that is dispatched (1–3) and within an hour of the device going quiet.
 */
function supervisionProblems(profile: Profile): string[] {
  const rules = profile.rules.filter((r) => r.kind === 'heartbeat');
  if (rules.length === 0) return [`no supervision: add a heartbeat rule (alarmType device_offline) for ${profile.transport === 'mqtt' || profile.transport === 'serial' ? 'a push device' : 'communication loss'}`];
  const problems: string[] = [];
  for (const rule of rules) {
    if (rule.alarmType !== 'device_offline') problems.push(`supervision rule raises ${rule.alarmType}, expected device_offline`);
    if (rule.level > 3) problems.push(`supervision at level ${rule.level}: a silent device must be dispatched (level 1–3)`);
    const seconds = (rule.kind === 'heartbeat' ? (rule.missed ?? 3) : 3) * profile.heartbeatSeconds;
    if (seconds > 3600) problems.push(`supervision raises only after ${seconds} s of silence (limit 3600 s)`);
  }
  return problems;
}

test('every profile has supervision (heartbeat for push devices, communication loss for polled ones)', () => {
  for (const { profile, file } of collection.profiles.values()) assert.deepEqual(supervisionProblems(profile), [], file);
});

test('the supervision lint refuses a profile without supervision, or with a silent one', () => {
  const point = { name: 'alarm', table: 'input', address: 0, bit: 0, type: 'boolean', unit: 'none' };
  const unsupervised = parseProfile(inlineModbus(point, [{ kind: 'state', point: 'alarm', alarmType: 'smoke', level: 1, reason: 'smoke' }]), 'inline.yaml');
  assert.match(supervisionProblems(unsupervised).join('; '), /^no supervision: add a heartbeat rule .*communication loss/);
  const quiet = parseProfile(inlineModbus(point, [{ kind: 'heartbeat', alarmType: 'offline', missed: 100, level: 5, reason: 'quiet' }]), 'inline.yaml');
  assert.deepEqual(supervisionProblems(quiet), [
    'supervision rule raises offline, expected device_offline',
    'supervision at level 5: a silent device must be dispatched (level 1–3)',
    'supervision raises only after 6000 s of silence (limit 3600 s)',
  ]);
  const supervised = parseProfile(inlineModbus(point, [{ kind: 'heartbeat', alarmType: 'device_offline', level: 3, reason: 'offline' }]), 'inline.yaml');
  assert.deepEqual(supervisionProblems(supervised), []);
});

function brokenCollection(mutate: (yaml: string) => string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'gw-profiles-'));
  const dir = join(root, 'profiles');
  mkdirSync(join(dir, 'generic'), { recursive: true });
  const original = readFileSync(join(BUNDLED_PROFILES_DIR, 'generic', 'smoke-mqtt.yaml'), 'utf8');
  writeFileSync(join(dir, 'generic', 'smoke-mqtt.yaml'), mutate(original));
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

const refusals: Array<{ name: string; mutate: (yaml: string) => string; message: RegExp }> = [
  {
    name: 'a level out of range',
    mutate: (y) => y.replace('level: 1', 'level: 7'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/0\/level: Expected integer to be less or equal to 5$/,
  },
  {
    name: 'an unknown key',
    mutate: (y) => y.replace('heartbeatSeconds: 60', 'heartbeatSeconds: 60\nheartbeatSecs: 60'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/heartbeatSecs: Unexpected property$/,
  },
  {
    name: 'an unknown unit',
    mutate: (y) => y.replace('unit: percent', 'unit: percentage'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/points\/3\/unit: /,
  },
  {
    name: 'a rule on a point that does not exist',
    mutate: (y) => y.replace('point: tamper', 'point: tampered'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/2\/point: expected one of the profile's points .*got tampered$/,
  },
  {
    name: 'an unknown transport',
    mutate: (y) => y.replace('transport: mqtt', 'transport: lora'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/transport: Expected one of mqtt, modbus, serial$/,
  },
  {
    name: 'an unknown rule kind',
    mutate: (y) => y.replace('kind: state', 'kind: ramp'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/0\/kind: Expected one of state, threshold, rate, inactivity, continuous, heartbeat, combination$/,
  },
  {
    name: 'an impossible threshold',
    mutate: (y) => y.replace("kind: state\n    point: smoke_alarm", "kind: threshold\n    op: '>='\n    limit: 100\n    point: smoke_alarm"),
    message: /smoke_alarm is not$/,
  },
  {
    name: 'a combination of an unknown alarm',
    mutate: (y) => y.replace('all: [smoke, temperature_rising]', 'all: [smoke, heat]'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/4\/all\/1: expected the alarmType of an earlier rule .*got heat$/,
  },
  {
    name: 'a threshold rule without a limit',
    mutate: (y) => y.replace('kind: state', "kind: threshold\n    op: '>='"),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/0\/limit: Expected required property$/,
  },
  {
    name: 'a threshold rule on a boolean point',
    mutate: (y) => y.replace('kind: state', "kind: threshold\n    op: '>='\n    limit: 1"),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: \/rules\/0\/point: a threshold rule needs a number point/,
  },
  {
    name: 'broken YAML',
    mutate: (y) => y.replace('payload:\n', 'payload: [\n'),
    message: /^profiles\/generic\/smoke-mqtt\.yaml: line \d+ column \d+: YAML error/,
  },
];

for (const { name, mutate, message } of refusals) {
  test(`a profile with ${name} is refused naming the file and path`, () => {
    const { dir, cleanup } = brokenCollection(mutate);
    try {
      assert.throws(() => loadProfiles(dir), (err: unknown) => {
        assert.ok(err instanceof ProfileError);
        assert.match(err.message, message);
        return true;
      });
    } finally {
      cleanup();
    }
  });
}

test('two profiles with one id are refused', () => {
  const { dir, cleanup } = brokenCollection((y) => y);
  try {
    writeFileSync(join(dir, 'generic', 'copy.yaml'), readFileSync(join(dir, 'generic', 'smoke-mqtt.yaml')));
    assert.throws(() => loadProfiles(dir), /\/id: duplicate profile id generic\/smoke-mqtt/);
  } finally {
    cleanup();
  }
});

function inlineModbus(point: Record<string, unknown>, rules: unknown[] = []): unknown {
  return { id: 'test/m', version: '1.0.0', name: 'm', class: 'io_module', transport: 'modbus', heartbeatSeconds: 60, points: [point], rules };
}

test('Modbus addressing mistakes are refused naming the path', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ name: 'a', table: 'coil', address: 0, rawType: 'uint16', type: 'number', unit: 'none' }, /\/points\/0\/rawType: a coil is a single bit/],
    [{ name: 'a', table: 'holding', address: 0, type: 'boolean', unit: 'none' }, /\/points\/0\/bit: a boolean point of a register needs `bit`/],
    [{ name: 'a', table: 'input', address: 0, type: 'number', unit: 'none', access: 'readwrite' }, /\/points\/0\/access: only coils and holding/],
    [{ name: 'a', table: 'input', address: 65535, rawType: 'uint32', type: 'number', unit: 'none' }, /\/points\/0\/address: point runs past/],
    [{ name: 'a', table: 'inputs', address: 0, type: 'number', unit: 'none' }, /\/points\/0\/table: /],
  ];
  for (const [point, message] of cases) {
    assert.throws(() => parseProfile(inlineModbus(point), 'inline.yaml'), (err: unknown) => err instanceof ProfileError && message.test(err.message));
  }
});
