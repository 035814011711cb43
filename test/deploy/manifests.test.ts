// Every compose and cluster manifest is parsed and checked for unknown keys: compose by Debian's
// docker-compose v1 `config`, Kubernetes objects against the official client's models. Each
// check is also shown to fail on a planted typo, so a green run means something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { checkManifest } from '../support/k8s-schema.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLUSTER = join(ROOT, 'deploy', 'cluster');
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
// In CI docker-compose is installed by .ci/run; elsewhere the compose checks may be skipped.
const composeSkip = !hasCompose && !process.env.CI ? 'docker-compose (v1) is not installed' : false;

function documents(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS() as Record<string, unknown>;
  });
}

function composeConfig(file: string): { status: number | null; output: string } {
  const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('docker/compose.yaml passes docker-compose config', { skip: composeSkip }, () => {
  const result = composeConfig(join(ROOT, 'docker', 'compose.yaml'));
  assert.equal(result.status, 0, result.output);
});

test('docker-compose config fails on an unknown key (the check can fail)', { skip: composeSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridwatch-compose-'));
  try {
    mkdirSync(join(dir, 'docker'));
    const text = readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8').replace('  postgres:\n', '  postgres:\n    restart_polcy: always\n');
    writeFileSync(join(dir, 'docker', 'compose.yaml'), text);
    copyFileSync(join(ROOT, 'docker', 'edge-sim.yaml'), join(dir, 'docker', 'edge-sim.yaml'));
    const result = composeConfig(join(dir, 'docker', 'compose.yaml'));
    assert.notEqual(result.status, 0);
    assert.match(result.output, /restart_polcy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the compose stack has every part the deployment needs, and its mounted files exist', () => {
  const [compose] = documents(join(ROOT, 'docker', 'compose.yaml')) as [{ services: Record<string, { volumes?: string[] }> }];
  for (const service of ['gridwatch-cloud', 'emqx', 'postgres', 'influxdb', 'grafana', 'node-red', 'edge-sim', 'device-sim', 'prometheus']) {
    assert.ok(compose.services[service], `service ${service} is missing`);
  }
  for (const [name, service] of Object.entries(compose.services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) assert.ok(existsSync(join(ROOT, 'docker', source)), `${name}: mounted ${source} does not exist`);
    }
  }
});

const manifestFiles = readdirSync(CLUSTER).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');

for (const file of manifestFiles) {
  test(`deploy/cluster/${file}: every object is a known kind without unknown fields`, () => {
    for (const document of documents(join(CLUSTER, file))) {
      assert.deepEqual(checkManifest(document), [], `${file}: ${String(document.kind)} ${JSON.stringify((document.metadata as { name?: string })?.name)}`);
    }
  });
}

test('the manifest check finds planted typos and unknown kinds', () => {
  const [deployment] = documents(join(CLUSTER, 'cloud.yaml')).filter((d) => d.kind === 'Deployment');
  const broken = structuredClone(deployment!) as { spec: { replica?: number; template: { spec: { containers: Record<string, unknown>[] } } } };
  broken.spec.replica = 2;
  broken.spec.template.spec.containers[0]!.imagePullPolicyy = 'Always';
  broken.spec.template.spec.containers[0]!.ports = 'http';
  const problems = checkManifest(broken as unknown as Record<string, unknown>);
  assert.ok(problems.includes('Deployment.spec.replica: unknown field'), problems.join('\n'));
  assert.ok(problems.includes('Deployment.spec.template.spec.containers[0].imagePullPolicyy: unknown field'), problems.join('\n'));
  assert.ok(problems.includes('Deployment.spec.template.spec.containers[0].ports: expected a list'), problems.join('\n'));
  assert.match(checkManifest({ apiVersion: 'apps.emqx.io/v2beta1', kind: 'EMQX' })[0] ?? '', /not a built-in Kubernetes kind/);
});

test('kustomization lists every manifest; EMQX config in the ConfigMap equals deploy/emqx/emqx.conf', () => {
  const [kustomization] = documents(join(CLUSTER, 'kustomization.yaml')) as [{ resources: string[]; [key: string]: unknown }];
  assert.deepEqual(Object.keys(kustomization).sort(), ['apiVersion', 'kind', 'resources']);
  assert.deepEqual([...kustomization.resources].sort(), [...manifestFiles].sort());
  const configMap = documents(join(CLUSTER, 'emqx.yaml')).find((d) => d.kind === 'ConfigMap') as { data: { 'emqx.conf': string } };
  assert.equal(configMap.data['emqx.conf'].trim(), readFileSync(join(ROOT, 'deploy', 'emqx', 'emqx.conf'), 'utf8').trim());
});

test('the cloud Deployment runs several non-root replicas with probes on /healthz', () => {
  const deployment = documents(join(CLUSTER, 'cloud.yaml')).find((d) => d.kind === 'Deployment') as {
    spec: { replicas: number; template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: { readinessProbe: { httpGet: { path: string } }; env: { name: string; value?: string }[] }[] } } };
  };
  assert.ok(deployment.spec.replicas >= 2);
  assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
  const [container] = deployment.spec.template.spec.containers;
  assert.equal(container!.readinessProbe.httpGet.path, '/healthz');
  assert.equal(container!.env.find((e) => e.name === 'GRIDWATCH_BROKER_URL')?.value, 'mqtt://emqx-internal:1883');
});
