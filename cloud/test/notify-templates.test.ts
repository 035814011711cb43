// Message templates: zh-CN and en, with the readable address and place, level, deadline and link.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMessage, type RenderInput } from '../src/notify/templates.ts';

const NOW = Date.UTC(2026, 11, 1, 11, 30);
const input: RenderInput = {
  incident: { id: 42, alarmType: 'smoke', level: 1, addressText: '福田区华强北路1号', placeName: '华强小吃店', unitName: '华强北网格一' },
  lang: 'zh-CN',
  key: 'k',
  link: 'https://gw.example/ack/abc',
  deadlineAt: NOW + 5 * 60_000,
  now: NOW,
  timeZone: 'Asia/Shanghai',
};

test('templates: zh-CN text carries level, type, address, place, unit, deadline (local time) and link', () => {
  const m = renderMessage(input);
  assert.equal(m.title, '【一级告警】烟感告警');
  assert.equal(m.text, '【一级告警】烟感告警，福田区华强北路1号 华强小吃店，责任单位：华强北网格一，请在5分钟内（19:35前）确认，https://gw.example/ack/abc');
  assert.match(m.markdown, /\[确认 \/ 到场 \/ 误报\]\(https:\/\/gw\.example\/ack\/abc\)/);
  assert.deepEqual(m.params, { level: '一级', type: '烟感告警', address: '福田区华强北路1号', place: '华强小吃店', unit: '华强北网格一', deadline: '5', link: 'https://gw.example/ack/abc' });
});

test('templates: en, and an incident without an address on record', () => {
  const m = renderMessage({ ...input, lang: 'en', incident: { ...input.incident, addressText: null, placeName: null, unitName: null, level: 2 } });
  assert.equal(m.text, '[Level 2 alarm] Smoke, address not on record, Acknowledge within 5 min (by 19:35), https://gw.example/ack/abc');
  assert.equal(m.params.place, 'address not on record');
});
