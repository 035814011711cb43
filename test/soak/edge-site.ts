// One gateway of the soak: its edge agent (a child process, restartable), the link to the broker,
// a Modbus TCP endpoint with smoke detectors and MQTT smoke detectors on the agent's local broker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { ModbusDeviceSim, ModbusTcpSim } from '@gridwatch/sim';
import { spawnEdge, type EdgeProcess } from '../support/processes.ts';
import { freePort } from '../support/ports.ts';
import { ModbusSmokeDetector, MqttSmokeDetector, type SoakDevice } from './detectors.ts';
import { FaultyLink } from './faulty-link.ts';
import type { SoakGateway } from './database.ts';

export interface SiteOptions {
  gateway: SoakGateway;
  dir: string;
  brokerPort: number;
  mqttDevices: number;
  modbusDevices: number;
}

const devicePassword = (deviceId: string): string => `soak-pw-${deviceId}`;

export class EdgeSite {
  readonly gateway: SoakGateway;
  readonly link: FaultyLink;
  readonly devices: SoakDevice[] = [];
  /** Every agent process this site ran, for the logs ('event durable' lines). */
  readonly processes: EdgeProcess[] = [];
  private readonly options: SiteOptions;
  private readonly tcp: ModbusTcpSim;
  private readonly sims: ModbusDeviceSim[];
  private readonly configFile: string;
  private localMqttPort = 0;
  private current: EdgeProcess | null = null;

  constructor(options: SiteOptions) {
    this.options = options;
    this.gateway = options.gateway;
    this.link = new FaultyLink(options.brokerPort);
    const profile = loadProfiles().profiles.get('generic/smoke-modbus')?.profile as ModbusProfile | undefined;
    if (!profile) throw new Error('profile generic/smoke-modbus not found');
    this.sims = Array.from({ length: options.modbusDevices }, (_, i) => new ModbusDeviceSim({ unitId: i + 1, profile }));
    this.tcp = new ModbusTcpSim({ devices: this.sims });
    this.configFile = join(options.dir, 'edge.yaml');
  }

  get edge(): EdgeProcess {
    if (!this.current) throw new Error(`${this.gateway.gatewayId}: no agent running`);
    return this.current;
  }

  async start(): Promise<void> {
    mkdirSync(this.options.dir, { recursive: true });
    await this.link.start();
    await this.tcp.start();
    // A fixed local port: the MQTT detectors reconnect to the same address after an agent restart.
    this.localMqttPort = await freePort();
    writeFileSync(this.configFile, stringify(this.config()));
    await this.spawn();
    const gw = this.gateway.gatewayId;
    this.sims.forEach((sim, i) => this.devices.push(new ModbusSmokeDetector(gw, `${gw}-bus-${i + 1}`, sim)));
    for (let i = 1; i <= this.options.mqttDevices; i++) {
      const id = `${gw}-mq-${i}`;
      this.devices.push(new MqttSmokeDetector(gw, id, `mqtt://127.0.0.1:${this.localMqttPort}`, devicePassword(id)));
    }
  }

  /** SIGKILL the agent (as a power cut would) and start it again on the same data folder. */
  async restart(): Promise<void> {
    this.killNow();
    await this.current?.kill('SIGKILL');
    await this.spawn();
  }

  /** Sends SIGKILL at once, without waiting: for the kill right after a PUBACK. */
  killNow(): void {
    const child = this.current?.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    for (const d of this.devices) await d.stop().catch(() => undefined);
    for (const p of this.processes) await p.kill('SIGKILL').catch(() => undefined);
    await this.link.stop();
    await this.tcp.stop();
  }

  private async spawn(): Promise<void> {
    const edge = await spawnEdge(this.configFile, 60_000);
    this.processes.push(edge);
    this.current = edge;
  }

  private config(): Record<string, unknown> {
    const gw = this.gateway.gatewayId;
    return {
      version: 1,
      gateway: { id: gw, site: this.gateway.site },
      dataDir: './data',
      logLevel: 'info',
      cloud: { url: this.link.url, password: this.gateway.secret, resendAfterMs: 2000, reconnectPeriodMs: 200, maxReconnectPeriodMs: 2000 },
      local: { host: '127.0.0.1', mqttPort: this.localMqttPort, httpPort: 0 },
      buses: this.sims.length > 0 ? [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: this.tcp.port, timeoutMs: 500 }] : [],
      devices: [
        ...this.sims.map((s) => ({ id: `${gw}-bus-${s.unitId}`, profile: 'generic/smoke-modbus', modbus: { bus: 'tcp0', unitId: s.unitId, pollIntervalMs: 250 } })),
        ...Array.from({ length: this.options.mqttDevices }, (_, i) => {
          const id = `${gw}-mq-${i + 1}`;
          return { id, profile: 'generic/smoke-mqtt', mqtt: { username: id, password: devicePassword(id) } };
        }),
      ],
      outbox: { telemetry: false },
    };
  }
}
