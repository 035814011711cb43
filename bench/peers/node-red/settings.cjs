// Node-RED 4 settings of the edge-vs-nodered peer (bench/edge-vs-nodered.bench.ts). Node-RED is
// started with `node node_modules/node-red/red.js --settings this-file --userDir DIR flow.json`.
// The editor is off (httpAdminRoot: false) so the figures are the runtime's, not the editor's; the
// one HTTP route is the flow's own /bench/count, read by the bench to know how many reports went
// through the rule. `fs` and a sub-millisecond clock reach the function node through the global
// context: the durable append needs fs.fdatasyncSync, which no core node offers.
/* global require, module, setImmediate */
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED requires its settings file as CommonJS */
'use strict';
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.NR_HTTP_PORT),
  httpAdminRoot: false,
  httpNodeRoot: '/',
  credentialSecret: false,
  flowFilePretty: false,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { tours: false },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  functionGlobalContext: {
    fs,
    setImmediate,
    now: () => performance.timeOrigin + performance.now(),
    appendFile: process.env.NR_APPEND_FILE,
  },
};
