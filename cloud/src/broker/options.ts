// The embedded broker's security settings from the cloud configuration.
import type { MqttLimits } from '@gridwatch/protocol';
import type { CloudConfig } from '../config.ts';
import type { BrokerTls } from './broker.ts';

export function brokerSecurityOptions(config: CloudConfig): { tls: BrokerTls | null; limits: Partial<MqttLimits> } {
  const tls = config.mqttsPort !== null && config.tlsCert !== null && config.tlsKey !== null ? { port: config.mqttsPort, certFile: config.tlsCert, keyFile: config.tlsKey } : null;
  return {
    tls,
    limits: {
      connectTimeoutMs: config.mqttConnectTimeoutMs,
      maxPendingPerAddress: config.mqttMaxPendingPerAddress,
      maxPacketBytes: config.mqttMaxPacketBytes,
      failuresBeforeBackoff: config.mqttFailuresBeforeBackoff,
      backoffBaseMs: config.mqttBackoffBaseMs,
    },
  };
}
