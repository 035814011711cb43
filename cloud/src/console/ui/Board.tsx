// The board: one <tr> per incident id (Preact keyed by id), patched in place by live updates and
// the 1 s tick. Rows are inserted, moved or removed only when no pointer is pressed on the board (a
// click is a press and a release on one element); what changed meanwhile is applied after the
// release. On a phone (≤ 600 px) the same rows are cards (console.css).
import { Component } from 'preact';
import { useEffect, useLayoutEffect, useReducer, useRef } from 'preact/hooks';
import { duration, t, typeName } from './i18n.ts';
import { awaitingAck, compare, deadlineText, isOpenStatus, matches, placeText, statusText, type Filters } from './board-model.ts';
import { ActionButtons, type Ask } from './ActionButtons.tsx';
import type { ConsoleStore } from './store.ts';
import type { Catalogue, Incident } from './types.ts';

/** A release the page never hears (outside the window) must not freeze the board: 5 s at most. */
const HOLD_MAX_MS = 5000;

interface RowProps {
  catalogue: Catalogue;
  incident: Incident;
  shownAt: number;
  /** When the incident last changed live (0: loaded, not changed since): the flash. */
  changedAt: number;
  now: number;
  ask: Ask;
  open: (id: number) => void;
}

function Row({ catalogue, incident: i, shownAt, changedAt, now, ask, open }: RowProps) {
  const ref = useRef<HTMLTableRowElement>(null);
  // Flash on every live change of the incident, on the same element (Web Animations: no class churn).
  useEffect(() => {
    if (changedAt > 0) ref.current?.animate?.([{ backgroundColor: '#fff59d' }, { backgroundColor: 'transparent' }], { duration: 1500, easing: 'ease-out' });
  }, [changedAt]);
  const dl = deadlineText(catalogue, i, now);
  const returned = awaitingAck(i);
  return (
    <tr
      ref={ref}
      data-id={String(i.id)}
      data-status={i.status}
      data-alarm-state={i.alarmState}
      data-shown-at={String(shownAt)}
      data-members={i.kind === 'flood' ? String(i.memberCount) : undefined}
      class={`row level-row-${i.level}${isOpenStatus(catalogue, i.status) ? '' : ' closed'}`}
      onClick={() => open(i.id)}
    >
      <td class="level">
        <span class={`badge level-${i.level}`}>{t('level', { n: i.level })}</span>
      </td>
      <td class="type">
        {typeName(i.alarmType)}
        {i.deviceCount > 1 ? ` ×${i.deviceCount}` : ''}
        {i.kind === 'flood' && i.memberCount > 0 ? <span class="muted"> · {t('flood.members', { n: i.memberCount })}</span> : null}
      </td>
      <td class="place">
        <span class="place-text">{placeText(i)}</span>
        <span class="unit muted">{i.unitName ? `→ ${i.unitName}` : ''}</span>
      </td>
      <td class={`status status-${i.status}${returned ? ' returned' : ''}`}>{statusText(i)}</td>
      <td class="since">{duration(now - i.raisedAt)}</td>
      <td class={`deadline ${dl.cls}`}>{dl.text}</td>
      <td class="actions">
        <ActionButtons catalogue={catalogue} incident={i} ask={ask} />
      </td>
    </tr>
  );
}

/**
 * A row re-renders only when its incident, the clock or its flash changed: a live update of one
 * incident under a storm patches one row, not the board (ask/open behave the same each render).
 */
class BoardRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return p.incident !== next.incident || p.now !== next.now || p.changedAt !== next.changedAt || p.shownAt !== next.shownAt || p.catalogue !== next.catalogue;
  }

  override render() {
    return <Row {...this.props} />;
  }
}

/** Holds the row order while a pointer is pressed on the board; re-renders once it is released. */
function usePressHold(): { pressed: { current: boolean }; onPointerDown: () => void } {
  const pressed = useRef(false);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    const release = (): void => {
      if (!pressed.current) return;
      pressed.current = false;
      window.clearTimeout(timer.current);
      // After the click event of this release has been dispatched.
      window.setTimeout(rerender, 0);
    };
    window.addEventListener('pointerup', release, true);
    window.addEventListener('pointercancel', release, true);
    window.addEventListener('blur', release);
    return () => {
      window.removeEventListener('pointerup', release, true);
      window.removeEventListener('pointercancel', release, true);
      window.removeEventListener('blur', release);
    };
  }, []);
  const onPointerDown = (): void => {
    pressed.current = true;
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => window.dispatchEvent(new Event('pointercancel')), HOLD_MAX_MS);
  };
  return { pressed, onPointerDown };
}

/** The rows to show, in board order, or in the order last shown while a pointer is pressed. */
function useOrder(store: ConsoleStore, filters: Filters, pressed: { current: boolean }): Incident[] {
  const last = useRef<Incident[]>([]);
  const visible = [...store.incidents.values()].filter((i) => matches(filters, i)).sort((a, b) => compare(store.catalogue, a, b));
  let rows = visible;
  if (pressed.current) {
    // Same rows in the same places (updated in place); new ones wait until the release: even
    // appended below, a new row can widen a table column and move the button under the pointer.
    const byId = new Map(visible.map((i) => [i.id, i]));
    rows = last.current.map((old) => byId.get(old.id) ?? old);
  }
  useLayoutEffect(() => {
    last.current = rows;
  });
  return rows;
}

export function Board({ store, filters, now, ask, open }: { store: ConsoleStore; filters: Filters; now: number; ask: Ask; open: (id: number) => void }) {
  const { pressed, onPointerDown } = usePressHold();
  const rows = useOrder(store, filters, pressed);
  return (
    <>
      <table id="incidents" onPointerDown={onPointerDown}>
        <thead>
          <tr>
            <th>{t('col.level')}</th>
            <th>{t('col.type')}</th>
            <th>{t('col.place')}</th>
            <th>{t('col.status')}</th>
            <th>{t('col.since')}</th>
            <th>{t('col.deadline')}</th>
            <th>{t('col.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((i) => (
            <BoardRow key={i.id} catalogue={store.catalogue} incident={i} shownAt={store.shownAt.get(i.id) ?? now} changedAt={store.changedAt.get(i.id) ?? 0} now={now} ask={ask} open={open} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? <p id="empty">{t('empty')}</p> : null}
    </>
  );
}
