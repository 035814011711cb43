// Wires the stages into one running agent: local broker → pipeline → outbox → uplink, plus the
// health/metrics server. Everything started here is stopped by Agent.stop(), in reverse order.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { AlarmEvent } from '@gridwatch/protocol';
import { Actuators } from './actuators/index.ts';
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
import { SqliteOutbox, TelemetryLane, openDatabase, type Outbox } from './outbox/index.ts';
import { createPipeline } from './pipeline.ts';
import { RuleEngine, SqliteRuleStore, systemClock, type Clock, type EventDraft } from './rules/index.ts';
import { Uplink } from './uplink/index.ts';

export const AGENT_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Agent {
  readonly gatewayId: string;
  /** Port of the local device broker (the real one when the config asked for 0). */
  readonly localMqttPort: number;
  readonly httpPort: number;
  readonly outbox: Outbox;
  readonly telemetry: TelemetryLane | null;
  readonly engine: RuleEngine;
  health(): Health;
  /** Reset command for latched alarms; commits the clears it allows. */
  resetAlarm(deviceId: string, alarmType?: string): AlarmEvent[];
  /** Runs the time-based rules and health checks now (the agent also does so every `health.tickMs`). */
  tick(): AlarmEvent[];
  /** Local actuation: writes commands to a device (e.g. sound a siren), ahead of any poll on its bus. */
  command(deviceId: string, commands: readonly Command[]): Promise<void>;
  /** Stops the uplink, the servers and closes the database; leaves nothing running. */
  stop(): Promise<void>;
}

export interface AgentOptions {
  /** Defaults to a pino logger on stdout at the config's level. */
  logger?: Logger;
  /** Clock of time-based rules; tests pass a fake one. */
  clock?: Clock;
}

/** Unclean starts are counted with a marker file that only a graceful stop removes. */
function countUncleanStart(dataDir: string): number {
  const marker = join(dataDir, 'running.marker');
  const counter = join(dataDir, 'restarts.json');
  let unclean = 0;
  try {
    unclean = (JSON.parse(readFileSync(counter, 'utf8')) as { unclean: number }).unclean;
  } catch {
    unclean = 0;
  }
  const wasRunning = existsSync(marker);
  if (wasRunning) {
    unclean += 1;
    writeFileSync(`${counter}.tmp`, JSON.stringify({ unclean }));
    renameSync(`${counter}.tmp`, counter);
  }
  writeFileSync(marker, String(process.pid));
  return wasRunning ? unclean : 0;
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
  const clock = options.clock ?? systemClock;
  const db = openDatabase(join(config.dataDir, 'edge.db'));
  const outbox = new SqliteOutbox(db, config.gateway.id).init();
  const telemetry = config.outbox.telemetry
    ? new TelemetryLane(db, { budgetBytes: config.outbox.telemetryBudgetBytes, onThinned: (kind, n) => metrics.telemetryThinned.inc({ kind }, n) }).init()
    : null;
  const metrics = createMetrics(() => (db.open ? outbox.pendingCount() : 0), () => ({ bytes: telemetry?.stats().bytes ?? 0 }));
  outbox.onCorrupt = (seq, reason) => {
    metrics.outboxCorrupt.inc();
    logger.error({ seq, reason }, 'corrupt outbox record quarantined');
  };
  const bound = [...devices.values()];
  const engine = new RuleEngine({
    devices: bound.map((d) => ({ deviceId: d.device.id, profile: d.profile, rules: d.rules ?? d.profile.rules, ...(d.device.addressId === undefined ? {} : { addressId: d.device.addressId }) })),
    store: new SqliteRuleStore(db).init(),
    clock,
    gatewayId: config.gateway.id,
  }).init();
  const uncleanStarts = countUncleanStart(config.dataDir);
  const uplink = new Uplink({ gateway: config.gateway, cloud: config.cloud, outbox, logger, metrics, agentVersion: AGENT_VERSION, telemetry });
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
    return { status: connected ? 'ok' : 'degraded', uplink: connected ? 'connected' : 'disconnected', outbox: { pending: outbox.pendingCount(), ...(telemetry ? { telemetry: telemetry.stats() } : {}) } };
  };
  const http = new HttpServer({ host: config.local.host, port: config.local.httpPort, health, registry: metrics.registry });
  const actuators = new Actuators({
    actuators: config.actuators,
    write: (deviceId, commands) => driverFor.get(deviceId)!.write(deviceId, commands),
    read: (deviceId) => driverFor.get(deviceId)!.read([deviceId]),
    logger,
    metrics,
  });
  const pipeline = createPipeline({
    devices,
    db,
    outbox,
    engine,
    telemetry,
    metrics,
    logger,
    onEvents: (events) => {
      // The siren first: local actuation never waits for the uplink.
      actuators.onEvents(events);
      uplink.notify();
    },
    onReadings: (deviceId, readings) => actuators.onReadings(deviceId, readings),
  });

  // Gateway self-health: each check yields drafts through the engine's `system` alarms.
  let clockOffset = Date.now() - performance.now();
  let clockJumped = false;
  const healthDrafts = (): EventDraft[] => {
    const now = clock.now();
    const drafts: EventDraft[] = [];
    const downFor = uplink.downSince === null ? 0 : Date.now() - uplink.downSince;
    const downLimit = config.health.uplinkDownAlarmSeconds * 1000;
    if (downFor >= downLimit || uplink.downSince === null) {
      drafts.push(...engine.system('uplink_down', downFor >= downLimit, 3, `cloud unreachable for ${Math.round(downFor / 1000)} s`, now));
    }
    const offset = Date.now() - performance.now();
    const jump = offset - clockOffset;
    clockOffset = offset;
    if (Math.abs(jump) >= config.health.clockJumpSeconds * 1000) {
      clockJumped = true;
      drafts.push(...engine.system('clock_jump', true, 4, `wall clock jumped by ${Math.round(jump / 1000)} s`, now));
    } else if (clockJumped) {
      clockJumped = false;
      drafts.push(...engine.system('clock_jump', false, 4, '', now));
    }
    if (telemetry) {
      const { bytes, budgetBytes } = telemetry.stats();
      let freeRatio = 1;
      try {
        const fs = statfsSync(config.dataDir);
        freeRatio = fs.bavail / fs.blocks;
      } catch {
        freeRatio = 1;
      }
      const full = bytes >= 0.95 * budgetBytes || freeRatio < 0.02;
      const ok = bytes < 0.5 * budgetBytes && freeRatio >= 0.05;
      if (full || ok) {
        drafts.push(...engine.system('disk_budget', full, 4, `telemetry lane at ${Math.round((100 * bytes) / budgetBytes)} % of its budget, ${Math.round(freeRatio * 100)} % of the disk free; oldest telemetry is being thinned`, now));
      }
    }
    return drafts;
  };
  const tick = (): AlarmEvent[] => pipeline.commit(() => [...engine.tick(), ...healthDrafts()]);
  const timers: NodeJS.Timeout[] = [];

  const stop = async (): Promise<void> => {
    for (const t of timers) clearInterval(t);
    actuators.stop();
    await uplink.stop();
    for (const d of [...drivers].reverse()) await d.stop();
    await http.stop();
    if (db.open) {
      try {
        telemetry?.flush();
        db.transaction(() => engine.persist(true))();
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'could not save state at stop');
      }
    }
    outbox.close();
    rmSync(join(config.dataDir, 'running.marker'), { force: true });
  };

  try {
    if (uncleanStarts > 0) {
      logger.warn({ uncleanStarts }, 'previous run did not stop cleanly');
      pipeline.commit(() => engine.system('crash_restart', true, 4, `agent restarted after an unclean stop (${uncleanStarts} so far)`));
    }
    for (const d of drivers) await d.start(pipeline);
    await http.start();
    uplink.start();
    timers.push(setInterval(tick, config.health.tickMs));
    if (telemetry) {
      timers.push(
        setInterval(() => {
          try {
            if (telemetry.flush() > 0) uplink.notify();
          } catch (err) {
            logger.error({ err: (err as Error).message }, 'telemetry flush failed');
          }
        }, config.outbox.telemetryFlushMs),
      );
    }
    timers.push(setInterval(() => db.open && db.transaction(() => engine.persist(true))(), 10_000));
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
    telemetry,
    engine,
    health,
    resetAlarm: (deviceId, alarmType) => pipeline.commit(() => engine.reset(deviceId, alarmType)),
    tick,
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
