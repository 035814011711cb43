// The console's browser bundle (issue #13): ui/ (TypeScript + Preact) built by esbuild into
// cloud/dist/console/ with the static shell of public/ (index.html, CSS, manifest, icon). A fresh
// clone needs no build step: the server builds the bundle on start when it is missing or its
// sources changed (a content hash, not mtimes, so a checkout or copy never fools it). A packaged
// cloud (scripts/package.ts) ships the built bundle next to dist/ and has no sources to build from.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const UI_DIR = join(HERE, 'ui');
const SOURCES = [UI_DIR, join(HERE, 'labels'), join(HERE, 'public')];
const STAMP = 'build-stamp.json';

/** Where the console is served from: cloud/dist/console in a checkout, <package>/console when packaged. */
export const CONSOLE_DIR = existsSync(UI_DIR) ? fileURLToPath(new URL('../../dist/console/', import.meta.url)) : fileURLToPath(new URL('../console/', import.meta.url));

function files(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (!name.endsWith('.test.tsx') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** A hash of every source the bundle is built from (file names and contents). */
export function sourceHash(): string {
  const hash = createHash('sha256');
  for (const path of SOURCES.flatMap((dir) => files(dir))) hash.update(relative(HERE, path)).update('\0').update(readFileSync(path)).update('\0');
  return hash.digest('hex');
}

/** Writes a file by rename, so a cloud serving the folder meanwhile never sends half a file. */
function writeAtomic(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** Builds the console into outDir: app.js (+ css from the shell), sw.js, and public/'s static files. */
export async function buildConsole(outDir: string = CONSOLE_DIR): Promise<void> {
  // esbuild is a build tool (root devDependency): imported only when a build is needed.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: join(UI_DIR, 'main.tsx'), sw: join(UI_DIR, 'sw.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'safari15', 'firefox100'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    // Images a map library's CSS refers to: inlined (the CSP allows data: images).
    loader: { '.png': 'dataurl', '.svg': 'dataurl', '.gif': 'dataurl' },
  });
  for (const file of result.outputFiles) writeAtomic(file.path, file.contents);
  for (const path of files(join(HERE, 'public'))) {
    const target = join(outDir, relative(join(HERE, 'public'), path));
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    copyFileSync(path, tmp);
    renameSync(tmp, target);
  }
  // index.html links app.css: empty when no module imports CSS.
  if (!result.outputFiles.some((f) => f.path.endsWith('app.css'))) writeAtomic(join(outDir, 'app.css'), '');
  // The server's codes (labels/codes.json, fetched by the app; absent → English reasons).
  const codes = join(HERE, 'labels', 'codes.json');
  if (existsSync(codes)) writeAtomic(join(outDir, 'labels', 'codes.json'), readFileSync(codes));
  writeAtomic(join(outDir, STAMP), `${JSON.stringify({ sources: sourceHash() })}\n`);
}

/** True when outDir holds a bundle built from the current sources. */
export function bundleIsCurrent(outDir: string = CONSOLE_DIR): boolean {
  try {
    return (JSON.parse(readFileSync(join(outDir, STAMP), 'utf8')) as { sources?: string }).sources === sourceHash();
  } catch {
    return false;
  }
}

/** On start: build when missing or stale (checkout only); a packaged cloud serves what it ships. */
export async function ensureConsoleBundle(log: { info(obj: object, msg: string): void }): Promise<void> {
  if (!existsSync(UI_DIR) || bundleIsCurrent()) return;
  const started = Date.now();
  await buildConsole();
  log.info({ dir: CONSOLE_DIR, ms: Date.now() - started }, 'console bundle built (sources changed or missing)');
}
