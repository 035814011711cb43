// Counters of the broker's protections, on the cloud's registry. Looked up before creating so a
// broker restarted on the same registry (tests) reuses them.
import { Counter, type Registry } from 'prom-client';

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export class BrokerSecurityMetrics {
  /** CONNECTs refused before the credential was checked or because of it, by reason. */
  readonly refused: Counter<'reason'>;
  /** A second connection of an identity with its current credential replaced the first (MQTT-3.1.4-2). */
  readonly takeovers: Counter;
  /** Open sessions closed because their secret was rotated or the gateway disabled/removed. */
  readonly revoked: Counter<'why'>;
  /** Sockets closed by a pre-authentication limit (packet size, pending per address). */
  readonly limitClosed: Counter<'limit'>;

  constructor(registry: Registry) {
    this.refused = counter(registry, 'gridwatch_mqtt_refused_total', 'MQTT CONNECTs refused, by reason', ['reason']);
    this.takeovers = counter(registry, 'gridwatch_mqtt_takeovers_total', 'Sessions taken over by a new connection of the same identity', []);
    this.revoked = counter(registry, 'gridwatch_mqtt_revoked_sessions_total', 'Sessions closed after a rotation, disable or removal', ['why']);
    this.limitClosed = counter(registry, 'gridwatch_mqtt_limit_closed_total', 'Sockets closed by a pre-authentication limit', ['limit']);
  }
}
