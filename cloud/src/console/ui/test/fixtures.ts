// Fixtures of the component tests: the server's own catalogue (buildCatalogue: the lifecycle table
// and the words, never a copy), the real labels, and incidents shaped like the API's.
import { buildCatalogue } from '../../../api/routes/catalogue.ts';
import ui from '../../labels/ui.json' with { type: 'json' };
import { initI18n, setCatalogue, type LabelFile } from '../i18n.ts';
import type { Incident, Lang } from '../types.ts';

export const catalogue = buildCatalogue();

export function setup(lang: Lang = 'zh-CN', codes: LabelFile | null = null): void {
  initI18n(ui as LabelFile, codes, lang);
  setCatalogue(catalogue);
}

let next = 1;
export function incident(over: Partial<Incident> = {}): Incident {
  const id = over.id ?? next++;
  const now = Date.now();
  return {
    id,
    kind: 'device',
    gatewayId: 'gw-1',
    site: 'sz',
    deviceId: `smoke-${id}`,
    alarmType: 'smoke',
    hazard: 'fire',
    level: 1,
    status: 'dispatched',
    alarmState: 'active',
    open: true,
    reason: 'Smoke detector in alarm',
    addressId: 'LH-0012-0101',
    addressText: '罗湖区东晓街道水贝二路12号',
    placeName: '水贝珠宝城A12铺',
    members: [],
    building: 'LH-B012',
    grid: 'LH-G01',
    community: 'LH-C01',
    street: 'LH-S01',
    district: 'LH',
    tier: 'grid',
    unitId: 'lh-grid-01',
    unitName: '水贝一网格网格员',
    escalations: 0,
    deviceCount: 1,
    dispatchable: true,
    chattering: false,
    groupId: null,
    lane: 'emergency',
    memberCount: 0,
    verification: null,
    occurrences: 1,
    firstEventId: `ev-${id}`,
    raisedEdgeTime: now,
    raisedAt: now - 1000 * id,
    clearedAt: null,
    acknowledgedAt: null,
    onSiteAt: null,
    resolvedAt: null,
    closedAt: null,
    updatedAt: now,
    deadlines: [],
    ...over,
  } as Incident;
}
