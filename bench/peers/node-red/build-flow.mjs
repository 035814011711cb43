// Writes flow.json (run after editing the rule below: `node bench/peers/node-red/build-flow.mjs`).
// The flow: MQTT in (local Mosquitto, dev/+/up, QoS 1) → rule + durable append → MQTT out (the
// "cloud" broker, QoS 1); plus GET /bench/count for the bench. Broker ports come from the
// environment (NR_LOCAL_PORT, NR_CLOUD_PORT), substituted by Node-RED at start.
import { writeFileSync } from 'node:fs';

const here = new URL('.', import.meta.url);
// The function node's code. Per report, the same work as GridWatch's pipeline: parse the JSON, apply the
// same two rules as bench/peers/profiles/bench/gas-mqtt.yaml (gas >= 50 %LEL with a 3-point
// deadband; fault state), append every change durably (write + fdatasync), then publish the
// changes. Changes of reports delivered in one turn of the event loop share one fdatasync, as
// GridWatch's group commit does, so the comparison is of the runtimes and not of the commit policy.
const code = String.raw`const s = flow.get('s');
s.processed++;
let report;
try {
  report = JSON.parse(msg.payload);
} catch (err) {
  return null;
}
const deviceId = msg.topic.split('/')[1];
let d = s.devices.get(deviceId);
if (d === undefined) {
  d = { gas: false, fault: false };
  s.devices.set(deviceId, d);
}
const t = Date.now();
if (typeof report.gas === 'number') {
  const cond = report.gas >= (d.gas ? 47 : 50);
  if (cond !== d.gas) {
    d.gas = cond;
    s.pending.push({ deviceId, alarmType: 'gas_high', action: cond ? 'raise' : 'clear', level: 1, seq: report.seq, edgeTime: t });
  }
}
if (typeof report.fault === 'boolean' && report.fault !== d.fault) {
  d.fault = report.fault;
  s.pending.push({ deviceId, alarmType: 'fault', action: report.fault ? 'raise' : 'clear', level: 3, seq: report.seq, edgeTime: t });
}
if (s.pending.length > 0 && !s.scheduled) {
  s.scheduled = true;
  global.get('setImmediate')(() => {
    s.scheduled = false;
    const batch = s.pending;
    s.pending = [];
    let lines = '';
    for (const e of batch) {
      e.id = 'nr-' + ++s.seq;
      lines += JSON.stringify(e) + '\n';
    }
    try {
      s.fs.writeSync(s.fd, lines);
      s.fs.fdatasyncSync(s.fd);
    } catch (err) {
      node.error('append failed: ' + err.message);
      return;
    }
    const committedAt = global.get('now')();
    node.send({ topic: 'nodered/events', payload: JSON.stringify({ committedAt, events: batch }) });
  });
}
return null;`;
const init = [
  "const fs = global.get('fs');",
  "flow.set('s', { fs, fd: fs.openSync(global.get('appendFile'), 'a'), devices: new Map(), pending: [], scheduled: false, seq: 0, processed: 0 });",
].join('\n');
const broker = (id, port, clientid) => ({
  id, type: 'mqtt-broker', name: `${clientid} broker`, broker: '127.0.0.1', port: `\${${port}}`, clientid, autoConnect: true, usetls: false,
  protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true,
  birthTopic: '', birthQos: '0', birthPayload: '', closeTopic: '', closeQos: '0', closePayload: '', willTopic: '', willQos: '0', willPayload: '',
});
const flow = [
  { id: 'tab', type: 'tab', label: 'edge peer', disabled: false, info: 'GridWatch edge-vs-nodered benchmark peer (bench/peers/node-red)' },
  broker('broker-local', 'NR_LOCAL_PORT', 'nodered-in'),
  broker('broker-cloud', 'NR_CLOUD_PORT', 'nodered-out'),
  { id: 'in', z: 'tab', type: 'mqtt in', name: 'devices', topic: 'dev/+/up', qos: '1', datatype: 'utf8', broker: 'broker-local', nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 80, wires: [['rule']] },
  { id: 'rule', z: 'tab', type: 'function', name: 'rule + durable append', func: code, outputs: 1, timeout: 0, noerr: 0, initialize: init, finalize: "const s = flow.get('s');\nif (s) s.fs.closeSync(s.fd);", libs: [], x: 300, y: 80, wires: [['out']] },
  { id: 'out', z: 'tab', type: 'mqtt out', name: 'cloud', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'broker-cloud', x: 500, y: 80, wires: [] },
  { id: 'count-in', z: 'tab', type: 'http in', name: '', url: '/bench/count', method: 'get', upload: false, swaggerDoc: '', x: 100, y: 160, wires: [['count']] },
  { id: 'count', z: 'tab', type: 'function', name: 'count', func: "const s = flow.get('s');\nmsg.payload = { processed: s ? s.processed : 0 };\nreturn msg;", outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 300, y: 160, wires: [['count-out']] },
  { id: 'count-out', z: 'tab', type: 'http response', name: '', statusCode: '', headers: {}, x: 500, y: 160, wires: [] },
];
writeFileSync(new URL('flow.json', here), `${JSON.stringify(flow, null, 2)}\n`);
