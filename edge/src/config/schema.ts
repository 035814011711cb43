// Edge configuration schema: one versioned YAML or JSON file. The schema's descriptions are the
// reference and the TypeScript types come from it (Static); the transports contribute the bus
// kinds under `buses` and each device's transport block, from the registry.
import { Type, type Static, type TObject, type TOptional, type TSchema } from '@sinclair/typebox';
import { DeviceId, GatewayId, SiteId } from '@gridwatch/protocol';
import type { Profile, Rule } from '@gridwatch/firmware-profiles';
import type { AnyTransportDescriptor } from '../drivers/descriptor.ts';
import { BUILTIN_TRANSPORTS, listTransports, registryVersion } from '../drivers/registry.ts';

export const CONFIG_VERSION = 1 as const;

const Secret = Type.String({ minLength: 1, maxLength: 256 });
const AlarmType = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Overrides a profile rule by alarmType (any rule field; `disabled: true` removes it) or adds a
 * rule (a new alarmType with a `kind`). The merged rule is checked against the rule schema of its
 * kind and the profile's points at load time.
 */
const RuleOverride = Type.Object(
  {
    alarmType: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'Rule to override, or of the rule to add' }),
    disabled: Type.Optional(Type.Boolean({ description: 'Remove this rule' })),
  },
  { additionalProperties: true },
);
const SiteRuleOverride = Type.Object(
  {
    profile: Type.String({ description: 'Profile whose rule this overrides for every device using it' }),
    alarmType: AlarmType,
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const ActuatorSchema = Type.Object(
  {
    when: Type.Object({ device: DeviceId, alarmType: AlarmType }, { additionalProperties: false, description: 'The alarm that drives the output' }),
    target: Type.Object(
      { device: DeviceId, point: Type.String({ description: 'A readwrite point of the target device (siren coil, relay)' }) },
      { additionalProperties: false },
    ),
    onRaise: Type.Union([Type.Boolean(), Type.Number()], { default: true, description: 'Value written when the alarm is raised' }),
    onClear: Type.Optional(Type.Union([Type.Boolean(), Type.Number()], { description: 'Value written when it clears; default: leave the output as it is (an operator silences it)' })),
    minIntervalMs: Type.Integer({ minimum: 0, maximum: 3600000, default: 2000, description: 'Rate limit per target point; a newer value within it is written when the interval ends' }),
    confirmWithinMs: Type.Integer({ minimum: 50, maximum: 60000, default: 2000, description: 'The written value must be read back within this time, else it is written once more and reported' }),
  },
  { additionalProperties: false, description: 'Local actuation: an alarm drives an output at once, with or without the uplink' },
);
export type ActuatorConfig = Static<typeof ActuatorSchema>;

type Builtin = (typeof BUILTIN_TRANSPORTS)[number];
/** `devices[i].<transport id>`: one optional block per transport. */
type DeviceBlocks = { [D in Builtin as D['id']]: TOptional<D['device']> };
type BusSchemaOf<D> = D extends { buses: infer B } ? B[keyof B] : never;
export type BusConfig = Static<BusSchemaOf<Builtin>>;

function deviceSchema(transports: readonly AnyTransportDescriptor[]) {
  const blocks = Object.fromEntries(transports.map((t) => [t.id, Type.Optional(t.device)])) as unknown as DeviceBlocks;
  return Type.Object(
    {
      id: DeviceId,
      profile: Type.String({ description: 'Id of a firmware profile, e.g. generic/smoke-mqtt' }),
      addressId: Type.Optional(Type.String({ maxLength: 64, description: 'Standard address id where the device is installed' })),
      ...blocks,
      rules: Type.Optional(Type.Array(RuleOverride, { maxItems: 256, description: "Overrides of this device's profile rules, applied after the site-level ones" })),
    },
    { additionalProperties: false },
  );
}

/** Every bus kind any transport declares, by kind. */
export function busSchemas(transports: readonly AnyTransportDescriptor[] = listTransports()): Record<string, TObject> {
  return Object.fromEntries(transports.flatMap((t) => Object.entries(t.buses)));
}

function cloudSchema() {
  return Type.Object(
    {
      url: Type.String({ pattern: '^mqtts?://[^\\s]+$', description: 'Cloud broker, mqtt:// or mqtts://' }),
      username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Default: the gateway id' })),
      password: Type.Optional(Secret),
      ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA that signed the broker certificate' })),
      rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate (mqtts)' }),
      resendAfterMs: Type.Integer({ minimum: 100, maximum: 600000, default: 5000, description: 'Resend events not acked within this time' }),
      ackTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600000, default: 10000, description: 'Reconnect when nothing at all came back this long after a QoS 1 publish (a black-holed link)' }),
      reconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000, description: 'First reconnect delay; doubles per failed attempt up to maxReconnectPeriodMs, with jitter' }),
      maxReconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 3600000, default: 60000, description: 'Cap of the reconnect back-off' }),
      credentialsFile: Type.Optional(
        Type.String({ minLength: 1, description: 'JSON written by `gridwatch enroll` ({username, password, url?, ca?}); default ${dataDir}/credentials.json when present' }),
      ),
    },
    { additionalProperties: false },
  );
}

const LocalSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Interface the local broker and HTTP server listen on' }),
    mqttPort: Type.Integer({ minimum: 0, maximum: 65535, default: 1884, description: 'Local MQTT broker port; 0 = ephemeral' }),
    httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Health/metrics port; 0 = ephemeral' }),
  },
  { additionalProperties: false, default: {} },
);

const OutboxSchema = Type.Object(
  {
    telemetryBudgetBytes: Type.Integer({ minimum: 65536, default: 256 * 1024 * 1024, description: 'Disk budget of the telemetry lane; thinned beyond it (alarms are never thinned)' }),
    telemetryFlushMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'How often buffered readings are written to disk' }),
    telemetry: Type.Boolean({ default: true, description: 'Send readings to the cloud as telemetry' }),
  },
  { additionalProperties: false, default: {} },
);

const HealthSchema = Type.Object(
  {
    uplinkDownAlarmSeconds: Type.Integer({ minimum: 1, default: 900, description: 'Raise uplink_down after the cloud was unreachable this long' }),
    clockJumpSeconds: Type.Integer({ minimum: 1, default: 120, description: 'Raise clock_jump when wall time and monotonic time drift apart by this much' }),
    tickMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'Period of time-based rule evaluation' }),
  },
  { additionalProperties: false, default: {} },
);

/** The whole file's schema for these transports. */
export function buildEdgeConfigSchema(transports: readonly AnyTransportDescriptor[]) {
  const buses = Object.values(busSchemas(transports));
  return Type.Object(
    {
      version: Type.Literal(CONFIG_VERSION, { description: 'Config file format version' }),
      gateway: Type.Object({ id: GatewayId, site: SiteId }, { additionalProperties: false }),
      dataDir: Type.String({ minLength: 1, description: 'Folder for the outbox database and runtime.json; relative to the config file' }),
      profilesDir: Type.Optional(Type.String({ minLength: 1, description: "Profile collection; default: the repository's firmware-profiles/profiles" })),
      logLevel: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info' })),
      cloud: cloudSchema(),
      local: LocalSchema,
      buses: Type.Array(Type.Unsafe<BusConfig>(Type.Union(buses)), { default: [], description: 'Serial lines and Modbus TCP endpoints devices sit on' }),
      devices: Type.Array(deviceSchema(transports), { default: [] }),
      rules: Type.Array(SiteRuleOverride, { default: [], description: 'Site-level overrides of profile rules, per profile' }),
      actuators: Type.Array(ActuatorSchema, { default: [] }),
      outbox: OutboxSchema,
      health: HealthSchema,
    },
    { additionalProperties: false },
  );
}

/** The schema of the built-in transports: the source of the TypeScript types below. */
export const EdgeConfigSchema = buildEdgeConfigSchema(BUILTIN_TRANSPORTS as unknown as AnyTransportDescriptor[]);
export const DeviceConfigSchema = deviceSchema(BUILTIN_TRANSPORTS as unknown as AnyTransportDescriptor[]);

let cached: { version: number; schema: TSchema } | null = null;
/** The schema of the transports registered now (a test may have added a fixture transport). */
export function currentEdgeConfigSchema(): TSchema {
  if (cached?.version !== registryVersion()) cached = { version: registryVersion(), schema: buildEdgeConfigSchema(listTransports()) };
  return cached.schema;
}

/** The file as written, after defaults. */
export type EdgeConfigFile = Static<typeof EdgeConfigSchema>;
export type DeviceConfig = Static<typeof DeviceConfigSchema>;
type CloudFile = EdgeConfigFile['cloud'];

/** The configuration after defaults, credentials and path resolution. */
export type EdgeConfig = Omit<EdgeConfigFile, 'profilesDir' | 'logLevel' | 'cloud' | 'rules'> & {
  /** Where the configuration came from, for error messages. */
  source: string;
  profilesDir: string;
  logLevel: LogLevel;
  /** `ca` holds the PEM text (read at load so a bad path fails at start-up); paths are absolute. */
  cloud: Omit<CloudFile, 'username' | 'password' | 'credentialsFile'> & Required<Pick<CloudFile, 'username' | 'password' | 'credentialsFile'>>;
  rules: Array<Static<typeof SiteRuleOverride> & Record<string, unknown>>;
};

/** What `gridwatch enroll` writes: the gateway's own credential, issued by the cloud. */
export interface Credentials {
  username: string;
  password: string;
  url?: string;
  /** PEM of the CA that signed the broker certificate. */
  ca?: string;
}

export interface BoundDevice {
  device: DeviceConfig;
  profile: Profile;
  /** The profile's rules after the site-level and device-level overrides (default: the profile's). */
  rules?: Rule[];
}
