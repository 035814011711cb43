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
