// The overview (last 30 days) and the alarm KPIs (last 24 hours, with the CSV export) of the
// caller's jurisdictions.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { http } from './api.ts';
import { duration, t, typeName } from './i18n.ts';
import type { AlarmKpis, Overview } from './types.ts';

const percent = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);

export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: string } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let current = true;
    load().then(
      (d) => current && setData(d),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, deps);
  return { data, error };
}

export function Rows({ rows }: { rows: (string | number)[][] }) {
  if (!rows.length) return <p class="muted">{t('detail.none')}</p>;
  return (
    <table class="mini">
      <tbody>
        {rows.map((r, k) => (
          <tr key={k}>
            {r.map((c, j) => (
              <td key={j}>{String(c)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Card({ title, children, cls = '' }: { title: string; children: ComponentChildren; cls?: string }) {
  return (
    <div class={`card ${cls}`}>
      <h3>{title}</h3>
      {children}
    </div>
  );
}

export function OverviewPage({ now }: { now: number }) {
  const { data: o, error } = useLoad<Overview>(() => http.overview());
  if (error) return <p class="error">{t('error', { m: error })}</p>;
  if (!o) return <p class="muted">{t('loading')}</p>;
  const ack = o.level1AckWithin5Min;
  return (
    <>
      <p class="muted">{t('ov.period')}</p>
      <div class="cards">
        <Card title={t('ov.onTime')}>
          <p class="big">{percent(o.onTimeRate)}</p>
        </Card>
        <Card title={t('ov.ack5')} cls={ack !== null && ack < o.level1AckTarget ? 'below' : ''}>
          <p class="big">{percent(ack)}</p>
          <p class="muted">{t('ov.target', { p: percent(o.level1AckTarget) })}</p>
        </Card>
        <Card title={t('ov.byLevel')}>
          <Rows rows={Object.entries(o.byLevel).map(([k, v]) => [t('level', { n: k }), v])} />
        </Card>
        <Card title={t('ov.byStatus')}>
          <Rows rows={Object.entries(o.byStatus).map(([k, v]) => [t(`status.${k}`), v])} />
        </Card>
        <Card title={t('ov.falseAlarms')}>
          <Rows rows={o.falseAlarmsByDevice.map((f) => [`${f.gatewayId} / ${f.deviceId}`, f.count])} />
        </Card>
        <Card title={t('ov.offlineGw')}>
          <Rows rows={o.offlineGateways.map((g) => [g.gatewayId, g.site, g.lastSeenAt ? duration(now - g.lastSeenAt) : '—'])} />
        </Card>
        <Card title={t('ov.offlineDev')}>
          <Rows rows={o.offlineDevices.map((d) => [`${d.gatewayId} / ${d.deviceId}`, duration(now - d.since)])} />
        </Card>
      </div>
    </>
  );
}

export function KpiPage({ communityName }: { communityName: (code: string) => string }) {
  const { data: k, error } = useLoad<AlarmKpis>(() => http.kpis());
  if (error) return <p class="error">{t('error', { m: error })}</p>;
  if (!k) return <p class="muted">{t('loading')}</p>;
  return (
    <>
      <p class="muted">
        {t('kpi.period')} ·{' '}
        <a id="kpi-csv" href={`/api/v1/alarm-kpis/csv?from=${k.fromMs}&to=${k.toMs}`} download="alarm-kpis.csv">
          {t('kpi.csv')}
        </a>
      </p>
      <div class="cards">
        <Card title={t('kpi.jurisdiction')}>
          <Rows
            rows={[
              [t('kpi.jurisdiction'), t('kpi.items'), t('kpi.per10'), t('kpi.worst10'), t('kpi.flood')],
              ...k.jurisdictions.map((j) => [communityName(j.community), j.items, j.perTenMinutes.toFixed(1), j.worstTenMinutes, `${j.floodPercent.toFixed(1)} %`]),
            ]}
          />
        </Card>
        <Card title={t('kpi.topSources')}>
          <Rows rows={k.topSources.map((s) => [`${s.gatewayId} / ${s.deviceId}`, typeName(s.alarmType), s.raises])} />
        </Card>
        <Card title={t('kpi.chattering')}>
          <p class="big">{k.chattering}</p>
        </Card>
        <Card title={t('kpi.stale')}>
          <p class="big">{k.stale}</p>
        </Card>
        <Card title={t('kpi.falseAlarms')}>
          <Rows rows={k.falseAlarms.map((f) => [`${f.gatewayId} / ${f.deviceId}`, f.day, f.count, f.review ? t('kpi.review') : ''])} />
        </Card>
      </div>
    </>
  );
}
