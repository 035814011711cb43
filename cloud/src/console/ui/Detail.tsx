// An incident's detail: its own actions (keyed like the board's), status, the readable place with
// the contact phone (codes small below), the audit trail in the user's language with staff names,
// readings around the event, latest values and a floor view. On a phone it is its own screen.
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { actorText, auditLabel, auditNote, familyName, getLang, reasonText, t, typeName } from './i18n.ts';
import { awaitingAck, statusText } from './board-model.ts';
import { ActionButtons, type Ask } from './ActionButtons.tsx';
import { FloorView } from './FloorView.tsx';
import { Rows } from './Pages.tsx';
import type { AuditEntry, Catalogue, Incident, IncidentContext, User } from './types.ts';

interface Loaded {
  incident: Incident;
  audit: AuditEntry[];
  ctx: IncidentContext;
}

interface Props {
  id: number;
  live: Incident | undefined;
  catalogue: Catalogue;
  user: User;
  ask: Ask;
  close: () => void;
  unitName: (id: string) => string;
}

const time = (ms: number): string => new Date(ms).toLocaleTimeString(getLang());

/** Who acted: the logged-in staffer by display name, the system as 系统, others by their login. */
const actorName = (e: AuditEntry, user: User): string => actorText(e.actor, user, e.actorName);

/** What changed: the new status, or for a reassign the unit it went to (by name). */
function change(e: AuditEntry, unitName: (id: string) => string): string {
  const toUnit = e.noteParams?.toUnit;
  if (e.action === 'reassign' && toUnit !== undefined) return `→ ${unitName(String(toUnit))} `;
  return e.toStatus && e.toStatus !== e.fromStatus ? `→ ${t(`status.${e.toStatus}`)} ` : '';
}

function Timeline({ audit, user, unitName }: { audit: AuditEntry[]; user: User; unitName: (id: string) => string }) {
  return (
    <ol class="timeline">
      {audit.map((e) => (
        <li key={e.id} data-audit-action={e.action}>
          <time>{time(e.at)}</time> <b>{auditLabel(e)}</b> {change(e, unitName)}
          <span class="actor">{actorName(e, user)}</span>
          {auditNote(e) ? <div class="note">{auditNote(e)}</div> : null}
        </li>
      ))}
    </ol>
  );
}

function readingsOf(ctx: IncidentContext): string[][] {
  return ctx.events.map((ev) => {
    // The edge sends the readings that decided the alarm as { point: value }.
    const values = ev.readings && typeof ev.readings === 'object' ? Object.entries(ev.readings as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '';
    return [time(ev.edgeTime), t(`event.${ev.action}`) + (ev.test ? ` · ${t('event.test')}` : ''), values];
  });
}

function Place({ ctx, incident }: { ctx: IncidentContext; incident: Incident }) {
  const a = ctx.address;
  if (!a) return <p class="muted">{incident.addressId ?? '—'}</p>;
  const readable = [a.placeName, a.addressText].filter(Boolean).join(' · ');
  const ladder = [`${t('tier.district')} ${a.district}`, `${t('tier.street')} ${a.street}`, `${t('tier.community')} ${a.community}`, `${t('tier.grid')} ${a.grid}`].join(' › ');
  return (
    <>
      {readable ? (
        <p class="readable">
          {readable}
          {a.contactPhone ? (
            <a class="phone" href={`tel:${a.contactPhone}`}>
              {' '}
              ☎ {a.contactPhone}
            </a>
          ) : null}
        </p>
      ) : null}
      <p class="codes">
        {ladder}
        <br />
        {`${a.addressId} · ${t('addr.building')} ${a.building} · ${t('addr.floor')} ${a.floor} · ${t('addr.room')} ${a.room}`}
      </p>
      <h3>{t('detail.floor')}</h3>
      <FloorView address={a} />
    </>
  );
}

function Body({ data, user, unitName }: { data: Loaded; user: User; unitName: (id: string) => string }) {
  const { incident: i, audit, ctx } = data;
  return (
    <div id="detail-body">
      <h2>
        <span class={`badge level-${i.level}`}>{t('level', { n: i.level })}</span> {typeName(i.alarmType)} #{i.id}
      </h2>
      <p class={`status status-${i.status}${awaitingAck(i) ? ' returned' : ''}`}>{statusText(i)}</p>
      <p class="reason">{reasonText(i)}</p>
      <dl>
        <dt>{t('detail.unit')}</dt>
        <dd>{i.unitId ? `${i.unitName ?? i.unitId}（${t(`tier.${i.tier ?? 'grid'}`)}）` : '—'}</dd>
        <dt>{t('detail.raised')}</dt>
        <dd>{new Date(i.raisedAt).toLocaleString(getLang())}</dd>
        <dt>{t('detail.hazard')}</dt>
        <dd>{i.hazard ? familyName(i.hazard) : '—'}</dd>
        <dt>{t('detail.occurrences')}</dt>
        <dd>{String(i.occurrences)}</dd>
        <dt>{t('detail.device')}</dt>
        <dd class="codes">{`${i.gatewayId} / ${i.deviceId}`}</dd>
      </dl>
      <h3>{t('detail.address')}</h3>
      <Place ctx={ctx} incident={i} />
      <h3>{t('detail.timeline')}</h3>
      <Timeline audit={audit} user={user} unitName={unitName} />
      <h3>{t('detail.readings')}</h3>
      <Rows rows={readingsOf(ctx)} />
    </div>
  );
}

export function Detail({ id, live, catalogue, user, ask, close, unitName }: Props) {
  const [data, setData] = useState<Loaded | null>(null);
  // Loaded on open and again whenever the live incident changes (an action, a colleague, a device).
  useEffect(() => {
    let current = true;
    void Promise.all([http.incident(id), http.audit(id), http.context(id)]).then(
      ([incident, audit, ctx]) => current && setData({ incident, audit: audit.audit, ctx }),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [id, live?.updatedAt]);
  const incident = live ?? data?.incident;
  return (
    <aside id="detail" role="dialog" aria-modal="false">
      <div class="detail-bar">
        <button type="button" id="detail-close" aria-label={t('back')} onClick={close}>
          <span class="back-arrow">‹</span> <span class="back-text">{t('back')}</span>
        </button>
        <div id="detail-actions" class="actions">
          {incident ? <ActionButtons catalogue={catalogue} incident={incident} ask={ask} /> : null}
        </div>
      </div>
      {data && data.incident.id === id ? <Body data={data} user={user} unitName={unitName} /> : <p class="muted">{t('loading')}</p>}
    </aside>
  );
}
