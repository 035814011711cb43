// `npm run build:console`: builds the console bundle into cloud/dist/console/ (or --out DIR).
// The server also builds it on start when missing or stale (bundle.ts); this is the explicit step
// `npm test` and the packager run.
import { resolve } from 'node:path';
import { buildConsole, CONSOLE_DIR } from './bundle.ts';

const at = process.argv.indexOf('--out');
const out = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1] as string) : CONSOLE_DIR;
const started = Date.now();
await buildConsole(out);
console.log(`console bundle in ${out} (${Date.now() - started} ms)`);
