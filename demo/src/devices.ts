// The demo edge's devices (demo/district/devices.csv): simulators that speak the real wire
// protocols — MQTT JSON detectors and a smartwatch through the edge's local broker, Modbus TCP
// slaves on one server, and Modbus RTU slaves on a socat pty pair where socat exists — each behind
// one small `DemoDevice` face the control server and the scenarios drive.
import { spawnSync } from 'node:child_process';
import { loadProfiles, type ModbusProfile } from '@gridwatch/firmware-profiles';
import { applyAction, isControlAction, ModbusDeviceSim, ModbusTcpSim, PtyPair, RtuLineSim, SmokeDetectorSim } from '@gridwatch/sim';
import { csvRows } from './district.ts';
import { WatchSim } from './watch.ts';

export type Transport = 'mqtt' | 'modbus-tcp' | 'modbus-rtu';

export interface DeviceRow {
  id: string;
  className: string;
  transport: Transport;
  profile: string;
  addressId: string;
  unitId: number | null;
  note: string;
}

export interface ActionParams {
  point?: string;
  value?: string;
}

/** One simulated device, as the control server and the scenarios see it. */
export interface DemoDevice {
  readonly row: DeviceRow;
  readonly actions: readonly string[];
  act(action: string, params: ActionParams): Promise<void>;
}

export const HAS_SOCAT = spawnSync('socat', ['-V']).error === undefined;

export function deviceRows(): DeviceRow[] {
  return csvRows('devices.csv').map((r) => ({
    id: r.id!,
    className: r.class!,
    transport: r.transport as Transport,
    profile: r.profile!,
    addressId: r.address_id!,
    unitId: r.unit_id ? Number(r.unit_id) : null,
    note: r.note ?? '',
  }));
}

function modbusProfile(id: string): ModbusProfile {
  const loaded = loadProfiles().profiles.get(id);
  if (!loaded || loaded.profile.transport !== 'modbus') throw new Error(`demo/district/devices.csv: ${id} is not a Modbus profile`);
  return loaded.profile;
}

/** A Modbus slave: scenarios of the simulator plus setting a point in engineering units. */
export function modbusDevice(row: DeviceRow): DemoDevice & { sim: ModbusDeviceSim } {
  const sim = new ModbusDeviceSim({ unitId: row.unitId!, profile: modbusProfile(row.profile) });
  sim.setScenario('normal');
  const scenario = { alarm: 'alarm', clear: 'normal', fault: 'fault', 'fault-clear': 'normal', silent: 'silent', back: 'normal' } as const;
  return {
    row,
    sim,
    actions: [...Object.keys(scenario), 'set', 'test'],
    async act(action, params) {
      if (action === 'set') {
        if (!params.point || params.value === undefined) throw new Error('set: needs ?point=…&value=…');
        const n = Number(params.value);
        sim.set(params.point, params.value === 'true' ? true : params.value === 'false' ? false : Number.isFinite(n) ? n : params.value);
      } else if (action === 'test') sim.set('self_test', true);
      else if (action in scenario) sim.setScenario(scenario[action as keyof typeof scenario]);
      else throw new Error(`unknown action ${action}`);
    },
  };
}

export interface MqttLogin {
  brokerUrl: string;
  password: string;
}

export function smokeDevice(row: DeviceRow, login: MqttLogin): DemoDevice & { start(): Promise<void>; stop(): Promise<void> } {
  const sim = new SmokeDetectorSim({ brokerUrl: login.brokerUrl, deviceId: row.id, username: row.id, password: login.password, heartbeatMs: 30_000 });
  return {
    row,
    actions: ['alarm', 'clear', 'test', 'fault', 'fault-clear', 'silent', 'back'],
    start: () => sim.start(),
    stop: () => sim.stop(),
    async act(action) {
      if (action === 'silent') return sim.stop();
      if (action === 'back') return sim.start();
      if (!isControlAction(action)) throw new Error(`unknown action ${action}`);
      await applyAction(sim, action);
    },
  };
}

export function watchDevice(row: DeviceRow, login: MqttLogin, place: { lat: number; lon: number }): DemoDevice & { start(): Promise<void>; stop(): Promise<void> } {
  const sim = new WatchSim(row.id, { brokerUrl: login.brokerUrl, username: row.id, password: login.password, heartbeatMs: 60_000, ...place });
  return {
    row,
    actions: ['sos', 'fall', 'clear', 'silent', 'back'],
    start: () => sim.start(),
    stop: () => sim.stop(),
    async act(action) {
      if (action === 'sos') return sim.set({ sos: true });
      if (action === 'fall') return sim.set({ fall: true });
      if (action === 'clear') return sim.set({ sos: false, fall: false });
      if (action === 'silent') return sim.stop();
      if (action === 'back') return sim.start();
      throw new Error(`unknown action ${action}`);
    },
  };
}

/** The Modbus side: one TCP server for the modbus-tcp rows, one RTU line on a pty for modbus-rtu rows (when socat exists). */
export class ModbusSide {
  readonly devices: (DemoDevice & { sim: ModbusDeviceSim })[];
  private tcp: ModbusTcpSim | null = null;
  private pty: PtyPair | null = null;
  private rtu: RtuLineSim | null = null;

  constructor(rows: DeviceRow[]) {
    this.devices = rows.filter((r) => r.transport === 'modbus-tcp' || (r.transport === 'modbus-rtu' && HAS_SOCAT)).map(modbusDevice);
  }

  private of(transport: Transport): ModbusDeviceSim[] {
    return this.devices.filter((d) => d.row.transport === transport).map((d) => d.sim);
  }

  async start(): Promise<void> {
    this.tcp = new ModbusTcpSim({ host: '127.0.0.1', port: 0, devices: this.of('modbus-tcp') });
    await this.tcp.start();
    if (this.of('modbus-rtu').length === 0) return;
    this.pty = new PtyPair();
    await this.pty.start();
    this.rtu = new RtuLineSim({ path: this.pty.b, baudRate: 9600, devices: this.of('modbus-rtu') });
    await this.rtu.start();
  }

  /** The edge's `buses` entries for what runs. */
  buses(): Record<string, unknown>[] {
    const buses: Record<string, unknown>[] = [{ id: 'tcp0', kind: 'tcp', host: '127.0.0.1', port: this.tcp!.port, timeoutMs: 300 }];
    // RTU keeps the edge's default timeout (500 ms): a loaded machine answers a pty late now and then.
    if (this.pty) buses.push({ id: 'rtu0', kind: 'rtu', path: this.pty.a, baudRate: 9600 });
    return buses;
  }

  async stop(): Promise<void> {
    await this.rtu?.stop();
    await this.pty?.stop();
    await this.tcp?.stop();
  }
}
