// Golden cases: each `cases/config-errors/<slug>/config.yaml` must be refused with exactly the
// text in its `expected-error.txt` (file name as `config.yaml`). A case is named after the mistake
// it guards; add one by adding a folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { bindDevices, readConfigFile, resolveConfig } from '../src/index.ts';

const CASES = join(import.meta.dirname, 'cases', 'config-errors');

function errorOf(dir: string): string {
  try {
    const config = resolveConfig(readConfigFile(join(dir, 'config.yaml')), 'config.yaml', dir);
    bindDevices(config, loadProfiles(config.profilesDir));
  } catch (err) {
    return (err as Error).message;
  }
  return '(accepted)';
}

const slugs = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
assert.ok(slugs.length >= 5, 'config error cases are missing');

for (const slug of slugs) {
  test(`config error: ${slug}`, () => {
    const dir = join(CASES, slug);
    assert.equal(errorOf(dir), readFileSync(join(dir, 'expected-error.txt'), 'utf8').trimEnd());
  });
}
