// MQTT 3.1/3.1.1/5 codec for the lean device front end (lean-broker.ts). Control packets (CONNECT,
// SUBSCRIBE, UNSUBSCRIBE, PUBACK/PUBREL from the device, PINGREQ, DISCONNECT and everything we send
// but the PUBACK) go through mqtt-packet, the codec of mqtt.js and aedes. Decoding failures throw
// MalformedPacket, which closes the connection (MQTT 3.1.1 §4.8, MQTT 5 §4.13).
//
// By hand, and only there: framing (lean-broker.ts), reading an incoming PUBLISH (§3.3: topic
// compared as bytes, payload a slice of the socket's chunk) and writing PUBACKs (§3.4: 4 bytes; an
// MQTT 5 success may omit its reason code, §3.4.2.1). That is the per-report path, where the agent
// spends ~10 µs of CPU per report (~100,000 msg/CPU-s, `npm run bench -- edge-vs-nodered
// only=gridwatch`). Measured 2026-12-02 on 256k QoS 1 PUBLISHes in 64-packet chunks: mqtt-packet's
// parser 1.5 µs per packet (it copies into a BufferList, builds a Packet and a topic string, calls
// debug()), this path 0.2 µs; with aedes parsing every PUBLISH the agent ran at 34,500–38,900
// msg/CPU-s (DESIGN.md "Edge speed against a Node-RED peer").
import mqttPacket, { type IConnectPacket, type IPublishPacket, type Packet, type Parser } from 'mqtt-packet';

export class MalformedPacket extends Error {}

export interface ConnectPacket {
  /** 3 (MQIsdp), 4 (3.1.1) or 5. */
  version: number;
  clientId: string;
  cleanSession: boolean;
  keepaliveS: number;
  username: string | undefined;
  password: Buffer | undefined;
  will: { topic: string; payload: Buffer; qos: number } | undefined;
  /** MQTT 5 Authentication Method present: enhanced authentication, which the front end does not offer. */
  authMethod: boolean;
}

export interface Subscription {
  topic: string;
  qos: number;
}

/** A control packet from the device, after the checks mqtt-packet leaves to the server. */
export type ControlPacket =
  | { cmd: 'connect'; connect: ConnectPacket }
  | { cmd: 'unsupported' }
  | { cmd: 'subscribe'; id: number; subscriptions: Subscription[] }
  | { cmd: 'unsubscribe'; id: number; topics: string[] }
  | { cmd: 'puback' | 'pubrel'; id: number }
  | { cmd: 'pingreq' }
  | { cmd: 'disconnect'; keepWill: boolean };

/** Reads a variable byte integer (§1.5.5 / §2.2.3) on the PUBLISH path; returns [value, next offset]. */
export function readVarint(buf: Buffer, at: number, end: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (at >= end) throw new MalformedPacket('truncated variable byte integer');
    const byte = buf[at++]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, at];
    multiplier *= 128;
  }
  throw new MalformedPacket('variable byte integer longer than 4 bytes');
}

// mqtt-packet 9.0.2 reports an unknown protocol name or level by these messages; the server
// answers them with CONNACK 0x01 (§3.1.2.2) instead of just closing.
const UNSUPPORTED = new Set(['Invalid protocolId', 'Invalid protocol version']);
const REPLACEMENT = Buffer.from('\ufffd');

/** One connection's decoder: mqtt-packet's parser, fed one whole framed packet at a time. */
export class ControlDecoder {
  private readonly parser: Parser = mqttPacket.parser({ protocolVersion: 4 });
  private parsed: Packet | null = null;
  private failure: Error | null = null;
  /** Body bytes the parser read for the last packet (-1: not known). */
  private consumed = -1;
  version = 4;

  constructor() {
    this.parser.on('packet', (p: Packet) => {
      this.parsed = p;
      // mqtt-packet (pinned at 9.0.2) stops at the last field it knows; its cursor tells whether
      // the Remaining Length (§2.2.3) held more. mqtt-lean.test.ts fails if this field goes away.
      const pos = (this.parser as unknown as { _pos?: unknown })._pos;
      this.consumed = typeof pos === 'number' ? pos : -1;
    });
    this.parser.on('error', (err: Error) => (this.failure = err));
  }

  /** `whole` is one packet, fixed header included. After a throw the connection must close. */
  decode(whole: Buffer): ControlPacket {
    this.parsed = null;
    this.failure = null;
    this.consumed = -1;
    try {
      this.parser.parse(whole);
    } catch (err) {
      // Bad input must close the connection, never throw into the agent.
      throw new MalformedPacket(err instanceof Error ? err.message : String(err));
    }
    // Set by the parser's listeners during parse(), which TypeScript's narrowing cannot see.
    const parsed = this.parsed as Packet | null;
    const failure = this.failure as Error | null;
    if (failure !== null) {
      if (UNSUPPORTED.has(failure.message)) return { cmd: 'unsupported' };
      throw new MalformedPacket(failure.message);
    }
    if (parsed === null) throw new MalformedPacket('packet ends early');
    return this.check(parsed, whole);
  }

  /** What MQTT requires of a server beyond mqtt-packet's checks (§1.5.3, §3.1.2, §3.8.3, §3.10.3). */
  private check(p: Packet, whole: Buffer): ControlPacket {
    switch (p.cmd) {
      case 'connect':
        return this.connect(p, whole);
      case 'subscribe': {
        if (p.subscriptions.length === 0) throw new MalformedPacket('SUBSCRIBE without a filter');
        const subscriptions = p.subscriptions.map((s) => ({ topic: utf8(s.topic, whole), qos: s.qos }));
        return { cmd: 'subscribe', id: p.messageId!, subscriptions };
      }
      case 'unsubscribe':
        if (p.unsubscriptions.length === 0) throw new MalformedPacket('UNSUBSCRIBE without a filter');
        return { cmd: 'unsubscribe', id: p.messageId!, topics: p.unsubscriptions.map((t) => utf8(t, whole)) };
      case 'puback':
      case 'pubrel':
        if (p.messageId === undefined || p.messageId < 0) throw new MalformedPacket('packet id missing');
        return { cmd: p.cmd, id: p.messageId };
      case 'pingreq':
        return { cmd: 'pingreq' };
      case 'disconnect':
        // MQTT 5 reason 0x04 "disconnect with will message" keeps the will; anything else drops it.
        return { cmd: 'disconnect', keepWill: this.version === 5 && p.reasonCode === 0x04 };
      default:
        throw new MalformedPacket(`unexpected packet ${p.cmd}`);
    }
  }

  private connect(p: IConnectPacket, whole: Buffer): ControlPacket {
    const version = p.protocolVersion ?? 4;
    // mqtt-packet also takes "MQTT" level 3, "MQIsdp" level 4 and bridge mode (level | 0x80).
    const named = (p.protocolId === 'MQTT' && version >= 4) || (p.protocolId === 'MQIsdp' && version === 3);
    if (!named || (p as { bridgeMode?: boolean }).bridgeMode === true) return { cmd: 'unsupported' };
    if (p.will !== undefined && (p.will.qos as number) === 3) throw new MalformedPacket('will QoS 3');
    const will = p.will && { topic: utf8(p.will.topic, whole), payload: Buffer.from(p.will.payload), qos: p.will.qos ?? 0 };
    const connect: ConnectPacket = {
      version,
      clientId: utf8(p.clientId, whole),
      cleanSession: p.clean === true,
      keepaliveS: p.keepalive ?? 0,
      username: p.username === undefined ? undefined : utf8(p.username, whole),
      password: p.password,
      will,
      authMethod: p.properties?.authenticationMethod !== undefined,
    };
    if (this.consumed !== p.length) throw new MalformedPacket('bytes after the CONNECT payload');
    this.version = version;
    return { cmd: 'connect', connect };
  }
}

/**
 * A UTF-8 string field (§1.5.3): no U+0000, well-formed. mqtt-packet decodes with replacement
 * characters, so one without the bytes of U+FFFD in the packet marks malformed input.
 */
function utf8(text: string, whole: Buffer): string {
  if (text.includes('\u0000') || (text.includes('\ufffd') && !whole.includes(REPLACEMENT))) throw new MalformedPacket('malformed UTF-8 string');
  return text;
}

// ---- encoders.

const v = (protocolVersion: number): { protocolVersion: number } => ({ protocolVersion });

export const PINGRESP = mqttPacket.generate({ cmd: 'pingresp' });

/** 3.1.1 CONNACK return code → MQTT 5 reason code (§3.2.2.2). */
const V5_REASON: Record<number, number> = { 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };

/** CONNACK; MQTT 5 success carries Receive Maximum and Maximum Packet Size (§3.2.2.3). */
export function connack(version: number, returnCode: number, sessionPresent: boolean, receiveMaximum: number, maxPacketBytes: number): Buffer {
  const sp = sessionPresent && returnCode === 0;
  if (version < 5) return mqttPacket.generate({ cmd: 'connack', returnCode, sessionPresent: sp }, v(version));
  const reasonCode = returnCode === 0 ? 0 : (V5_REASON[returnCode] ?? 0x80);
  const properties = returnCode === 0 ? { receiveMaximum, maximumPacketSize: maxPacketBytes } : undefined;
  return mqttPacket.generate({ cmd: 'connack', reasonCode, sessionPresent: sp, ...(properties && { properties }) }, v(5));
}

/** The answer to a CONNECT of an unknown protocol level: 3.1.1 CONNACK 0x01 (§3.1.2.2). */
export const UNSUPPORTED_VERSION = mqttPacket.generate({ cmd: 'connack', returnCode: 1, sessionPresent: false }, v(4));

export function suback(version: number, id: number, codes: number[]): Buffer {
  return mqttPacket.generate({ cmd: 'suback', messageId: id, granted: codes }, v(version));
}

export function unsuback(version: number, id: number, codes: number[]): Buffer {
  return mqttPacket.generate(version === 5 ? { cmd: 'unsuback', messageId: id, granted: codes } : { cmd: 'unsuback', messageId: id, granted: [] }, v(version));
}

/** PUBREC (§3.5, the QoS 2 answer to a report, once durable) and PUBCOMP (§3.7, to a PUBREL). */
export function qos2Ack(version: number, cmd: 'pubrec' | 'pubcomp', id: number): Buffer {
  // Reason 0 explicit: mqtt-packet then omits it in MQTT 5 (§3.5.2.1), 4 bytes like the PUBACK slot.
  return mqttPacket.generate({ cmd, messageId: id, reasonCode: 0 }, v(version));
}

/** PUBACK (0x40) by hand, written into the turn's batch of acknowledgements (hot path, see top). */
export function writePuback(out: Buffer, at: number, id: number): void {
  out[at] = 0x40;
  out[at + 1] = 2;
  out[at + 2] = id >> 8;
  out[at + 3] = id & 0xff;
}

/** A command to a device (its down topic), as mqtt-packet's packet, kept for a resend with DUP. */
export function commandPacket(topic: string, payload: Buffer, qos: 0 | 1, id: number): IPublishPacket {
  return { cmd: 'publish', topic, payload, qos, dup: false, retain: false, ...(qos > 0 && { messageId: id }) };
}

export function encodePublish(version: number, packet: IPublishPacket): Buffer {
  return mqttPacket.generate(packet, v(version));
}

/** MQTT 5 DISCONNECT with a reason code (§3.14), sent before the server closes a v5 connection. */
export function disconnect(reason: number): Buffer {
  return mqttPacket.generate({ cmd: 'disconnect', reasonCode: reason }, v(5));
}
