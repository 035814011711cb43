// `npm run package -- edge|cloud [--out DIR]`: a deployable folder for a Pi, an image or a host.
// Our TypeScript (every workspace) is bundled by esbuild into dist/gridwatch-<app>.mjs; npm
// dependencies stay external and are listed in the folder's package.json, so `npm ci --omit=dev`
// (or the copied node_modules) brings native modules built for the target's architecture.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { build } from 'esbuild';
import { buildConsole } from '../cloud/src/console/bundle.ts';

const ROOT = resolve(import.meta.dirname, '..');
const APPS = {
  // The edge package also carries the device simulators, for demo gateways and commissioning drills.
  // `bin` names the bundle file; `commands` are the installed command names, the same as a checkout's
  // `npx` names (edge/, cloud/, sim/ package.json "bin").
  edge: {
    workspaces: ['edge', 'protocol', 'firmware-profiles', 'sim'],
    bin: 'gridwatch-edge',
    extraEntries: { 'gridwatch-sim': 'sim/src/cli.ts' },
    commands: { gridwatch: 'gridwatch-edge', 'gridwatch-sim': 'gridwatch-sim' },
  },
  // The telemetry worker thread's own bundle (cloud/src/telemetry/worker-pool.ts looks for it next to the cloud's).
  cloud: { workspaces: ['cloud', 'protocol', 'firmware-profiles'], bin: 'gridwatch-cloud', extraEntries: { 'telemetry-worker': 'cloud/src/telemetry/worker.ts' }, commands: { 'gridwatch-cloud': 'gridwatch-cloud' } },
} as const;
type App = keyof typeof APPS;

interface PackageJson {
  version: string;
  description?: string;
  dependencies?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** npm dependencies of the app's workspaces, without the workspaces themselves (those are bundled). */
export function externalDependencies(app: App): Record<string, string> {
  const deps: Record<string, string> = {};
  for (const ws of APPS[app].workspaces) {
    for (const [name, version] of Object.entries(readJson<PackageJson>(join(ROOT, ws, 'package.json')).dependencies ?? {})) {
      if (!name.startsWith('@gridwatch/')) deps[name] = version;
    }
  }
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

export async function packageApp(app: App, out: string, options: { withNodeModules: boolean }): Promise<void> {
  const { bin } = APPS[app];
  const manifest = readJson<PackageJson>(join(ROOT, app, 'package.json'));
  const dependencies = externalDependencies(app);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'dist'), { recursive: true });

  console.log(`[1/3] bundling ${app}/src/main.ts → ${out}/dist/${bin}.mjs`);
  const entries: Record<string, string> = { [bin]: join(ROOT, app, 'src', 'main.ts') };
  for (const [name, source] of Object.entries(APPS[app].extraEntries)) entries[name] = join(ROOT, source);
  await build({
    entryPoints: entries,
    outdir: join(out, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    // esbuild: the console's build tool, imported by cloud/src/console/bundle.ts only in a checkout.
    external: [...Object.keys(dependencies), 'esbuild'],
    logLevel: 'warning',
  });

  console.log('[2/3] copying assets and manifest');
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify({ name: `gridwatch-${app}`, version: manifest.version, description: manifest.description, private: true, type: 'module', license: 'Apache-2.0', engines: { node: '>=20.19' }, bin: Object.fromEntries(Object.entries(APPS[app].commands).map(([command, file]) => [command, `dist/${file}.mjs`])), dependencies }, null, 2)}\n`,
  );
  if (app === 'edge') cpSync(join(ROOT, 'firmware-profiles', 'profiles'), join(out, 'profiles'), { recursive: true });
  if (app === 'cloud') {
    cpSync(join(ROOT, 'cloud', 'src', 'store', 'migrations'), join(out, 'dist', 'migrations'), { recursive: true });
    // The console's browser bundle (Preact + esbuild), built here: a package has no sources to build from.
    await buildConsole(join(out, 'console'));
  }

  if (options.withNodeModules) {
    console.log('[3/3] copying this machine\'s node_modules for the external dependencies');
    copyDependencyTree(Object.keys(dependencies), join(out, 'node_modules'));
  } else {
    console.log('[3/3] skipped node_modules: run `npm install --omit=dev` in the folder on the target');
  }
  console.log(`packaged ${app} ${manifest.version} in ${out}`);
}

/** Copies the named packages and everything they depend on from the root node_modules. */
function copyDependencyTree(names: string[], target: string): void {
  const seen = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const source = join(ROOT, 'node_modules', name);
    if (!existsSync(source)) throw new Error(`${name} is not installed in ${ROOT}/node_modules: run npm ci first`);
    cpSync(source, join(target, name), { recursive: true, dereference: true });
    const manifest = readJson<PackageJson & { optionalDependencies?: Record<string, string> }>(join(source, 'package.json'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push(dep);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) {
      if (existsSync(join(ROOT, 'node_modules', dep))) queue.push(dep);
    }
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const program = new Command('npm run package --')
    .description('Build a deployable folder of the edge agent or the cloud')
    .argument('<app>', 'edge or cloud')
    .option('--out <dir>', 'output folder (default: dist/<app>)')
    .option('--with-node-modules', 'also copy the external dependencies from this checkout (same architecture only)', false)
    .action(async (app: string, opts: { out?: string; withNodeModules: boolean }) => {
      if (app !== 'edge' && app !== 'cloud') {
        console.error(`unknown app "${app}": use edge or cloud`);
        process.exit(2);
      }
      await packageApp(app, resolve(opts.out ?? join(ROOT, 'dist', app)), { withNodeModules: opts.withNodeModules });
    });
  await program.parseAsync(process.argv);
}
