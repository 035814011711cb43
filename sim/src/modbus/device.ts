// A simulated Modbus server (slave): four tables, a behaviour (scenario) and the request handling
// of MODBUS Application Protocol V1.1b3 §6 for FC1–6, 15 and 16. Values are set by point name in
// engineering units, encoded exactly as the profile says (the inverse of the edge's decoder).
import { modbusRawType, modbusWidth, writeModbusRaw, type ModbusPoint, type ModbusProfile, type ModbusTable, type StateRule } from '@gridwatch/firmware-profiles';

export const SCENARIOS = ['normal', 'alarm', 'fault', 'silent', 'chattering', 'slow', 'corrupt', 'exception'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ModbusDeviceOptions {
  unitId: number;
  profile?: ModbusProfile;
  /** Addresses 0..size-1 exist in every table; others answer exception 2. Default: the profile's extent, at least 16. */
  size?: number;
}

const TABLES: ModbusTable[] = ['coil', 'discrete', 'holding', 'input'];

/** Exception codes, MAP §7. */
const ILLEGAL_FUNCTION = 0x01;
const ILLEGAL_DATA_ADDRESS = 0x02;
const ILLEGAL_DATA_VALUE = 0x03;
const SERVER_DEVICE_FAILURE = 0x04;

export class ModbusDeviceSim {
  readonly unitId: number;
  readonly profile: ModbusProfile | undefined;
  readonly size: number;
  private readonly tables: Record<ModbusTable, Uint16Array>;
  scenario: Scenario = 'normal';
  /** Extra answer delay of the `slow` scenario. */
  slowMs = 300;
  /** Requests answered so far (per unit, for tests). */
  requests = 0;
  private chatter: NodeJS.Timeout | null = null;

  constructor(options: ModbusDeviceOptions) {
    this.unitId = options.unitId;
    this.profile = options.profile;
    const extent = options.profile ? Math.max(...options.profile.points.map((p) => p.address + modbusWidth(p))) : 0;
    this.size = options.size ?? Math.max(16, extent);
    this.tables = { coil: new Uint16Array(this.size), discrete: new Uint16Array(this.size), holding: new Uint16Array(this.size), input: new Uint16Array(this.size) };
  }

  /** Raw access for tests and benches. */
  setRaw(table: ModbusTable, address: number, values: readonly number[]): void {
    values.forEach((v, i) => (this.tables[table][address + i] = v & 0xffff));
  }

  getRaw(table: ModbusTable, address: number, count: number): number[] {
    return [...this.tables[table].subarray(address, address + count)];
  }

  /** Sets a point to a value in engineering units (undoing offset, scale, shift and the enum). */
  set(name: string, value: boolean | number | string): void {
    const point = this.point(name);
    let raw: number | boolean = typeof value === 'string' ? enumKey(point, value) : value;
    if (typeof raw === 'number') {
      if (point.offset !== undefined) raw -= point.offset;
      if (point.scale !== undefined) raw /= point.scale;
      if (modbusRawType(point) !== 'float32') raw = Math.round(raw);
      if (point.shift !== undefined) raw = raw << point.shift;
    }
    const width = modbusWidth(point);
    const regs = writeModbusRaw(point, raw, this.getRaw(point.table, point.address, width));
    this.setRaw(point.table, point.address, regs);
  }

  get(name: string): number[] {
    const point = this.point(name);
    return this.getRaw(point.table, point.address, modbusWidth(point));
  }

  /**
   * normal: all alarm/fault bits clear. alarm / fault: the profile's first matching state rule's
   * point set. chattering: the alarm toggles every `periodMs`. silent, slow, corrupt, exception:
   * how the device answers (not at all, late, with a bad CRC, with exception 4).
   */
  setScenario(scenario: Scenario, periodMs = 200): void {
    this.stopChatter();
    this.scenario = scenario;
    const rules = this.profile?.rules ?? [];
    const alarm = rules.find((r): r is StateRule => r.kind === 'state' && r.level <= 2);
    const fault = rules.find((r): r is StateRule => r.kind === 'state' && r.alarmType === 'fault');
    const threshold = rules.find((r) => r.kind === 'threshold');
    if (scenario === 'normal') {
      for (const r of rules) if (r.kind === 'state') this.set(r.point, r.whenValue === false);
      if (threshold?.kind === 'threshold') this.set(threshold.point, threshold.op === '>=' ? 0 : threshold.limit * 3);
    }
    if (scenario === 'alarm' && alarm) this.set(alarm.point, true);
    else if (scenario === 'alarm' && threshold?.kind === 'threshold') this.set(threshold.point, threshold.op === '>=' ? threshold.limit * 1.2 : threshold.limit / 2);
    if (scenario === 'fault' && fault) this.set(fault.point, true);
    if (scenario === 'chattering' && alarm) {
      let on = false;
      this.chatter = setInterval(() => this.set(alarm.point, (on = !on)), periodMs);
      this.chatter.unref();
    }
  }

  stopChatter(): void {
    if (this.chatter) clearInterval(this.chatter);
    this.chatter = null;
  }

  /** Answers one request PDU; null means no answer (silent). */
  handle(pdu: Buffer): Buffer | null {
    if (this.scenario === 'silent') return null;
    this.requests++;
    if (this.scenario === 'exception') return exception(pdu[0] ?? 0, SERVER_DEVICE_FAILURE);
    const fc = pdu[0] ?? 0;
    if (pdu.length < 5) return exception(fc, ILLEGAL_DATA_VALUE);
    const address = pdu.readUInt16BE(1);
    const quantity = pdu.readUInt16BE(3);
    const table: ModbusTable | undefined = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' }[fc] as ModbusTable | undefined;
    if (table) {
      const bits = fc <= 2;
      if (quantity < 1 || quantity > (bits ? 2000 : 125)) return exception(fc, ILLEGAL_DATA_VALUE);
      if (address + quantity > this.size) return exception(fc, ILLEGAL_DATA_ADDRESS);
      const values = this.tables[table].subarray(address, address + quantity);
      if (bits) {
        const out = Buffer.alloc(2 + Math.ceil(quantity / 8));
        out[0] = fc;
        out[1] = out.length - 2;
        values.forEach((v, i) => {
          if (v) out[2 + (i >> 3)]! |= 1 << (i & 7);
        });
        return out;
      }
      const out = Buffer.alloc(2 + quantity * 2);
      out[0] = fc;
      out[1] = quantity * 2;
      values.forEach((v, i) => out.writeUInt16BE(v, 2 + i * 2));
      return out;
    }
    if (fc === 5 || fc === 6) {
      if (address >= this.size) return exception(fc, ILLEGAL_DATA_ADDRESS);
      if (fc === 5) {
        if (quantity !== 0xff00 && quantity !== 0) return exception(fc, ILLEGAL_DATA_VALUE);
        this.tables.coil[address] = quantity ? 1 : 0;
      } else {
        this.tables.holding[address] = quantity;
      }
      return Buffer.from(pdu.subarray(0, 5));
    }
    if (fc === 15 || fc === 16) {
      if (address + quantity > this.size) return exception(fc, ILLEGAL_DATA_ADDRESS);
      for (let i = 0; i < quantity; i++) {
        if (fc === 15) this.tables.coil[address + i] = (pdu[6 + (i >> 3)]! >> (i & 7)) & 1;
        else this.tables.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
      }
      return Buffer.from(pdu.subarray(0, 5));
    }
    return exception(fc, ILLEGAL_FUNCTION);
  }

  private point(name: string): ModbusPoint {
    const point = this.profile?.points.find((p) => p.name === name);
    if (!point) throw new Error(`unit ${this.unitId}: no point ${name}`);
    return point;
  }
}

function enumKey(point: ModbusPoint, label: string): number {
  const entry = Object.entries(point.enum ?? {}).find(([, l]) => l === label);
  if (!entry) throw new Error(`point ${point.name} has no enum label ${label}`);
  return Number(entry[0]);
}

function exception(fc: number, code: number): Buffer {
  return Buffer.from([fc | 0x80, code]);
}

export { TABLES };

/**
 * Length of a complete request ADU on an RTU line from its first bytes (unit, fc, …, CRC), or
 * null while it cannot be known yet; -1 for a function this server does not know.
 */
export function rtuRequestLength(buf: Buffer): number | null {
  if (buf.length < 2) return null;
  const fc = buf[1]!;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length < 7 ? null : 9 + buf[6]!;
  return -1;
}
