// Administration (Bearer admin token when one is configured): address book, units and routing
// rules from CSV, the unit list, and what ingest refused.
import { Type } from '@sinclair/typebox';
import { listDeadLetters } from '../../ingest/dead-letters.ts';
import { CsvError } from '../../routing/csv.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv, listUnits } from '../../routing/directory.ts';
import type { Queryable } from '../../store/store.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { badRequest } from '../errors.ts';
import { UnitSchema } from '../schemas.ts';

const Imported = Type.Object({ imported: Type.Integer({ description: 'Rows imported' }) }, { $id: 'Imported' });

function importRoute(path: string, columns: string, load: (tx: Queryable, csv: string) => Promise<number>): ApiRoute {
  return defineRoute({
    method: 'post',
    path,
    tag: 'admin',
    summary: `Import from CSV (columns: ${columns})`,
    access: 'admin',
    csv: true,
    ok: { status: 200, description: 'Imported', schema: Imported },
    async handler({ body, deps }) {
      if (typeof body !== 'string' || body === '') throw badRequest('body: expected CSV text (Content-Type: text/csv)');
      try {
        return { json: { imported: await deps.store.transaction((tx) => load(tx, body)) } };
      } catch (err) {
        if (err instanceof CsvError) throw badRequest(err.message);
        throw err;
      }
    },
  });
}

const units = defineRoute({
  method: 'get',
  path: '/api/v1/units',
  tag: 'admin',
  summary: 'Units and their jurisdiction',
  access: 'reader',
  ok: { status: 200, description: 'Units by tier and area', schema: Type.Object({ units: Type.Array(UnitSchema) }) },
  async handler({ deps }) {
    return { json: { units: await listUnits(deps.store) } };
  },
});

const deadLetters = defineRoute({
  method: 'get',
  path: '/api/v1/dead-letters',
  tag: 'admin',
  summary: 'Messages ingest refused, with the reason (newest 200)',
  access: 'admin',
  ok: {
    status: 200,
    description: 'Dead letters, newest first',
    schema: Type.Object({
      deadLetters: Type.Array(
        Type.Object({
          id: Type.Integer(),
          receivedAt: Type.String({ format: 'date-time' }),
          topic: Type.String(),
          gatewayId: Type.Union([Type.String(), Type.Null()]),
          eventId: Type.Union([Type.String(), Type.Null()]),
          reason: Type.String(),
        }),
      ),
    }),
  },
  async handler({ deps }) {
    return { json: { deadLetters: await listDeadLetters(deps.store) } };
  },
});

export const adminRoutes: ApiRoute[] = [
  importRoute('/api/v1/addresses/import', 'address_id, building, unit, floor, room, grid, community, street, district, lat, lon, address_text, place_name, contact_phone, grid_name, community_name, street_name, district_name (README: CSV formats)', importAddressesCsv),
  importRoute('/api/v1/units/import', 'id, name, type, tier, area', importUnitsCsv),
  importRoute('/api/v1/routing-rules/import', 'alarm_type, max_level, area_tier, area, tier, unit_type, priority — replaces the rules', importRulesCsv),
  units,
  deadLetters,
];
