// An incident as a CAP 1.2 alert (OASIS Common Alerting Protocol v1.2, 2010), for public warning
// systems and dispatch software that speak CAP. Element order follows the schema (§3.2).
import type { Incident } from '../incidents/incident.ts';

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** CAP dateTime: no fractional seconds, explicit offset (§3.3.2). */
function capTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

/** CAP §3.2.2 category for a GridWatch alarm type. */
function category(alarmType: string): string {
  if (/smoke|fire|heat|flame/.test(alarmType)) return 'Fire';
  if (/gas|co\b|co_|chem/.test(alarmType)) return 'CBRNE';
  if (/water|flood|leak/.test(alarmType)) return 'Met';
  if (/fall|health|medical|sos/.test(alarmType)) return 'Health';
  if (/intrusion|tamper|door/.test(alarmType)) return 'Security';
  if (/power|fault|offline|battery/.test(alarmType)) return 'Infra';
  return 'Safety';
}

/** Level 1 (most urgent) … 5 → CAP urgency and severity. */
const URGENCY = ['Immediate', 'Immediate', 'Expected', 'Future', 'Unknown'] as const;
const SEVERITY = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;

function msgType(incident: Incident): 'Alert' | 'Update' | 'Cancel' {
  if (incident.status === 'false_alarm' || incident.status === 'test') return 'Cancel';
  return incident.updatedAt > incident.raisedAt && incident.status !== 'raised' && incident.status !== 'dispatched' ? 'Update' : 'Alert';
}

export function renderCap(incident: Incident, sender: string): string {
  const index = Math.min(4, Math.max(0, incident.level - 1));
  const where = [incident.district, incident.street, incident.community, incident.grid, incident.building].filter((p): p is string => p !== null);
  const areaDesc = where.length > 0 ? where.join(' / ') : incident.addressId ?? `site ${incident.site}`;
  const certainty = incident.deviceCount >= 2 || incident.status === 'on_site' || incident.status === 'acknowledged' ? 'Observed' : 'Likely';
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
  <info>
    <language>zh-CN</language>
    <category>${category(incident.alarmType)}</category>
    <event>${xml(incident.alarmType)}</event>
    <urgency>${URGENCY[index]}</urgency>
    <severity>${SEVERITY[index]}</severity>
    <certainty>${certainty}</certainty>
    <senderName>GridWatch</senderName>
    <headline>${xml(`${incident.alarmType} at ${areaDesc}`)}</headline>
    <description>${xml(`${incident.reason} (device ${incident.deviceId}, gateway ${incident.gatewayId}, ${incident.occurrences} occurrence(s), status ${incident.status})`)}</description>
    <parameter><valueName>gridwatchStatus</valueName><value>${xml(incident.status)}</value></parameter>
    <parameter><valueName>gridwatchLevel</valueName><value>${incident.level}</value></parameter>
${incident.unitId ? `    <parameter><valueName>gridwatchUnit</valueName><value>${xml(incident.unitId)}</value></parameter>\n` : ''}    <area>
      <areaDesc>${xml(areaDesc)}</areaDesc>
${incident.addressId ? `      <geocode><valueName>gridwatchAddressId</valueName><value>${xml(incident.addressId)}</value></geocode>\n` : ''}    </area>
  </info>
</alert>
`;
}
