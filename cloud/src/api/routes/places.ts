// Display names of jurisdictions (grid, community, street, district codes), imported with the
// address book: what the console shows instead of codes.
import { Type } from '@sinclair/typebox';
import { listJurisdictions } from '../../routing/directory.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';

const JurisdictionSchema = Type.Object(
  { tier: Type.Union([Type.Literal('grid'), Type.Literal('community'), Type.Literal('street'), Type.Literal('district')]), code: Type.String(), name: Type.String() },
  { $id: 'Jurisdiction' },
);

const jurisdictions = defineRoute({
  method: 'get',
  path: '/api/v1/jurisdictions',
  tag: 'admin',
  summary: 'Display names of grids, communities, streets and districts (from the address book import)',
  access: 'public',
  ok: { status: 200, description: 'By tier and code', schema: Type.Object({ jurisdictions: Type.Array(JurisdictionSchema) }) },
  async handler({ deps }) {
    return { json: { jurisdictions: await listJurisdictions(deps.store) } };
  },
});

export const placeRoutes: ApiRoute[] = [jurisdictions];
