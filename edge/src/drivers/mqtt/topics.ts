// Address vocabulary of MQTT devices on the local broker.
//
// A device publishes its reports to `dev/{deviceId}/up` and may subscribe to `dev/{deviceId}/down`
// (commands, not used yet). Device ids match the protocol's id pattern, so they contain no `/`,
// `+` or `#` and cannot widen a topic (MQTT 3.1.1 §4.7.1: wildcards are only valid in filters).

export const DEVICE_TOPIC_ROOT = 'dev';

export function upTopic(deviceId: string): string {
  return `${DEVICE_TOPIC_ROOT}/${deviceId}/up`;
}

export function downTopic(deviceId: string): string {
  return `${DEVICE_TOPIC_ROOT}/${deviceId}/down`;
}
