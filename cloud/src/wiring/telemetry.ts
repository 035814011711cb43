// The time-series sink, when InfluxDB (or a server speaking its write API) is configured.
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import type { CloudMetrics } from '../metrics.ts';
import { InfluxSink } from '../telemetry/influx.ts';
import type { Stops } from './stops.ts';

export function startTelemetry(config: CloudConfig, metrics: CloudMetrics, log: Logger, stops: Stops): InfluxSink | null {
  if (!config.influxUrl) return null;
  const sink = new InfluxSink({
    api: config.influxApi,
    url: config.influxUrl,
    token: config.influxToken,
    org: config.influxOrg,
    bucket: config.influxBucket,
    log: log.child({ component: 'telemetry' }),
    onWritten: (n) => metrics.telemetryWritten.inc(n),
    onDropped: (n) => metrics.telemetryDropped.inc(n),
  });
  sink.start();
  stops.push(() => sink.stop());
  return sink;
}
