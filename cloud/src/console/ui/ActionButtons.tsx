// Keyed action buttons: a button stays the same element while its action stays allowed, so a live
// update never replaces the button under the pointer (issue #13: clicks were lost).
import { t } from './i18n.ts';
import { actionsFor } from './board-model.ts';
import type { Catalogue, Incident } from './types.ts';

export type Ask = (id: number, action: string) => void;

export function ActionButtons({ catalogue, incident, ask }: { catalogue: Catalogue; incident: Incident; ask: Ask }) {
  return (
    <>
      {actionsFor(catalogue, incident).map((action) => (
        <button
          key={action}
          type="button"
          data-action={action}
          class={`act act-${action}`}
          onClick={(e) => {
            e.stopPropagation();
            ask(incident.id, action);
          }}
        >
          {t(`action.${action}`)}
        </button>
      ))}
    </>
  );
}
