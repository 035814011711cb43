// Acknowledgement policy as data. ISA-18.2 / IEC 62682 keep an alarm that returned to normal before
// anyone acknowledged it as "returned, unacknowledged": a life-safety alarm that clears by itself
// (a smoke detector reset, a gas reading falling back) still needs a human to look at it. Per level
// and per alarm type the policy says whether a device clear closes the incident (status `cleared`)
// or leaves it open with its ack deadline running and every action available (docs/INCIDENT-STATES.md).

export type LevelKey = 1 | 2 | 3 | 4 | 5;

export interface AckPolicy {
  /** Per level (1 = most urgent): true = a self-cleared alarm stays open until acknowledged. */
  levels: Record<LevelKey, boolean>;
  /** Per alarm type, overriding the level's rule. */
  types: Record<string, boolean>;
}

export const DEFAULT_ACK_POLICY: Readonly<AckPolicy> = Object.freeze({
  levels: Object.freeze({ 1: true, 2: true, 3: false, 4: false, 5: false }),
  types: Object.freeze({}),
});

export function ackRequired(policy: AckPolicy, alarmType: string, level: number): boolean {
  const byType = policy.types[alarmType];
  if (byType !== undefined) return byType;
  return policy.levels[Math.min(5, Math.max(1, Math.round(level))) as LevelKey];
}

/**
 * Parses `{ levels?: { "1": true, … }, types?: { smoke: true, … } }` (object or JSON text) over the
 * defaults; throws an Error naming the offending path.
 */
export function parseAckPolicy(value: unknown): AckPolicy {
  let input = value;
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input) as unknown;
    } catch {
      throw new Error('ackPolicy: not JSON');
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('ackPolicy: expected { levels, types }');
  const policy: AckPolicy = { levels: { ...DEFAULT_ACK_POLICY.levels }, types: {} };
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (key !== 'levels' && key !== 'types') throw new Error(`ackPolicy.${key}: unknown key (expected levels or types)`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`ackPolicy.${key}: expected an object`);
    for (const [name, flag] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof flag !== 'boolean') throw new Error(`ackPolicy.${key}.${name}: expected true or false`);
      if (key === 'levels') {
        if (!/^[1-5]$/.test(name)) throw new Error(`ackPolicy.levels.${name}: expected level 1..5`);
        policy.levels[Number(name) as LevelKey] = flag;
      } else {
        if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) throw new Error(`ackPolicy.types.${name}: expected an alarm type`);
        policy.types[name] = flag;
      }
    }
  }
  return policy;
}
