// The telemetry pipeline (telemetry/worker-pool.ts): worker threads that decode batches and write
// them to the TSDB when InfluxDB (or a server speaking its write API) is configured, and still
// decode them for the latest values when it is not.
import type { Logger } from 'pino';
import type { CloudConfig } from '../config.ts';
import type { CloudMetrics } from '../metrics.ts';
import { TelemetryPipeline } from '../telemetry/worker-pool.ts';
import type { Stops } from './stops.ts';

export async function startTelemetry(config: CloudConfig, metrics: CloudMetrics, log: Logger, stops: Stops): Promise<TelemetryPipeline> {
  const { influxUrl } = config;
  const pipeline = new TelemetryPipeline({
    workers: config.telemetryWorkers,
    nice: config.telemetryWorkerNice,
    sink: influxUrl ? { api: config.influxApi, url: influxUrl, token: config.influxToken, org: config.influxOrg, bucket: config.influxBucket } : null,
    log: log.child({ component: 'telemetry' }),
    onWritten: (n) => metrics.telemetryWritten.inc(n),
    onDropped: (n) => metrics.telemetryDropped.inc(n),
  });
  await pipeline.start();
  stops.push(() => pipeline.stop());
  return pipeline;
}
