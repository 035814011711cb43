// Entry of a telemetry worker thread (worker-pool.ts starts it): batches arrive as bytes with their
// gateway id, each gets its verdict once the sink accepted it; the sink's counters and log records
// go back to the main thread, which owns the metrics and the logger.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Writable } from 'node:stream';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { pino, type Level } from 'pino';
import { TelemetryProcessor } from './worker-processor.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './worker-protocol.ts';

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('telemetry worker: not started as a worker thread');
  return parentPort;
}
const port = requirePort();
const settings = workerData as WorkerSettings;
const post = (message: FromWorker): void => port.postMessage(message);

const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    post({ kind: 'log', line: chunk.toString('utf8') });
    done();
  },
});
const log = pino({ level: settings.logLevel as Level | 'silent' }, logStream);

/**
 * Below the main thread, so on a busy host the scheduler serves the broker, ingest's alarms and
 * PostgreSQL first; telemetry waits (back-pressure holds it). Linux: setpriority on a thread id
 * changes that thread only; elsewhere the worker keeps the process's priority.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== 'linux') return;
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'telemetry worker priority unchanged');
  }
}
lowerPriority(settings.nice);
const processor = new TelemetryProcessor(settings.sink, {
  log,
  onWritten: (lines) => post({ kind: 'written', lines, pending: processor.pendingLines }),
  onDropped: (lines) => post({ kind: 'dropped', lines, pending: processor.pendingLines }),
  // Reported before the sink waits above its mark, so the main thread sees the lines it holds.
  onPending: (pending) => post({ kind: 'pending', pending }),
});

async function run(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case 'batch': {
      const verdict = await processor.handle(message.gatewayId, message.payload);
      return post({ kind: 'verdict', id: message.id, verdict, pending: processor.pendingLines });
    }
    case 'flush':
      await processor.flush();
      return post({ kind: 'done', id: message.id, pending: processor.pendingLines });
    case 'stop':
      await processor.stop();
      post({ kind: 'done', id: message.id, pending: processor.pendingLines });
      return void port.close();
  }
}

port.on('message', (message: ToWorker) => {
  run(message).catch((err: unknown) => post({ kind: 'done', id: message.id, pending: processor.pendingLines, error: err instanceof Error ? err.message : String(err) }));
});
post({ kind: 'ready' });
