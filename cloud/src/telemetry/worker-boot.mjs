// A checkout runs TypeScript through tsx; a worker thread does not inherit the main thread's
// loader (nor does `--import tsx` in execArgv reach a .ts entry on Node 20), so it registers it
// here first. Packaged builds start the bundled dist/telemetry-worker.mjs instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
