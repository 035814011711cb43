// The rule engine: profile rules (after per-site/per-device overrides) evaluated on every report
// and on the clock. Every rule yields raise and clear with a level and a reason; delays, latching
// and chattering suppression (ISA-18.2 §11.5 "chattering alarm") wrap each rule the same way.
//
// State lives in memory and is persisted through a RuleStore. "Hard" changes (anything that
// produced or may produce an event: active flag, latch, inactivity reference, streak start) are
// written in the caller's transaction together with the events they produce; "soft" changes
// (heartbeat last-seen, rate samples) are written with the next hard change or by `persist(true)`
// from the periodic tick, so a crash loses at most one tick of them and never an alarm.
import type { Reading, ReadingValue } from '@gridwatch/protocol';
import { isPointRule, type CombinationRule, type PointRule, type Profile, type Rule } from '@gridwatch/firmware-profiles';
import type { EventDraft } from '../types.ts';
import type { RuleState, RuleStore } from './store.ts';

/** An AlarmEvent before the outbox gives it its sequence number and id (defined with the stage values). */
export type { EventDraft } from '../types.ts';

/** Time source of time-based rules; tests drive a fake one. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export interface EngineDevice {
  deviceId: string;
  profile: Profile;
  addressId?: string;
  /** The profile's rules after overrides; default: the profile's. */
  rules?: readonly Rule[];
}

export interface RuleEngineOptions {
  devices: readonly EngineDevice[];
  store: RuleStore;
  clock?: Clock;
  /** Raise/clear cycles tolerated within `chatterWindowMs` before a rule is flagged chattering; default 3. */
  chatterLimit?: number;
  chatterWindowMs?: number;
  /** Device id and profile id of the gateway's own health alarms. */
  gatewayId?: string;
}

interface DeviceEntry {
  device: EngineDevice;
  rules: readonly Rule[];
  /** Index of rules that need the clock (delays, inactivity, continuous, heartbeat, combination). */
  timed: boolean;
  /** State key per alarm type, built once: a key built per report cost a string and its hash (issue 12). */
  keys: Map<string, string>;
}

const key = (deviceId: string, alarmType: string): string => `${deviceId}\u0000${alarmType}`;
export const GATEWAY_PROFILE = 'gridwatch/gateway';

function fresh(t: number): RuleState {
  return { active: false, cond: false, condSince: t, flips: [] };
}

export class RuleEngine {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly states = new Map<string, RuleState>();
  private readonly hard = new Set<string>();
  private readonly soft = new Set<string>();
  private readonly store: RuleStore;
  readonly clock: Clock;
  private readonly chatterLimit: number;
  private readonly chatterWindowMs: number;
  private readonly gatewayId: string;
  private startedAt = 0;

  constructor(options: RuleEngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.chatterLimit = options.chatterLimit ?? 3;
    this.chatterWindowMs = options.chatterWindowMs ?? 60_000;
    this.gatewayId = options.gatewayId ?? 'gateway';
    for (const device of options.devices) {
      const rules = device.rules ?? device.profile.rules;
      const timed = rules.some((r) => r.kind === 'inactivity' || r.kind === 'continuous' || r.kind === 'heartbeat' || r.onDelaySeconds || r.offDelaySeconds);
      const keys = new Map(rules.map((r) => [r.alarmType, key(device.deviceId, r.alarmType)]));
      this.devices.set(device.deviceId, { device, rules, timed, keys });
    }
  }

  /** Loads persisted state. Call once before use. */
  init(): this {
    this.startedAt = this.clock.now();
    for (const [k, state] of this.store.load()) this.states.set(k, state);
    return this;
  }

  private keyFor(deviceId: string, alarmType: string): string {
    return this.devices.get(deviceId)?.keys.get(alarmType) ?? key(deviceId, alarmType);
  }

  private state(deviceId: string, alarmType: string, t: number, entry?: DeviceEntry): RuleState {
    const k = entry?.keys.get(alarmType) ?? this.keyFor(deviceId, alarmType);
    let s = this.states.get(k);
    if (!s) {
      s = fresh(t);
      this.states.set(k, s);
    }
    return s;
  }

  /** Whether an alarm is raised as the cloud sees it (chattering alarms count as raised). */
  isActive(deviceId: string, alarmType: string): boolean {
    const s = this.states.get(this.keyFor(deviceId, alarmType));
    return s !== undefined && (s.active || s.chattering === true);
  }

  listActive(): Array<{ deviceId: string; alarmType: string; since: number }> {
    const out: Array<{ deviceId: string; alarmType: string; since: number }> = [];
    for (const [k, s] of this.states) {
      if (!s.active && !s.chattering) continue;
      const [deviceId, alarmType] = k.split('\u0000') as [string, string];
      out.push({ deviceId, alarmType, since: s.condSince });
    }
    return out;
  }

  /** True when state must be written before the caller's transaction ends. */
  get dirty(): boolean {
    return this.hard.size > 0;
  }

  /**
   * Set by the committer while decided changes wait for their commit. Until then their rule state
   * is written only together with their events (`persist(…, true)` in that transaction): written
   * alone, a crash would leave the state raised without the event that says so.
   */
  commitPending = false;

  /** Writes changed state; `includeSoft` also writes heartbeat/rate bookkeeping. Call inside the events' transaction. */
  persist(includeSoft = false, withTheirEvents = false): void {
    const hard = this.commitPending && !withTheirEvents ? [] : [...this.hard];
    const keys = new Set(includeSoft ? [...hard, ...[...this.soft].filter((k) => !this.hard.has(k))] : hard);
    if (keys.size === 0) return;
    this.store.save([...keys].map((k) => [k, this.states.get(k) ?? null] as const));
    for (const k of keys) {
      this.hard.delete(k);
      this.soft.delete(k);
    }
  }

  /** Evaluates the device's rules against one report. Persist (and append the events) in one transaction. */
  evaluate(deviceId: string, readings: readonly Reading[], t: number): EventDraft[] {
    const entry = this.devices.get(deviceId);
    if (!entry) return [];
    const { profile } = entry.device;
    const isTest = profile.testPoint !== undefined && valueOf(readings, profile.testPoint) === true;
    const ctx: Ctx = { entry, t, isTest, snapshot: readings, out: [] };
    for (const rule of entry.rules) {
      if (rule.kind === 'heartbeat') {
        const s = this.state(deviceId, rule.alarmType, t, entry);
        s.lastSeen = t;
        this.soft.add(entry.keys.get(rule.alarmType)!);
        // A polled device whose bus reports the link lost stays offline until the bus says otherwise.
        if (s.cond && s.linkLost !== true) this.decide(ctx, rule, s, false);
        continue;
      }
      if (rule.kind === 'combination') {
        this.combine(ctx, rule);
        continue;
      }
      const value = valueOf(readings, rule.point);
      if (value === undefined) continue;
      const s = this.state(deviceId, rule.alarmType, t, entry);
      const cond = this.condition(rule, s, value, t, deviceId);
      if (cond === null) continue;
      this.decide(ctx, rule, s, cond);
    }
    return ctx.out;
  }

  /** Time-based evaluation: delays, inactivity, continuous activity, heartbeat loss, chattering end. */
  tick(now: number = this.clock.now()): EventDraft[] {
    const out: EventDraft[] = [];
    for (const entry of this.devices.values()) {
      const hasChatter = entry.rules.some((r) => this.states.get(entry.keys.get(r.alarmType)!)?.chattering);
      if (!entry.timed && !hasChatter) continue;
      const ctx: Ctx = { entry, t: now, isTest: false, snapshot: [], out };
      const id = entry.device.deviceId;
      for (const rule of entry.rules) {
        const existing = this.states.get(entry.keys.get(rule.alarmType)!);
        let cond: boolean | undefined;
        if (rule.kind === 'heartbeat') {
          const s = existing ?? this.state(id, rule.alarmType, now);
          const lastSeen = Math.max(s.lastSeen ?? 0, this.startedAt);
          cond = s.linkLost === true || now - lastSeen >= (rule.missed ?? 3) * entry.device.profile.heartbeatSeconds * 1000;
          this.decide(ctx, rule, s, cond);
          continue;
        }
        if (rule.kind === 'combination') {
          this.combine(ctx, rule);
          continue;
        }
        if (!existing) continue;
        if (rule.kind === 'inactivity' && existing.refT !== undefined) cond = now - existing.refT >= rule.windowSeconds * 1000;
        else if (rule.kind === 'continuous') cond = this.continuousCond(rule, existing, now);
        else cond = existing.cond;
        this.decide(ctx, rule, existing, cond);
      }
    }
    return out;
  }

  /**
   * Communication supervision of a polled device, driven by its bus: `lost` after the bus gave up
   * on it (failed polls in a row, or its endpoint unreachable), not lost on its next answer. Drives
   * the device's heartbeat rules (its `device_offline` alarm) at once, ahead of their time-out.
   */
  linkStatus(deviceId: string, lost: boolean, t: number = this.clock.now()): EventDraft[] {
    const entry = this.devices.get(deviceId);
    if (!entry) return [];
    const ctx: Ctx = { entry, t, isTest: false, snapshot: [], out: [] };
    for (const rule of entry.rules) {
      if (rule.kind !== 'heartbeat') continue;
      const k = key(deviceId, rule.alarmType);
      const s = this.state(deviceId, rule.alarmType, t);
      if ((s.linkLost === true) === lost) continue;
      s.linkLost = lost;
      if (!lost) s.lastSeen = t;
      this.hard.add(k);
      this.decide(ctx, rule, s, lost);
    }
    return ctx.out;
  }

  /** State keys changed since the last persist; with `markDirty` a caller whose transaction rolled back keeps them for the retry. */
  dirtyKeys(): { hard: string[]; soft: string[] } {
    return { hard: [...this.hard], soft: [...this.soft] };
  }

  markDirty(keys: { hard: readonly string[]; soft: readonly string[] }): void {
    for (const k of keys.hard) this.hard.add(k);
    for (const k of keys.soft) this.soft.add(k);
  }

  /** A reset command for latched alarms of a device (all of them, or one alarm type). */
  reset(deviceId: string, alarmType?: string, t: number = this.clock.now()): EventDraft[] {
    const entry = this.devices.get(deviceId);
    if (!entry) throw new Error(`unknown device ${deviceId}`);
    const ctx: Ctx = { entry, t, isTest: false, snapshot: [], out: [] };
    for (const rule of entry.rules) {
      if (alarmType !== undefined && rule.alarmType !== alarmType) continue;
      const s = this.states.get(key(deviceId, rule.alarmType));
      if (!s?.latched) continue;
      s.latched = false;
      this.hard.add(key(deviceId, rule.alarmType));
      this.decide(ctx, rule, s, s.cond);
    }
    return ctx.out;
  }

  /** The gateway's own health alarms (disk budget, uplink down, clock jump, crash restarts). */
  system(alarmType: string, active: boolean, level: number, reason: string, t: number = this.clock.now()): EventDraft[] {
    const s = this.state(this.gatewayId, alarmType, t);
    if (s.active === active) return [];
    s.active = active;
    s.cond = active;
    s.condSince = t;
    this.hard.add(key(this.gatewayId, alarmType));
    return [
      {
        deviceId: this.gatewayId,
        profileId: GATEWAY_PROFILE,
        alarmType,
        action: active ? 'raise' : 'clear',
        level,
        reason: active ? reason : `${alarmType} back to normal`,
        edgeTime: t,
      },
    ];
  }

  private condition(rule: PointRule, s: RuleState, value: ReadingValue, t: number, deviceId: string): boolean | null {
    // The state key is looked up only by the kinds that mark their state dirty here.
    switch (rule.kind) {
      case 'state':
        return value === (rule.whenValue ?? true);
      case 'threshold': {
        if (typeof value !== 'number') return null;
        const deadband = s.cond ? (rule.deadband ?? 0) : 0;
        return rule.op === '>=' ? value >= rule.limit - deadband : value <= rule.limit + deadband;
      }
      case 'rate': {
        if (typeof value !== 'number') return null;
        const samples = (s.samples ??= []);
        samples.push([t, value]);
        const from = t - rule.windowSeconds * 1000;
        while (samples.length > 0 && samples[0]![0] < from) samples.shift();
        this.soft.add(this.keyFor(deviceId, rule.alarmType));
        let extreme = value;
        for (const [, v] of samples) extreme = rule.direction === 'rise' ? Math.min(extreme, v) : Math.max(extreme, v);
        return rule.direction === 'rise' ? value - extreme >= rule.delta : extreme - value >= rule.delta;
      }
      case 'inactivity': {
        if (typeof value !== 'number') return null;
        // A counter that went backwards was replaced or reset: start over from its new value.
        if (s.ref === undefined || s.refT === undefined || value - s.ref >= rule.minDelta || value < s.ref) {
          s.ref = value;
          s.refT = t;
          this.hard.add(this.keyFor(deviceId, rule.alarmType));
        }
        return t - s.refT >= rule.windowSeconds * 1000;
      }
      case 'continuous': {
        if (typeof value !== 'number') return null;
        const slot = Math.floor(t / (rule.slotSeconds * 1000));
        if (value > rule.above) {
          if (s.lastSlot === undefined || s.streakStart === undefined || slot - s.lastSlot > 1) {
            s.streakStart = slot;
            this.hard.add(this.keyFor(deviceId, rule.alarmType));
          }
          if (s.lastSlot !== slot) this.soft.add(this.keyFor(deviceId, rule.alarmType));
          s.lastSlot = slot;
        }
        return this.continuousCond(rule, s, t);
      }
    }
  }

  private continuousCond(rule: Extract<Rule, { kind: 'continuous' }>, s: RuleState, t: number): boolean {
    if (s.lastSlot === undefined || s.streakStart === undefined) return false;
    const slot = Math.floor(t / (rule.slotSeconds * 1000));
    if (slot - s.lastSlot > 1) return false;
    return (s.lastSlot - s.streakStart + 1) * rule.slotSeconds >= rule.windowSeconds;
  }

  private combine(ctx: Ctx, rule: CombinationRule): void {
    const id = ctx.entry.device.deviceId;
    const cond = rule.all.every((type) => this.isActive(id, type));
    const s = this.state(id, rule.alarmType, ctx.t);
    if (cond !== s.cond || cond !== s.active) this.decide(ctx, rule, s, cond);
  }

  /** Applies delays, latching and chattering suppression, and emits at most one event. */
  private decide(ctx: Ctx, rule: Rule, s: RuleState, cond: boolean): void {
    const { t } = ctx;
    const k = ctx.entry.keys.get(rule.alarmType) ?? key(ctx.entry.device.deviceId, rule.alarmType);
    if (cond !== s.cond) {
      s.cond = cond;
      s.condSince = t;
      this.hard.add(k);
    }
    let want = s.active;
    if (s.cond && !s.active && t - s.condSince >= (rule.onDelaySeconds ?? 0) * 1000) want = true;
    if (!s.cond && s.active && t - s.condSince >= (rule.offDelaySeconds ?? 0) * 1000) want = false;
    if (s.active && !want && s.latched) want = true;

    if (s.chattering && t - (s.flips.at(-1) ?? 0) >= this.chatterWindowMs && want === s.active) {
      // Quiet for a whole window: leave the chattering state; the cloud saw it raised.
      s.chattering = false;
      this.hard.add(k);
      if (!s.active) ctx.out.push(this.draft(ctx, rule, 'clear', true, `${rule.alarmType} stopped chattering and is back to normal`));
      return;
    }
    if (want === s.active) return;
    s.active = want;
    this.hard.add(k);
    if (want) {
      if (rule.latching) s.latched = true;
      s.flips = s.flips.filter((f) => t - f < this.chatterWindowMs);
      s.flips.push(t);
    }
    if (s.chattering) return;
    if (want && s.flips.length > this.chatterLimit) {
      s.chattering = true;
      ctx.out.push(this.draft(ctx, rule, 'raise', true, `${rule.reason} (chattering: ${s.flips.length} raises within ${this.chatterWindowMs / 1000} s)`));
      return;
    }
    ctx.out.push(this.draft(ctx, rule, want ? 'raise' : 'clear', false));
  }

  private draft(ctx: Ctx, rule: Rule, action: 'raise' | 'clear', chattering: boolean, reason?: string): EventDraft {
    const { device } = ctx.entry;
    const point = isPointRule(rule) ? rule.point : rule.kind;
    const snapshot: Record<string, ReadingValue> = {};
    for (const r of ctx.snapshot) snapshot[r.point] = r.value;
    return {
      deviceId: device.deviceId,
      profileId: device.profile.id,
      alarmType: rule.alarmType,
      action,
      level: rule.level,
      reason: reason ?? (action === 'raise' ? rule.reason : `${point} back to normal`),
      edgeTime: ctx.t,
      ...(ctx.isTest ? { test: true } : {}),
      ...(chattering ? { chattering: true } : {}),
      ...(device.addressId === undefined ? {} : { addressId: device.addressId }),
      ...(ctx.snapshot.length > 0 ? { readings: snapshot } : {}),
    };
  }
}

/** The report's value of a point (the last, as a Map built from the readings would hold). */
function valueOf(readings: readonly Reading[], point: string): ReadingValue | undefined {
  for (let i = readings.length - 1; i >= 0; i--) if (readings[i]!.point === point) return readings[i]!.value;
  return undefined;
}

interface Ctx {
  entry: DeviceEntry;
  t: number;
  isTest: boolean;
  snapshot: readonly Reading[];
  out: EventDraft[];
}
