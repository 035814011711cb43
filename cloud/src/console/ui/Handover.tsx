// The shift handover (GET /api/v1/handover): what is open, what is overdue and what happened since
// the shift began (08:00 or 20:00), for the community office's change of shift.
import { http } from './api.ts';
import { auditLabel, auditNote, getLang, t, typeName } from './i18n.ts';
import { placeText, statusText } from './board-model.ts';
import { Rows, useLoad } from './Pages.tsx';
import type { Handover, Incident } from './types.ts';

function List({ items, open }: { items: Incident[]; open: (id: number) => void }) {
  if (!items.length) return <p class="muted">{t('detail.none')}</p>;
  return (
    <ul class="handover-list">
      {items.map((i) => (
        <li key={i.id} data-id={String(i.id)}>
          <button type="button" class="link" onClick={() => open(i.id)}>
            <span class={`badge level-${i.level}`}>{t('level', { n: i.level })}</span> {typeName(i.alarmType)} · {placeText(i)} · {statusText(i)}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function HandoverPage({ open, actorName }: { open: (id: number) => void; actorName: (actor: string, displayName?: string) => string }) {
  const { data: h, error } = useLoad<Handover>(() => http.handover());
  if (error) return <p class="error">{t('handover.unavailable')}（{error}）</p>;
  if (!h) return <p class="muted">{t('loading')}</p>;
  const happened = h.happened;
  return (
    <div class="handover">
      <p class="muted">{t('handover.since', { t: new Date(h.since).toLocaleString(getLang()) })}</p>
      <div class="cards">
        <div class="card">
          <h3>{t('handover.happened')}</h3>
          <Rows
            rows={[
              [t('handover.raised'), happened.raised],
              [t('handover.resolved'), happened.resolved],
              [t('handover.falseAlarms'), happened.falseAlarms],
              [t('handover.escalations'), happened.escalations],
            ]}
          />
          <h3>{t('handover.byType')}</h3>
          <Rows rows={happened.byType.map((b) => [typeName(b.type), b.count])} />
        </div>
        <div class="card">
          <h3>
            {t('handover.open')} ({h.open.length})
          </h3>
          <List items={h.open} open={open} />
        </div>
        <div class="card">
          <h3>
            {t('handover.overdue')} ({h.overdue.length})
          </h3>
          <List items={h.overdue} open={open} />
        </div>
      </div>
      <h3>{t('handover.audit')}</h3>
      <Rows rows={h.audit.map((e) => [new Date(e.at).toLocaleTimeString(getLang()), e.incidentId ? `#${e.incidentId}` : '', auditLabel(e), actorName(e.actor, e.actorName), auditNote(e)])} />
    </div>
  );
}
