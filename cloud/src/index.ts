export { startCloud, type Cloud } from './cloud.ts';
export { DEFAULT_CONFIG, ConfigError, MEMORY_DATA_DIR, configFromEnv, envName, resolveConfig, type CloudConfig, type LogLevel } from './config.ts';
export { GatewayError, GatewayRegistry, type GatewayRecord, type NewGateway } from './gateways/registry.ts';
export { INCIDENT_STATUSES, type Incident, type IncidentStatus } from './incidents/incident.ts';
export { INCIDENT_EVENT } from './console/live.ts';
export { openStore } from './store/open.ts';
export type { Queryable, SqlParam, Store } from './store/store.ts';
