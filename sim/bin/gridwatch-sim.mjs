#!/usr/bin/env node
// `gridwatch-sim` in a checkout (npm links it into node_modules/.bin): runs ../src/cli.ts through tsx, which is
// resolved from this file's location rather than the current folder, so the command works from
// any folder of the checkout. Packaged builds run the bundled dist/*.mjs instead (scripts/package.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
