#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME.bench.ts. A benchmark's last lines are one JSON object per
// figure: {"bench":NAME,"metric":…,"value":…,"unit":…}. Without a name, lists the benchmarks.
//
// The benchmark is bundled with esbuild first and run on plain Node, as production runs the
// bundled agent and cloud: tsx's on-the-fly compiler would add its own time and ~60 MB of memory
// to every figure. npm packages stay external; our workspaces are bundled, with import.meta
// pinned to each source file so paths relative to the sources still resolve.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench');
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

const keepSourcePaths = {
  name: 'keep-source-paths',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@gridwatch/') ? undefined : { path: args.path, external: true }));
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents: source, loader: 'ts' };
    });
  },
};
const outDir = join(root, 'node_modules', '.cache', 'gridwatch-bench');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `${name}.mjs`);
await build({ entryPoints: [join(dir, `${name}.bench.ts`)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', plugins: [keepSourcePaths], logLevel: 'warning' });
// A bench may run with the Node options its app is deployed with: `// node-options: …` in its source.
const declared = /^\/\/ node-options: (.+)$/m.exec(readFileSync(join(dir, `${name}.bench.ts`), 'utf8'))?.[1]?.split(' ') ?? [];
const result = spawnSync(process.execPath, ['--expose-gc', ...declared, outfile, ...rest], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
