// The action dialog: a note (the reason, required for reassign and shelve), the unit picker for
// dispatch and reassign (GET /api/v1/units), the end time for shelve. Sends the action as the
// logged-in user; the answer is applied to the board at once (the socket brings it too).
import { useEffect, useRef, useState } from 'preact/hooks';
import { http, type ActionBody } from './api.ts';
import { t } from './i18n.ts';
import { GROUP_ACK, NEEDS_REASON } from './board-model.ts';
import type { Incident, Jurisdiction, Unit } from './types.ts';

export interface DialogTarget {
  id: number;
  action: string;
}

interface Props {
  target: DialogTarget | null;
  incident: Incident | undefined;
  units: Unit[];
  areas: Map<string, Jurisdiction>;
  onDone: (incident: Incident | null) => void;
}

/** Default shelve end: 2 hours from now, as a datetime-local value (the policy caps it, default 8 h). */
function inTwoHours(): string {
  const d = new Date(Date.now() + 2 * 3600_000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function body(target: DialogTarget, note: string, unitId: string, until: string): ActionBody {
  if (target.action === GROUP_ACK) return { action: 'acknowledge', note, members: true };
  const out: ActionBody = { action: target.action, note };
  if (target.action === 'dispatch' || target.action === 'reassign') out.unitId = unitId;
  if (target.action === 'shelve') out.until = new Date(until).toISOString();
  return out;
}

export function ActionDialog({ target, incident, units, areas, onDone }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [note, setNote] = useState('');
  const [unitId, setUnitId] = useState('');
  const [until, setUntil] = useState(inTwoHours());
  const [error, setError] = useState('');
  const picksUnit = target?.action === 'dispatch' || target?.action === 'reassign';
  const choices = units.filter((u) => target?.action !== 'reassign' || u.id !== incident?.unitId);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (target && !dialog.open) {
      setNote('');
      setError('');
      setUntil(inTwoHours());
      setUnitId(choices[0]?.id ?? '');
      dialog.showModal();
      dialog.querySelector('textarea')?.focus();
    } else if (!target && dialog.open) dialog.close();
  }, [target]);
  useEffect(() => {
    if (picksUnit && !choices.some((u) => u.id === unitId)) setUnitId(choices[0]?.id ?? '');
  }, [units, target]);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!target) return;
    // The form's values as they are now (a fill and a press can come before a re-render).
    const form = e.currentTarget as HTMLFormElement;
    const value = (sel: string, fallback: string): string => form.querySelector<HTMLInputElement>(sel)?.value ?? fallback;
    const text = value('#action-note', note);
    if (NEEDS_REASON.has(target.action) && text.trim() === '') return setError(t('note.required'));
    try {
      onDone(await http.act(target.id, body(target, text, value('#action-unit', unitId), value('#action-until', until))));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const unitLabel = (u: Unit): string => `${u.name}（${areas.get(`${u.tier}:${u.area}`)?.name ?? `${t(`tier.${u.tier}`)} ${u.area}`}）`;
  return (
    <dialog id="action-dialog" ref={ref} data-id={target ? String(target.id) : undefined} data-action={target?.action} onClose={() => target && onDone(null)}>
      <form id="action-form" onSubmit={submit}>
        <h3 id="action-title">{target ? `${t(`action.${target.action}`)} #${target.id}` : ''}</h3>
        {picksUnit ? (
          <label id="unit-label">
            <span>{t(target?.action === 'reassign' ? 'reassign.unit' : 'assign.unit')}</span>
            <select id="action-unit" value={unitId} onChange={(e) => setUnitId((e.target as HTMLSelectElement).value)}>
              {choices.map((u) => (
                <option key={u.id} value={u.id}>
                  {unitLabel(u)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {target?.action === 'shelve' ? (
          <label>
            <span>{t('shelve.until')}</span>
            <input id="action-until" type="datetime-local" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
          </label>
        ) : null}
        <label>
          <span>{target && NEEDS_REASON.has(target.action) ? t('reason') : t('note')}</span>
          <textarea id="action-note" rows={3} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </label>
        <p id="action-error" class="error">
          {error}
        </p>
        <menu>
          <button type="button" id="action-cancel" onClick={() => onDone(null)}>
            {t('cancel')}
          </button>
          <button type="submit" id="action-submit">
            {t('confirm')}
          </button>
        </menu>
      </form>
    </dialog>
  );
}
