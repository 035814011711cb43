// The console's types come from the server's own modules (type-only imports: erased from the
// browser bundle), never copied.
import type { AuditEntry as ServerAuditEntry, Incident as ServerIncident } from '../../incidents/incident.ts';
import type { DeadlineView, IncidentContext, Overview } from '../queries.ts';
import type { Catalogue } from '../../api/routes/catalogue.ts';
import type { AlarmKpis } from '../../incidents/kpis.ts';
import type { Unit } from '../../routing/directory.ts';
import type { publicUser } from '../../api/routes/auth.ts';

export type { Catalogue, DeadlineView, IncidentContext, Overview, AlarmKpis, Unit };

export type Params = Record<string, string | number>;

/** An incident as the board holds it: the server's Incident with its pending deadlines (the list's `deadlines=pending`). */
export type Incident = ServerIncident & { deadlines?: DeadlineView[] };

export type AuditEntry = ServerAuditEntry;

export type User = ReturnType<typeof publicUser>;

export interface Jurisdiction {
  tier: 'grid' | 'community' | 'street' | 'district';
  code: string;
  name: string;
}

/** GET /api/v1/handover (CONTRACTS.md, codes helper). */
export interface Handover {
  since: string;
  open: Incident[];
  overdue: Incident[];
  happened: { raised: number; resolved: number; falseAlarms: number; escalations: number; byType: { type: string; count: number }[] };
  audit: (AuditEntry & { incidentId?: number })[];
}

export type Lang = 'zh-CN' | 'en';
