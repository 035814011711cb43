import { pino, type Logger } from 'pino';
import type { LogLevel } from './config/index.ts';

export type { Logger };

/** JSON lines on stdout (pino defaults); one logger per agent. */
export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'gridwatch-edge', level, base: { pid: process.pid } });
}
