// The faults of one soak cycle. Each returns when the system has been put back (process restarted,
// link restored); what it broke is left for the pipeline to recover on its own.
import type { CloudProcess } from './cloud-process.ts';
import type { EdgeSite } from './edge-site.ts';
import type { AlarmGenerator } from './generator.ts';
import type { Mosquitto } from './mosquitto.ts';
import type { Random } from './prng.ts';
import { sleep } from './wait.ts';

export const FAULTS = ['kill-edge', 'kill-cloud', 'restart-broker', 'cut-link', 'black-hole-link', 'kill-edge-after-puback'] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultContext {
  sites: readonly EdgeSite[];
  cloud: CloudProcess;
  broker: Mosquitto;
  generator: AlarmGenerator;
  random: Random;
}

/** Runs one fault; returns a short description for the progress line. */
export async function runFault(fault: Fault, ctx: FaultContext): Promise<string> {
  const { random } = ctx;
  const site = random.pick(ctx.sites);
  const gw = site.gateway.gatewayId;
  switch (fault) {
    case 'kill-edge':
      await site.restart();
      return `SIGKILL ${gw}, restarted`;
    case 'kill-cloud': {
      await ctx.cloud.kill('SIGKILL');
      const downMs = random.int(0, 1500);
      await sleep(downMs);
      await ctx.cloud.start();
      return `SIGKILL cloud, down ${downMs} ms, restarted`;
    }
    case 'restart-broker': {
      await ctx.broker.stop();
      const downMs = random.int(0, 1000);
      await sleep(downMs);
      await ctx.broker.start();
      return `mosquitto SIGKILLed, down ${downMs} ms, restarted`;
    }
    case 'cut-link': {
      site.link.cut();
      const ms = random.int(200, 2500);
      await sleep(ms);
      site.link.restore();
      return `link of ${gw} cut for ${ms} ms`;
    }
    case 'black-hole-link': {
      site.link.startBlackHole();
      const ms = random.int(1000, 4000);
      await sleep(ms);
      site.link.restore();
      return `link of ${gw} black-holed for ${ms} ms`;
    }
    case 'kill-edge-after-puback':
      return killAfterPuback(ctx.sites, ctx.generator);
  }
}

/** An MQTT detector changes state; its agent is SIGKILLed the moment the PUBACK arrives. */
async function killAfterPuback(sites: readonly EdgeSite[], generator: AlarmGenerator): Promise<string> {
  const changed = await generator.changeOne((d) => d.transport === 'mqtt', 15_000);
  const site = sites.find((s) => s.gateway.gatewayId === changed?.device.gatewayId) ?? sites[0]!;
  // Continuation of the PUBACK callback, same tick: nothing else runs in between.
  site.killNow();
  await site.restart();
  const gw = site.gateway.gatewayId;
  return changed ? `${changed.device.deviceId} ${changed.change.action} #${changed.change.tag} PUBACKed, ${gw} SIGKILLed at once, restarted` : `no idle MQTT detector; SIGKILL ${gw}, restarted`;
}
