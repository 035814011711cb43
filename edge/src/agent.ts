// Wires the stages into one running agent: drivers → pipeline → outbox → uplink, plus the
// health/metrics server. Everything started here is stopped by Agent.stop(), in reverse order.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlarmEvent } from '@gridwatch/protocol';
import { loadProfiles } from '@gridwatch/firmware-profiles';
import { Actuators } from './actuators/index.ts';
import { bindDevices, type BoundDevice, type EdgeConfig } from './config/index.ts';
import { listTransports } from './drivers/registry.ts';
import type { Command, Driver } from './drivers/types.ts';
import { gatewayHealthChecks } from './gateway-health.ts';
import { HttpServer, type Health } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type EdgeMetrics } from './metrics.ts';
import {
  SqliteOutbox,
  StagedRuleStore,
  TelemetryLane,
  WorkerCommitBackend,
  WorkerOutbox,
  WriterThread,
  countWriterCrashes,
  openDatabase,
  saveRuleState,
  type EdgeDatabase,
  type Outbox,
} from './outbox/index.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';
import { RuleEngine, systemClock, type Clock } from './rules/index.ts';
import { clearRunningMarker, countUncleanStart, writeRuntime } from './runtime-files.ts';
import { Uplink } from './uplink/index.ts';

export type { RuntimeInfo } from './runtime-files.ts';

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

/** The stores and the rule engine on the data folder's database (durable writes on the writer thread). */
interface Stores {
  db: EdgeDatabase;
  outbox: WorkerOutbox;
  writer: WriterThread;
  rules: StagedRuleStore;
  telemetry: TelemetryLane | null;
  metrics: EdgeMetrics;
  engine: RuleEngine;
}

function openStores(config: EdgeConfig, bound: BoundDevice[], clock: Clock, logger: Logger): Stores {
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'edge.db');
  const db = openDatabase(file);
  const local = new SqliteOutbox(db, config.gateway.id).init();
  const rules = new StagedRuleStore(db).init();
  const writer = new WriterThread({ file, logger });
  // Fail at start, not at the first alarm, if the writer thread cannot open the database.
  const probe = writer.call({ ops: [], durable: false });
  if (!probe.ok) {
    void writer.close();
    db.close();
    throw new Error(`outbox writer thread: ${probe.error}`);
  }
  const outbox = new WorkerOutbox(local, db, writer, config.gateway.id);
  const telemetry = config.outbox.telemetry
    ? new TelemetryLane(db, { budgetBytes: config.outbox.telemetryBudgetBytes, onThinned: (kind, n) => metrics.telemetryThinned.inc({ kind }, n) }).init()
    : null;
  const metrics = createMetrics(() => (db.open ? outbox.pendingCount() : 0), () => ({ bytes: telemetry?.stats().bytes ?? 0 }));
  local.onCorrupt = (seq, reason) => {
    metrics.outboxCorrupt.inc();
    logger.error({ seq, reason }, 'corrupt outbox record quarantined');
  };
  writer.onCrash = countWriterCrashes(metrics);
  outbox.onAckFailed = (err) => logger.warn({ err }, 'could not delete acked events; they will be sent again');
  const engine = new RuleEngine({
    devices: bound.map((d) => ({ deviceId: d.device.id, profile: d.profile, rules: d.rules ?? d.profile.rules, ...(d.device.addressId === undefined ? {} : { addressId: d.device.addressId }) })),
    store: rules,
    clock,
    gatewayId: config.gateway.id,
  }).init();
  return { db, outbox, writer, rules, telemetry, metrics, engine };
}

/** One driver per registered transport that has work (the local broker always runs: devices may be added at any time). */
function createDrivers(config: EdgeConfig, bound: BoundDevice[], logger: Logger, metrics: EdgeMetrics): { drivers: Driver[]; driverFor: Map<string, Driver> } {
  const drivers: Driver[] = [];
  const driverFor = new Map<string, Driver>();
  for (const transport of listTransports()) {
    const devices = bound.filter((d) => d.profile.transport === transport.id);
    const driver = transport.createDriver({ config, devices, logger, metrics });
    if (!driver) continue;
    drivers.push(driver);
    for (const d of devices) driverFor.set(d.device.id, driver);
  }
  return { drivers, driverFor };
}

/** The periodic work: time-based rules and health, telemetry flushes, rule-state snapshots. */
function startTimers(config: EdgeConfig, stores: Stores, tick: () => void, uplink: Uplink, logger: Logger): NodeJS.Timeout[] {
  const { writer, rules, telemetry, engine } = stores;
  const timers = [setInterval(tick, config.health.tickMs)];
  if (telemetry) {
    const flush = (): void => {
      try {
        if (telemetry.flush() > 0) uplink.notify();
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'telemetry flush failed');
      }
    };
    timers.push(setInterval(flush, config.outbox.telemetryFlushMs));
  }
  timers.push(setInterval(() => writer.open && saveRuleState(writer, engine, rules, logger), 10_000));
  return timers;
}

/** Saves what is in memory and closes the database; a failure is logged, the close still happens. */
async function closeStores(config: EdgeConfig, { db, outbox, writer, rules, telemetry, engine }: Stores, logger: Logger): Promise<void> {
  if (db.open) {
    try {
      telemetry?.flush();
      saveRuleState(writer, engine, rules, logger, true);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not save state at stop');
    }
  }
  await writer.close();
  outbox.close();
  clearRunningMarker(config.dataDir);
}

function wirePipeline(devices: Map<string, BoundDevice>, stores: Stores, actuators: Actuators, uplink: Uplink, logger: Logger): Pipeline {
  const { db, outbox, writer, rules, engine, telemetry, metrics } = stores;
  return createPipeline({
    devices,
    db,
    outbox,
    engine,
    backend: new WorkerCommitBackend({ writer, outbox, engine, rules }),
    telemetry,
    metrics,
    logger,
    // The siren first: local actuation waits neither for the disk nor for the uplink.
    onChanges: (changes) => actuators.onEvents(changes),
    onEvents: () => uplink.notify(),
    onReadings: (deviceId, readings) => actuators.onReadings(deviceId, readings),
  });
}

/**
 * Starts the agent. Configuration problems (unknown profile, bad profile file) throw before
 * anything is opened; the cloud being unreachable is not an error — the agent keeps deciding
 * alarms locally and sends them when the link comes up.
 */
export async function startAgent(config: EdgeConfig, options: AgentOptions = {}): Promise<Agent> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const devices = bindDevices(config, loadProfiles(config.profilesDir));
  const clock = options.clock ?? systemClock;
  const stores = openStores(config, [...devices.values()], clock, logger);
  const { outbox, telemetry, metrics, engine } = stores;
  const uncleanStarts = countUncleanStart(config.dataDir);
  const uplink = new Uplink({ gateway: config.gateway, cloud: config.cloud, outbox, logger, metrics, agentVersion: AGENT_VERSION, telemetry });
  const { drivers, driverFor } = createDrivers(config, [...devices.values()], logger, metrics);
  const health = (): Health => {
    const connected = uplink.connected;
    // Degraded too while alarm changes are held uncommitted (the disk refuses writes).
    return { status: connected && !pipeline.storeFailing ? 'ok' : 'degraded', uplink: connected ? 'connected' : 'disconnected', outbox: { pending: outbox.pendingCount(), ...(telemetry ? { telemetry: telemetry.stats() } : {}) } };
  };
  const http = new HttpServer({ host: config.local.host, port: config.local.httpPort, health, registry: metrics.registry });
  const actuators = new Actuators({
    actuators: config.actuators,
    write: (deviceId, commands) => driverFor.get(deviceId)!.write(deviceId, commands),
    read: (deviceId) => driverFor.get(deviceId)!.read([deviceId]),
    logger,
    metrics,
  });
  const pipeline = wirePipeline(devices, stores, actuators, uplink, logger);
  const healthDrafts = gatewayHealthChecks({ config, engine, clock, telemetry, uplinkDownSince: () => uplink.downSince });
  const tick = (): AlarmEvent[] => pipeline.commit(() => [...engine.tick(), ...healthDrafts()]);
  let timers: NodeJS.Timeout[] = [];
  const stop = async (): Promise<void> => {
    for (const t of timers) clearInterval(t);
    actuators.stop();
    await uplink.stop();
    for (const d of [...drivers].reverse()) await d.stop();
    await http.stop();
    await closeStores(config, stores, logger);
  };
  try {
    if (uncleanStarts > 0) {
      logger.warn({ uncleanStarts }, 'previous run did not stop cleanly');
      pipeline.commit(() => engine.system('crash_restart', true, 4, `agent restarted after an unclean stop (${uncleanStarts} so far)`));
    }
    for (const d of drivers) await d.start(pipeline);
    await http.start();
    uplink.start();
    // The periodic tick does not wait for the disk (the writer thread commits it with the next group).
    timers = startTimers(config, stores, () => pipeline.commitSoon(() => [...engine.tick(), ...healthDrafts()]), uplink, logger);
  } catch (err) {
    await stop();
    throw err;
  }
  const localMqttPort = drivers.find((d) => d.listenPort !== undefined)?.listenPort ?? 0;
  writeRuntime(config.dataDir, { gatewayId: config.gateway.id, pid: process.pid, localMqttPort, httpPort: http.port, startedAt: Date.now() });
  logger.info({ gatewayId: config.gateway.id, localMqttPort, httpPort: http.port, devices: devices.size }, 'edge ready');
  let stopping: Promise<void> | null = null;
  return {
    gatewayId: config.gateway.id,
    localMqttPort,
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
