// The incident engine's options, from the configuration.
import { placementRequired, type CloudConfig } from '../config.ts';
import type { EngineOptions } from '../incidents/outcome.ts';

export function engineOptions(config: CloudConfig): EngineOptions {
  return {
    deadlines: config.deadlines,
    autoCloseTypes: config.autoCloseTypes,
    ackPolicy: config.ackPolicy,
    alarmPolicy: config.alarmPolicy,
    gatewaySupervision: { holdOffS: config.gatewayOfflineHoldOffS, restoreS: config.gatewayRestoreS },
    placement: { require: placementRequired(config) },
  };
}
