// CAP 1.2 (OASIS, 2010) rules the rendered alert must keep: §3.3.2 dateTime form (explicit offset,
// UTC as "-00:00", no "Z", no fractions), §3.2 element order, one <info> per language whose text
// is in that language, §3.2.4 <area> with a WGS 84 <circle> "lat,lon radius" from the address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Incident } from '../src/incidents/incident.ts';
import { capTime, CIRCLE_RADIUS_KM, renderCap } from '../src/dispatch/cap.ts';

const ALERT_ORDER = ['identifier', 'sender', 'sent', 'status', 'msgType', 'source', 'scope', 'restriction', 'addresses', 'code', 'note', 'references', 'incidents', 'info'];
const INFO_ORDER = ['language', 'category', 'event', 'responseType', 'urgency', 'severity', 'certainty', 'audience', 'eventCode', 'effective', 'onset', 'expires', 'senderName', 'headline', 'description', 'instruction', 'web', 'contact', 'parameter', 'resource', 'area'];
const AREA_ORDER = ['areaDesc', 'polygon', 'circle', 'geocode', 'altitude', 'ceiling'];
const CJK = /[\u4e00-\u9fff]/;

const incident: Incident = {
  id: 42, kind: 'device', gatewayId: 'gw-demo-01', site: 'lh-dongxiao', deviceId: 'smoke-1', alarmType: 'smoke', hazard: 'fire', level: 1,
  status: 'dispatched', alarmState: 'active', open: true, reason: 'Smoke detector in alarm', reasonCode: 'device_alarm', reasonParams: { alarmType: 'smoke', text: 'Smoke detector in alarm' }, addressId: 'LH-DX-SB12-0101',
  addressText: '罗湖区东晓街道水贝二路12号', placeName: '老王拉面馆', members: [], building: 'LH-DX-SB12', grid: 'LH-DX-G01', community: 'LH-DX-C01',
  street: 'LH-DX', district: 'LH', tier: 'grid', unitId: 'grid-lh-dx-g01', unitName: '水贝第一网格 网格员刘明', escalations: 0, deviceCount: 1,
  dispatchable: true, chattering: false, groupId: null, lane: 'emergency', memberCount: 0, verification: null, shelvedUntil: null, shelvedReason: '', occurrences: 1, firstEventId: 'gw-demo-01:1', raisedEdgeTime: Date.UTC(2026, 11, 1, 10, 0, 0),
  raisedAt: Date.UTC(2026, 11, 1, 10, 0, 0, 250), clearedAt: null, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null,
  updatedAt: Date.UTC(2026, 11, 1, 10, 0, 1, 999),
};

/** Child element names of the first `<parent>` block, in document order (one nesting level). */
function children(xml: string, parent: string): string[] {
  const body = new RegExp(`<${parent}[^>]*>([\\s\\S]*?)</${parent}>`).exec(xml)?.[1] ?? '';
  const names: string[] = [];
  let depth = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    if (m[1] === '/') depth -= 1;
    else {
      if (depth === 0) names.push(m[2]!);
      if (m[3] !== '/') depth += 1;
    }
  }
  return names;
}

function inOrder(names: string[], order: string[]): boolean {
  const positions = names.map((n) => order.indexOf(n));
  return positions.every((p, i) => p >= 0 && (i === 0 || p >= positions[i - 1]!));
}

test('§3.3.2 dateTime: whole seconds, explicit offset, UTC as -00:00, never Z', () => {
  assert.equal(capTime(Date.UTC(2026, 11, 1, 10, 0, 1, 999)), '2026-12-01T10:00:01-00:00');
  const xml = renderCap(incident, 'gridwatch@example.org');
  const sent = /<sent>([^<]+)<\/sent>/.exec(xml)?.[1];
  assert.match(sent ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/);
  assert.ok(!/Z</.test(xml) && !xml.includes('+00:00'), 'no Z and no +00:00 for UTC');
});

test('§3.2 element order of alert, info and area', () => {
  const xml = renderCap(incident, 'gridwatch@example.org', { lat: 22.5721, lon: 114.1302 });
  assert.ok(inOrder(children(xml, 'alert'), ALERT_ORDER), children(xml, 'alert').join(','));
  for (const block of xml.split('<info>').slice(1).map((b) => `<info>${b.split('</info>')[0]}</info>`)) {
    assert.ok(inOrder(children(block, 'info'), INFO_ORDER), children(block, 'info').join(','));
    assert.ok(inOrder(children(block, 'area'), AREA_ORDER), children(block, 'area').join(','));
  }
});

test('each <info> declares the language its text is written in', () => {
  const xml = renderCap(incident, 'gridwatch@example.org');
  const infos = xml.split('<info>').slice(1);
  const byLanguage = new Map(infos.map((b) => [/<language>([^<]+)<\/language>/.exec(b)?.[1], b]));
  assert.deepEqual([...byLanguage.keys()].sort(), ['en-US', 'zh-CN']);
  const zh = byLanguage.get('zh-CN')!;
  for (const tag of ['event', 'headline', 'description', 'areaDesc']) {
    const text = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(zh)?.[1] ?? '';
    assert.match(text, CJK, `zh-CN ${tag} is Chinese: ${text}`);
    assert.doesNotMatch(text, /\b(at|device|gateway|status|occurrence|Smoke|alarm)\b/, `zh-CN ${tag} has no English words: ${text}`);
  }
  assert.match(zh, /<headline>烟感告警：罗湖区东晓街道水贝二路12号 老王拉面馆<\/headline>/);
  const en = byLanguage.get('en-US')!;
  for (const tag of ['event', 'headline', 'description', 'areaDesc']) {
    const text = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(en)?.[1] ?? '';
    assert.doesNotMatch(text, CJK, `en-US ${tag} has no Chinese: ${text}`);
  }
});

test('§3.2.4 <area> carries a <circle> around the address coordinates, and none without them', () => {
  const xml = renderCap(incident, 'gridwatch@example.org', { lat: 22.5721, lon: 114.1302 });
  const circles = [...xml.matchAll(/<circle>([^<]+)<\/circle>/g)].map((m) => m[1]!);
  assert.equal(circles.length, 2, 'one per info block');
  for (const circle of circles) {
    const m = /^(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(circle);
    assert.ok(m, `"lat,lon radius": ${circle}`);
    assert.deepEqual([Number(m[1]), Number(m[2]), Number(m[3])], [22.5721, 114.1302, CIRCLE_RADIUS_KM]);
  }
  assert.doesNotMatch(renderCap(incident, 's', { lat: null, lon: null }), /<circle>/);
  assert.doesNotMatch(renderCap(incident, 's'), /<circle>/);
});

test('category comes from the alarm-type catalogue (CAP §3.2.2 list), status maps to CAP', () => {
  const gas = renderCap({ ...incident, alarmType: 'gas_high' }, 's');
  assert.match(gas, /<category>CBRNE<\/category>/);
  assert.match(renderCap({ ...incident, alarmType: 'sos' }, 's'), /<category>Rescue<\/category>/);
  assert.match(renderCap({ ...incident, alarmType: 'made_up_type' }, 's'), /<category>Other<\/category>/);
  assert.match(renderCap({ ...incident, status: 'test' }, 's'), /<status>Test<\/status>[\s\S]*<msgType>Cancel<\/msgType>/);
});
