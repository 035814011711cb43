// The one-screen mobile page a signed link opens: what happened where, and three buttons.
// Plain forms (no script), so it works under the API's CSP and on any phone browser. Opening
// the page changes nothing (chat apps prefetch links); only a button's POST acts.
import type { Incident } from '../incidents/incident.ts';
import { alarmTypes } from '@gridwatch/firmware-profiles';
import type { LinkAction } from './ack.ts';

const LABELS: Record<LinkAction, string> = { acknowledge: '确认', on_site: '到场', false_alarm: '误报' };

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shell(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${esc(title)}</title>
<style>body{font:18px/1.5 system-ui,sans-serif;margin:0;padding:16px;max-width:32em}h1{font-size:22px;margin:0 0 8px}p{margin:4px 0}form{display:inline}button{font-size:20px;padding:12px 18px;margin:12px 8px 0 0;border-radius:8px;border:1px solid #888}</style></head><body>${body}</body></html>`;
}

export function linkPage(incident: Incident, token: string, used: boolean): string {
  const type = alarmTypes().types.get(incident.alarmType)?.labels['zh-CN'] ?? incident.alarmType;
  const title = `${incident.level}级告警：${type}`;
  const facts = [incident.addressText ?? '未登记地址', incident.placeName ?? '', incident.unitName ? `责任单位：${incident.unitName}` : '', `状态：${incident.status}`]
    .filter(Boolean)
    .map((line) => `<p>${esc(line)}</p>`)
    .join('');
  const buttons = used
    ? '<p>此链接已使用。</p>'
    : (Object.keys(LABELS) as LinkAction[]).map((action) => `<form method="post" action="/ack/${esc(token)}/${action}"><button type="submit">${LABELS[action]}</button></form>`).join('');
  return shell(title, `<h1>${esc(title)}</h1>${facts}${buttons}`);
}

export function resultPage(action: LinkAction, incident: Incident): string {
  return shell('已提交', `<h1>已${LABELS[action]}</h1><p>${esc(incident.addressText ?? '')} ${esc(incident.placeName ?? '')}</p><p>状态：${esc(incident.status)}</p>`);
}

