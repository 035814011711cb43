// Shelved incidents (搁置, CONTRACTS.md): off the board until their time, listed below it with the
// reason and the end time, and unshelve at hand.
import { getLang, t, typeName } from './i18n.ts';
import { placeText } from './board-model.ts';
import { ActionButtons, type Ask } from './ActionButtons.tsx';
import type { ConsoleStore } from './store.ts';

export function Shelved({ store, ask, open }: { store: ConsoleStore; ask: Ask; open: (id: number) => void }) {
  const items = [...store.shelved.values()].sort((a, b) => String(a.shelvedUntil).localeCompare(String(b.shelvedUntil)));
  if (!items.length) return null;
  return (
    <details id="shelved" open>
      <summary>
        {t('shelved.title')} ({items.length})
      </summary>
      <ul>
        {items.map((i) => (
          <li key={i.id} data-id={String(i.id)} onClick={() => open(i.id)}>
            <span class={`badge level-${i.level}`}>{t('level', { n: i.level })}</span> {typeName(i.alarmType)} · {placeText(i)} ·{' '}
            <span class="muted">
              {t('shelved.until', { t: new Date(String(i.shelvedUntil)).toLocaleString(getLang()) })}
              {i.shelvedReason ? ` · ${i.shelvedReason}` : ''}
            </span>
            <span class="actions">
              <ActionButtons catalogue={store.catalogue} incident={i} ask={ask} />
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}
