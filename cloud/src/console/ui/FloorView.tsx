// A schematic of the building: one band per floor up to the alarm's floor + 2, the room marked.
import { getLang, t } from './i18n.ts';
import type { IncidentContext } from './types.ts';

type Address = NonNullable<IncidentContext['address']>;

export function FloorView({ address }: { address: Address }) {
  const floor = parseInt(address.floor, 10);
  const floors = Number.isFinite(floor) ? Math.max(floor + 2, 3) : 3;
  const h = 26;
  const bands = Array.from({ length: floors }, (_, k) => k + 1);
  return (
    <svg class="floor" viewBox={`0 0 260 ${floors * h + 30}`} role="img">
      <text x={40} y={13} class="label">
        {address.building + (address.unit ? ` · ${t('addr.unit')} ${address.unit}` : '')}
      </text>
      {bands.map((f) => {
        const y = (floors - f) * h + 20;
        const hit = f === floor;
        return (
          <g key={f}>
            <rect x={40} y={y} width={200} height={h - 2} class={hit ? 'hit-floor' : 'storey'} />
            <text x={8} y={y + 17} class="label">
              {f + (getLang() === 'zh-CN' ? '层' : 'F')}
            </text>
            {hit ? <rect x={150} y={y + 3} width={80} height={h - 8} class="hit-room" /> : null}
            {hit ? (
              <text x={156} y={y + 17} class="room-label">
                {address.room || '?'}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
