#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME.bench.ts. A benchmark's last lines are one JSON object per
// figure: {"bench":NAME,"metric":…,"value":…,"unit":…}. Without a name, lists the benchmarks.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = new URL('../bench/', import.meta.url).pathname;
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(`usage: npm run bench -- NAME [args]\n\nbenchmarks:\n${names.map((n) => `  ${n}`).join('\n')}`);
  process.exit(name ? 0 : 2);
}
if (!names.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${names.join(', ')}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `${dir}${name}.bench.ts`, ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);
