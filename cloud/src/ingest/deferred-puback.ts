// PUBACK after commit on a connection that handles several messages at once. mqtt.js 5 sends a QoS 1
// PUBACK from handleMessage's callback and reads the next packet only after that callback, so one
// connection handles one message at a time. Calling the callback with DEFERRED makes mqtt.js go on
// to the next packet without a PUBACK (build/lib/handlers/publish.js, qos 1 branch); the PUBACK is
// written here once the message is committed. Relies on mqtt 5.x internals (pinned in
// package-lock); cloud/test/ingest-lanes.test.ts proves the concurrency and the ack after commit.
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

/** Passed to handleMessage's callback: "carry on reading, I will acknowledge this one myself". */
export const DEFERRED = new Error('PUBACK deferred until the message is committed');

interface PacketWriter {
  _sendPacket(packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean): void;
}

export class DeferredPuback {
  /** Bumped on every CONNACK: a packet id belongs to the connection it arrived on. */
  private connection = 0;

  constructor(private readonly client: MqttClient) {
    client.on('connect', () => {
      this.connection += 1;
    });
  }

  /** A token to hand back to `send` once the packet is committed. */
  receivedOn(): number {
    return this.connection;
  }

  /**
   * Writes the PUBACK if the packet's connection is still the current one. After a reconnect the
   * broker resends an unacknowledged message on its own (MQTT 3.1.1 §4.4, 5.0 §4.4) or, with a
   * clean session, drops it; a PUBACK now would name a packet id of the old connection.
   */
  send(packet: IPublishPacket, receivedOn: number): void {
    if (packet.qos !== 1 || packet.messageId === undefined) return;
    if (receivedOn !== this.connection || !this.client.connected) return;
    (this.client as unknown as PacketWriter)._sendPacket({ cmd: 'puback', messageId: packet.messageId }, undefined, undefined, true);
  }

  /**
   * The PUBACKs of a committed group in one socket write: mqtt-packet writes each packet in several
   * small pieces, so a group of 100 was ~300 writes (writev was the cloud's largest item in the
   * storm's CPU profile). Corked until the next tick, as Node's stream docs advise.
   */
  sendAll(items: readonly { packet: IPublishPacket; receivedOn: number }[]): void {
    const stream = this.client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    if (items.length > 1) stream?.cork?.();
    for (const { packet, receivedOn } of items) this.send(packet, receivedOn);
    if (items.length > 1) process.nextTick(() => stream?.uncork?.());
  }
}
