// A detector's test press as its profile's vectors record it: the case that raises an event marked
// as a test, and the first later case that clears it. `gridwatch test --simulate` plays these, so
// the CLI keeps no copy of any device's payload.
import type { VectorsFile } from '@gridwatch/firmware-profiles';

export interface TestScript {
  press: unknown;
  release: unknown;
}

export function testScript(vectors: VectorsFile): TestScript | null {
  const cases = vectors.cases;
  const pressAt = cases.findIndex((c) => c.payload !== undefined && (c.events ?? []).some((e) => e.action === 'raise' && e.test === true));
  if (pressAt < 0) return null;
  const press = cases[pressAt]!;
  const raised = (press.events ?? []).filter((e) => e.action === 'raise' && e.test === true).map((e) => e.alarmType);
  const release = cases.slice(pressAt + 1).find((c) => c.payload !== undefined && (c.events ?? []).some((e) => e.action === 'clear' && raised.includes(e.alarmType)));
  return release ? { press: press.payload, release: release.payload } : null;
}
