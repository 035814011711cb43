// Filters of the board (level, status, type, grid) and the search box (text address, place name,
// device). The board filters the live list in the page; the history sends the same to the server.
import { t, typeName } from './i18n.ts';
import { NO_FILTERS, type Filters } from './board-model.ts';
import type { Catalogue, Jurisdiction } from './types.ts';

interface Props {
  catalogue: Catalogue;
  grids: Jurisdiction[];
  value: Filters;
  onChange: (f: Filters) => void;
}

function Select({ name, value, options, onChange }: { name: keyof Filters; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <label class="filter">
      <span>{t(`filter.${name}`)}</span>
      <select name={name} data-filter={name} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{t('filter.all')}</option>
        {options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function FiltersBar({ catalogue, grids, value, onChange }: Props) {
  const set = (key: keyof Filters) => (v: string) => onChange({ ...value, [key]: v });
  const levels: [string, string][] = [1, 2, 3, 4, 5].map((n) => [String(n), t('level', { n })]);
  const statuses: [string, string][] = catalogue.lifecycle.statuses.map((s) => [s, t(`status.${s}`)]);
  const types: [string, string][] = catalogue.alarmTypes.map((a): [string, string] => [a.code, typeName(a.code)]).sort((a, b) => a[1].localeCompare(b[1]));
  const gridOptions: [string, string][] = grids.filter((g) => g.tier === 'grid').map((g) => [g.code, g.name]);
  const active = JSON.stringify(value) !== JSON.stringify(NO_FILTERS);
  return (
    <div class="filters" role="search">
      <input
        type="search"
        id="search"
        value={value.q}
        placeholder={t('filter.search')}
        aria-label={t('filter.search')}
        onInput={(e) => onChange({ ...value, q: (e.target as HTMLInputElement).value })}
      />
      <Select name="level" value={value.level} options={levels} onChange={set('level')} />
      <Select name="status" value={value.status} options={statuses} onChange={set('status')} />
      <Select name="type" value={value.type} options={types} onChange={set('type')} />
      {gridOptions.length > 1 ? <Select name="grid" value={value.grid} options={gridOptions} onChange={set('grid')} /> : null}
      {active ? (
        <button type="button" class="clear" onClick={() => onChange(NO_FILTERS)}>
          {t('filter.clear')}
        </button>
      ) : null}
    </div>
  );
}
