// Wires the stages into one running agent: local broker → pipeline → outbox → uplink, plus the
// health/metrics server. Everything started here is stopped by Agent.stop(), in reverse order.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { bindDevices, type EdgeConfig } from './config.ts';
import { ModbusDriver, type ModbusBusConfig } from './drivers/modbus/index.ts';
import { MqttDriver } from './drivers/mqtt/index.ts';
import { SerialDriver, type SerialBusConfig } from './drivers/serial/index.ts';
import type { Command, Driver } from './drivers/types.ts';
import { HttpServer, type Health } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { SqliteOutbox, openDatabase, type Outbox } from './outbox/index.ts';
import { createPipeline } from './pipeline.ts';
import { SqliteRuleStateStore } from './rules/index.ts';
import { Uplink } from './uplink/index.ts';

export const AGENT_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Agent {
  readonly gatewayId: string;
  /** Port of the local device broker (the real one when the config asked for 0). */
  readonly localMqttPort: number;
  readonly httpPort: number;
  readonly outbox: Outbox;
  health(): Health;
  /** Local actuation: writes commands to a device (e.g. sound a siren), ahead of any poll on its bus. */
  command(deviceId: string, commands: readonly Command[]): Promise<void>;
  /** Stops the uplink, the servers and closes the database; leaves nothing running. */
  stop(): Promise<void>;
}

export interface AgentOptions {
  /** Defaults to a pino logger on stdout at the config's level. */
  logger?: Logger;
}

/** Written to `${dataDir}/runtime.json` so scripts can find the ports the agent actually bound. */
export interface RuntimeInfo {
  gatewayId: string;
  pid: number;
  localMqttPort: number;
  httpPort: number;
  startedAt: number;
}

function writeRuntime(dataDir: string, info: RuntimeInfo): void {
  const file = join(dataDir, 'runtime.json');
  // Write-then-rename so a reader never sees a half-written file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * Starts the agent. Configuration problems (unknown profile, bad profile file) throw before
 * anything is opened; the cloud being unreachable is not an error — the agent keeps deciding
 * alarms locally and sends them when the link comes up.
 */
export async function startAgent(config: EdgeConfig, options: AgentOptions = {}): Promise<Agent> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const devices = bindDevices(config, loadProfiles(config.profilesDir));

  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'edge.db'));
  const outbox = new SqliteOutbox(db, config.gateway.id).init();
  const ruleState = new SqliteRuleStateStore(db).init();
  const metrics = createMetrics(() => (db.open ? outbox.pendingCount() : 0));
  const uplink = new Uplink({ gateway: config.gateway, cloud: config.cloud, outbox, logger, metrics, agentVersion: AGENT_VERSION });
  const bound = [...devices.values()];
  const of = (transport: string) => bound.filter((d) => d.profile.transport === transport);
  const driver = new MqttDriver({ host: config.local.host, port: config.local.mqttPort, devices: of('mqtt'), logger, metrics });
  // The local broker always runs (devices may be added over MQTT at any time); buses only when used.
  const drivers: Driver[] = [driver];
  if (of('modbus').length > 0) {
    const buses = config.buses.filter((b): b is ModbusBusConfig => b.kind === 'rtu' || b.kind === 'tcp');
    drivers.push(new ModbusDriver({ buses, devices: of('modbus'), logger, metrics }));
  }
  if (of('serial').length > 0) {
    const buses = config.buses.filter((b): b is SerialBusConfig => b.kind === 'serial');
    drivers.push(new SerialDriver({ buses, devices: of('serial'), logger, metrics }));
  }
  const driverFor = new Map(bound.map((d) => [d.device.id, drivers.find((x) => x.transport === d.profile.transport)!]));
  const health = (): Health => {
    const connected = uplink.connected;
    return { status: connected ? 'ok' : 'degraded', uplink: connected ? 'connected' : 'disconnected', outbox: { pending: outbox.pendingCount() } };
  };
  const http = new HttpServer({ host: config.local.host, port: config.local.httpPort, health, registry: metrics.registry });
  const pipeline = createPipeline({ devices, db, outbox, ruleState, metrics, logger, onEvents: () => uplink.notify() });

  const stop = async (): Promise<void> => {
    await uplink.stop();
    for (const d of [...drivers].reverse()) await d.stop();
    await http.stop();
    outbox.close();
  };

  try {
    for (const d of drivers) await d.start(pipeline);
    await http.start();
    uplink.start();
  } catch (err) {
    await stop();
    throw err;
  }

  writeRuntime(config.dataDir, {
    gatewayId: config.gateway.id,
    pid: process.pid,
    localMqttPort: driver.port,
    httpPort: http.port,
    startedAt: Date.now(),
  });
  logger.info({ gatewayId: config.gateway.id, localMqttPort: driver.port, httpPort: http.port, devices: devices.size }, 'edge ready');

  let stopping: Promise<void> | null = null;
  return {
    gatewayId: config.gateway.id,
    localMqttPort: driver.port,
    httpPort: http.port,
    outbox,
    health,
    command: async (deviceId, commands) => {
      const target = driverFor.get(deviceId);
      if (!target) throw new Error(`unknown device ${deviceId}`);
      await target.write(deviceId, commands);
    },
    stop: () => {
      stopping ??= stop().then(() => logger.info({ gatewayId: config.gateway.id }, 'edge stopped'));
      return stopping;
    },
  };
}
