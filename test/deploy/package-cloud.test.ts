// The cloud package the image ships (`npm run package -- cloud`) runs on plain Node without tsx:
// migrations from dist/, the console from console/public, PGlite from node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageApp } from '../../scripts/package.ts';

test('the packaged cloud serves /healthz and the console from its bundle', async () => {
  const work = mkdtempSync(join(tmpdir(), 'gridwatch-pkg-cloud-'));
  try {
    const pkg = join(work, 'cloud');
    await packageApp('cloud', pkg, { withNodeModules: true });
    const child = spawn(process.execPath, [join(pkg, 'dist', 'gridwatch-cloud.mjs'), 'serve', '--http-port', '0', '--mqtt-port', '0', '--data-dir', join(work, 'data')], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const ready = await new Promise<{ httpUrl: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the packaged cloud did not log "cloud ready" within 60 s')), 60_000);
        child.once('exit', (code) => reject(new Error(`the packaged cloud exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (!line.includes('"cloud ready"')) return;
          clearTimeout(timer);
          resolve(JSON.parse(line) as { httpUrl: string });
        });
      });
      const health = await fetch(`${ready.httpUrl}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok', db: 'ok', broker: 'ok' });
      const page = await fetch(`${ready.httpUrl}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /GridWatch/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
