// The two InfluxDB write APIs, behind the one @influxdata/influxdb-client write pipeline:
// - v2: `POST /api/v2/write?org=&bucket=&precision=` with `Authorization: Token …` (InfluxDB 2/3,
//   InfluxDB 1.8+, VictoriaMetrics); what the client speaks natively.
// - v1: `POST /write?db=&rp=&precision=` (InfluxDB 1.x, also before 1.8, VictoriaMetrics). The client
//   has no v1 mode, so a Transport wrapper (the client's documented extension point) rewrites the
//   path of each write request; batching, retries and back-off stay the client's.
import { InfluxDB, type Transport } from '@influxdata/influxdb-client';

export const INFLUX_APIS = ['v2', 'v1'] as const;
export type InfluxApi = (typeof INFLUX_APIS)[number];

export interface WriteTarget {
  api: InfluxApi;
  url: string;
  /** v2: the API token. v1: `user:password` (sent as u/p parameters), or null without auth. */
  token: string | null;
  org: string;
  /** v2: the bucket. v1: `database` or `database/retention-policy` (InfluxDB 1.8's mapping). */
  bucket: string;
}

/** `/write?db=…` for a v2 write path the client built (`/api/v2/write?org=…&bucket=…&precision=…`). */
export function v1WritePath(v2Path: string, bucket: string, token: string | null): string {
  const v2 = new URL(v2Path, 'http://placeholder');
  const [db = bucket, rp] = bucket.split('/');
  const params = new URLSearchParams({ db });
  if (rp) params.set('rp', rp);
  const precision = v2.searchParams.get('precision');
  if (precision) params.set('precision', precision);
  if (token !== null) {
    const colon = token.indexOf(':');
    params.set('u', colon < 0 ? token : token.slice(0, colon));
    if (colon >= 0) params.set('p', token.slice(colon + 1));
  }
  return `/write?${params}`;
}

function v1Transport(inner: Transport, target: WriteTarget): Transport {
  const rewrite = (p: string): string => (p.startsWith('/api/v2/write') ? v1WritePath(p, target.bucket, target.token) : p);
  return {
    send: (p, body, options, callbacks) => inner.send(rewrite(p), body, options, callbacks),
    request: (p, body, options, started) => inner.request(rewrite(p), body, options, started) as Promise<unknown>,
    iterate: (p, body, options) => inner.iterate(rewrite(p), body, options),
    chunkCombiner: inner.chunkCombiner,
  };
}

export function createClient(target: WriteTarget, timeoutMs: number): InfluxDB {
  if (target.api === 'v2') return new InfluxDB({ url: target.url, token: target.token ?? undefined, timeout: timeoutMs });
  // v1 credentials go in the query string; no Token header (1.x before 1.8 rejects that scheme).
  const base = new InfluxDB({ url: target.url, timeout: timeoutMs });
  return new InfluxDB({ url: target.url, timeout: timeoutMs, transport: v1Transport(base.transport, target) });
}
