// A scripted day of a district for `replay --generate-day` and the replay bench: `devices` devices
// (one per flat, ten flats a building, buildings spread over communities of ~250 devices) over
// `hours` hours, with the noise a real day has — a few real fires (two detectors of a building,
// correlated), chattering detectors (5–30 s toggles for minutes), one fault flood (a power glitch
// in one community), scattered device faults that clear, low battery, sparse water-meter
// inactivity (no water use: a welfare check, raised by the edge rules from the meters' 15-minute
// reports) and a meter falling silent. Seeded, so a day is the same on every run.
import type { EdgeDevice, Script, Step } from './script.ts';

export interface DayOptions {
  devices: number;
  hours: number;
  seed: number;
}
/** What the generator planted, so a test can assert on it. */
export interface DayPlan {
  chattering: string[];
  floodDevices: string[];
  floodCommunity: string;
  fires: { building: string; devices: string[] }[];
}

/** mulberry32: small, fast and seedable; quality is ample for noise (the seeded tests use it too). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Flat {
  device: string;
  address: string;
  building: string;
  community: string;
}

const DEVICES_PER_COMMUNITY = 250;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function layout(devices: number): { flats: Flat[]; communities: string[]; addresses: string } {
  const communities = Array.from({ length: Math.max(2, Math.ceil(devices / DEVICES_PER_COMMUNITY)) }, (_, c) => `RP-C${pad(c + 1, 2)}`);
  const rows = ['address_id,building,unit,floor,room,grid,community,street,district,lat,lon'];
  const flats: Flat[] = [];
  for (let n = 0; n < devices; n += 1) {
    const b = Math.floor(n / 10);
    const c = b % communities.length;
    const building = `RP-B${pad(b + 1, 4)}`;
    const address = `RP-${pad(b + 1, 4)}-${pad((n % 10) + 1, 2)}01`;
    const community = communities[c] as string;
    rows.push(`${address},${building},1,${(n % 10) + 1},${(n % 10) + 1}01,RP-G${pad(c + 1, 2)},${community},RP-S01,RP,22.54,114.05`);
    flats.push({ device: `dev-${pad(n + 1, 5)}`, address, building, community });
  }
  return { flats, communities, addresses: `${rows.join('\n')}\n` };
}

function unitsCsv(communities: string[]): string {
  const rows = ['id,name,type,tier,area'];
  communities.forEach((c, i) => rows.push(`grid-${i + 1},网格员 ${c},grid_worker,grid,RP-G${pad(i + 1, 2)}`, `comm-${i + 1},${c} 社区工作站,community_office,community,${c}`));
  rows.push('street-s01,S01 街道办,street_office,street,RP-S01', 'fire-s01,S01 消防站,fire_station,street,RP-S01', 'district-rp,回放区分拨中心,district_centre,district,RP');
  return `${rows.join('\n')}\n`;
}

const RULES_CSV = 'alarm_type,max_level,area_tier,area,tier,unit_type,priority\nsmoke,1,district,*,street,fire_station,10\ngas_high,1,district,*,street,fire_station,10\n*,5,district,*,grid,grid_worker,100\n';

/** Kinds of flat device by index: most are smoke detectors, then gas, water meters. */
const kindOf = (n: number): 'smoke' | 'gas' | 'water' => (n % 10 < 6 ? 'smoke' : n % 10 < 8 ? 'gas' : 'water');

function background(flats: Flat[], spanS: number, rnd: () => number, steps: Step[]): void {
  for (const [n, f] of flats.entries()) {
    const at = Math.floor(rnd() * (spanS - 3600));
    const roll = rnd();
    if (roll < 0.05) {
      steps.push({ at, device: f.device, type: 'fault', action: 'raise', level: 3, address: f.address });
      steps.push({ at: at + 600 + Math.floor(rnd() * 3000), device: f.device, type: 'fault', action: 'clear', level: 3, address: f.address });
    } else if (roll < 0.07 && kindOf(n) === 'smoke') steps.push({ at, device: f.device, type: 'low_battery', action: 'raise', level: 4, address: f.address });
  }
}

const METER_REPORT_S = 900;

/**
 * Water meters are edge devices (generic/water-meter-modbus): a report every 15 min through the
 * real rules. About 1 in 100 residents uses no water from the 6th hour on (the 12-hour inactivity
 * rule raises a welfare check on a 24-hour day), 1 in 200 meters falls silent (device offline).
 */
function meters(flats: Flat[], spanS: number, rnd: () => number, steps: Step[]): EdgeDevice[] {
  const devices: EdgeDevice[] = [];
  for (const [n, f] of flats.entries()) {
    if (kindOf(n) !== 'water') continue;
    const device = `${f.device}-wm`;
    devices.push({ deviceId: device, profileId: 'generic/water-meter-modbus', addressId: f.address });
    const idleFrom = rnd() < 0.01 ? 6 * 3600 : Number.POSITIVE_INFINITY;
    const silentFrom = rnd() < 0.005 ? Math.floor(rnd() * spanS) : Number.POSITIVE_INFINITY;
    let volume = Math.round(rnd() * 500 * 100) / 100;
    for (let at = Math.floor(rnd() * METER_REPORT_S); at < Math.min(spanS, silentFrom); at += METER_REPORT_S) {
      const hour = (at / 3600) % 24;
      const using = at < idleFrom && hour >= 6 && hour < 23 && rnd() < 0.5;
      const flow = using ? Math.round(rnd() * 60) / 100 : 0;
      volume = Math.round((volume + flow / 4) * 1000) / 1000;
      steps.push({ at, report: { device, readings: { total_volume: volume, flow_rate: flow } } });
    }
  }
  return devices;
}

function fires(flats: Flat[], spanS: number, rnd: () => number, steps: Step[], plan: DayPlan): void {
  for (let k = 0; k < 3; k += 1) {
    let b = Math.floor(rnd() * Math.floor(flats.length / 10)) * 10;
    // A fire is in a building of its own: no chattering detector to blur what the test asserts.
    while (plan.chattering.some((d) => d === flats[b]?.device || d === flats[b + 1]?.device)) b = (b + 10) % (flats.length - 1);
    const pair = [flats[b], flats[b + 1]] as Flat[];
    const at = Math.floor(rnd() * (spanS - 3600));
    pair.forEach((f, i) => {
      steps.push({ at: at + i * 40, device: f.device, type: 'smoke', action: 'raise', level: 1, address: f.address });
      steps.push({ at: at + 900 + i * 40, device: f.device, type: 'smoke', action: 'clear', level: 1, address: f.address });
    });
    plan.fires.push({ building: pair[0]?.building as string, devices: pair.map((f) => f.device) });
  }
}

function chatter(flats: Flat[], spanS: number, rnd: () => number, steps: Step[], plan: DayPlan): void {
  for (const period of [5, 10, 20, 30]) {
    const f = flats[3 + Math.floor(rnd() * (flats.length - 3))] as Flat;
    if (plan.chattering.includes(f.device)) continue;
    const from = Math.floor(rnd() * (spanS - 1800));
    steps.push({ toggle: { device: f.device, type: 'smoke', level: 1, address: f.address, period, from, until: from + 480 } });
    plan.chattering.push(f.device);
  }
}

function flood(flats: Flat[], spanS: number, rnd: () => number, steps: Step[], plan: DayPlan): void {
  const members = flats.filter((f) => f.community === plan.floodCommunity && !plan.chattering.includes(f.device)).slice(0, 40);
  const from = Math.floor(rnd() * (spanS - 3600));
  members.forEach((f, i) => steps.push({ at: from + Math.floor((i * 180) / members.length), device: `${f.device}-psu`, type: 'power_fault', action: 'raise', level: 3, address: f.address }));
  plan.floodDevices = members.map((f) => `${f.device}-psu`);
}

/** The day and what it planted. One edge device (an MQTT smoke detector) keeps the edge rules in the loop. */
export function generateDay(options: DayOptions): { script: Script; plan: DayPlan } {
  const rnd = seededRandom(options.seed);
  const spanS = Math.round(options.hours * 3600);
  const { flats, communities, addresses } = layout(options.devices);
  const plan: DayPlan = { chattering: [], floodDevices: [], floodCommunity: communities[communities.length - 1] as string, fires: [] };
  const steps: Step[] = [];
  background(flats, spanS, rnd, steps);
  chatter(flats, spanS, rnd, steps, plan);
  fires(flats, spanS, rnd, steps, plan);
  flood(flats, spanS, rnd, steps, plan);
  const meterDevices = meters(flats, spanS, rnd, steps);
  const edge: EdgeDevice = { deviceId: 'edge-smk-1', profileId: 'generic/smoke-mqtt', addressId: (flats[2] as Flat).address };
  const edgeFrom = Math.floor(spanS / 3);
  steps.push({ toggleReport: { device: edge.deviceId, point: 'smoke_alarm', period: 10, from: edgeFrom, until: edgeFrom + 360 } });
  plan.chattering.push(edge.deviceId);
  const description = `Generated day: ${options.devices} devices, ${options.hours} h, seed ${options.seed}`;
  return { script: { description, edge: { devices: [edge, ...meterDevices] }, directory: { addresses, units: unitsCsv(communities), rules: RULES_CSV }, steps, end: spanS }, plan };
}
