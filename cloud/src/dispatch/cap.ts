// An incident as a CAP 1.2 alert (OASIS Common Alerting Protocol v1.2, 2010), for public warning
// systems and dispatch software that speak CAP. Element order follows the schema (§3.2). One
// <info> per language (§3.2.2 allows several, each with its own <language>): zh-CN with the words
// staff read (the alarm-type catalogue's labels, the address book's text and place name) and en-US
// with the English reason the edge sent, so each block's text is in the language it declares.
import { alarmTypes } from '@gridwatch/firmware-profiles';
import type { Incident, IncidentStatus } from '../incidents/incident.ts';

/** Where the incident is, from the address book (WGS 84 degrees). */
export interface CapPlace {
  lat: number | null;
  lon: number | null;
}

/** Radius of the <circle> around an address point: one building and its entrance, in km (§3.3.3 circle). */
export const CIRCLE_RADIUS_KM = 0.05;

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/**
 * CAP dateTime (§3.3.2): no fractional seconds, an explicit offset, never "Z"; UTC is written
 * "-00:00".
 */
export function capTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '-00:00');
}

/** CAP §3.2.2 category: the catalogue's `cap` field; a type it does not know is "Other". */
function category(alarmType: string): string {
  return alarmTypes().types.get(alarmType)?.cap ?? 'Other';
}

function label(alarmType: string, language: 'zh-CN' | 'en'): string {
  return alarmTypes().types.get(alarmType)?.labels[language] ?? alarmType;
}

const STATUS_ZH: Record<IncidentStatus, string> = {
  raised: '待分拨',
  dispatched: '已分拨',
  acknowledged: '已确认',
  on_site: '已到场',
  resolved: '已办结',
  closed: '已关闭',
  false_alarm: '误报',
  test: '测试',
  cleared: '已恢复',
};

/** Level 1 (most urgent) … 5 → CAP urgency and severity. */
const URGENCY = ['Immediate', 'Immediate', 'Expected', 'Future', 'Unknown'] as const;
const SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;

function msgType(incident: Incident): 'Alert' | 'Update' | 'Cancel' {
  if (incident.status === 'false_alarm' || incident.status === 'test') return 'Cancel';
  return incident.updatedAt > incident.raisedAt && incident.status !== 'raised' && incident.status !== 'dispatched' ? 'Update' : 'Alert';
}

function areaCodes(incident: Incident): string {
  const where = [incident.district, incident.street, incident.community, incident.grid, incident.building].filter((p): p is string => p !== null);
  return where.length > 0 ? where.join(' / ') : incident.addressId ?? `site ${incident.site}`;
}

/** <area>: the description, a circle around the address point when it has coordinates, the address id. */
function area(incident: Incident, areaDesc: string, place: CapPlace | null): string {
  const circle = place && place.lat !== null && place.lon !== null ? `      <circle>${place.lat},${place.lon} ${CIRCLE_RADIUS_KM}</circle>\n` : '';
  const geocode = incident.addressId ? `      <geocode><valueName>gridwatchAddressId</valueName><value>${xml(incident.addressId)}</value></geocode>\n` : '';
  return `    <area>\n      <areaDesc>${xml(areaDesc)}</areaDesc>\n${circle}${geocode}    </area>\n`;
}

interface InfoText {
  language: 'zh-CN' | 'en-US';
  event: string;
  headline: string;
  description: string;
  areaDesc: string;
}

function texts(incident: Incident): InfoText[] {
  const placeZh = [incident.addressText, incident.placeName].filter((p): p is string => !!p).join(' ') || areaCodes(incident);
  const zh = label(incident.alarmType, 'zh-CN');
  const en = label(incident.alarmType, 'en');
  return [
    {
      language: 'zh-CN',
      event: zh,
      headline: `${zh}：${placeZh}`,
      description: `${zh}，地点 ${placeZh}，设备 ${incident.deviceId}（网关 ${incident.gatewayId}），共 ${incident.occurrences} 次，状态：${STATUS_ZH[incident.status]}`,
      areaDesc: placeZh,
    },
    {
      language: 'en-US',
      event: en,
      headline: `${en} at ${areaCodes(incident)}`,
      description: `${incident.reason} (device ${incident.deviceId}, gateway ${incident.gatewayId}, ${incident.occurrences} occurrence(s), status ${incident.status})`,
      areaDesc: areaCodes(incident),
    },
  ];
}

function info(incident: Incident, text: InfoText, place: CapPlace | null): string {
  const index = Math.min(4, Math.max(0, incident.level - 1));
  const certainty = incident.deviceCount >= 2 || incident.status === 'on_site' || incident.status === 'acknowledged' ? 'Observed' : 'Likely';
  const unit = incident.unitId ? `    <parameter><valueName>gridwatchUnit</valueName><value>${xml(incident.unitId)}</value></parameter>\n` : '';
  return `  <info>
    <language>${text.language}</language>
    <category>${category(incident.alarmType)}</category>
    <event>${xml(text.event)}</event>
    <urgency>${URGENCY[index]}</urgency>
    <severity>${SEVERITY[index]}</severity>
    <certainty>${certainty}</certainty>
    <senderName>GridWatch</senderName>
    <headline>${xml(text.headline)}</headline>
    <description>${xml(text.description)}</description>
    <parameter><valueName>gridwatchAlarmType</valueName><value>${xml(incident.alarmType)}</value></parameter>
    <parameter><valueName>gridwatchStatus</valueName><value>${xml(incident.status)}</value></parameter>
    <parameter><valueName>gridwatchLevel</valueName><value>${incident.level}</value></parameter>
${unit}${area(incident, text.areaDesc, place)}  </info>
`;
}

export function renderCap(incident: Incident, sender: string, place: CapPlace | null = null): string {
  const status = incident.status === 'test' ? 'Test' : 'Actual';
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${xml(`gridwatch-incident-${incident.id}`)}</identifier>
  <sender>${xml(sender)}</sender>
  <sent>${capTime(incident.updatedAt)}</sent>
  <status>${status}</status>
  <msgType>${msgType(incident)}</msgType>
  <scope>Restricted</scope>
  <restriction>dispatch units of the responsible jurisdiction</restriction>
${texts(incident)
  .map((t) => info(incident, t, place))
  .join('')}</alert>
`;
}
