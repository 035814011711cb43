// The history: incidents raised in a time range (closed ones included), with the board's filters
// and the search sent to the server (GET /api/v1/incidents from/to/level/status/type/grid/q).
import { useState } from 'preact/hooks';
import { http, type IncidentQuery } from './api.ts';
import { getLang, t, typeName } from './i18n.ts';
import { placeText, statusText, type Filters } from './board-model.ts';
import { FiltersBar } from './FiltersBar.tsx';
import { useLoad } from './Pages.tsx';
import type { Catalogue, Incident, Jurisdiction } from './types.ts';

/** A datetime-local value (the browser's time zone) for an epoch ms. */
function local(ms: number): string {
  const d = new Date(ms);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function toQuery(filters: Filters, from: string, to: string): IncidentQuery {
  return {
    ...(filters.level ? { level: [Number(filters.level)] } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.type ? { type: filters.type } : {}),
    ...(filters.grid ? { grid: filters.grid } : {}),
    ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    limit: 500,
  };
}

interface Props {
  catalogue: Catalogue;
  grids: Jurisdiction[];
  filters: Filters;
  setFilters: (f: Filters) => void;
  open: (id: number) => void;
}

export function HistoryPage({ catalogue, grids, filters, setFilters, open }: Props) {
  const [from, setFrom] = useState(local(Date.now() - 7 * 86400_000));
  const [to, setTo] = useState(local(Date.now() + 60_000));
  const [asked, setAsked] = useState(0);
  const { data, error } = useLoad<{ incidents: Incident[] }>(() => http.incidents(toQuery(filters, from, to)), [asked, filters]);
  return (
    <>
      <form
        class="range"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(asked + 1);
        }}
      >
        <label>
          <span>{t('history.from')}</span>
          <input id="history-from" type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          <span>{t('history.to')}</span>
          <input id="history-to" type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" id="history-load">
          {t('history.load')}
        </button>
      </form>
      <FiltersBar catalogue={catalogue} grids={grids} value={filters} onChange={setFilters} />
      {error ? <p class="error">{t('error', { m: error })}</p> : null}
      {data ? <p class="muted">{t('history.count', { n: data.incidents.length })}</p> : null}
      <table id="history">
        <tbody>
          {(data?.incidents ?? []).map((i) => (
            <tr key={i.id} data-id={String(i.id)} class={`row level-row-${i.level}`} onClick={() => open(i.id)}>
              <td>
                <span class={`badge level-${i.level}`}>{t('level', { n: i.level })}</span>
              </td>
              <td class="type">{typeName(i.alarmType)}</td>
              <td class="place">{placeText(i)}</td>
              <td class={`status status-${i.status}`}>{statusText(i)}</td>
              <td>{new Date(i.raisedAt).toLocaleString(getLang())}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
