// The Grafana dashboard must keep up with the code: every panel uses a provisioned datasource,
// every Prometheus metric it charts is one the cloud registers, and every telemetry point it
// charts is a point of some firmware profile, in the measurement the cloud writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { MEASUREMENT } from '../../cloud/src/telemetry/influx.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const GRAFANA = join(ROOT, 'deploy', 'grafana');

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr?: string; query?: string; datasource?: { uid: string } }[];
}

const provisioned = parse(readFileSync(join(GRAFANA, 'provisioning', 'datasources', 'gridwatch.yaml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
const dashboards = readdirSync(join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json'));
const cloudMetricsSource = readFileSync(join(ROOT, 'cloud', 'src', 'metrics.ts'), 'utf8');
const profilePoints = new Set([...loadProfiles().profiles.values()].flatMap((p) => p.profile.points.map((point) => point.name)));

test('there is a dashboard, and provisioning points Grafana at it', () => {
  assert.ok(dashboards.length > 0);
  const providers = parse(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'gridwatch.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
  assert.equal(providers.providers[0]?.options.path, '/var/lib/grafana/dashboards');
  const compose = readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8');
  assert.match(compose, /deploy\/grafana\/dashboards:\/var\/lib\/grafana\/dashboards/);
  assert.match(compose, /deploy\/grafana\/provisioning:\/etc\/grafana\/provisioning/);
});

for (const file of dashboards) {
  const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', file), 'utf8')) as { uid: string; panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  test(`${file}: every panel uses a provisioned datasource`, () => {
    const uids = new Set(provisioned.datasources.map((d) => d.uid));
    for (const panel of panels) {
      assert.ok(panel.datasource && uids.has(panel.datasource.uid), `${panel.title}: datasource ${panel.datasource?.uid}`);
      for (const target of panel.targets ?? []) assert.ok(target.datasource && uids.has(target.datasource.uid), `${panel.title}: target datasource`);
    }
  });

  test(`${file}: every Prometheus metric is registered by the cloud`, () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr).filter((e): e is string => typeof e === 'string'));
    assert.ok(exprs.length > 0);
    for (const expr of exprs) {
      for (const metric of expr.match(/gridwatch_[a-z_]+/g) ?? []) {
        const base = metric.replace(/_(bucket|sum|count)$/, '');
        assert.ok(cloudMetricsSource.includes(`'${base}'`), `${metric} in "${expr}" is not a cloud metric`);
      }
    }
  });

  test(`${file}: every telemetry query reads a real profile point from the cloud's measurement`, () => {
    const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => t.query).filter((q): q is string => typeof q === 'string'));
    assert.ok(queries.length > 0);
    for (const query of queries) {
      assert.match(query, new RegExp(`r\\._measurement == "${MEASUREMENT}"`));
      const point = /r\.point == "([a-z0-9_]+)"/.exec(query)?.[1];
      assert.ok(point && profilePoints.has(point), `point ${point} is in no firmware profile`);
    }
  });
}
