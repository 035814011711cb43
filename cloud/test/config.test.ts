import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DEFAULT_CONFIG, configFromEnv, envName, resolveConfig } from '../src/config.ts';

test('defaults, env names and validation naming the field', () => {
  assert.deepEqual(resolveConfig(), DEFAULT_CONFIG);
  assert.equal(envName('databaseUrl'), 'GRIDWATCH_DATABASE_URL');
  assert.deepEqual(configFromEnv({ GRIDWATCH_HTTP_PORT: '0', GRIDWATCH_LOG_LEVEL: 'warn', OTHER: 'x' }), { httpPort: '0', logLevel: 'warn' });
  assert.equal(resolveConfig({ httpPort: '0' }).httpPort, 0);
  assert.throws(() => resolveConfig({ httpPort: 70000 }), (e: Error) => e instanceof ConfigError && e.message.startsWith('httpPort:'));
  assert.throws(() => resolveConfig({ logLevel: 'loud' }), /^ConfigError: logLevel:/);
  assert.throws(() => resolveConfig({ databaseUrl: 'mysql://x' }), /^ConfigError: databaseUrl:/);
  assert.throws(() => resolveConfig({ brokerUrl: 'mqtt://broker:1883' }), /^ConfigError: ingestUsername:/);
  assert.throws(() => resolveConfig({ httpPrt: 1 } as never), /^ConfigError: httpPrt: unknown/);
});

test('exposure: a non-loopback httpHost needs open access off and an admin token; loopback needs neither', async () => {
  const { exposureProblem, isLoopback } = await import('../src/config.ts');
  assert.equal(exposureProblem(resolveConfig()), null, 'the loopback demo');
  assert.match(exposureProblem(resolveConfig({ httpHost: '0.0.0.0' })) ?? '', /--open-access false/);
  assert.match(exposureProblem(resolveConfig({ httpHost: '0.0.0.0', openAccess: false })) ?? '', /--admin-token-file/);
  assert.equal(exposureProblem(resolveConfig({ httpHost: '0.0.0.0', openAccess: false, adminToken: 'a-token' })), null);
  assert.deepEqual(['127.0.0.1', '127.8.0.1', '::1', 'localhost', '0.0.0.0', '10.0.0.1'].map(isLoopback), [true, true, true, true, false, false]);
  assert.throws(() => resolveConfig({ gatewayPepper: 'short' }), /^ConfigError: gatewayPepper: at least 32/);
  assert.throws(() => resolveConfig({ mqttsPort: 8883 }), /^ConfigError: mqttsPort: needs tlsCert and tlsKey/);
  assert.throws(() => resolveConfig({ dynsecUsername: 'admin' }), /^ConfigError: dynsecUsername: needs brokerUrl/);
});
